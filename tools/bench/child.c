/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One measurement, one process: the fork, the time limit, and the small
 * helpers every workload uses inside its child.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

/* Records the first failure of a child; returns -1 for the caller's use. */
int fail(struct result *r, const char *what, int err)
{
	if (r->failed)
		return -1;
	r->failed = 1;
	if (err)
		snprintf(r->error, sizeof(r->error), "%s: %s", what,
			 strerror(err));
	else
		snprintf(r->error, sizeof(r->error), "%s", what);
	return -1;
}

/* The child's own account of a failure, if it gave one, comes first. */
static void describe_death(struct result *r, int status)
{
	if (r->failed)
		return;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
		snprintf(r->error, sizeof(r->error),
			 "no result after %d s (a lost wake-up?)", cfg.timeout);
	else if (WIFSIGNALED(status))
		snprintf(r->error, sizeof(r->error), "child killed by %s",
			 strsignal(WTERMSIG(status)));
	else
		snprintf(r->error, sizeof(r->error), "child exited with %d",
			 WEXITSTATUS(status));
	r->failed = 1;
}

/*
 * Runs c on b in a new process.  The default action of SIGALRM ends a
 * child that hangs, so a lost wake-up shows as an error, not a stuck run.
 */
int run_in_child(const struct bench_case *c, const struct backend *b,
		 struct result *r)
{
	int status;
	pid_t pid;

	r->failed = 0;
	r->error[0] = '\0';
	r->nsamples = 0;
	memset(r->metric, 0, sizeof(r->metric));
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fail(r, "fork", errno);
		return -1;
	}
	if (pid == 0) {
		signal(SIGALRM, SIG_DFL);
		alarm((unsigned int)cfg.timeout);
		_exit(c->run(c, b, r) == 0 && !r->failed ? 0 : 1);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		describe_death(r, status);
	return r->failed ? -1 : 0;
}

/* Pins the calling thread. */
int pin_to_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

/* CPUs this process may run on. */
int online_cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return 1;
	return CPU_COUNT(&set);
}

double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* The process's memory regions: one line of /proc/self/maps each. */
long count_regions(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	long lines = 0;
	int ch;

	if (!f)
		return -1;
	while ((ch = getc_unlocked(f)) != EOF)
		lines += ch == '\n';
	fclose(f);
	return lines;
}

/* The process's anonymous memory in KiB, from smaps_rollup. */
long anon_kib(void)
{
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	char line[256];
	long kib = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Anonymous: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* xorshift64*: a fixed sequence, the same for both backends. */
uint64_t rand_next(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dULL;
}
