// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Write-protect mode on private anonymous memory: UFFDIO_WRITEPROTECT's
 * argument checks and what it leaves protected, and the faults a write to
 * a protected page raises.
 */
#include <stdio.h>
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

/*
 * What fills and memory calls do to the pages of a registered mapping, one
 * rule a case.  Each case has four pages A, two source pages SRC followed
 * by a PROT_NONE page, and the descriptor fd, with the features of the
 * case.
 */
struct rule_stage {
	int fd;
	char *a, *src;
};

/* An ioctl's return value and its result field, as two lines. */
static void rec_fill(struct record *r, const char *label, long ret,
		     int64_t field, long expect, int64_t expect_field)
{
	char l[64];

	rec_rv_is(r, label, ret, expect);
	snprintf(l, sizeof(l), "%s.field", label);
	rec_int_is(r, l, field, expect_field);
}

static void copy_is(const struct backend *b, struct record *r,
		    const struct rule_stage *s, const char *label, int page,
		    int pages, long expect)
{
	int64_t field;
	long ret = u_copy(b, s->fd, u64p(s->a + P(page)), u64p(s->src),
			  P(pages), 0, &field);

	rec_fill(r, label, ret, field, expect,
		 expect ? expect : (int64_t)P(pages));
}

static void zeropage_is(const struct backend *b, struct record *r,
			const struct rule_stage *s, const char *label, int page,
			int pages, long expect)
{
	int64_t field;
	long ret =
		u_zeropage(b, s->fd, u64p(s->a + P(page)), P(pages), 0, &field);

	rec_fill(r, label, ret, field, expect,
		 expect ? expect : (int64_t)P(pages));
}

/* A read of page that finishes without a fault and sees seen. */
static void reads_without_fault(struct record *r, const char *label,
				const struct rule_stage *s, int page, int seen)
{
	struct toucher *t = touch(s->a + P(page) + 8, TOUCH_READ, 0);

	rec_touch(r, label, t, WAIT_MS, true, seen);
}

/* COPY and ZEROPAGE fill the empty pages of a range in WP mode alone. */
static void rule_wp_only_fill(const struct backend *b, struct record *r,
			      struct rule_stage *s)
{
	struct toucher *t;

	REQUIRE(rec_rv_is(r, "register WP",
			  u_register(b, s->fd, u64p(s->a), P(4),
				     UFFDIO_REGISTER_MODE_WP, NULL),
			  0));
	t = touch(s->a + P(2), TOUCH_WRITE, 'w');
	rec_touch(r, "T0 writes page 2", t, WAIT_MS, true, 'w');
	copy_is(b, r, s, "COPY page 0", 0, 1, 0);
	zeropage_is(b, r, s, "ZEROPAGE page 1", 1, 1, 0);
	copy_is(b, r, s, "COPY page 2", 2, 1, -EEXIST);
	zeropage_is(b, r, s, "ZEROPAGE page 0", 0, 1, -EEXIST);
	zeropage_is(b, r, s, "ZEROPAGE page 1 again", 1, 1, -EEXIST);
	rec_rv_is(r, "MADV_DONTNEED pages 0-1",
		  rv(b->madvise(s->a, P(2), MADV_DONTNEED)), 0);
	copy_is(b, r, s, "COPY pages 0-1", 0, 2, 0);
	rec_page(r, "page 1", s->a + P(1), s->src + P(1), WAIT_MS);
	reads_without_fault(r, "T1 reads page 3", s, 3, 0);
}

/*
 * In WP mode alone COPY replaces a write-protect marker but not a page,
 * write-protected or not.
 */
static void rule_wp_only_copy_over(const struct backend *b, struct record *r,
				   struct rule_stage *s)
{
	struct toucher *t;

