// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * uffdemu-fuzz: the differential fuzzer.  Seeded random sequences of
 * operations, valid and invalid (unaligned addresses, zero and wrapping
 * lengths, unknown bits, bad pointers, closed and wrong descriptors, calls
 * out of order, faults from several threads), run in lock-step by two
 * children, one on the kernel's userfaultfd and one on the emulator.  After
 * each operation their records (fuzz_child.c) are compared, the known
 * differences aside (known.h).  On a divergence it prints the seed, and a
 * sequence shortened by delta debugging that still diverges, as C-like
 * steps ready to become a scenario.
 *
 * A seed runs episodes of 60 to 220 operations, each from fresh children;
 * episode e of seed s is reproducible alone with --seed s --episode e.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"
#include "helpers.h"
#include "known.h"

#define MAX_OPS        400
#define STEP_TIMEOUT_S 10

/* --- the two children --- */

struct side {
	pid_t pid;
	int cmd;
	int out;
	char *buf;
	size_t len;
	size_t cap;
	bool gone;
};

struct pair {
	struct side s[2]; /* the kernel's, the emulator's */
};

static const struct backend *const backends[2] = {&backend_kernel,
						  &backend_emu};

static void spawn(struct pair *p)
{
	int cmd[2][2], out[2][2], i, j;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < 2; i++)
		if (pipe2(cmd[i], O_CLOEXEC) || pipe2(out[i], O_CLOEXEC)) {
			perror("uffdemu-fuzz: pipe2");
			exit(2);
		}
	fflush(NULL);
	for (i = 0; i < 2; i++) {
		p->s[i].pid = fork();
		if (p->s[i].pid < 0) {
			perror("uffdemu-fuzz: fork");
			exit(2);
		}
		if (p->s[i].pid)
			continue;
		for (j = 0; j < 2; j++) {
			close(cmd[j][1]);
			close(out[j][0]);
			if (j != i) {
				close(cmd[j][0]);
				close(out[j][1]);
			}
		}
		fz_child(backends[i], cmd[i][0], out[i][1]);
	}
	for (i = 0; i < 2; i++) {
		close(cmd[i][0]);
		close(out[i][1]);
		p->s[i].cmd = cmd[i][1];
		p->s[i].out = out[i][0];
	}
}

static void reap(struct pair *p)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (p->s[i].pid > 0) {
			kill(p->s[i].pid, SIGKILL);
			waitpid(p->s[i].pid, NULL, 0);
		}
		close(p->s[i].cmd);
		close(p->s[i].out);
		free(p->s[i].buf);
	}
	memset(p, 0, sizeof(*p));
}

/* The end of the step's record in the side's buffer, or NULL. */
static char *step_end(struct side *s)
{
	static const char end[] = FZ_END_LABEL "\t";
	char *line = s->buf;

	while (line && line < s->buf + s->len) {
		char *nl = memchr(line, '\n', (size_t)(s->buf + s->len - line));

		if (!nl)
			return NULL;
		if (!strncmp(line, end, sizeof(end) - 1))
			return line;
		line = nl + 1;
	}
	return NULL;
}

/* The side's child ended: an "exit" line says how. */
static void side_gone(struct side *s, struct record *r, bool late)
{
	char v[64];
	int status = 0;

	if (late)
		kill(s->pid, SIGKILL);
	waitpid(s->pid, &status, 0);
	s->pid = 0;
	s->gone = true;
	if (late)
		rec_str(r, "watchdog", "no answer");
	scenario_fmt_status(v, sizeof(v), status);
	rec_str(r, "exit", v);
}

