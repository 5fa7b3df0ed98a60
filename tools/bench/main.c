/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uffdemu-bench: runs each workload on the kernel's userfaultfd and on the
 * emulator, alternating, several repetitions, one process each, and prints
 * a table of medians and spreads with the emulator's ratio to the kernel.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bench.h"

struct config cfg;

#define LATENCY(goal_kind, goal)          \
	.latencies = true, .nmetrics = 1, \
	.metric = {{"", "us", BETTER_LOWER, goal_kind, goal}}
#define FAULT_RATE(goal_kind, goal)       \
	.latencies = true, .nmetrics = 1, \
	.metric = {{"", "faults/s", BETTER_HIGHER, goal_kind, goal}}
#define BULK(bytes)                                      \
	.run = run_bulk, .size = (bytes), .nmetrics = 1, \
	.metric = {{"", "GiB/s", BETTER_HIGHER, GOAL_RATIO_MIN, 0.9}}
#define SCALE_METRICS                                                          \
	.nmetrics = 4,                                                         \
	.metric = {{"time", "s", BETTER_LOWER, GOAL_NONE, 0, false},           \
		   {"regions added", "regions", BETTER_LOWER, GOAL_EMU_MAX,    \
		    16, true},                                                 \
		   {"own memory", "B/page", BETTER_LOWER, GOAL_NONE, 0, true}, \
		   {"failed COPYs", "pages", BETTER_LOWER, GOAL_EMU_MAX, 0,    \
		    true}}

static char title_bulk[3][96], title_scale[2][96];

/*
 * The workloads and what the emulator should reach against the kernel in
 * the same run.  A MISSING round trip may cost 1.2 times the kernel's on
 * one core, and only 0.8 times across cores, where the emulator, which
 * controls both ends of the hand-off, can wait more cleverly than the
 * kernel's sleep and wake-up of the other CPU.  Two faulting threads must
 * be served at least as fast, bulk COPY at 0.9 of the kernel's bandwidth.
 * At scale, no COPY may fail and the memory regions must not grow with
 * the number of pages: 16 leaves room for the emulator's own tables and
 * a monitor thread's stack, where one region per page would be hundreds
 * of thousands.
 */

static struct bench_case cases[] = {
	{"missing-copy", "MISSING round trip, COPY 4 KiB", "same core",
	 run_roundtrip, .kind = RT_COPY, .threads = 1, .monitor_cpu = 0,
	 LATENCY(GOAL_RATIO_MAX, 1.2)},
	{"missing-copy", "MISSING round trip, COPY 4 KiB", "cross core",
	 run_roundtrip, .kind = RT_COPY, .threads = 1, .monitor_cpu = 1,
	 LATENCY(GOAL_RATIO_MAX, 0.8)},
	{"missing-zero", "MISSING round trip, ZEROPAGE", "same core",
	 run_roundtrip, .kind = RT_ZERO, .threads = 1, .monitor_cpu = 0,
	 LATENCY(GOAL_NONE, 0)},
	{"missing-zero", "MISSING round trip, ZEROPAGE", "cross core",
	 run_roundtrip, .kind = RT_ZERO, .threads = 1, .monitor_cpu = 1,
	 LATENCY(GOAL_NONE, 0)},
	{"missing-2threads", "MISSING, 2 faulting threads, COPY", "same core",
	 run_roundtrip, .kind = RT_COPY, .threads = 2, .monitor_cpu = 0,
	 FAULT_RATE(GOAL_RATIO_MIN, 1.0)},
	{"missing-2threads", "MISSING, 2 faulting threads, COPY", "cross core",
	 run_roundtrip, .kind = RT_COPY, .threads = 2, .monitor_cpu = 1,
	 FAULT_RATE(GOAL_RATIO_MIN, 1.0)},
	{"wp", "WP round trip, WRITEPROTECT(0)", "same core", run_roundtrip,
	 .kind = RT_WP, .threads = 1, .monitor_cpu = 0, LATENCY(GOAL_NONE, 0)},
	{"wp", "WP round trip, WRITEPROTECT(0)", "cross core", run_roundtrip,
	 .kind = RT_WP, .threads = 1, .monitor_cpu = 1, LATENCY(GOAL_NONE, 0)},
	{"minor", "MINOR round trip, CONTINUE", "same core", run_roundtrip,
	 .kind = RT_MINOR, .threads = 1, .monitor_cpu = 0,
	 LATENCY(GOAL_NONE, 0)},
	{"minor", "MINOR round trip, CONTINUE", "cross core", run_roundtrip,
	 .kind = RT_MINOR, .threads = 1, .monitor_cpu = 1,
	 LATENCY(GOAL_NONE, 0)},
	{"huge", "MISSING round trip, COPY 2 MiB huge page", "same core",
	 run_roundtrip, .kind = RT_HUGE, .threads = 1, .monitor_cpu = 0,
	 LATENCY(GOAL_NONE, 0)},
	{"huge", "MISSING round trip, COPY 2 MiB huge page", "cross core",
	 run_roundtrip, .kind = RT_HUGE, .threads = 1, .monitor_cpu = 1,
	 LATENCY(GOAL_NONE, 0)},
	{"bulk-copy", title_bulk[0], "", BULK(4096)},
	{"bulk-copy", title_bulk[1], "", BULK(64 << 10)},
	{"bulk-copy", title_bulk[2], "", BULK(2 << 20)},
	{"scale-copy", title_scale[0], "", run_scale, .kind = SCALE_COPY,
	 SCALE_METRICS},
	{"scale-faults", title_scale[1], "same core", run_scale,
	 .kind = SCALE_FAULTS, SCALE_METRICS},
	{"shim", "shim", "", run_shim, .no_kernel = true,
	 .columns = {"without LD_PRELOAD", "under the shim"}, .nmetrics = 2,
	 .metric = {{"read(/dev/zero, 0)", "ns", BETTER_LOWER, GOAL_NONE, 0,
		     false},
		    {"ioctl(pipe, FIONREAD)", "ns", BETTER_LOWER, GOAL_NONE, 0,
		     false}}},
};
#define NCASES ((int)(sizeof(cases) / sizeof(cases[0])))