	REQUIRE(rec_rv_is(r, "register WP",
			  u_register(b, s->fd, u64p(s->a), P(4),
				     UFFDIO_REGISTER_MODE_WP, NULL),
			  0));
	t = touch(s->a, TOUCH_WRITE, 'w');
	rec_touch(r, "T0 writes page 0", t, WAIT_MS, true, 'w');
	rec_rv_is(r, "protect pages 0-1",
		  u_writeprotect(b, s->fd, u64p(s->a), P(2), PROTECT), 0);
	copy_is(b, r, s, "COPY page 0", 0, 1, -EEXIST);
	copy_is(b, r, s, "COPY page 1 (a marker)", 1, 1, 0);
	zeropage_is(b, r, s, "ZEROPAGE page 1", 1, 1, -EEXIST);
	rec_page(r, "page 1", s->a + P(1), s->src, WAIT_MS);
}

/*
 * A write to a write-protect marker in WP mode alone populates the page
 * before it reports: a COPY meanwhile finds the page there.
 */
static void rule_wp_only_marker_write(const struct backend *b, struct record *r,
				      struct rule_stage *s)
{
	struct toucher *t;

	REQUIRE(rec_rv_is(r, "register WP",
			  u_register(b, s->fd, u64p(s->a), P(4),
				     UFFDIO_REGISTER_MODE_WP, NULL),
			  0));
	rec_rv_is(r, "protect pages 0-1",
		  u_writeprotect(b, s->fd, u64p(s->a), P(2), PROTECT), 0);
	t = touch(s->a + 8, TOUCH_WRITE, 'w');
	expect_fault(b, r, s->fd, "msg", WP_WRITE, u64p(s->a), -1);
	copy_is(b, r, s, "COPY page 0", 0, 1, -EEXIST);
	copy_is(b, r, s, "COPY page 1", 1, 1, 0);
	rec_rv_is(r, "unprotect page 0",
		  u_writeprotect(b, s->fd, u64p(s->a), PG, 0), 0);
	rec_touch(r, "T0", t, WAIT_MS, true, 'w');
}

/* Discarding a poisoned page leaves it registered. */
static void rule_wp_only_poison_discard(const struct backend *b,
					struct record *r, struct rule_stage *s)
{
	struct uffdio_poison p = {{u64p(s->a), PG}, 0, 0};

	REQUIRE(rec_rv_is(r, "register WP",
			  u_register(b, s->fd, u64p(s->a), P(4),
				     UFFDIO_REGISTER_MODE_WP, NULL),
			  0));
	rec_rv_is(r, "POISON page 0", rv(b->ioctl(s->fd, UFFDIO_POISON, &p)),
		  0);
	rec_rv_is(r, "MADV_DONTNEED page 0",
		  rv(b->madvise(s->a, PG, MADV_DONTNEED)), 0);
	rec_rv_is(r, "protect page 0",
		  u_writeprotect(b, s->fd, u64p(s->a), PG, PROTECT), 0);
	rec_rv_is(r, "unprotect page 0",
		  u_writeprotect(b, s->fd, u64p(s->a), PG, 0), 0);
	zeropage_is(b, r, s, "ZEROPAGE page 0", 0, 1, 0);
}

/*
 * WRITEPROTECT leaves a poison marker as it is: once MADV_DONTNEED has
 * removed it the page is empty.
 */
static void rule_protect_poisoned(const struct backend *b, struct record *r,
				  struct rule_stage *s)
{
	struct uffdio_poison p = {{u64p(s->a), PG}, 0, 0};

	REQUIRE(rec_rv_is(
		r, "register MISSING|WP",
		u_register(b, s->fd, u64p(s->a), P(2), MISSING_WP, NULL), 0));
	rec_rv_is(r, "POISON page 0", rv(b->ioctl(s->fd, UFFDIO_POISON, &p)),
		  0);
	rec_rv_is(r, "protect pages 0-1",
		  u_writeprotect(b, s->fd, u64p(s->a), P(2), PROTECT), 0);
	zeropage_is(b, r, s, "ZEROPAGE page 1", 1, 1, -EEXIST);
	rec_rv_is(r, "MADV_DONTNEED page 0",
		  rv(b->madvise(s->a, PG, MADV_DONTNEED)), 0);
	zeropage_is(b, r, s, "ZEROPAGE page 0", 0, 1, 0);
}

