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
 * Episodes run in several worker processes at once (--jobs), but what is
 * run and printed does not depend on it: the episodes are numbered, their
 * lengths known in advance, and their results taken in order.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"
#include "helpers.h"
#include "known.h"

#define MAX_OPS        400
#define STEP_TIMEOUT_S 30 /* longer than a child settles (fuzz_child.c) */
#define MAX_JOBS       16
#define MAX_SEEDS      64
#define MAX_WHATS      256

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

/* The workers' pipes: a process forked for other work closes them. */
static int foreign_fds[4 * MAX_JOBS];
static int n_foreign_fds;

static void close_foreign_fds(void)
{
	int i;

	for (i = 0; i < n_foreign_fds; i++)
		close(foreign_fds[i]);
	n_foreign_fds = 0;
}

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
		close_foreign_fds();
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
	bool hung;        /* a child stopped answering, on both sides */
	bool gone;        /* a child ended, on both sides alike */
	struct rec_diff diff;
	char what[REC_LABEL_MAX + 2 * REC_VALUE_MAX + 32]; /* see what() */
	char exit[REC_VALUE_MAX];                          /* when gone */
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

static const char *const kind_names[N_KINDS] = {
	[FZ_CREATE] = "userfaultfd",
	[FZ_DEV_CREATE] = "USERFAULTFD_IOC_NEW",
	[FZ_API] = "UFFDIO_API",
	[FZ_REGISTER] = "UFFDIO_REGISTER",
	[FZ_UNREGISTER] = "UFFDIO_UNREGISTER",
	[FZ_WAKE] = "UFFDIO_WAKE",
	[FZ_COPY] = "UFFDIO_COPY",
	[FZ_ZEROPAGE] = "UFFDIO_ZEROPAGE",
	[FZ_WRITEPROTECT] = "UFFDIO_WRITEPROTECT",
	[FZ_POISON] = "UFFDIO_POISON",
	[FZ_MOVE] = "UFFDIO_MOVE",
	[FZ_IOCTL] = "ioctl",
	[FZ_READ] = "read",
	[FZ_POLL] = "poll",
	[FZ_CLOSE] = "close",
	[FZ_DUP] = "dup",
	[FZ_SETFL] = "F_SETFL",
	[FZ_TOUCH] = "touch",
	[FZ_SIGNAL] = "signal",
	[FZ_MADVISE] = "madvise",
	[FZ_MPROTECT] = "mprotect",
	[FZ_MUNMAP] = "munmap",
	[FZ_MMAP] = "mmap",
	[FZ_FDINFO] = "fdinfo",
};

/* A record label with a thread "Tk" as "T". */
static const char *label_class(const char *l)
{
	bool thread = l[0] == 'T' && l[1] &&
		      strspn(l + 1, "0123456789") == strlen(l + 1);

	return thread ? "T" : l;
}

/*
 * What a divergence is, to tell one from another in a long run: the kind
 * of operation, the label and the two values, as in "UFFDIO_COPY rv:
 * EEXIST / EBUSY" or "touch T: SIGBUS / done".
 */
static void what(struct run *run, const struct fz_op *op,
		 const struct record r[2])
{
	long i = run->diff.line;
	const char *k = i >= 0 && (size_t)i < r[0].n ? r[0].lines[i].value
						     : "(nothing)";
	const char *e = i >= 0 && (size_t)i < r[1].n ? r[1].lines[i].value
						     : "(nothing)";

	const char *l = label_class(run->diff.label);
	/* A thread's outcome without what it read: "done". */
	int kn = *l == 'T' && !l[1] ? (int)strcspn(k, ",") : (int)strlen(k);
	int en = *l == 'T' && !l[1] ? (int)strcspn(e, ",") : (int)strlen(e);

	snprintf(run->what, sizeof(run->what), "%s %s: %.*s / %.*s",
		 kind_names[op->kind], l, kn, k, en, e);
}

