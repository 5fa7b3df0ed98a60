// SPDX-License-Identifier: GPL-2.0-or-later
/* The scenario table: running its rows on the backends and judging them. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "scenario.h"

static bool use_kernel = true;
static bool use_emu = true;
static bool kernel_ok;
static char kernel_why[256];
static uint64_t kernel_features; /* what the kernel offers */

/* The run in progress in this process, for scenario_abort and children. */
static struct record *run_rec;
static int run_sink = -1;

/* The features b offers, asked on a throw-away descriptor. */
static uint64_t offered(const struct backend *b)
{
	struct uffdio_api a = {.api = UFFD_API};
	int fd = b->userfaultfd(O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (b->ioctl(fd, UFFDIO_API, &a))
		a.features = 0;
	b->close(fd);
	return a.features;
}

void scenario_init(const char *program)
{
	const char *only = getenv("UFFDEMU_TEST_BACKEND");

	if (only && !strcmp(only, "kernel"))
		use_emu = false;
	if (only && !strcmp(only, "emu"))
		use_kernel = false;
	kernel_ok = backend_kernel_available(kernel_why, sizeof(kernel_why));
	if (kernel_ok)
		kernel_features = offered(&backend_kernel);

	if (use_kernel && !kernel_ok)
		printf("%s: the kernel's userfaultfd is not available (%s): "
		       "comparisons with the kernel are skipped and the "
		       "emulator is checked against the spec values only\n",
		       program, kernel_why);
	if (!use_emu)
		printf("%s: UFFDEMU_TEST_BACKEND=kernel: the emulator is not "
		       "run\n",
		       program);
	fflush(stdout);
}

uint64_t scenario_emu_features(void)
{
	uint64_t features = 0;
	int p[2], status;
	pid_t pid;

	if (pipe(p))
		return 0;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		/* The emulator is started in children only. */
		features = offered(&backend_emu);
		_exit(write(p[1], &features, sizeof(features)) !=
		      sizeof(features));
	}
	close(p[1]);
	if (pid < 0 ||
	    read(p[0], &features, sizeof(features)) != sizeof(features))
		features = 0;
	close(p[0]);
	if (pid > 0)
		waitpid(pid, &status, 0);
	return features;
}

bool scenario_kernel(uint64_t *features, const char **why)
{
	*features = kernel_features;
	*why = !use_kernel ? "UFFDEMU_TEST_BACKEND=emu" : kernel_why;
	return use_kernel && kernel_ok;
}

int scenario_sink(void)
{
	return run_sink;
}

void scenario_abort(const char *why)
{
	if (run_rec)
		rec_str(run_rec, "abort", why);
	_exit(99);
}

void scenario_stop(void)
{
	_exit(0);
}

__attribute__((noreturn)) static void
child_main(const struct backend *b, const struct instance *in, int sink)
{
	struct record r;

	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	rec_init(&r);
	rec_set_sink(&r, sink);
	r.emu = b == &backend_emu;
	run_rec = &r;
	run_sink = sink;
	in->s->run(b, &r, in->variant, in->mem);
	_exit(0);
}

void scenario_fmt_status(char *out, size_t n, int status)
{
	const char *sig;

	if (WIFEXITED(status) && !WEXITSTATUS(status)) {
		snprintf(out, n, "0");
	} else if (WIFEXITED(status)) {
		snprintf(out, n, "status %d", WEXITSTATUS(status));
	} else if (WIFSIGNALED(status)) {
		sig = sigabbrev_np(WTERMSIG(status));
		snprintf(out, n, "killed by %s", sig ? sig : "a signal");
	} else {
		snprintf(out, n, "wait status %#x", status);
	}
}

static void exit_line(struct record *out, int status)
{
	char v[64];

	scenario_fmt_status(v, sizeof(v), status);
	rec_add(out, "exit", "0", v);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Collects what the child writes until it is gone and nothing is left, or
 * until the watchdog's time is up: then the child's process group is killed
 * (from here, so that it works whatever the child does with signals).
 */
static void collect(int fd, pid_t pid, int watchdog_s, struct record *out)
{
	long deadline = now_ms() + 1000L * (watchdog_s ? watchdog_s : 6);
	char *text = NULL, chunk[4096], last[REC_LABEL_MAX + 32];
	size_t len = 0;
	bool reaped = false, late = false;
	int status = 0;

	for (;;) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		ssize_t k;

		if (!reaped && now_ms() > deadline) {
			late = true;
			break;
		}
		if (poll(&pf, 1, 50) > 0) {
			k = read(fd, chunk, sizeof(chunk));
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				break;
			text = realloc(text, len + (size_t)k);
			if (!text)
				abort();
			memcpy(text + len, chunk, (size_t)k);
			len += (size_t)k;
		} else if (reaped) {
			break; /* a grandchild still holds the pipe open */
		} else if (waitpid(pid, &status, WNOHANG) == pid) {
			reaped = true;
		}
	}
	kill(-pid, SIGKILL); /* the run's strays, or all of it when late */
	if (!reaped)
		waitpid(pid, &status, 0);
	rec_parse(out, text, len);
	free(text);
	if (late) {
		snprintf(last, sizeof(last), "timeout after '%s'",
			 out->n ? out->lines[out->n - 1].label : "");
		rec_str_is(out, "watchdog", last, "no timeout");
	}
	exit_line(out, status);
}

