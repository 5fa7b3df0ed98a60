// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The scenario table as Check tests: one suite per group named on the
 * command line, one test case per scenario, and one test per row (case x
 * memory type) of it, each forked with a timeout.  A row fails on an
 * unexplained difference between the kernel and the emulator, on a stale
 * known difference, or where a run misses the specification.
 *
 *   check_scenarios GROUP...   (fd, ranges, faults, wp, stress)
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "known.h"
#include "scenario.h"

static struct instance *rows;
static size_t n_rows;

static const char *verdict_name(enum verdict v)
{
	switch (v) {
	case V_DIFFERS:
		return "differs";
	case V_STALE:
		return "stale known difference";
	case V_KERNEL_SPEC:
		return "the kernel misses the test's expectation";
	case V_EMU_SPEC:
		return "the emulator misses the spec";
	default:
		return "";
	}
}

START_TEST(row_test)
{
	/* Static, so that they stay reachable when the check aborts. */
	static struct outcome o;
	const struct instance *in = &rows[_i];
	char title[200];

	instance_title(title, sizeof(title), in, true);
	instance_evaluate(in, &o);
	if (o.verdict == V_KNOWN)
		printf("%s: known difference: %s\n", title, o.detail);
	if (o.verdict == V_SKIPPED)
		printf("%s: kernel side skipped: %s\n", title, o.detail);
	fflush(stdout);
	if (!verdict_ok(o.verdict)) {
		outcome_print_records(stderr, &o);
		ck_abort_msg("%s: %s: %s", title, verdict_name(o.verdict),
			     o.detail);
	}
	outcome_free(&o);
}
END_TEST

/* Rows [from, to) of the same scenario as a test case of their own. */
static void add_tcase(Suite *s, size_t from, size_t to)
{
	const struct scenario *sc = rows[from].s;
	TCase *tc = tcase_create(sc->name);
	int watchdog = sc->watchdog_s ? sc->watchdog_s : 6;

	/* Each test runs the row twice, with a watchdog each time. */
	tcase_set_timeout(tc, 2 * watchdog + 10);
	tcase_add_loop_test(tc, row_test, (int)from, (int)to);
	suite_add_tcase(s, tc);
}

static void add_group(Suite *s, const struct scenario_group *g)
{
	size_t n, first = n_rows, i;
	struct instance *more = scenario_instances(g, &n);

	rows = realloc(rows, (n_rows + n) * sizeof(*rows));
	if (!rows)
		abort();
	memcpy(rows + n_rows, more, n * sizeof(*rows));
	n_rows += n;
	free(more);
	for (i = first; i < n_rows;) {
		size_t j = i + 1;

		while (j < n_rows && rows[j].s == rows[i].s)
			j++;
		add_tcase(s, i, j);
		i = j;
	}
}

int main(int argc, char **argv)
{
	Suite *s;
	SRunner *sr;
	int i, failed;

	if (argc < 2) {
		fprintf(stderr,
			"usage: %s GROUP... (fd, ranges, faults, wp, "
			"stress)\n",
			argv[0]);
		return 2;
	}
	s = suite_create(argv[1]);
	for (i = 1; i < argc; i++) {
		const struct scenario_group *g = scenario_group(argv[i]);

		if (!g) {
			fprintf(stderr, "%s: no group '%s'\n", argv[0],
				argv[i]);
			return 2;
		}
		add_group(s, g);
	}
	scenario_init(argv[1]);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
