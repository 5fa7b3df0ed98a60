/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uffdemu-bench: the emulator measured against the kernel's userfaultfd on
 * the same machine, in the same run.
 *
 * Every measurement runs in a child process of its own, so that nothing a
 * backend leaves behind (mappings, threads, the emulator's tables) reaches
 * the next one.  The child writes its figures into a shared result block;
 * the parent alternates the two backends repetition by repetition, so that
 * a burst of noise from the rest of the machine lands on both.
 */
#ifndef UFFDEMU_BENCH_H
#define UFFDEMU_BENCH_H

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <uffdemu/uffdemu.h>

#define BENCH_PAGE 4096UL

/* The calls a monitor makes: the kernel's, or the emulator's. */
struct backend {
	const char *name; /* "kernel" or "emulator" */
	int (*userfaultfd)(int flags);
	int (*ioctl)(int fd, unsigned long request, void *arg);
	ssize_t (*read)(int fd, void *buf, size_t count);
	int (*poll)(struct pollfd *fds, nfds_t nfds, int timeout);
	int (*close)(int fd);
	int (*madvise)(void *addr, size_t len, int advice);
};

extern const struct backend backend_kernel;
extern const struct backend backend_emu;

/* Whether the kernel's userfaultfd works here; why says why not. */
bool kernel_available(char *why, size_t n);

/* What the figures of a case mean and what the emulator should reach. */
enum better { BETTER_NONE, BETTER_LOWER, BETTER_HIGHER };
enum goal_kind {
	GOAL_NONE,
	GOAL_RATIO_MAX, /* emulator / kernel at most goal */
	GOAL_RATIO_MIN, /* emulator / kernel at least goal */
	GOAL_EMU_MAX,   /* the emulator's own figure at most goal */
};

struct metric {
	const char *name; /* shown after the case's title */
	const char *unit;
	enum better better;
	enum goal_kind goal_kind;
	double goal;
	bool no_ratio; /* the kernel's figure is about zero or a count */
};

#define MAX_METRICS 4

/*
 * What a child hands back.  samples[] holds per-operation latencies in
 * microseconds for the cases that record them.
 */
struct result {
	int failed;
	char error[160];
	double metric[MAX_METRICS];
	size_t nsamples;
	size_t cap;
	double samples[];
};

struct bench_case;
typedef int (*case_fn)(const struct bench_case *c, const struct backend *b,
		       struct result *r);

struct bench_case {
	const char *id;    /* for --only and the machine-readable output */
	const char *title; /* for the table */
	const char *where; /* "same core", "cross core" or "" */
	case_fn run;       /* NULL: not measurable, na says why */
	const char *na;
	int kind;        /* the workload's own selector */
	int threads;     /* faulting threads */
	int monitor_cpu; /* faulters run on CPU 0 */
	size_t size;     /* chunk size, or 0 */
	bool latencies;  /* records samples[] */
	bool no_kernel;  /* both columns are the emulator's side (shim) */
	const char *columns[2];
	int nmetrics;
	struct metric metric[MAX_METRICS];
};

/* The sizes of one run, set from the options. */
struct config {
	int reps;
	int scale_reps;
	unsigned long faults;       /* per faulting thread and repetition */
	size_t bulk_bytes;          /* bulk COPY total */
	size_t scale_bytes;         /* registered by the scale cases */
	unsigned long scale_pages;  /* resolved by COPY */
	unsigned long scale_faults; /* resolved through faults */
	unsigned long shim_calls;
	int timeout;     /* seconds a child may take */
	const char *exe; /* this program, for the shim probe */
};

extern struct config cfg;

/* child.c */
int run_in_child(const struct bench_case *c, const struct backend *b,
		 struct result *r);
int fail(struct result *r, const char *what, int err);
int pin_to_cpu(int cpu);
int online_cpus(void);
double now_us(void);
long count_regions(void);
long anon_kib(void);
uint64_t rand_next(uint64_t *state);

/* monitor.c: the thread that answers faults, on its own CPU. */
enum rt_kind { RT_COPY, RT_ZERO, RT_WP, RT_MINOR, RT_HUGE };

/* RT_HUGE: private hugetlb memory, answered with COPYs of a huge page. */
#define BENCH_HUGE       (2UL << 20)
#define BENCH_HUGE_PAGES 4
struct monitor {
	const struct backend *b;
	struct result *r;
	int uffd;
	int kind; /* how faults are answered: enum rt_kind */
	int cpu;
	const char *src; /* a page of contents for COPY (a huge one: RT_HUGE) */
	unsigned long expected;
	_Atomic unsigned long served;
	_Atomic bool done;
	pthread_t tid;
};
int monitor_start(struct monitor *m);
void monitor_stop(struct monitor *m);

/* The workloads.  Each runs in the child and fills r. */
int run_roundtrip(const struct bench_case *c, const struct backend *b,
		  struct result *r);
int run_bulk(const struct bench_case *c, const struct backend *b,
	     struct result *r);
enum scale_kind { SCALE_COPY, SCALE_FAULTS };
int run_scale(const struct bench_case *c, const struct backend *b,
	      struct result *r);
int run_shim(const struct bench_case *c, const struct backend *b,
	     struct result *r);
const char *shim_path(void);
int shim_probe_main(int argc, char **argv);

/* stats.c */
void sort_doubles(double *v, size_t n);
double percentile(const double *sorted, size_t n, double p);
double median_of(double *v, size_t n);

/* What the parent keeps of every repetition of a case. */
struct case_data {
	const struct bench_case *c;
	int runs[2];                    /* repetitions done: kernel, emu */
	double *values[2][MAX_METRICS]; /* [backend][metric][rep] */
	double *samples[2];             /* pooled over repetitions */
	size_t nsamples[2];
	bool measured[2];
	char error[2][160];
};

/* report.c */
void report_table(struct case_data *d, int n);
int report_csv(const char *path, struct case_data *d, int n);
int report_json(const char *path, struct case_data *d, int n);

/* svg.c */
int report_svg(const char *path, struct case_data *d, int n);

#endif /* UFFDEMU_BENCH_H */