/*
 * Registered again in MISSING mode, write-protected pages keep the access
 * the program gave them: a write is a MISSING fault.
 */
static void rule_wp_then_missing(const struct backend *b, struct record *r,
				 struct rule_stage *s)
{
	struct toucher *t;

	REQUIRE(rec_rv_is(r, "register WP",
			  u_register(b, s->fd, u64p(s->a), P(4),
				     UFFDIO_REGISTER_MODE_WP, NULL),
			  0));
	rec_rv_is(r, "protect",
		  u_writeprotect(b, s->fd, u64p(s->a), P(4), PROTECT), 0);
	rec_rv_is(r, "register MISSING|WP",
		  u_register(b, s->fd, u64p(s->a), P(4), MISSING_WP, NULL), 0);
	t = touch(s->a + P(1) + 8, TOUCH_WRITE, 'w');
	expect_fault(b, r, s->fd, "msg", UFFD_PAGEFAULT_FLAG_WRITE,
		     u64p(s->a + P(1)), -1);
	copy_is(b, r, s, "COPY page 1", 1, 1, 0);
	rec_touch(r, "T0", t, WAIT_MS, true, 'w');
}

/*
 * MADV_DONTNEED drops the write-protect markers of anonymous memory, on
 * missing pages too: ZEROPAGE then fills them, and a write is a plain
 * MISSING fault.
 */
static void rule_dontneed_markers(const struct backend *b, struct record *r,
				  struct rule_stage *s)
{
	struct toucher *t;

	REQUIRE(rec_rv_is(
		r, "register MISSING|WP",
		u_register(b, s->fd, u64p(s->a), P(2), MISSING_WP, NULL), 0));
	REQUIRE(rec_rv_is(r, "register WP",
			  u_register(b, s->fd, u64p(s->a + P(2)), P(2),
				     UFFDIO_REGISTER_MODE_WP, NULL),
			  0));
	rec_rv_is(r, "protect",
		  u_writeprotect(b, s->fd, u64p(s->a), P(4), PROTECT), 0);
	rec_rv_is(r, "MADV_DONTNEED", rv(b->madvise(s->a, P(4), MADV_DONTNEED)),
		  0);
	zeropage_is(b, r, s, "ZEROPAGE page 0", 0, 1, 0);
	zeropage_is(b, r, s, "ZEROPAGE page 2", 2, 1, 0);
	t = touch(s->a + P(1) + 8, TOUCH_WRITE, 'w');
	expect_fault(b, r, s->fd, "msg", UFFD_PAGEFAULT_FLAG_WRITE,
		     u64p(s->a + P(1)), -1);
	copy_is(b, r, s, "COPY page 1", 1, 1, 0);
	rec_touch(r, "T0", t, WAIT_MS, true, 'w');
	t = touch(s->a + P(3) + 8, TOUCH_WRITE, 'w');
	rec_touch(r, "T1 writes page 3", t, WAIT_MS, true, 'w');
}

/*
 * Write-protected pages MADV_DONTNEED discarded are missing, and
 * writable once unregistered.
 */
static void rule_dontneed_wp_unregister(const struct backend *b,
					struct record *r, struct rule_stage *s)
{
	struct toucher *t;

	REQUIRE(rec_rv_is(
		r, "register MISSING|WP",
		u_register(b, s->fd, u64p(s->a), P(4), MISSING_WP, NULL), 0));
	copy_is(b, r, s, "COPY pages 0-1", 0, 2, 0);
	rec_rv_is(r, "protect",
		  u_writeprotect(b, s->fd, u64p(s->a), P(4), PROTECT), 0);
	rec_rv_is(r, "MADV_DONTNEED", rv(b->madvise(s->a, P(4), MADV_DONTNEED)),
		  0);
	rec_rv_is(r, "UNREGISTER", u_unregister(b, s->fd, u64p(s->a), P(4)), 0);
	t = touch(s->a + 8, TOUCH_WRITE, 'w');
	rec_touch(r, "T0 writes page 0", t, WAIT_MS, true, 'w');
}