/* Reads until both sides have ended the step; records into r. */
static void collect_step(struct pair *p, struct record r[2])
{
	time_t deadline = time(NULL) + STEP_TIMEOUT_S;
	bool done[2] = {p->s[0].gone, p->s[1].gone};
	int i;

	while (!done[0] || !done[1]) {
		struct pollfd pf[2];
		char *end;

		for (i = 0; i < 2; i++)
			pf[i] = (struct pollfd){done[i] ? -1 : p->s[i].out,
						POLLIN, 0};
		if (poll(pf, 2, 100) < 0 && errno != EINTR)
			break;
		for (i = 0; i < 2; i++) {
			struct side *s = &p->s[i];
			ssize_t k;

			if (done[i] || !pf[i].revents)
				continue;
			if (s->cap - s->len < 4096) {
				s->cap = s->cap ? 2 * s->cap : 16384;
				s->buf = realloc(s->buf, s->cap);
				if (!s->buf)
					abort();
			}
			k = read(s->out, s->buf + s->len, s->cap - s->len);
			if (k <= 0) {
				rec_parse(&r[i], s->buf, s->len);
				side_gone(s, &r[i], false);
				done[i] = true;
				continue;
			}
			s->len += (size_t)k;
			end = step_end(s);
			if (!end)
				continue;
			rec_parse(&r[i], s->buf, (size_t)(end - s->buf));
			end = memchr(end, '\n',
				     (size_t)(s->buf + s->len - end));
			s->len -= (size_t)(end + 1 - s->buf);
			memmove(s->buf, end + 1, s->len);
			done[i] = true;
		}
		for (i = 0; i < 2 && time(NULL) > deadline; i++) {
			if (done[i])
				continue;
			rec_parse(&r[i], p->s[i].buf, p->s[i].len);
			side_gone(&p->s[i], &r[i], true);
			done[i] = true;
		}
	}
}

/* Runs op on both sides; r gets their records (rec_init'ed here). */
static void step(struct pair *p, const struct fz_op *op, struct record r[2])
{
	int i;

	for (i = 0; i < 2; i++) {
		rec_init(&r[i]);
		r[i].emu = i == 1;
		if (!p->s[i].gone &&
		    write(p->s[i].cmd, op, sizeof(*op)) != sizeof(*op))
			rec_str(&r[i], "runner", "the child is gone");
	}
	collect_step(p, r);
}

/* --- sequences --- */

static bool trace; /* print every step */

static void fmt_step_record(char *out, size_t n, const struct record *r);

static void trace_step(const struct fz_op *op, const struct record r[2])
{
	char line[512], k[1024], e[1024];

	fz_fmt_op(line, sizeof(line), op);
	fmt_step_record(k, sizeof(k), &r[0]);
	fmt_step_record(e, sizeof(e), &r[1]);
	printf("%4u  %s;\n      %s%s%s\n", op->id, line, k,
	       strcmp(k, e) ? "\n emu: " : "", strcmp(k, e) ? e : "");
}

struct run {
	long diverged_at; /* the step, or -1 */
	size_t steps;     /* steps run */
	struct rec_diff diff;
	struct record (*recs)[2]; /* each step's records, when kept */
};

static void free_records(struct run *run)
{
	size_t i;

	for (i = 0; run->recs && i < run->steps; i++) {
		rec_free(&run->recs[i][0]);
		rec_free(&run->recs[i][1]);
	}
	free(run->recs);
	run->recs = NULL;
}

/*
 * Runs ops[0, n) in lock-step, or generates them from m when m is given;
 * stops at the first divergence, or when a child is gone.
 */
static void run_ops(struct fz_op *ops, size_t n, struct fz_model *m,
		    struct run *run, bool keep)
{
	struct pair p;
	struct record r[2];
	size_t i;

	memset(run, 0, sizeof(*run));
	run->diverged_at = -1;
	if (keep)
		run->recs = calloc(n, sizeof(*run->recs));
	spawn(&p);
	for (i = 0; i < n; i++) {
		if (m)
			fz_gen_op(m, &ops[i], (uint32_t)i);
		step(&p, &ops[i], r);
		run->steps = i + 1;
		if (trace)
			trace_step(&ops[i], r);
		rec_diff(&r[0], &r[1], &run->diff);
		if (m)
			fz_model_update(m, &ops[i], &r[0]);
		if (keep) {
			run->recs[i][0] = r[0];
			run->recs[i][1] = r[1];
		} else {
			rec_free(&r[0]);
			rec_free(&r[1]);
		}
		if (run->diff.outcome == REC_DIFFERS ||
		    run->diff.outcome == REC_STALE) {
			run->diverged_at = (long)i;
			break;
		}
		if (p.s[0].gone || p.s[1].gone)
			break;
	}
	reap(&p);
}

/* The seed of episode e of a run seeded with seed. */
static uint64_t episode_seed(uint64_t seed, uint64_t e)
{
	uint64_t s = seed ^ (e * 0xd1b54a32d192ed03ULL);

	return fz_splitmix(&s);
}

static size_t episode_length(uint64_t seed)
{
	uint64_t s = seed;

	return 60 + fz_splitmix(&s) % 161;
}

/* --- minimizing --- */