static bool has_line(const struct record *r, const char *label)
{
	return rec_get(r, label) != NULL;
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
		if (run->diff.outcome == REC_DIFFERS ||
		    run->diff.outcome == REC_STALE) {
			run->diverged_at = (long)i;
			what(run, &ops[i], r);
		} else if (p.s[0].gone || p.s[1].gone) {
			run->gone = true;
			run->hung = has_line(&r[0], "watchdog");
			snprintf(run->exit, sizeof(run->exit), "%s",
				 rec_get(&r[0], "exit") ? rec_get(&r[0], "exit")
							: "?");
		}
		if (keep) {
			run->recs[i][0] = r[0];
			run->recs[i][1] = r[1];
		} else {
			rec_free(&r[0]);
			rec_free(&r[1]);
		}
		if (run->diverged_at >= 0 || run->gone)
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
			   long at, const char *label)
{
	snprintf(out, n, "%u %s", ops[at].kind, label_class(label));
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
	divergence_key(key, sizeof(key), ops, run.diverged_at, run.diff.label);
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

/* --- episodes --- */

enum ep_outcome {
	EP_OK,       /* every step alike */
	EP_DIVERGED, /* a step differed */
	EP_HUNG,     /* both children stopped answering */
	EP_GONE,     /* both children ended alike before the last step */
};

/* An episode and what came of it; crosses the pipe from a worker. */
struct episode {
	uint64_t seed;
	uint64_t e;
	uint32_t planned; /* operations in the episode */
	uint32_t steps;   /* operations run */
	int outcome;
	long at; /* the last step run */
	char label[REC_LABEL_MAX];
	char what[sizeof(((struct run *)0)->what)];
	char msg[sizeof(((struct rec_diff *)0)->msg)];
	struct fz_op ops[MAX_OPS];
};

static bool device; /* the kernel's /dev/userfaultfd works */

static void run_episode(uint64_t seed, uint64_t e, struct episode *ep)
{
	uint64_t s = episode_seed(seed, e);
	struct fz_model *m = fz_model_new(s, device);
	struct run run;

	memset(ep, 0, offsetof(struct episode, ops));
	ep->seed = seed;
	ep->e = e;
	ep->planned = (uint32_t)episode_length(s);
	run_ops(ep->ops, ep->planned, m, &run, false);
	free(m);
	ep->steps = (uint32_t)run.steps;
	ep->at = (long)run.steps - 1;
	ep->outcome = run.diverged_at >= 0 ? EP_DIVERGED
		      : run.hung           ? EP_HUNG
		      : run.gone           ? EP_GONE
					   : EP_OK;
	snprintf(ep->label, sizeof(ep->label), "%s", run.diff.label);
	snprintf(ep->what, sizeof(ep->what), "%s", run.what);
	if (ep->outcome == EP_DIVERGED)
		snprintf(ep->msg, sizeof(ep->msg), "%s", run.diff.msg);
	else
		snprintf(ep->msg, sizeof(ep->msg), "%s", run.exit);
}

/* Reports a divergence: the sequence, shortened, with its records. */
static void report(const struct episode *ep, bool shorten)
{
	static struct fz_op ops[MAX_OPS];
	size_t n = (size_t)ep->at + 1, full = n;
	struct run run;
	int again = 0, i;

	memcpy(ops, ep->ops, n * sizeof(*ops));
	printf("uffdemu-fuzz: DIVERGENCE: seed %llu, episode %llu, step %ld: "
	       "%s\n",
	       (unsigned long long)ep->seed, (unsigned long long)ep->e, ep->at,
	       ep->msg);
	budget.runs = 0;
	if (shorten) {
		budget.deadline = time(NULL) + 120;
		divergence_key(budget.kind_label, sizeof(budget.kind_label),
			       ops, ep->at, ep->label);
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
	       (unsigned long long)ep->seed, (unsigned long long)ep->e);
	free_records(&run);
}

/*
 * Both children stopped answering: the generator made an operation that
 * blocks on either backend, a bug of the fuzzer.  Replaying takes the
 * watchdog's time, so the sequence is printed as it was.
 */
static void report_hang(const struct episode *ep)
{
	char line[512];
	long i;

	printf("uffdemu-fuzz: HANG: seed %llu, episode %llu, step %ld: both "
	       "children stopped answering (the fuzzer made a call that "
	       "blocks):\n",
	       (unsigned long long)ep->seed, (unsigned long long)ep->e, ep->at);
	for (i = 0; i <= ep->at; i++) {
		fz_fmt_op(line, sizeof(line), &ep->ops[i]);
		printf("\t%s;\n", line);
	}
	printf("replay: uffdemu-fuzz --seed %llu --episode %llu --trace\n",
	       (unsigned long long)ep->seed, (unsigned long long)ep->e);
}

/* --- workers --- */

struct worker {
	pid_t pid;
	int cmd;  /* jobs to it */
	int res;  /* episodes from it */
	long job; /* the work item it runs, or -1 */
};

struct job {
	uint64_t seed;
	uint64_t e;
};

static bool read_all(int fd, void *buf, size_t len)
{
	size_t got = 0;
	ssize_t k;

	while (got < len) {
		k = read(fd, (char *)buf + got, len - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		got += (size_t)k;
	}
	return true;
}

static bool write_all(int fd, const void *buf, size_t len)
{
	size_t put = 0;
	ssize_t k;

	while (put < len) {
		k = write(fd, (const char *)buf + put, len - put);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		put += (size_t)k;
	}
	return true;
}

/* A worker runs the episodes it is sent, until its pipe closes. */
__attribute__((noreturn)) static void worker_main(int cmd, int res)
{
	static struct episode ep;
	struct job job;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	while (read_all(cmd, &job, sizeof(job))) {
		run_episode(job.seed, job.e, &ep);
		if (!write_all(res, &ep, sizeof(ep)))
			break;
	}
	_exit(0);
}

static void start_workers(struct worker *w, int n)
{
	int i, cmd[2], res[2];

	fflush(NULL);
	for (i = 0; i < n; i++) {
		if (pipe2(cmd, O_CLOEXEC) || pipe2(res, O_CLOEXEC)) {
			perror("uffdemu-fuzz: pipe2");
			exit(2);
		}
		w[i].pid = fork();
		if (w[i].pid < 0) {
			perror("uffdemu-fuzz: fork");
			exit(2);
		}
		if (!w[i].pid) {
			close(cmd[1]);
			close(res[0]);
			close_foreign_fds();
			worker_main(cmd[0], res[1]);
		}
		close(cmd[0]);
		close(res[1]);
		w[i].cmd = cmd[1];
		w[i].res = res[0];
		w[i].job = -1;
		foreign_fds[n_foreign_fds++] = cmd[1];
		foreign_fds[n_foreign_fds++] = res[0];
	}
}

static void stop_workers(struct worker *w, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		close(w[i].cmd);
		close(w[i].res);
		kill(w[i].pid, SIGKILL);
		waitpid(w[i].pid, NULL, 0);
	}
	n_foreign_fds = 0;
}

/* --- main --- */

struct options {
	uint64_t seeds[MAX_SEEDS];
	int n_seeds;
	long ops;
	double seconds;
	long episode; /* -1: all */
	bool minimize;
	bool keep_going;
	int jobs;
};

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [--seed S] [--ops N] [--seconds T] [--jobs J] "
		"[--keep-going]\n"
		"       %s --seed S --episode E [--trace]\n"
		"  --seed S       the seeds: a number, a list or ranges "
		"(\"1,4-7\"), or\n"
		"                 clock (the default; the seed is printed); "
		"episodes\n"
		"                 are taken from the seeds in turn\n"
		"  --ops N        stop after N operations in all (default "
		"10000)\n"
		"  --seconds T    stop after T seconds (with --ops: whichever "
		"first)\n"
		"  --jobs J       episodes run at once (default: the CPUs)\n"
		"  --keep-going   go on after a divergence; each new kind is "
		"shortened\n"
		"                 and printed, repeats are listed\n"
		"  --episode E    run only episode E of each seed (a replay)\n"
		"  --no-minimize  report a divergence without shortening it\n"
		"  --trace        print every operation and its records\n"
		"  --no-avoid     also make the operations that show the "
		"emulator bugs\n"
		"                 the generator avoids (they are listed at the "
		"start)\n"
		"  --no-avoid=A,B only those of the names given\n"
		"  --private-b    map area B's memfd MAP_PRIVATE, not "
		"MAP_SHARED\n",
		prog, prog);
}