/*
 * mprotect() over write-protected pages leaves them read-only and gives
 * the rest of the range, registered or not, the new protection.
 */
static void rule_mprotect_wp(const struct backend *b, struct record *r,
			     struct rule_stage *s)
{
	struct toucher *t;

	REQUIRE(rec_rv_is(
		r, "register MISSING|WP pages 0-1",
		u_register(b, s->fd, u64p(s->a), P(2), MISSING_WP, NULL), 0));
	zeropage_is(b, r, s, "ZEROPAGE pages 0-1", 0, 2, 0);
	rec_rv_is(r, "protect page 1",
		  u_writeprotect(b, s->fd, u64p(s->a + P(1)), PG, PROTECT), 0);
	rec_rv_is(r, "mprotect pages 1-3 PROT_READ",
		  rv(b->mprotect(s->a + P(1), P(3), PROT_READ)), 0);
	rec_rv_is(r, "mprotect pages 0-3 PROT_READ|PROT_WRITE",
		  rv(b->mprotect(s->a, P(4), PROT_READ | PROT_WRITE)), 0);
	t = touch(s->a + P(3) + 8, TOUCH_READ, 0);
	rec_touch(r, "T0 reads page 3", t, WAIT_MS, true, 0);
	t = touch(s->a + P(2) + 8, TOUCH_WRITE, 'w');
	rec_touch(r, "T1 writes page 2", t, WAIT_MS, true, 'w');
	t = touch(s->a + 8, TOUCH_WRITE, 'w');
	rec_touch(r, "T2 writes page 0", t, WAIT_MS, true, 'w');
	t = touch(s->a + P(1) + 8, TOUCH_WRITE, 'w');
	expect_fault(b, r, s->fd, "msg", WP_WRITE, u64p(s->a + P(1)), -1);
	rec_rv_is(r, "unprotect page 1",
		  u_writeprotect(b, s->fd, u64p(s->a + P(1)), PG, 0), 0);
	rec_touch(r, "T3", t, WAIT_MS, true, 'w');
}

/*
 * mprotect() that runs past the mapping into a hole fails ENOMEM, but
 * the pages before the hole have the new protection: a COPY across the
 * change is not in one mapping.
 */
static void rule_mprotect_past_end(const struct backend *b, struct record *r,
				   struct rule_stage *s)
{
	struct toucher *t;

	munmap(s->a + P(3), PG);
	setup_register(b, r, s->fd, s->a, P(3));
	rec_rv_is(r, "mprotect pages 1-3 PROT_READ",
		  rv(b->mprotect(s->a + P(1), P(3), PROT_READ)), -ENOMEM);
	rec_rv_is(r, "mprotect from the hole",
		  rv(b->mprotect(s->a + P(3), PG, PROT_NONE)), -ENOMEM);
	copy_is(b, r, s, "COPY pages 0-1", 0, 2, -ENOENT);
	zeropage_is(b, r, s, "ZEROPAGE pages 1-2", 1, 2, 0);
	t = touch(s->a + 8, TOUCH_READ, 0);
	expect_fault(b, r, s->fd, "msg", 0, u64p(s->a), -1);
	copy_is(b, r, s, "COPY page 0", 0, 1, 0);
	rec_touch(r, "T0", t, WAIT_MS, true, s->src[8]);
}

/*
 * WRITEPROTECT through another context marks the empty pages of the range
 * as the owner's UFFD_FEATURE_WP_UNPOPULATED says, not the caller's.
 * Here fd has it; a second context without it owns pages 0-1, and fd owns
 * pages 2-3 and protects all four through the second one.
 */
