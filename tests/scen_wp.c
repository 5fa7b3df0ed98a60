// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Write-protect mode on private anonymous memory: UFFDIO_WRITEPROTECT's
 * argument checks and what it leaves protected, and the faults a write to
 * a protected page raises.
 */
#include <string.h>
#include <sys/mman.h>

#include "helpers.h"
#include "known.h"
#include "scenario.h"

#define P(n)        ((uint64_t)(n)*PG)
#define MISSING_WP  (UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP)
#define PROTECT     UFFDIO_WRITEPROTECT_MODE_WP
#define WP_DONTWAKE UFFDIO_WRITEPROTECT_MODE_DONTWAKE
#define WP_WRITE    (UFFD_PAGEFAULT_FLAG_WP | UFFD_PAGEFAULT_FLAG_WRITE)

/* A and B registered (A with WP, B MISSING only), C not; pages 0-1 of A
 * populated. */
struct wp_stage {
	int fd;
	char *a, *b, *c, *gap, *src;
};

static void wp_stage_init(const struct backend *b, struct record *r,
			  struct wp_stage *s)
{
	s->fd = setup_uffd(b, r, O_NONBLOCK, 0);
	s->a = map_pages(8, PROT_READ | PROT_WRITE);
	s->b = map_pages(4, PROT_READ | PROT_WRITE);
	s->c = map_pages(4, PROT_READ | PROT_WRITE);
	s->src = map_pages(2, PROT_READ | PROT_WRITE);
	s->gap = map_gap(4);
	fill_pattern(s->src, P(2), 5);
	name_area("A", s->a, P(8));
	name_area("B", s->b, P(4));
	name_area("C", s->c, P(4));
	name_area("GAP", s->gap, P(4));
	name_area("SRC", s->src, P(2));
	REQUIRE(rec_rv_is(
		r, "setup.register WP",
		u_register(b, s->fd, u64p(s->a), P(8), MISSING_WP, NULL), 0));
	setup_register(b, r, s->fd, s->b, P(4));
	REQUIRE(rec_rv_is(
		r, "setup.copy",
		u_copy(b, s->fd, u64p(s->a), u64p(s->src), P(2), 0, NULL), 0));
}

static long u_writeprotect(const struct backend *b, int fd, uint64_t start,
			   uint64_t len, uint64_t mode)
{
	struct uffdio_writeprotect wp = {{start, len}, mode};

	return rv(b->ioctl(fd, UFFDIO_WRITEPROTECT, &wp));
}

enum wp_where { WP_AT_A, WP_AT_B, WP_AT_C, WP_AT_GAP, WP_AT_ABS };

static const struct wp_case {
	const char *name;
	enum wp_where where;
	uint64_t off;
	uint64_t len;
	uint64_t mode;
	enum arg_place arg;
	long expect;
	bool protected; /* page 0 of A afterwards */
	bool before;    /* A's pages 0-1 are protected first */
} wp_cases[] = {
	{"protect 2 pages", WP_AT_A, 0, P(2), PROTECT, .protected = true},
	{"protect again, and more (idempotent)", WP_AT_A, 0, P(8), PROTECT,
	 .protected = true, .before = true},
	{"unprotect", WP_AT_A, 0, P(2), 0, .before = true},
	{"unprotect what is not protected", WP_AT_A, 0, P(2), 0,
	 .arg = ARG_WRITABLE},
	{"DONTWAKE alone (unprotect)", WP_AT_A, 0, P(2), WP_DONTWAKE,
	 .arg = ARG_WRITABLE},
	{"mode WP|DONTWAKE", WP_AT_A, 0, P(2), PROTECT | WP_DONTWAKE,
	 .expect = -EINVAL},
	{"mode 4", WP_AT_A, 0, P(2), 4, .expect = -EINVAL},
	{"mode 1<<63", WP_AT_A, 0, P(2), PROTECT | 1ULL << 63,
	 .expect = -EINVAL},
	{"start unaligned", WP_AT_A, 1, P(2), PROTECT, .expect = -EINVAL},
	{"len 0", WP_AT_A, 0, 0, PROTECT, .expect = -EINVAL},
	{"len 4097", WP_AT_A, 0, PG + 1, PROTECT, .expect = -EINVAL},
	{"len wraps", WP_AT_A, 0, -PG, PROTECT, .expect = -EINVAL},
	{"start at the task size", WP_AT_ABS, TASK_SIZE_47, PG, PROTECT,
	 .expect = -EINVAL},
	{"a range registered MISSING only", WP_AT_B, 0, P(2), PROTECT,
	 .expect = -ENOENT},
	{"memory never registered", WP_AT_C, 0, P(2), PROTECT,
	 .expect = -ENOENT},
	{"nothing mapped", WP_AT_GAP, 0, P(2), PROTECT, .expect = -ENOENT},
	{"struct at (void *)8", WP_AT_A, 0, P(2), PROTECT, .arg = ARG_ADDR_8,
	 .expect = -EFAULT},
	{"struct in a PROT_NONE page", WP_AT_A, 0, P(2), PROTECT,
	 .arg = ARG_PROT_NONE, .expect = -EFAULT},
	{"struct read-only (nothing is written back)", WP_AT_A, 0, P(2),
	 PROTECT, .arg = ARG_READ_ONLY, .protected = true},
};