void scenario_run(const struct backend *b, const struct instance *in,
		  struct record *out)
{
	int p[2];
	pid_t pid;

	rec_init(out);
	out->emu = b == &backend_emu;
	if (pipe2(p, O_CLOEXEC)) {
		rec_str(out, "runner", "pipe2 failed");
		return;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		rec_str(out, "runner", "fork failed");
		close(p[0]);
		close(p[1]);
		return;
	}
	if (pid == 0) {
		close(p[0]);
		child_main(b, in, p[1]);
	}
	close(p[1]);
	collect(p[0], pid, in->s->watchdog_s, out);
	close(p[0]);
}

/* --- the table --- */

const struct scenario_group *const scenario_groups[] = {
	&scenarios_fd,      &scenarios_ranges, &scenarios_faults,
	&scenarios_wp,      &scenarios_move,   &scenarios_shmem,
	&scenarios_hugetlb, &scenarios_stress, NULL,
};

const struct scenario_group *scenario_group(const char *name)
{
	int i;

	for (i = 0; scenario_groups[i]; i++)
		if (!strcmp(scenario_groups[i]->name, name))
			return scenario_groups[i];
	return NULL;
}

const char *mem_name(enum mem_type m)
{
	static const char *const names[] = {
		[MEM_ANON] = "anon",
		[MEM_SHMEM] = "shmem",
		[MEM_SHMEM_PRIVATE] = "shmem-private",
		[MEM_SHARED_ANON] = "shared-anon",
	};

	return m < N_MEM_TYPES ? names[m] : "?";
}

struct instance *scenario_instances(const struct scenario_group *g, size_t *n)
{
	const struct scenario *const *s;
	struct instance *all = NULL;
	size_t count = 0;
	int v, m;

	for (s = g->list; *s; s++) {
		unsigned int mems = (*s)->mems ? (*s)->mems : MEM_BIT(MEM_ANON);
		int cases = (*s)->n_cases ? (*s)->n_cases : 1;

		for (v = 0; v < cases; v++) {
			for (m = 0; m < N_MEM_TYPES; m++) {
				if (!(mems & MEM_BIT(m)))
					continue;
				all = realloc(all, (count + 1) * sizeof(*all));
				if (!all)
					abort();
				all[count++] = (struct instance){
					g, *s, v, (enum mem_type)m};
			}
		}
	}
	*n = count;
	return all;
}

const char *instance_case(const struct instance *in)
{
	const char *base = in->s->cases;

	if (!base)
		return "";
	return *(const char *const *)(base +
				      (size_t)in->variant * in->s->case_size);
}

void instance_title(char *out, size_t n, const struct instance *in,
		    bool with_mem)
{
	const char *c = instance_case(in);
	int len;

	if (in->s->cases)
		len = snprintf(out, n, "%s[%d] (%s)", in->s->name, in->variant,
			       c);
	else
		len = snprintf(out, n, "%s", in->s->name);
	if (with_mem && in->mem != MEM_ANON && len >= 0 && (size_t)len < n)
		snprintf(out + len, n - (size_t)len, " on %s",
			 mem_name(in->mem));
}

uint64_t instance_features(const struct instance *in)
{
	uint64_t f = in->s->features;

	/* MISSING mode on shared memory is what the kernel advertises so. */
	if (in->mem != MEM_ANON)
		f |= UFFD_FEATURE_MISSING_SHMEM;
	if (in->s->case_features)
		f |= in->s->case_features(in->variant, in->mem);
	return f;
}

void fmt_features(char *out, size_t n, uint64_t features)
{
	static const char *const names[] = {
		"PAGEFAULT_FLAG_WP",
		"EVENT_FORK",
		"EVENT_REMAP",
		"EVENT_REMOVE",
		"MISSING_HUGETLBFS",
		"MISSING_SHMEM",
		"EVENT_UNMAP",
		"SIGBUS",
		"THREAD_ID",
		"MINOR_HUGETLBFS",
		"MINOR_SHMEM",
		"EXACT_ADDRESS",
		"WP_HUGETLBFS_SHMEM",
		"WP_UNPOPULATED",
		"POISON",
		"WP_ASYNC",
		"MOVE",
	};
	size_t len = 0;
	unsigned int bit;

	out[0] = '\0';
	for (bit = 0; bit < 64 && len < n; bit++) {
		if (!(features & (1ULL << bit)))
			continue;
		if (bit < ARRAY_SIZE(names))
			len += (size_t)snprintf(out + len, n - len, "%s%s",
						len ? "|" : "", names[bit]);
		else
			len += (size_t)snprintf(out + len, n - len, "%sbit %u",
						len ? "|" : "", bit);
	}
}

/* --- judging a row --- */