static struct {
	int runs;
	time_t deadline;
	char kind_label[REC_LABEL_MAX + 8];
} budget;

/*
 * What a divergence is about (the kind of operation and the label, any
 * thread "Tk" as "T"), so that shortening keeps to the same one.
 */
static void divergence_key(char *out, size_t n, const struct fz_op *ops,
			   const struct run *run)
{
	const char *l = run->diff.label;
	bool thread = l[0] == 'T' && l[1] &&
		      strspn(l + 1, "0123456789") == strlen(l + 1);

	snprintf(out, n, "%u %s", ops[run->diverged_at].kind, thread ? "T" : l);
}

/* Whether ops[0, *n) diverges as the original did; *n is cut there. */
static bool still_diverges(struct fz_op *ops, size_t *n)
{
	struct run run;
	char key[sizeof(budget.kind_label)];

	budget.runs++;
	run_ops(ops, *n, NULL, &run, false);
	if (run.diverged_at < 0)
		return false;
	divergence_key(key, sizeof(key), ops, &run);
	if (strcmp(key, budget.kind_label))
		return false;
	*n = (size_t)run.diverged_at + 1;
	return true;
}

static bool out_of_budget(void)
{
	return budget.runs >= 500 || time(NULL) > budget.deadline;
}

/*
 * Delta debugging: removes chunks of steps, halving the chunk size when no
 * chunk can go, while the sequence still diverges the same way.
 */
static size_t minimize(struct fz_op *ops, size_t n)
{
	struct fz_op *cand = malloc(n * sizeof(*cand));
	size_t chunk = n / 2, start, m;

	while (chunk >= 1 && !out_of_budget()) {
		bool removed = false;

		for (start = 0; start < n && !out_of_budget();) {
			size_t len = start + chunk > n ? n - start : chunk;

			memcpy(cand, ops, start * sizeof(*ops));
			memcpy(cand + start, ops + start + len,
			       (n - start - len) * sizeof(*ops));
			m = n - len;
			if (m && still_diverges(cand, &m)) {
				memcpy(ops, cand, m * sizeof(*ops));
				n = m;
				removed = true;
			} else {
				start += len;
			}
		}
		if (!removed)
			chunk /= 2;
	}
	free(cand);
	return n;
}

/* --- printing --- */

/* The record of one side of a step as "label value; label value". */
static void fmt_step_record(char *out, size_t n, const struct record *r)
{
	size_t len = 0, i;

	out[0] = '\0';
	for (i = 0; i < r->n && len < n; i++)
		len += (size_t)snprintf(out + len, n - len, "%s%s %s",
					len ? "; " : "", r->lines[i].label,
					r->lines[i].value);
}

static void print_sequence(const struct fz_op *ops, const struct run *run)
{
	char line[512], k[1024], e[1024];
	size_t i;

	for (i = 0; i < run->steps; i++) {
		fz_fmt_op(line, sizeof(line), &ops[i]);
		fmt_step_record(k, sizeof(k), &run->recs[i][0]);
		fmt_step_record(e, sizeof(e), &run->recs[i][1]);
		printf("\t%s;\n", line);
		if (!strcmp(k, e))
			printf("\t\t/* %s */\n", k[0] ? k : "nothing");
		else
			printf("\t\t/* kernel: %s */\n\t\t/* emu:    %s */\n",
			       k, e);
	}
}

/* Reports a divergence of episode e; returns nothing, exits 1 later. */
static void report(uint64_t seed, uint64_t e, struct fz_op *ops,
		   const struct run *first, bool shorten)
{
	size_t n = (size_t)first->diverged_at + 1, full = n;
	struct run run;
	int again = 0, i;

	printf("uffdemu-fuzz: DIVERGENCE: seed %llu, episode %llu, step %ld: "
	       "%s\n",
	       (unsigned long long)seed, (unsigned long long)e,
	       first->diverged_at, first->diff.msg);
	if (shorten) {
		budget.runs = 0;
		budget.deadline = time(NULL) + 120;
		divergence_key(budget.kind_label, sizeof(budget.kind_label),
			       ops, first);
		n = minimize(ops, n);
	}
	for (i = 0; i < 3; i++) {
		run_ops(ops, n, NULL, &run, i == 2);
		again += run.diverged_at >= 0;
		if (i < 2)
			free_records(&run);
	}
	printf("the sequence, %s %zu to %zu steps (%d replays); it diverged in "
	       "%d of 3 runs:\n",
	       shorten ? "shortened from" : "of", full, n, budget.runs, again);
	print_sequence(ops, &run);
	if (run.diverged_at >= 0)
		printf("at the last step: %s\n", run.diff.msg);
	printf("replay: uffdemu-fuzz --seed %llu --episode %llu\n",
	       (unsigned long long)seed, (unsigned long long)e);
	free_records(&run);
}

