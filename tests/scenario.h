/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Scenarios: a piece of monitor code written once against a backend, run in
 * a child process on the kernel and on the emulator, each run filling a
 * record (record.h).  The two records must be equal, but for the known
 * differences they mark (known.h); each record must also meet the values
 * the specification promises, which is what is left to check when the
 * kernel cannot be compared with.
 *
 * The scenarios form one table, in the manner of the kernel's own
 * selftests: scenario x case x memory type, each needing what the kernel
 * must offer for it.  A row whose needs the kernel lacks is run on the
 * emulator only and reported as skipped, with the reason.  The Check
 * programs (check.c) and the conformance report (conformance.c) both run
 * this table.
 *
 * Each run happens in its own process so that a crash, a hang or a stray
 * blocked thread on one backend cannot disturb the other; the record ends
 * with an "exit" line saying how that process ended, and a watchdog kills a
 * run that takes too long, adding a "watchdog" line that names the last
 * thing recorded.
 *
 * Environment:
 *   UFFDEMU_TEST_BACKEND=kernel|emu  run one side only (default: both)
 *   UFFDEMU_TEST_NO_KERNEL=1         behave as if the kernel had no uffd
 *   UFFDEMU_TEST_VERBOSE=1           print both records of failing rows
 */
#ifndef UFFDEMU_TESTS_SCENARIO_H
#define UFFDEMU_TESTS_SCENARIO_H

#include <stdint.h>
#include <stdio.h>

#include "backend.h"
#include "record.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The memory a scenario's registered area is made of. */
enum mem_type {
	MEM_ANON,          /* private anonymous */
	MEM_SHMEM,         /* a memfd mapped MAP_SHARED */
	MEM_SHMEM_PRIVATE, /* a memfd mapped MAP_PRIVATE */
	MEM_SHARED_ANON,   /* MAP_SHARED | MAP_ANONYMOUS */
	N_MEM_TYPES,
};

#define MEM_BIT(m) (1U << (m))
#define ALL_MEMS   ((1U << N_MEM_TYPES) - 1)

/* "anon", "shmem", "shmem-private", "shared-anon". */
const char *mem_name(enum mem_type m);

typedef void scenario_fn(const struct backend *b, struct record *r, int variant,
			 enum mem_type mem);

/* What a scenario needs from the kernel beyond a working userfaultfd. */
enum scenario_needs {
	NEEDS_DEVICE = 1 << 0,    /* a usable /dev/userfaultfd */
	NEEDS_HUGEPAGES = 1 << 1, /* free 2 MiB huge pages, on both sides */
	NEEDS_GIGAPAGES = 1 << 2, /* a free 1 GiB huge page, on both sides */
};

struct scenario {
	const char *name;
	scenario_fn *run;
	/*
	 * The cases, one per variant: an array whose elements begin with
	 * their name (a const char *).  Without cases there is one, variant 0.
	 */
	const void *cases;
	size_t case_size;
	int n_cases;
	unsigned int mems; /* MEM_BIT()s it runs on; 0 means MEM_ANON */
	/* Features the kernel must offer for every case, and for one case. */
	uint64_t features;
	uint64_t (*case_features)(int variant, enum mem_type mem);
	int watchdog_s;     /* seconds per backend run; 0 means 6 */
	unsigned int needs; /* enum scenario_needs */
};

/* The cases of a scenario are the elements of table. */
#define CASES(table)                                       \
	.cases = (table), .case_size = sizeof((table)[0]), \
	.n_cases = (int)ARRAY_SIZE(table)

/*
 * Defines a scenario and its run function, whose body follows the macro
 * with b, r, variant and mem in scope.  The optional arguments are
 * designated initializers of struct scenario: SCENARIO(x, .watchdog_s = 20).
 */
#define SCENARIO(id, ...)                                               \
	static scenario_fn id##_run;                                    \
	static const struct scenario id = {                             \
		.name = #id, .run = id##_run, __VA_ARGS__};             \
	static void id##_run(const struct backend *b, struct record *r, \
			     int variant, enum mem_type mem)

/* The scenarios of one source file. */
struct scenario_group {
	const char *name;
	const struct scenario *const *list; /* ends with NULL */
};

