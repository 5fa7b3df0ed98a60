// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * uffdemu-conformance: runs every row of the scenario table (scenario x
 * case x memory type) on the kernel's userfaultfd and on the emulator and
 * prints the matrix: case, memory type, what each run gave, and whether the
 * two agree, differ (naming the first field that differs), differ as a
 * known difference (naming it; the reasons follow the matrix), or were not
 * compared (with the reason).  Exits 1 when a difference is unexplained, a
 * known difference is stale, or a run misses the specification.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "known.h"
#include "scenario.h"

#define CASE_W 58

struct tally {
	int rows;
	int by_verdict[V_EMU_SPEC + 1];
	char known_ids[256]; /* every id met, comma-separated */
};

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [--group NAME]... [--match TEXT] [--verbose]\n"
		"  --group NAME  only this group (fd, ranges, faults, wp, "
		"stress);"
		" repeatable\n"
		"  --match TEXT  only rows whose case contains TEXT\n"
		"  --verbose     print both records of every row that fails\n"
		"Environment: UFFDEMU_TEST_NO_KERNEL=1, "
		"UFFDEMU_TEST_BACKEND=kernel|emu\n",
		prog);
}

static void header(void)
{
	struct utsname u;
	uint64_t features;
	const char *why;

	uname(&u);
	if (scenario_kernel(&features, &why)) {
		printf("kernel:   userfaultfd of Linux %s (%s), offers %#llx\n",
		       u.release, u.machine, (unsigned long long)features);
	} else {
		printf("kernel:   not compared: %s\n", why);
	}
	printf("emulator: uffdemu, offers %#llx\n\n",
	       (unsigned long long)scenario_emu_features());
	printf("%-*s %-13s %-7s %-8s %s\n", CASE_W, "CASE", "MEMORY", "KERNEL",
	       "EMULATOR", "RESULT");
}

static const char *verdict_text(enum verdict v)
{
	static const char *const text[] = {
		[V_EQUAL] = "equal",
		[V_KNOWN] = "known difference: ",
		[V_SKIPPED] = "skipped: ",
		[V_DIFFERS] = "DIFFERS: ",
		[V_STALE] = "STALE known difference: ",
		[V_KERNEL_SPEC] = "KERNEL misses the test's expectation: ",
		[V_EMU_SPEC] = "EMULATOR misses the spec: ",
	};

	return text[v];
}

static void add_ids(struct tally *t, const char *ids)
{
	char copy[sizeof(((struct outcome *)0)->detail)], *save = NULL, *id;
	size_t len;

	snprintf(copy, sizeof(copy), "%s", ids);
	for (id = strtok_r(copy, ", ", &save); id;
	     id = strtok_r(NULL, ", ", &save)) {
		if (strstr(t->known_ids, id))
			continue;
		len = strlen(t->known_ids);
		snprintf(t->known_ids + len, sizeof(t->known_ids) - len, "%s%s",
			 len ? "," : "", id);
	}
}

static void run_row(const struct instance *in, struct tally *t, bool verbose)
{
	struct outcome o;
	char title[160];

	snprintf(title, sizeof(title), "%s/", in->group->name);
	instance_title(title + strlen(title), sizeof(title) - strlen(title), in,
		       false);
	instance_evaluate(in, &o);
	printf("%-*s %-13s %-7s %-8s %s%s\n", CASE_W, title, mem_name(in->mem),
	       o.kernel, o.emu, verdict_text(o.verdict), o.detail);
	if (!verdict_ok(o.verdict) && (verbose || o.line >= 0))
		outcome_print_records(stdout, &o);
	fflush(stdout);
	t->rows++;
	t->by_verdict[o.verdict]++;
	if (o.verdict == V_KNOWN)
		add_ids(t, o.detail);
	outcome_free(&o);
}

static void legend(const struct tally *t)
{
	const struct known_difference *k;

	printf("\nKnown differences:\n");
	for (k = known_differences; k->id; k++)
		printf("  %-14s %s%s\n", k->id, k->reason,
		       strstr(t->known_ids, k->id) ? "" : " (not met)");
}

static int summary(const struct tally *t)
{
	int bad = t->by_verdict[V_DIFFERS] + t->by_verdict[V_STALE] +
		  t->by_verdict[V_KERNEL_SPEC] + t->by_verdict[V_EMU_SPEC];

	printf("\n%d rows: %d equal, %d known differences, %d skipped, "
	       "%d unexplained differences, %d stale marks, %d spec "
	       "failures\n",
	       t->rows, t->by_verdict[V_EQUAL], t->by_verdict[V_KNOWN],
	       t->by_verdict[V_SKIPPED], t->by_verdict[V_DIFFERS],
	       t->by_verdict[V_STALE],
	       t->by_verdict[V_KERNEL_SPEC] + t->by_verdict[V_EMU_SPEC]);
	return bad ? EXIT_FAILURE : EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"group", required_argument, NULL, 'g'},
		{"match", required_argument, NULL, 'm'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const struct scenario_group *groups[8];
	const char *match = NULL;
	struct tally t = {0};
	bool verbose = false;
	int n_groups = 0, c, g;
	size_t n, i;

	while ((c = getopt_long(argc, argv, "g:m:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'g':
			groups[n_groups] = scenario_group(optarg);
			if (!groups[n_groups] || n_groups == 7) {
				fprintf(stderr, "%s: no group '%s'\n", argv[0],
					optarg);
				return 2;
			}
			n_groups++;
			break;
		case 'm':
			match = optarg;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage(stdout, argv[0]);
			return 0;
		default:
			usage(stderr, argv[0]);
			return 2;
		}
	}
	for (g = 0; !n_groups && scenario_groups[g]; g++)
		groups[g] = scenario_groups[g];
	if (!n_groups)
		n_groups = g;

	scenario_init("uffdemu-conformance");
	header();
	for (g = 0; g < n_groups; g++) {
		struct instance *rows = scenario_instances(groups[g], &n);

		for (i = 0; i < n; i++) {
			char title[160];

			instance_title(title, sizeof(title), &rows[i], true);
			if (!match || strstr(title, match))
				run_row(&rows[i], &t, verbose);
		}
		free(rows);
	}
	legend(&t);
	return summary(&t);
}
