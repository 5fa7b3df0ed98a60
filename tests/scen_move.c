// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Poison markers and UFFDIO_MOVE on private anonymous memory: how long a
 * poison marker lasts, and what MOVE does with each kind of page entry on
 * either side (a page, the zero page, a hole, a poison or write-protect
 * marker), with the threads it wakes.
 */
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "helpers.h"
#include "known.h"
#include "scenario.h"

#define P(n)       ((uint64_t)(n)*PG)
#define MISSING    UFFDIO_REGISTER_MODE_MISSING
#define MISSING_WP (UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP)
#define HOLES      UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES

static long u_poison(const struct backend *b, int fd, uint64_t start,
		     uint64_t len, int64_t *field)
{
	struct uffdio_poison p = {{start, len}, 0, FIELD_UNTOUCHED};
	long ret = rv(b->ioctl(fd, UFFDIO_POISON, &p));

	if (field)
		*field = p.updated;
	return ret;
}

static sigjmp_buf bus_jump;
static volatile int bus_code;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	bus_code = si->si_code;
	siglongjmp(bus_jump, 1);
}

/*
 * Reads a byte of a page from this thread: "SIGBUS <code>", or the byte.
 * For pages that are not missing (a read of a missing page would block).
 */
static void rec_read(struct record *r, const char *label, const void *addr,
		     const char *expect)
{
	struct sigaction sa = {.sa_sigaction = on_sigbus,
			       .sa_flags = SA_SIGINFO},
			 old;
	volatile int seen = -1;
	char v[32];

	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &old);
	bus_code = 0;
	if (!sigsetjmp(bus_jump, 1))
		seen = *(const volatile unsigned char *)addr;
	sigaction(SIGBUS, &old, NULL);
	if (seen < 0)
		snprintf(v, sizeof(v), "SIGBUS %d", bus_code);
	else
		snprintf(v, sizeof(v), "%d", seen);
	rec_str_is(r, label, v, expect);
}

/* --- poison markers outlive the registration --- */

enum poison_after {
	AFTER_UNREGISTER,     /* UNREGISTER */
	AFTER_REREGISTER,     /* UNREGISTER, REGISTER(MISSING) again */
	AFTER_CLOSE_OTHER,    /* close, another userfaultfd registers */
	AFTER_WP_ONLY,        /* REGISTER(WP) over the MISSING range */
	AFTER_UNREGISTER_ALL, /* close with no new registration */
};

static const struct poison_case {
	const char *name;
	enum poison_after after;
	bool registered; /* afterwards, by fd2 or fd */
} poison_cases[] = {
	{"UNREGISTER", AFTER_UNREGISTER, false},
	{"UNREGISTER, then REGISTER again", AFTER_REREGISTER, true},
	{"close, then another userfaultfd registers", AFTER_CLOSE_OTHER, true},
	{"REGISTER in WP mode over it", AFTER_WP_ONLY, true},
	{"close", AFTER_UNREGISTER_ALL, false},
};

/*
 * Page 0 of A is poisoned, page 1 filled by COPY, then the registration
 * changes or ends: the marker stays (a read raises SIGBUS, ZEROPAGE and
 * POISON find the page taken) until the page is unmapped.
 */
SCENARIO(poison_kept, CASES(poison_cases),
	 .features = UFFD_FEATURE_POISON | UFFD_FEATURE_PAGEFAULT_FLAG_WP)
{
	const struct poison_case *c = &poison_cases[variant];
	int fd, fd2, use;
	int64_t field;
	char *a, *src, sigbus[32];

	fd = setup_uffd(b, r, O_NONBLOCK, 0);
	fd2 = setup_uffd(b, r, O_NONBLOCK, 0);
	a = map_pages(4, PROT_READ | PROT_WRITE);
	src = map_pages(1, PROT_READ | PROT_WRITE);
	memset(src, 'S', PG);
	name_area("A", a, P(4));
	name_area("SRC", src, PG);
	setup_register(b, r, fd, a, P(4));
	REQUIRE(rec_rv_is(r, "POISON", u_poison(b, fd, u64p(a), PG, &field),
			  0));
	REQUIRE(rec_rv_is(r, "COPY",
			  u_copy(b, fd, u64p(a + PG), u64p(src), PG, 0, NULL),
			  0));
	use = fd;
	switch (c->after) {
	case AFTER_UNREGISTER:
		rec_rv_is(r, "UNREGISTER", u_unregister(b, fd, u64p(a), P(4)),
			  0);
		break;
	case AFTER_REREGISTER:
		rec_rv_is(r, "UNREGISTER", u_unregister(b, fd, u64p(a), P(4)),
			  0);
		rec_rv_is(r, "REGISTER",
			  u_register(b, fd, u64p(a), P(4), MISSING, NULL), 0);
		break;
	case AFTER_CLOSE_OTHER:
		rec_rv_is(r, "close", rv(b->close(fd)), 0);
		rec_rv_is(r, "REGISTER through another",
			  u_register(b, fd2, u64p(a), P(4), MISSING, NULL), 0);
		use = fd2;
		break;
	case AFTER_WP_ONLY:
		rec_rv_is(r, "REGISTER WP",
			  u_register(b, fd, u64p(a), P(4),
				     UFFDIO_REGISTER_MODE_WP, NULL),
			  0);
		break;
	case AFTER_UNREGISTER_ALL:
		rec_rv_is(r, "close", rv(b->close(fd)), 0);
		use = fd2;
		break;
	}
	snprintf(sigbus, sizeof(sigbus), "SIGBUS %d",
		 access("/proc/sys/vm/memory_failure_early_kill", F_OK)
			 ? BUS_ADRERR
			 : BUS_MCEERR_AR);
	rec_read(r, "read page 0", a, sigbus);
	rec_read(r, "read page 1", a + PG, "83");
	rec_rv_is(r, "ZEROPAGE page 0",
		  u_zeropage(b, use, u64p(a), PG, 0, &field),
		  c->registered ? -EEXIST : -ENOENT);
	rec_rv_is(r, "POISON page 0", u_poison(b, use, u64p(a), PG, &field),
		  c->registered ? -EEXIST : -ENOENT);
	rec_rv_is(r, "munmap page 0", rv(b->munmap(a, PG)), 0);
	rec_rv_is(r, "mmap page 0 again",
		  mmap(a, PG, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == a
			  ? 0
			  : -errno,
		  0);
	rec_read(r, "read page 0 after mmap", a, "0");
}

const struct scenario_group scenarios_move = {
	"move",
	(const struct scenario *const[]){
		&poison_kept,
		NULL,
	},
};