extern const struct scenario_group scenarios_fd;
extern const struct scenario_group scenarios_ranges;
extern const struct scenario_group scenarios_faults;
extern const struct scenario_group scenarios_stress;
extern const struct scenario_group scenarios_wp;
extern const struct scenario_group scenarios_move;
extern const struct scenario_group scenarios_shmem;
extern const struct scenario_group scenarios_hugetlb;

/* Every group, ending with NULL. */
extern const struct scenario_group *const scenario_groups[];

/* The group with this name, or NULL. */
const struct scenario_group *scenario_group(const char *name);

/* One row of the table: a case of a scenario on a memory type. */
struct instance {
	const struct scenario_group *group;
	const struct scenario *s;
	int variant;
	enum mem_type mem;
};

/*
 * The rows of a group, case by case and memory type by memory type within
 * a case; *n gets their number.  The array is malloc'ed.
 */
struct instance *scenario_instances(const struct scenario_group *g, size_t *n);

/* The name of the row's case ("" for a scenario without cases). */
const char *instance_case(const struct instance *in);

/* "reg[3] mode 8", with the memory type unless anonymous when with_mem. */
void instance_title(char *out, size_t n, const struct instance *in,
		    bool with_mem);

/* Features the kernel must offer for the row. */
uint64_t instance_features(const struct instance *in);

/* "THREAD_ID|EXACT_ADDRESS" for a feature mask. */
void fmt_features(char *out, size_t n, uint64_t features);

enum verdict {
	V_EQUAL,       /* both runs met the spec and their records agree */
	V_KNOWN,       /* the same, but for known differences */
	V_SKIPPED,     /* no kernel run (the reason says why); emu met spec */
	V_DIFFERS,     /* an unexplained difference */
	V_STALE,       /* a known difference that is no longer one */
	V_KERNEL_SPEC, /* the kernel does not do what the test expects */
	V_EMU_SPEC,    /* the emulator misses the spec or its mark */
};

/* The verdicts that pass. */
static inline bool verdict_ok(enum verdict v)
{
	return v == V_EQUAL || v == V_KNOWN || v == V_SKIPPED;
}

struct outcome {
	enum verdict verdict;
	char kernel[24]; /* "ok", "FAILS", "skipped", "not run" */
	char emu[24];
	char detail[800]; /* the first difference, the ids, or the reason */
	long line;        /* the line concerned, or -1 */
	struct record k, e;
};

/*
 * Once, from main(): looks for the kernel, asks what it offers, and says
 * what will be compared.
 */
void scenario_init(const char *program);

/*
 * Whether the kernel side runs at all; *features gets what the kernel
 * offers, *why the reason when it does not run.
 */
bool scenario_kernel(uint64_t *features, const char **why);

/* What the emulator offers, asked in a child process (0 if that fails). */
uint64_t scenario_emu_features(void);

/* Runs the row on b in a child process; out gets its record. */
void scenario_run(const struct backend *b, const struct instance *in,
		  struct record *out);

/* Runs the row on both backends (as configured) and judges it. */
void instance_evaluate(const struct instance *in, struct outcome *o);

/* Prints the lines of each record around the outcome's line to f. */
void outcome_print_records(FILE *f, const struct outcome *o);

void outcome_free(struct outcome *o);

/* Inside a run: ends it, recording why (an "abort" line). */
__attribute__((noreturn)) void scenario_abort(const char *why);
#define REQUIRE(cond)                                       \
	do {                                                \
		if (!(cond))                                \
			scenario_abort("required: " #cond); \
	} while (0)

/*
 * Inside a run: ends it normally.  For the emulator's run after a known
 * difference that the rest of the run follows from (known_rest()).
 */
__attribute__((noreturn)) void scenario_stop(void);

/* A wait status as the "exit" line shows it: "0", "status 3", "killed by
 * SEGV". */
void scenario_fmt_status(char *out, size_t n, int status);

/* Inside a run: the descriptor the record streams to (children close it). */
int scenario_sink(void);

#endif /* UFFDEMU_TESTS_SCENARIO_H */