static uint64_t wp_addr(const struct wp_stage *s, const struct wp_case *c)
{
	const char *base[] = {
		[WP_AT_A] = s->a,     [WP_AT_B] = s->b,   [WP_AT_C] = s->c,
		[WP_AT_GAP] = s->gap, [WP_AT_ABS] = NULL,
	};

	return u64p(base[c->where]) + c->off;
}

/*
 * Whether page 0 of A is write-protected: a write then waits with a
 * WP|WRITE message, and unprotecting lets it finish.
 */
static void rec_protected(const struct backend *b, struct record *r,
			  const struct wp_stage *s, bool expect)
{
	struct toucher *t = touch(s->a + 0x10, TOUCH_WRITE, 'W');

	touch_settle(t);
	if (!rec_touch(r, "write to page 0", t, QUIET_MS, !expect, 'W') ||
	    !expect)
		return;
	expect_fault(b, r, s->fd, "msg", WP_WRITE, u64p(s->a), -1);
	rec_rv_is(r, "unprotect", u_writeprotect(b, s->fd, u64p(s->a), PG, 0),
		  0);
	rec_touch(r, "write after unprotecting", t, WAIT_MS, true, 'W');
}

SCENARIO(wp_ioctl, CASES(wp_cases), .features = UFFD_FEATURE_PAGEFAULT_FLAG_WP)
{
	const struct wp_case *c = &wp_cases[variant];
	struct uffdio_writeprotect arg;
	struct wp_stage s;

	wp_stage_init(b, r, &s);
	if (c->before)
		REQUIRE(rec_rv_is(
			r, "first",
			u_writeprotect(b, s.fd, u64p(s.a), P(2), PROTECT), 0));
	arg = (struct uffdio_writeprotect){{wp_addr(&s, c), c->len}, c->mode};
	rec_rv_is(r, "WRITEPROTECT",
		  rv(b->ioctl(s.fd, UFFDIO_WRITEPROTECT,
			      place_arg(&arg, sizeof(arg), c->arg))),
		  c->expect);
	rec_protected(b, r, &s, c->protected);
}

/* How a write-protect fault ends. */
static const struct wp_fault_case {
	const char *name;
	bool copy_wp;   /* the page was filled by COPY with MODE_WP */
	bool dontwake;  /* unprotected with DONTWAKE, then woken */
	bool read_only; /* the thread only reads */
} wp_fault_cases[] = {
	{"unprotect wakes the writer", .copy_wp = false},
	{"unprotect with DONTWAKE, then WAKE", .dontwake = true},
	{"a page COPY'd with MODE_WP", .copy_wp = true},
	{"a read does not fault", .read_only = true},
};

SCENARIO(wp_fault, CASES(wp_fault_cases),
	 .features = UFFD_FEATURE_PAGEFAULT_FLAG_WP | UFFD_FEATURE_THREAD_ID)
{
	const struct wp_fault_case *c = &wp_fault_cases[variant];
	unsigned char *src, want[PG];
	struct toucher *t;
	int fd;
	char *a;

	fd = setup_uffd(b, r, O_NONBLOCK, UFFD_FEATURE_THREAD_ID);
	a = map_pages(4, PROT_READ | PROT_WRITE);
	src = (unsigned char *)map_pages(1, PROT_READ | PROT_WRITE);
	fill_pattern(src, PG, 9);
	name_area("A", a, P(4));
	REQUIRE(rec_rv_is(r, "setup.register WP",
			  u_register(b, fd, u64p(a), P(4), MISSING_WP, NULL),
			  0));
	REQUIRE(rec_rv_is(r, "COPY",
			  u_copy(b, fd, u64p(a + P(1)), u64p(src), PG,
				 c->copy_wp ? UFFDIO_COPY_MODE_WP : 0, NULL),
			  0));
	if (!c->copy_wp)
		rec_rv_is(r, "protect",
			  u_writeprotect(b, fd, u64p(a + P(1)), PG, PROTECT),
			  0);
	t = touch(a + P(1) + 7, c->read_only ? TOUCH_READ : TOUCH_WRITE, 'W');
	if (c->read_only) {
		rec_touch(r, "T0 reads", t, WAIT_MS, true, src[7]);
		return;
	}
	expect_fault(b, r, fd, "msg", WP_WRITE, u64p(a + P(1)), 0);
	rec_rv_is(r, "unprotect",
		  u_writeprotect(b, fd, u64p(a + P(1)), PG,
				 c->dontwake ? WP_DONTWAKE : 0),
		  0);
	if (c->dontwake) {
		rec_touch(r, "T0 after DONTWAKE", t, QUIET_MS, false, -1);
		rec_rv_is(r, "WAKE", u_wake(b, fd, u64p(a + P(1)), PG), 0);
	}
	rec_touch(r, "T0", t, WAIT_MS, true, 'W');
	memcpy(want, src, PG);
	want[7] = 'W';
	rec_page(r, "page 1", a + P(1), want, WAIT_MS);
}

const struct scenario_group scenarios_wp = {
	"wp",
	(const struct scenario *const[]){
		&wp_ioctl,
		&wp_fault,
		NULL,
	},
};