/* Why the kernel side of the row is not run, or "". */
static void kernel_skip_reason(const struct instance *in, char *why, size_t n)
{
	uint64_t missing = instance_features(in) & ~kernel_features;
	char names[256];

	why[0] = '\0';
	if (!use_kernel)
		snprintf(why, n, "UFFDEMU_TEST_BACKEND=emu");
	else if (!kernel_ok)
		snprintf(why, n, "no kernel userfaultfd: %s", kernel_why);
	else if ((in->s->needs & NEEDS_DEVICE) && !backend_kernel_has_device())
		snprintf(why, n, "/dev/userfaultfd is not usable here");
	else if (missing) {
		fmt_features(names, sizeof(names), missing);
		snprintf(why, n, "the kernel does not offer %s", names);
	}
}

static void set_verdict(struct outcome *o, enum verdict v, long line,
			const char *detail)
{
	o->verdict = v;
	o->line = line;
	snprintf(o->detail, sizeof(o->detail), "%s", detail);
}

/* Judges the emulator's record against the kernel's, when there is one. */
static void judge(struct outcome *o, bool compared, const char *skip_why)
{
	struct rec_diff d;
	char msg[768];
	long idx = rec_check(&o->e, "emu", msg, sizeof(msg));

	snprintf(o->emu, sizeof(o->emu), "%s", idx >= 0 ? "FAILS" : "ok");
	if (compared) {
		rec_diff(&o->k, &o->e, &d);
		if (d.outcome == REC_DIFFERS || d.outcome == REC_STALE) {
			set_verdict(
				o, d.outcome == REC_STALE ? V_STALE : V_DIFFERS,
				d.line, d.msg);
			return;
		}
	}
	if (idx >= 0)
		set_verdict(o, V_EMU_SPEC, idx, msg);
	else if (!compared)
		set_verdict(o, V_SKIPPED, -1, skip_why);
	else if (d.outcome == REC_KNOWN)
		set_verdict(o, V_KNOWN, d.line, d.ids);
	else
		set_verdict(o, V_EQUAL, -1, "");
}

/*
 * Free 2 MiB huge pages: what a row needing them maps, on one side at a
 * time, is at most this many.
 */
#define HUGEPAGES_NEEDED 4

static long free_hugepages(const char *size)
{
	char path[96];
	FILE *f;
	long n = 0;

	snprintf(path, sizeof(path),
		 "/sys/kernel/mm/hugepages/hugepages-%s/free_hugepages", size);
	f = fopen(path, "r");

	if (!f)
		return 0;
	if (fscanf(f, "%ld", &n) != 1)
		n = 0;
	fclose(f);
	return n;
}

void instance_evaluate(const struct instance *in, struct outcome *o)
{
	char why[320], msg[768];
	long idx;

	memset(o, 0, sizeof(*o));
	rec_init(&o->k);
	rec_init(&o->e);
	o->line = -1;
	snprintf(o->kernel, sizeof(o->kernel), "skipped");
	snprintf(o->emu, sizeof(o->emu), "not run");
	if ((in->s->needs & NEEDS_HUGEPAGES) &&
	    free_hugepages("2048kB") < HUGEPAGES_NEEDED) {
		snprintf(why, sizeof(why),
			 "fewer than %d free 2 MiB huge pages "
			 "(vm.nr_hugepages; tools/setup.sh test reserves "
			 "them as root)",
			 HUGEPAGES_NEEDED);
		set_verdict(o, V_SKIPPED, -1, why);
		return;
	}
	if ((in->s->needs & NEEDS_GIGAPAGES) &&
	    free_hugepages("1048576kB") < 1) {
		snprintf(why, sizeof(why),
			 "no free 1 GiB huge page (tools/setup.sh test "
			 "reserves one as root where memory allows)");
		set_verdict(o, V_SKIPPED, -1, why);
		return;
	}
	kernel_skip_reason(in, why, sizeof(why));

	if (!why[0]) {
		scenario_run(&backend_kernel, in, &o->k);
		idx = rec_check(&o->k, "kernel", msg, sizeof(msg));
		snprintf(o->kernel, sizeof(o->kernel), "%s",
			 idx >= 0 ? "FAILS" : "ok");
		if (idx >= 0) {
			set_verdict(o, V_KERNEL_SPEC, idx, msg);
			return;
		}
	}
	if (!use_emu) {
		set_verdict(o, V_SKIPPED, -1,
			    "UFFDEMU_TEST_BACKEND=kernel: the emulator is not "
			    "run");
		return;
	}
	scenario_run(&backend_emu, in, &o->e);
	judge(o, !why[0], why);
}

void outcome_print_records(FILE *f, const struct outcome *o)
{
	bool all = getenv("UFFDEMU_TEST_VERBOSE") != NULL;
	size_t from = (all || o->line < 6) ? 0 : (size_t)o->line - 6;
	size_t to = all ? (size_t)-1 : (size_t)o->line + 3;

	if (o->line < 0 && !all)
		return;
	rec_print(f, &o->k, "kernel", from, to);
	rec_print(f, &o->e, "emu", from, to);
	fflush(f);
}

void outcome_free(struct outcome *o)
{
	rec_free(&o->k);
	rec_free(&o->e);
}