/* --- main --- */

struct options {
	uint64_t seed;
	bool clock_seed;
	long ops;
	double seconds;
	long episode; /* -1: all */
	bool minimize;
};

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [--seed N|clock] [--ops N] [--seconds S] "
		"[--episode E] [--no-minimize]\n"
		"  --seed N       the run's seed (default: clock, printed)\n"
		"  --ops N        stop after N operations (default 10000)\n"
		"  --seconds S    stop after S seconds (with --ops: whichever "
		"first)\n"
		"  --episode E    run only episode E of the seed (a replay)\n"
		"  --no-minimize  report a divergence without shortening it\n"
		"  --trace        print every operation and its records\n"
		"  --no-avoid     also make the operations that show the "
		"emulator bugs\n"
		"                 the generator avoids (they are listed at the "
		"start)\n",
		prog);
}

static int parse(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{"seed", required_argument, NULL, 's'},
		{"ops", required_argument, NULL, 'n'},
		{"seconds", required_argument, NULL, 't'},
		{"episode", required_argument, NULL, 'e'},
		{"minimize", no_argument, NULL, 'm'},
		{"no-minimize", no_argument, NULL, 'M'},
		{"trace", no_argument, NULL, 'T'},
		{"no-avoid", no_argument, NULL, 'A'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	*o = (struct options){0, true, 10000, 0, -1, true};
	while ((c = getopt_long(argc, argv, "s:n:t:e:mMTAh", opts, NULL)) !=
	       -1) {
		switch (c) {
		case 's':
			o->clock_seed = !strcmp(optarg, "clock");
			o->seed = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			o->ops = strtol(optarg, NULL, 0);
			break;
		case 't':
			o->seconds = strtod(optarg, NULL);
			if (o->ops == 10000)
				o->ops = -1;
			break;
		case 'e':
			o->episode = strtol(optarg, NULL, 0);
			break;
		case 'm':
			o->minimize = true;
			break;
		case 'M':
			o->minimize = false;
			break;
		case 'T':
			trace = true;
			break;
		case 'A':
			fz_avoid_all(false);
			break;
		case 'h':
			usage(stdout, argv[0]);
			exit(0);
		default:
			usage(stderr, argv[0]);
			return -1;
		}
	}
	if (o->clock_seed) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		o->seed =
			(uint64_t)ts.tv_sec * 1000003ULL ^ (uint64_t)ts.tv_nsec;
		o->seed %= 1000000000ULL;
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static struct fz_op ops[MAX_OPS];
	struct fz_model *m;
	struct options o;
	struct run run;
	char why[256];
	long total = 0;
	uint64_t e;
	double start = now_s();

	if (parse(argc, argv, &o))
		return 2;
	if (!backend_kernel_available(why, sizeof(why))) {
		printf("uffdemu-fuzz: skipped: no kernel userfaultfd to "
		       "compare "
		       "with (%s)\n",
		       why);
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	printf("uffdemu-fuzz: seed %llu\n", (unsigned long long)o.seed);
	fz_avoid_print(stdout);
	fflush(stdout);
	for (e = o.episode < 0 ? 0 : (uint64_t)o.episode;; e++) {
		uint64_t seed = episode_seed(o.seed, e);

		m = fz_model_new(seed, backend_kernel_has_device());
		run_ops(ops, episode_length(seed), m, &run, false);
		free(m);
		total += (long)run.steps;
		if (run.diverged_at >= 0) {
			report(o.seed, e, ops, &run, o.minimize);
			return 1;
		}
		if (o.episode >= 0 || (o.ops >= 0 && total >= o.ops) ||
		    (o.seconds > 0 && now_s() - start >= o.seconds))
			break;
	}
	printf("uffdemu-fuzz: seed %llu: %ld operations in %llu episodes, no "
	       "divergence (%.1f s)\n",
	       (unsigned long long)o.seed, total,
	       (unsigned long long)(e + 1 - (o.episode < 0 ? 0 : o.episode)),
	       now_s() - start);
	return 0;
}