static void rule_wp_owner_features(const struct backend *b, struct record *r,
				   struct rule_stage *s)
{
	int other = setup_uffd(b, r, O_NONBLOCK, 0);
	struct toucher *t;

	REQUIRE(rec_rv_is(r, "other: register WP pages 0-1",
			  u_register(b, other, u64p(s->a), P(2),
				     UFFDIO_REGISTER_MODE_WP, NULL),
			  0));
	REQUIRE(rec_rv_is(r, "register WP pages 2-3",
			  u_register(b, s->fd, u64p(s->a + P(2)), P(2),
				     UFFDIO_REGISTER_MODE_WP, NULL),
			  0));
	rec_rv_is(r, "protect through the other",
		  u_writeprotect(b, other, u64p(s->a), P(4), PROTECT), 0);
	zeropage_is(b, r, s, "ZEROPAGE page 0 (no marker)", 0, 1, 0);
	zeropage_is(b, r, s, "ZEROPAGE page 2 (a marker)", 2, 1, -EEXIST);
	t = touch(s->a + P(1) + 8, TOUCH_WRITE, 'w');
	rec_touch(r, "T0 writes page 1", t, WAIT_MS, true, 'w');
	t = touch(s->a + P(3) + 8, TOUCH_WRITE, 'w');
	expect_fault(b, r, s->fd, "msg", WP_WRITE, u64p(s->a + P(3)), -1);
	rec_rv_is(r, "unprotect page 3",
		  u_writeprotect(b, s->fd, u64p(s->a + P(3)), PG, 0), 0);
	rec_touch(r, "T1", t, WAIT_MS, true, 'w');
}

/*
 * Registered again without WP mode, empty write-protected pages keep their
 * markers, through UNREGISTER too: ZEROPAGE fails EEXIST until a fault
 * clears the marker.
 */
static void rule_markers_left(const struct backend *b, struct record *r,
			      struct rule_stage *s)
{
	struct toucher *t;

	REQUIRE(rec_rv_is(r, "register WP",
			  u_register(b, s->fd, u64p(s->a), P(4),
				     UFFDIO_REGISTER_MODE_WP, NULL),
			  0));
	rec_rv_is(r, "protect",
		  u_writeprotect(b, s->fd, u64p(s->a), P(4), PROTECT), 0);
	setup_register(b, r, s->fd, s->a, P(4));
	zeropage_is(b, r, s, "ZEROPAGE page 0", 0, 1, -EEXIST);
	t = touch(s->a + 8, TOUCH_READ, 0);
	expect_fault(b, r, s->fd, "msg", 0, u64p(s->a), -1);
	zeropage_is(b, r, s, "ZEROPAGE page 0 after the fault", 0, 1, 0);
	rec_touch(r, "T0", t, WAIT_MS, true, 0);
	rec_rv_is(r, "UNREGISTER", u_unregister(b, s->fd, u64p(s->a), P(4)), 0);
	t = touch(s->a + P(1) + 8, TOUCH_WRITE, 'w');
	rec_touch(r, "T1 writes page 1", t, WAIT_MS, true, 'w');
	setup_register(b, r, s->fd, s->a, P(4));
	zeropage_is(b, r, s, "ZEROPAGE page 1", 1, 1, -EEXIST);
	zeropage_is(b, r, s, "ZEROPAGE page 2", 2, 1, -EEXIST);
	copy_is(b, r, s, "COPY page 2", 2, 1, 0);
	rec_rv_is(r, "MADV_DONTNEED page 3",
		  rv(b->madvise(s->a + P(3), PG, MADV_DONTNEED)), 0);
	zeropage_is(b, r, s, "ZEROPAGE page 3", 3, 1, 0);
}

/* A COPY in WP mode alone stops where its source becomes unreadable. */
static void rule_wp_only_bad_src(const struct backend *b, struct record *r,
				 struct rule_stage *s)
{
	int64_t field;
	long ret;