static void usage(FILE *f)
{
	fprintf(f,
		"usage: uffdemu-bench [--quick] [--reps N] [--only LIST] "
		"[--no-kernel]\n"
		"                     [--csv FILE] [--json FILE] [--svg FILE]\n"
		"  --quick      small counts, a few seconds (a smoke test)\n"
		"  --reps N     repetitions of each workload (default 7; the "
		"scale workloads\n"
		"               run at most 3)\n"
		"  --only LIST  workloads, comma-separated, by name or "
		"prefix:\n"
		"               missing-copy missing-zero missing-2threads wp "
		"minor\n"
		"               bulk-copy scale-copy scale-faults shim\n"
		"  --where same|cross   only the round trips with that "
		"placement\n"
		"  --faults N   faults per round-trip run (default 5000)\n"
		"  --no-kernel  the emulator only\n"
		"  --csv, --json FILE   the figures, machine-readable\n"
		"  --svg FILE   the round-trip latency distributions as a "
		"picture\n");
}

struct options {
	const char *only, *where, *csv, *json, *svg;
	bool quick, no_kernel;
	int reps;
	long faults;
};

static void set_sizes(bool quick)
{
	cfg.reps = quick ? 2 : 7;
	cfg.faults = quick ? 300 : 5000;
	cfg.bulk_bytes = quick ? 16UL << 20 : 256UL << 20;
	cfg.scale_bytes = quick ? 256UL << 20 : 4UL << 30;
	cfg.scale_pages = quick ? 20000 : 1000000;
	cfg.scale_faults = quick ? 2000 : 100000;
	cfg.shim_calls = quick ? 20000 : 200000;
	cfg.timeout = quick ? 60 : 300;
}

