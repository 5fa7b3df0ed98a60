/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The shim's cost on ordinary descriptors: a program run under
 * LD_PRELOAD=libuffdemu-preload.so pays the interposer on every read() and
 * ioctl(), userfaultfd or not.  This program runs itself as a probe
 * (uffdemu-bench --shim-probe N) with and without the shim and compares
 * the time per call.  In the table the "kernel" column is the plain run
 * and the "emulator" column the run under the shim.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define SHIM_NAME "libuffdemu-preload.so"
#define BATCHES   21

static char found[PATH_MAX];

/* UFFDEMU_PRELOAD, else the shim as the build lays it out. */
const char *shim_path(void)
{
	static const char *const rel[] = {"../shim/", "../", "./"};
	const char *env = getenv("UFFDEMU_PRELOAD");
	char dir[PATH_MAX];
	char *slash;

	if (env && *env)
		return access(env, R_OK) == 0 ? env : NULL;
	if (!cfg.exe || strlen(cfg.exe) >= sizeof(dir))
		return NULL;
	strcpy(dir, cfg.exe);
	slash = strrchr(dir, '/');
	if (!slash)
		return NULL;
	slash[1] = '\0';
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		snprintf(found, sizeof(found), "%s%s%s", dir, rel[i],
			 SHIM_NAME);
		if (access(found, R_OK) == 0)
			return found;
	}
	return NULL;
}

static double per_call_ns(int fd, int what, unsigned long calls)
{
	double t0 = now_us();
	char buf[1];
	int n;

	for (unsigned long i = 0; i < calls; i++) {
		if (what == 0)
			(void)!read(fd, buf, 0);
		else
			(void)!ioctl(fd, FIONREAD, &n);
	}
	return (now_us() - t0) * 1e3 / (double)calls;
}

/* Median over batches of calls, to shed the batches that were preempted. */
static double probe(int fd, int what, unsigned long calls)
{
	double v[BATCHES];

	per_call_ns(fd, what, calls / BATCHES + 1);
	for (int i = 0; i < BATCHES; i++)
		v[i] = per_call_ns(fd, what, calls / BATCHES + 1);
	return median_of(v, BATCHES);
}

/* uffdemu-bench --shim-probe CALLS: prints "read_ns ioctl_ns". */
int shim_probe_main(int argc, char **argv)
{
	unsigned long calls = argc > 2 ? strtoul(argv[2], NULL, 10) : 100000;
	int zero = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	int p[2];

	if (zero < 0 || pipe(p) != 0) {
		perror("uffdemu-bench: shim probe");
		return 1;
	}
	printf("%.2f %.2f\n", probe(zero, 0, calls), probe(p[0], 1, calls));
	return 0;
}

static void exec_probe(int out, bool preload, const char *lib)
{
	char calls[32];

	snprintf(calls, sizeof(calls), "%lu", cfg.shim_calls);
	dup2(out, STDOUT_FILENO);
	if (preload)
		setenv("LD_PRELOAD", lib, 1);
	else
		unsetenv("LD_PRELOAD");
	execl(cfg.exe, cfg.exe, "--shim-probe", calls, (char *)NULL);
	_exit(127);
}

int run_shim(const struct bench_case *c, const struct backend *b,
	     struct result *r)
{
	const char *lib = shim_path();
	char line[128] = "";
	int p[2], status;
	FILE *f;
	pid_t pid;

	if (!lib)
		return fail(r, "no " SHIM_NAME, 0);
	pin_to_cpu(0);
	if (pipe(p) != 0)
		return fail(r, "pipe", errno);
	pid = fork();
	if (pid == 0)
		exec_probe(p[1], b == &backend_emu, lib);
	close(p[1]);
	f = fdopen(p[0], "r");
	if (!f || !fgets(line, sizeof(line), f))
		line[0] = '\0';
	waitpid(pid, &status, 0);
	if (sscanf(line, "%lf %lf", &r->metric[0], &r->metric[1]) != 2)
		return fail(r, "the probe printed no figures", 0);
	return 0;
}