static uint64_t clock_seed(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * 1000003ULL ^ (uint64_t)ts.tv_nsec) %
	       1000000000ULL;
}

/* "1,4-7" or "clock"; appends to o->seeds. */
static int parse_seeds(const char *arg, struct options *o)
{
	const char *p = arg;
	char *end;

	if (!strcmp(arg, "clock")) {
		o->seeds[o->n_seeds++] = clock_seed();
		return 0;
	}
	while (*p) {
		uint64_t lo = strtoull(p, &end, 0), hi = lo;

		if (end == p)
			return -1;
		if (*end == '-') {
			p = end + 1;
			hi = strtoull(p, &end, 0);
			if (end == p || hi < lo)
				return -1;
		}
		for (; lo <= hi; lo++) {
			if (o->n_seeds == MAX_SEEDS)
				return -1;
			o->seeds[o->n_seeds++] = lo;
			if (lo == UINT64_MAX)
				break;
		}
		if (*end == ',')
			end++;
		else if (*end)
			return -1;
		p = end;
	}
	return 0;
}

static int parse(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{"seed", required_argument, NULL, 's'},
		{"ops", required_argument, NULL, 'n'},
		{"seconds", required_argument, NULL, 't'},
		{"episode", required_argument, NULL, 'e'},
		{"jobs", required_argument, NULL, 'j'},
		{"keep-going", no_argument, NULL, 'k'},
		{"minimize", no_argument, NULL, 'm'},
		{"no-minimize", no_argument, NULL, 'M'},
		{"trace", no_argument, NULL, 'T'},
		{"no-avoid", optional_argument, NULL, 'A'},
		{"private-b", no_argument, NULL, 'P'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool ops_given = false;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int c;

	memset(o, 0, sizeof(*o));
	o->ops = 10000;
	o->episode = -1;
	o->minimize = true;
	o->jobs = cpus < 1 ? 1 : cpus > MAX_JOBS ? MAX_JOBS : (int)cpus;
	while ((c = getopt_long(argc, argv, "s:n:t:e:j:kmMTAPh", opts, NULL)) !=
	       -1) {
		switch (c) {
		case 's':
			if (parse_seeds(optarg, o)) {
				fprintf(stderr, "%s: bad seeds: %s\n", argv[0],
					optarg);
				return -1;
			}
			break;
		case 'n':
			o->ops = strtol(optarg, NULL, 0);
			ops_given = true;
			break;
		case 't':
			o->seconds = strtod(optarg, NULL);
			break;
		case 'e':
			o->episode = strtol(optarg, NULL, 0);
			break;
		case 'j':
			o->jobs = (int)strtol(optarg, NULL, 0);
			if (o->jobs < 1 || o->jobs > MAX_JOBS) {
				fprintf(stderr, "%s: --jobs: 1 to %d\n",
					argv[0], MAX_JOBS);
				return -1;
			}
			break;
		case 'k':
			o->keep_going = true;
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
		case 'P':
			fz_b_private = true;
			break;
		case 'A':
			if (!optarg) {
				fz_avoid_all(false);
				break;
			}
			for (char *n = strtok(optarg, ","); n;
			     n = strtok(NULL, ","))
				if (!fz_avoid_set(n, false)) {
					fprintf(stderr,
						"uffdemu-fuzz: no avoided "
						"operations named %s\n",
						n);
					return -1;
				}
			break;
		case 'h':
			usage(stdout, argv[0]);
			exit(0);
		default:
			usage(stderr, argv[0]);
			return -1;
		}
	}
	if (o->seconds > 0 && !ops_given)
		o->ops = -1;
	if (!o->n_seeds)
		o->seeds[o->n_seeds++] = clock_seed();
	if (trace || o->episode >= 0)
		o->jobs = 1;
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* What the run has seen. */
struct totals {
	long ops;
	long episodes;
	long ops_of[MAX_SEEDS];
	long divergences;
	long hangs;
	long gone;
	int n_whats;
	char (*whats)[sizeof(((struct episode *)0)->what)];
	long *what_count;
};

/* Takes one episode's result, in order; false: the run stops here. */
static bool take(const struct options *o, struct totals *t,
		 const struct episode *ep, int seed_index)
{
	int k;

	t->ops += ep->steps;
	t->ops_of[seed_index] += ep->steps;
	t->episodes++;
	switch (ep->outcome) {
	case EP_GONE:
		t->gone++;
		printf("uffdemu-fuzz: seed %llu, episode %llu ended at step "
		       "%ld on both sides alike: %s\n",
		       (unsigned long long)ep->seed, (unsigned long long)ep->e,
		       ep->at, ep->msg);
		return true;
	case EP_HUNG:
		t->hangs++;
		report_hang(ep);
		return o->keep_going;
	case EP_DIVERGED:
		break;
	default:
		return true;
	}
	t->divergences++;
	for (k = 0; k < t->n_whats; k++)
		if (!strcmp(t->whats[k], ep->what))
			break;
	if (k < t->n_whats) {
		t->what_count[k]++;
		printf("uffdemu-fuzz: divergence again (#%d, %s): seed %llu, "
		       "episode %llu, step %ld\n",
		       k + 1, ep->what, (unsigned long long)ep->seed,
		       (unsigned long long)ep->e, ep->at);
	} else {
		if (t->n_whats < MAX_WHATS) {
			snprintf(t->whats[t->n_whats], sizeof(t->whats[0]),
				 "%s", ep->what);
			t->what_count[t->n_whats++] = 1;
			printf("uffdemu-fuzz: divergence #%d: %s\n", t->n_whats,
			       ep->what);
		}
		report(ep, o->minimize);
	}
	fflush(stdout);
	return o->keep_going;
}

/* Whether work item i is to be run. */
static bool wanted(const struct options *o, long i, long planned, double start)
{
	if (o->episode >= 0)
		return i < o->n_seeds;
	if (o->ops >= 0 && planned >= o->ops)
		return false;
	return o->seconds <= 0 || now_s() - start < o->seconds;
}

static void item(const struct options *o, long i, struct job *j)
{
	j->seed = o->seeds[i % o->n_seeds];
	j->e = (o->episode >= 0 ? (uint64_t)o->episode : 0) +
	       (uint64_t)(i / o->n_seeds);
}

/* Runs the episodes in this process, one after the other. */
static void run_here(const struct options *o, struct totals *t, double start)
{
	static struct episode ep;
	long i, planned = 0;
	struct job j;

	for (i = 0; wanted(o, i, planned, start); i++) {
		item(o, i, &j);
		run_episode(j.seed, j.e, &ep);
		planned += ep.planned;
		if (!take(o, t, &ep, (int)(i % o->n_seeds)))
			return;
	}
}

/*
 * Runs the episodes in workers, taking their results in order: the run
 * goes as it would in one process, only faster.
 */
static void run_workers(const struct options *o, struct totals *t, double start)
{
	struct worker w[MAX_JOBS];
	struct episode *done[MAX_JOBS] = {NULL};
	long next = 0, taken = 0, planned = 0;
	bool stop = false;
	int k, busy = 0;

	start_workers(w, o->jobs);
	for (;;) {
		struct pollfd pf[MAX_JOBS];

		/* Keep every worker busy while there is work. */
		for (k = 0; k < o->jobs && !stop; k++) {
			struct job j;

			/* Results wait in done[] until those before come. */
			if (w[k].job >= 0 || next - taken >= MAX_JOBS ||
			    !wanted(o, next, planned, start))
				continue;
			item(o, next, &j);
			planned +=
				(long)episode_length(episode_seed(j.seed, j.e));
			if (!write_all(w[k].cmd, &j, sizeof(j))) {
				fprintf(stderr, "uffdemu-fuzz: a worker is "
						"gone\n");
				exit(2);
			}
			w[k].job = next++;
			busy++;
		}
		if (!busy || stop)
			break;
		for (k = 0; k < o->jobs; k++)
			pf[k] = (struct pollfd){w[k].job >= 0 ? w[k].res : -1,
						POLLIN, 0};
		if (poll(pf, (nfds_t)o->jobs, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("uffdemu-fuzz: poll");
			exit(2);
		}
		for (k = 0; k < o->jobs; k++) {
			struct episode *ep;

			if (w[k].job < 0 || !pf[k].revents)
				continue;
			ep = malloc(sizeof(*ep));
			if (!ep || !read_all(w[k].res, ep, sizeof(*ep))) {
				fprintf(stderr, "uffdemu-fuzz: a worker is "
						"gone\n");
				exit(2);
			}
			done[w[k].job - taken] = ep;
			w[k].job = -1;
			busy--;
		}
		/* The results in order, as far as they have come. */
		while (done[0]) {
			struct episode *ep = done[0];

			if (!stop && !take(o, t, ep, (int)(taken % o->n_seeds)))
				stop = true;
			free(ep);
			memmove(done, done + 1,
				(MAX_JOBS - 1) * sizeof(done[0]));
			done[MAX_JOBS - 1] = NULL;
			taken++;
		}
	}
	for (k = 0; k < MAX_JOBS; k++)
		free(done[k]);
	stop_workers(w, o->jobs);
}

/* The seeds, and with t the operations of each. */
static void print_seeds(const struct options *o, const struct totals *t)
{
	int i;

	for (i = 0; i < o->n_seeds; i++)
		printf("%s%llu", i ? ", " : "",
		       (unsigned long long)o->seeds[i]);
	if (t && o->n_seeds > 1) {
		printf(" (operations:");
		for (i = 0; i < o->n_seeds; i++)
			printf(" %ld", t->ops_of[i]);
		printf(")");
	}
}

int main(int argc, char **argv)
{
	static char whats[MAX_WHATS][sizeof(((struct episode *)0)->what)];
	static long what_count[MAX_WHATS];
	struct totals t = {.whats = whats, .what_count = what_count};
	struct options o;
	char why[256];
	double start = now_s(), secs;
	int k;

	if (parse(argc, argv, &o))
		return 2;
	if (!backend_kernel_available(why, sizeof(why))) {
		printf("uffdemu-fuzz: skipped: no kernel userfaultfd to "
		       "compare with (%s)\n",
		       why);
		return 77;
	}
	device = backend_kernel_has_device();
	signal(SIGPIPE, SIG_IGN);
	printf("uffdemu-fuzz: seed%s ", o.n_seeds > 1 ? "s" : "");
	print_seeds(&o, NULL);
	printf("\n");
	fz_avoid_print(stdout);
	fflush(stdout);
	if (o.jobs > 1)
		run_workers(&o, &t, start);
	else
		run_here(&o, &t, start);
	secs = now_s() - start;
	printf("uffdemu-fuzz: %ld operations in %ld episode%s (%.1f s, %.0f "
	       "per second), seed%s ",
	       t.ops, t.episodes, t.episodes == 1 ? "" : "s", secs,
	       secs > 0 ? (double)t.ops / secs : 0.0, o.n_seeds > 1 ? "s" : "");
	print_seeds(&o, &t);
	printf(": ");
	if (!t.divergences && !t.hangs)
		printf("no divergence");
	else
		printf("%ld divergence%s (%d kind%s), %ld hang%s",
		       t.divergences, t.divergences == 1 ? "" : "s", t.n_whats,
		       t.n_whats == 1 ? "" : "s", t.hangs,
		       t.hangs == 1 ? "" : "s");
	if (t.gone)
		printf(", %ld episode%s ended early alike", t.gone,
		       t.gone == 1 ? "" : "s");
	printf("\n");
	for (k = 0; k < t.n_whats; k++)
		printf("uffdemu-fuzz:   #%d %s: %ld time%s\n", k + 1, whats[k],
		       what_count[k], what_count[k] == 1 ? "" : "s");
	return t.divergences || t.hangs ? 1 : 0;
}