	REQUIRE(rec_rv_is(r, "register WP",
			  u_register(b, s->fd, u64p(s->a), P(4),
				     UFFDIO_REGISTER_MODE_WP, NULL),
			  0));
	ret = u_copy(b, s->fd, u64p(s->a), u64p(s->src), P(3), 0, &field);
	rec_fill(r, "COPY 3 pages", ret, field, -EAGAIN, (int64_t)P(2));
	rec_page(r, "page 1", s->a + P(1), s->src + P(1), WAIT_MS);
	zeropage_is(b, r, s, "ZEROPAGE page 2", 2, 1, 0);
}

/*
 * Pages filled by ZEROPAGE hold the zero page: registered again after
 * UNREGISTER they are present.
 */
static void rule_zeropage_unregister(const struct backend *b, struct record *r,
				     struct rule_stage *s)
{
	setup_register(b, r, s->fd, s->a, P(4));
	zeropage_is(b, r, s, "ZEROPAGE pages 0-1", 0, 2, 0);
	rec_rv_is(r, "UNREGISTER", u_unregister(b, s->fd, u64p(s->a), P(4)), 0);
	setup_register(b, r, s->fd, s->a, P(4));
	zeropage_is(b, r, s, "ZEROPAGE page 1 again", 1, 1, -EEXIST);
	reads_without_fault(r, "T0 reads page 0", s, 0, 0);
	zeropage_is(b, r, s, "ZEROPAGE pages 2-3", 2, 2, 0);
}

/* The same after the descriptor is closed, with a new one. */
static void rule_zeropage_close(const struct backend *b, struct record *r,
				struct rule_stage *s)
{
	setup_register(b, r, s->fd, s->a, P(4));
	zeropage_is(b, r, s, "ZEROPAGE page 0", 0, 1, 0);
	rec_rv_is(r, "close", rv(b->close(s->fd)), 0);
	s->fd = setup_uffd(b, r, O_NONBLOCK, 0);
	setup_register(b, r, s->fd, s->a, P(4));
	zeropage_is(b, r, s, "ZEROPAGE page 0 again", 0, 1, -EEXIST);
	reads_without_fault(r, "T0 reads page 0", s, 0, 0);
}

/* The same for a page that could not be read when it was filled. */
static void rule_zeropage_prot_none(const struct backend *b, struct record *r,
				    struct rule_stage *s)
{
	setup_register(b, r, s->fd, s->a, P(4));
	rec_rv_is(r, "mprotect PROT_NONE",
		  rv(b->mprotect(s->a, P(4), PROT_NONE)), 0);
	zeropage_is(b, r, s, "ZEROPAGE pages 0-1", 0, 2, 0);
	rec_rv_is(r, "mprotect PROT_READ|PROT_WRITE",
		  rv(b->mprotect(s->a, P(4), PROT_READ | PROT_WRITE)), 0);
	rec_rv_is(r, "UNREGISTER", u_unregister(b, s->fd, u64p(s->a), P(4)), 0);
	setup_register(b, r, s->fd, s->a, P(4));
	zeropage_is(b, r, s, "ZEROPAGE page 1 again", 1, 1, -EEXIST);
	reads_without_fault(r, "T0 reads page 0", s, 0, 0);
}

/*
 * UNREGISTER wakes the threads waiting in the part of the range that is in
 * MISSING mode: one whose page is registered in WP mode alone by now stays
 * asleep.
 */
static void rule_unregister_wakes_missing(const struct backend *b,
					  struct record *r,
					  struct rule_stage *s)
{
	struct toucher *t;