static int parse(int argc, char **argv, struct options *o)
{
	static const struct option longs[] = {
		{"quick", no_argument, NULL, 'q'},
		{"reps", required_argument, NULL, 'r'},
		{"only", required_argument, NULL, 'o'},
		{"where", required_argument, NULL, 'w'},
		{"faults", required_argument, NULL, 'f'},
		{"csv", required_argument, NULL, 'c'},
		{"json", required_argument, NULL, 'j'},
		{"svg", required_argument, NULL, 's'},
		{"no-kernel", no_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	int ch;

	while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (ch) {
		case 'q':
			o->quick = true;
			break;
		case 'r':
			o->reps = atoi(optarg);
			if (o->reps < 1)
				return -1;
			break;
		case 'o':
			o->only = optarg;
			break;
		case 'w':
			o->where = optarg;
			if (strcmp(optarg, "same") && strcmp(optarg, "cross"))
				return -1;
			break;
		case 'f':
			o->faults = atol(optarg);
			if (o->faults < 10)
				return -1;
			break;
		case 'c':
			o->csv = optarg;
			break;
		case 'j':
			o->json = optarg;
			break;
		case 's':
			o->svg = optarg;
			break;
		case 'n':
			o->no_kernel = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	return optind == argc ? 0 : -1;
}

/* Whether id is in the comma-separated list, whole or as a prefix. */
static bool in_list(const char *only, const char *id)
{
	const char *p = only;

	if (!only)
		return true;
	while (*p) {
		size_t n = strcspn(p, ",");

		if (n && strncmp(id, p, n) == 0)
			return true;
		p += n + (p[n] == ',');
	}
	return false;
}

static bool selected(const struct options *o, const struct bench_case *c)
{
	if (o->where && strncmp(c->where, o->where, strlen(o->where)) != 0)
		return false;
	return in_list(o->only, c->id);
}

static bool known_workload(const char *only)
{
	for (const char *p = only; *p;) {
		size_t n = strcspn(p, ",");
		bool found = false;

		for (int i = 0; i < NCASES && n; i++)
			found |= strncmp(cases[i].id, p, n) == 0;
		if (!found && n) {
			fprintf(stderr, "uffdemu-bench: no workload '%.*s'\n",
				(int)n, p);
			return false;
		}
		p += n + (p[n] == ',');
	}
	return true;
}

static void size_label(char *buf, size_t n, size_t bytes)
{
	if (bytes >= 1UL << 30)
		snprintf(buf, n, "%zu GiB", bytes >> 30);
	else if (bytes >= 1UL << 20)
		snprintf(buf, n, "%zu MiB", bytes >> 20);
	else
		snprintf(buf, n, "%zu KiB", bytes >> 10);
}

static void make_titles(void)
{
	static const size_t chunk[3] = {4096, 64 << 10, 2 << 20};
	char total[32], piece[32];

	size_label(total, sizeof(total), cfg.bulk_bytes);
	for (int i = 0; i < 3; i++) {
		size_label(piece, sizeof(piece), chunk[i]);
		snprintf(title_bulk[i], sizeof(title_bulk[i]),
			 "bulk COPY %s in %s pieces", total, piece);
	}
	size_label(total, sizeof(total), cfg.scale_bytes);
	snprintf(title_scale[0], sizeof(title_scale[0]), "scale %s, %lu COPY",
		 total, cfg.scale_pages);
	snprintf(title_scale[1], sizeof(title_scale[1]), "scale %s, %lu faults",
		 total, cfg.scale_faults);
}

/* Free 2 MiB huge pages, which the hugetlb round trips map. */
static long free_huge_pages(void)
{
	FILE *f = fopen("/sys/kernel/mm/hugepages/hugepages-2048kB/"
			"free_hugepages",
			"r");
	long n = 0;

	if (f && fscanf(f, "%ld", &n) != 1)
		n = 0;
	if (f)
		fclose(f);
	return n;
}

/* Cases that cannot run here say why instead. */
static void mark_unavailable(void)
{
	bool two = online_cpus() >= 2;
	bool huge = free_huge_pages() >= BENCH_HUGE_PAGES;

	for (int i = 0; i < NCASES; i++) {
		struct bench_case *c = &cases[i];

		if (c->run && c->monitor_cpu > 0 && !two) {
			c->run = NULL;
			c->na = "n/a: needs two CPUs";
		}
		if (c->run && c->kind == RT_HUGE && c->run == run_roundtrip &&
		    !huge) {
			c->run = NULL;
			c->na = "n/a: needs 4 free 2 MiB huge pages "
				"(vm.nr_hugepages; tools/setup.sh bench "
				"reserves them as root)";
		}
		if (c->run == run_shim && !shim_path()) {
			c->run = NULL;
			c->na = "n/a: libuffdemu-preload.so not built";
		}
	}
}

static struct result *result_block(size_t cap)
{
	size_t len = sizeof(struct result) + cap * sizeof(double);
	struct result *r = mmap(NULL, len, PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (r == MAP_FAILED)
		return NULL;
	r->cap = cap;
	return r;
}

static int alloc_data(struct case_data *d, const struct bench_case *c, int reps)
{
	memset(d, 0, sizeof(*d));
	d->c = c;
	for (int b = 0; b < 2; b++)
		for (int m = 0; m < c->nmetrics; m++) {
			d->values[b][m] = calloc((size_t)reps, sizeof(double));
			if (!d->values[b][m])
				return -1;
		}
	return 0;
}

static void keep_samples(struct case_data *d, int b, const struct result *r)
{
	size_t n = d->nsamples[b] + r->nsamples;
	double *s = realloc(d->samples[b], n * sizeof(*s) + 1);

	if (!s)
		return;
	memcpy(s + d->nsamples[b], r->samples, r->nsamples * sizeof(*s));
	d->samples[b] = s;
	d->nsamples[b] = n;
}

/* Records one repetition; a failed one counts as a gap in the pairs. */
static void keep(struct case_data *d, int b, int rep, const struct result *r)
{
	d->runs[b] = rep + 1;
	for (int m = 0; m < d->c->nmetrics; m++)
		d->values[b][m][rep] = r->failed ? NAN : r->metric[m];
	if (r->error[0])
		snprintf(d->error[b], sizeof(d->error[b]), "%s", r->error);
	if (!r->failed && d->c->latencies)
		keep_samples(d, b, r);
}

static const struct backend *const backends[2] = {&backend_kernel,
						  &backend_emu};

static int failures;

static void run_case(struct case_data *d, struct result *r, bool kernel)
{
	const struct bench_case *c = d->c;
	int reps = c->run == run_scale ? cfg.scale_reps : cfg.reps;
	int failed[2] = {0, 0};

	fprintf(stderr, "uffdemu-bench: %s %s ", c->title, c->where);
	for (int rep = 0; rep < reps; rep++) {
		for (int k = 0; k < 2; k++) {
			int b = rep % 2 ? 1 - k : k;

			if ((b == 0 && !kernel && !c->no_kernel) ||
			    failed[b] >= 2)
				continue;
			if (run_in_child(c, backends[b], r) != 0) {
				failed[b]++;
				failures++;
			}
			keep(d, b, rep, r);
		}
		fputc('.', stderr);
	}
	fputc('\n', stderr);
	for (int b = 0; b < 2; b++)
		if (d->nsamples[b])
			sort_doubles(d->samples[b], d->nsamples[b]);
}

static void print_header(bool kernel, const char *why)
{
	struct utsname u;

	uname(&u);
	printf("uffdemu-bench: Linux %s %s, %d CPUs; %d repetitions (scale: "
	       "%d), each in its own process,\n"
	       "kernel and emulator alternating; %lu faults per round-trip "
	       "run.\n",
	       u.release, u.machine, online_cpus(), cfg.reps, cfg.scale_reps,
	       cfg.faults);
	printf("Figures: median over the repetitions [10th-90th "
	       "percentile]; emu/kernel paired\n"
	       "by repetition.  same core: faulter and monitor on CPU 0; "
	       "cross core: faulter\n"
	       "on CPU 0, monitor on CPU 1.\n");
	printf("scale: MAP_NORESERVE memory registered MISSING, pages "
	       "resolved in random order\n"
	       "by UFFDIO_COPY from the main thread (COPY) or by touching "
	       "them with a monitor\n"
	       "answering (faults); own memory = growth of Anonymous: minus "
	       "4 KiB per page filled,\n"
	       "per registered page.\n");
	if (!kernel)
		printf("The kernel's userfaultfd is not measured: %s.\n", why);
}

typedef int (*writer)(const char *path, struct case_data *d, int n);

static int write_one(const char *path, writer w, struct case_data *d, int n)
{
	if (!path || w(path, d, n) == 0)
		return 0;
	fprintf(stderr, "uffdemu-bench: %s: %s\n", path, strerror(errno));
	return -1;
}

static int write_outputs(const struct options *o, struct case_data *d, int n)
{
	int err = write_one(o->csv, report_csv, d, n);

	err |= write_one(o->json, report_json, d, n);
	err |= write_one(o->svg, report_svg, d, n);
	return err;
}

static char exe_path[PATH_MAX];

static void find_self(void)
{
	ssize_t n = readlink("/proc/self/exe", exe_path, sizeof(exe_path) - 1);

	if (n > 0) {
		exe_path[n] = '\0';
		cfg.exe = exe_path;
	}
}

int main(int argc, char **argv)
{
	struct options o = {0};
	struct case_data d[NCASES];
	char why[160] = "--no-kernel";
	struct result *r;
	bool kernel;
	int n = 0;

	if (argc > 1 && strcmp(argv[1], "--shim-probe") == 0)
		return shim_probe_main(argc, argv);
	if (parse(argc, argv, &o) != 0 || (o.only && !known_workload(o.only))) {
		usage(stderr);
		return 2;
	}
	find_self();
	set_sizes(o.quick);
	if (o.reps)
		cfg.reps = o.reps;
	if (o.faults)
		cfg.faults = (unsigned long)o.faults;
	cfg.scale_reps = cfg.reps < 3 ? cfg.reps : 3;
	make_titles();
	mark_unavailable();
	kernel = !o.no_kernel && kernel_available(why, sizeof(why));
	r = result_block(cfg.faults * 2);
	if (!r) {
		fprintf(stderr, "uffdemu-bench: mmap: %s\n", strerror(errno));
		return 1;
	}
	for (int i = 0; i < NCASES; i++) {
		if (!selected(&o, &cases[i]))
			continue;
		if (alloc_data(&d[n], &cases[i], cfg.reps) != 0)
			return 1;
		if (cases[i].run)
			run_case(&d[n], r, kernel);
		n++;
	}
	print_header(kernel, why);
	report_table(d, n);
	if (write_outputs(&o, d, n) != 0)
		return 1;
	return failures ? 1 : 0;
}