	setup_register(b, r, s->fd, s->a, P(4));
	t = touch(s->a + P(1), TOUCH_READ, 0);
	touch_settle(t);
	expect_fault(b, r, s->fd, "msg", 0, u64p(s->a + P(1)), -1);
	rec_rv_is(r, "register pages 0-1 WP",
		  u_register(b, s->fd, u64p(s->a), P(2),
			     UFFDIO_REGISTER_MODE_WP, NULL),
		  0);
	rec_rv_is(r, "UNREGISTER", u_unregister(b, s->fd, u64p(s->a), P(4)), 0);
	rec_touch(r, "T0 after UNREGISTER", t, QUIET_MS, false, -1);
	rec_rv_is(r, "WAKE", u_wake(b, s->fd, u64p(s->a + P(1)), PG), 0);
	rec_touch(r, "T0 after WAKE", t, WAIT_MS, true, 0);
}

static const struct rule_case {
	const char *name;
	void (*run)(const struct backend *b, struct record *r,
		    struct rule_stage *s);
	uint64_t features;
} rule_cases[] = {
	{"COPY and ZEROPAGE in WP mode alone", rule_wp_only_fill, 0},
	{"COPY over pages and markers in WP mode alone", rule_wp_only_copy_over,
	 UFFD_FEATURE_WP_UNPOPULATED},
	{"a write to a marker in WP mode alone populates the page",
	 rule_wp_only_marker_write, UFFD_FEATURE_WP_UNPOPULATED},
	{"MADV_DONTNEED of a poisoned page in WP mode alone",
	 rule_wp_only_poison_discard, UFFD_FEATURE_POISON},
	{"WRITEPROTECT over a poisoned page", rule_protect_poisoned,
	 UFFD_FEATURE_WP_UNPOPULATED | UFFD_FEATURE_POISON},
	{"write-protected pages registered again MISSING|WP",
	 rule_wp_then_missing, UFFD_FEATURE_WP_UNPOPULATED},
	{"MADV_DONTNEED drops write-protect markers", rule_dontneed_markers,
	 UFFD_FEATURE_WP_UNPOPULATED},
	{"MADV_DONTNEED of write-protected pages, UNREGISTER",
	 rule_dontneed_wp_unregister, 0},
	{"mprotect() over write-protected pages", rule_mprotect_wp, 0},
	{"mprotect() past the end of the mapping", rule_mprotect_past_end, 0},
	{"WRITEPROTECT follows the owner's WP_UNPOPULATED",
	 rule_wp_owner_features, UFFD_FEATURE_WP_UNPOPULATED},
	{"markers left by a registration without WP", rule_markers_left,
	 UFFD_FEATURE_WP_UNPOPULATED},
	{"COPY in WP mode alone from a source that ends unreadable",
	 rule_wp_only_bad_src, 0},
	{"ZEROPAGE, UNREGISTER, REGISTER", rule_zeropage_unregister, 0},
	{"ZEROPAGE, close, REGISTER", rule_zeropage_close, 0},
	{"ZEROPAGE into PROT_NONE, UNREGISTER, REGISTER",
	 rule_zeropage_prot_none, 0},
	{"UNREGISTER wakes the waiters of MISSING mode only",
	 rule_unregister_wakes_missing, 0},
};

static uint64_t rule_features(int variant, enum mem_type mem)
{
	(void)mem;
	return rule_cases[variant].features;
}

SCENARIO(wp_rules, CASES(rule_cases),
	 .features = UFFD_FEATURE_PAGEFAULT_FLAG_WP,
	 .case_features = rule_features)
{
	const struct rule_case *c = &rule_cases[variant];
	struct rule_stage s;

	s.fd = setup_uffd(b, r, O_NONBLOCK, c->features);
	s.a = map_pages(4, PROT_READ | PROT_WRITE);
	s.src = map_pages(3, PROT_READ | PROT_WRITE);
	fill_pattern(s.src, P(2), 3);
	mprotect(s.src + P(2), PG, PROT_NONE);
	name_area("A", s.a, P(4));
	name_area("SRC", s.src, P(2));
	c->run(b, r, &s);
}

const struct scenario_group scenarios_wp = {
	"wp",
	(const struct scenario *const[]){
		&wp_ioctl,
		&wp_fault,
		&wp_rules,
		NULL,
	},
};
