// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Write-protect mode on private anonymous memory: UFFDIO_WRITEPROTECT's
 * argument checks and what it leaves protected, and the faults a write to
 * a protected page raises.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

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

/* --- asynchronous write protection (UFFD_FEATURE_WP_ASYNC) --- */

#define PM_PRESENT (1ULL << 63)
#define PM_UFFD_WP (1ULL << 57)
/* The flag bits of a pagemap entry; the rest is the frame or swap entry. */
#define PM_FLAGS   (0x1ffULL << 55)
#define ALL_CATS                                                              \
	(PAGE_IS_WPALLOWED | PAGE_IS_WRITTEN | PAGE_IS_FILE |                 \
	 PAGE_IS_PRESENT | PAGE_IS_SWAPPED | PAGE_IS_PFNZERO | PAGE_IS_HUGE | \
	 PAGE_IS_SOFT_DIRTY | PAGE_IS_GUARD)

static int open_pagemap(struct record *r)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	REQUIRE(rec_fd(r, "setup.open pagemap", fd >= 0 ? 0 : -errno));
	return fd;
}

/*
 * The pagemap entries of n pages from addr as a monitor sees them: the
 * flags of present pages (their frame numbers differ from run to run), and
 * other entries whole (marker entries are fixed values).
 */
static void rec_pagemap(const struct backend *b, struct record *r,
			const char *label, int pm, const char *addr, int n)
{
	uint64_t e[16];
	char l[REC_LABEL_MAX];
	ssize_t got = b->pagemap_read(pm, e, u64p(addr) / PG, (size_t)n);

	if (!rec_rv_is(r, label, got < 0 ? -errno : got,
		       (long)(n * (int)sizeof(e[0]))))
		return;
	for (int i = 0; i < n; i++) {
		snprintf(l, sizeof(l), "%s[%d]", label, i);
		rec_hex(r, l, e[i] & PM_PRESENT ? e[i] & PM_FLAGS : e[i]);
	}
}

static const struct wp_async_api_case {
	const char *name;
	uint64_t features;
} wp_async_api_cases[] = {
	{"WP_ASYNC alone", UFFD_FEATURE_WP_ASYNC},
	{"WP_ASYNC|WP_UNPOPULATED",
	 UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED},
	{"WP_ASYNC|PAGEFAULT_FLAG_WP|THREAD_ID",
	 UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_PAGEFAULT_FLAG_WP |
		 UFFD_FEATURE_THREAD_ID},
};

/*
 * UFFDIO_API with WP_ASYNC: accepted, and WP_UNPOPULATED comes with it, as
 * fdinfo's feature field shows.
 */
SCENARIO(wp_async_api, CASES(wp_async_api_cases),
	 .features = UFFD_FEATURE_WP_ASYNC)
{
	const struct wp_async_api_case *c = &wp_async_api_cases[variant];
	unsigned long long api = 0, features = 0;
	struct uffdio_api a;
	char buf[256], *line;
	long fd = rv(b->userfaultfd(O_NONBLOCK));

	REQUIRE(rec_fd_is(r, "userfaultfd", fd, 0));
	rec_rv_is(r, "API", u_api(b, (int)fd, c->features, &a), 0);
	known_features(r);
	rec_hex(r, "API.features", a.features);
	rec_hex_is(r, "API.ioctls", a.ioctls, 0x8000000000000003ULL);
	if (b->fdinfo((int)fd, buf, sizeof(buf)) < 0)
		buf[0] = '\0';
	line = strstr(buf, "API:\t");
	if (line)
		sscanf(line, "API:\t%llx:%llx:", &api, &features);
	rec_hex_is(r, "fdinfo features", features,
		   c->features | UFFD_FEATURE_WP_UNPOPULATED | 1ULL << 31);
	b->close((int)fd);
}

static const struct wp_async_write_case {
	const char *name;
	uint64_t mode;     /* registration */
	int page;          /* written */
	bool populated;    /* the page was populated before protection */
	uint64_t features; /* besides WP_ASYNC */
} wp_async_write_cases[] = {
	{"a populated page", UFFDIO_REGISTER_MODE_WP, 1, true, 0},
	{"an empty page (WP_UNPOPULATED marker)", UFFDIO_REGISTER_MODE_WP, 2,
	 false, 0},
	{"MISSING|WP, a page filled by COPY", MISSING_WP, 1, true, 0},
	{"with SIGBUS too (no signal)", UFFDIO_REGISTER_MODE_WP, 1, true,
	 UFFD_FEATURE_SIGBUS},
};

/*
 * A write to a protected page of a WP_ASYNC context: resolved at once, no
 * message, the mark gone from pagemap; WRITEPROTECT marks it again.
 */
SCENARIO(wp_async_write, CASES(wp_async_write_cases),
	 .features = UFFD_FEATURE_WP_ASYNC)
{
	const struct wp_async_write_case *c = &wp_async_write_cases[variant];
	char *a = map_pages(4, PROT_READ | PROT_WRITE);
	char *src = map_pages(2, PROT_READ | PROT_WRITE);
	char *page = a + P(c->page);
	struct toucher *t;
	char buf[sizeof(struct uffd_msg)];
	int fd, pm;

	name_area("A", a, P(4));
	fill_pattern(src, P(2), 3);
	pm = open_pagemap(r);
	fd = setup_uffd(b, r, O_NONBLOCK, UFFD_FEATURE_WP_ASYNC | c->features);
	if (!(c->mode & UFFDIO_REGISTER_MODE_MISSING))
		memcpy(a, src, P(2));
	REQUIRE(rec_rv_is(r, "setup.register",
			  u_register(b, fd, u64p(a), P(4), c->mode, NULL), 0));
	if (c->mode & UFFDIO_REGISTER_MODE_MISSING)
		REQUIRE(rec_rv_is(
			r, "setup.copy",
			u_copy(b, fd, u64p(a), u64p(src), P(2), 0, NULL), 0));
	rec_rv_is(r, "protect", u_writeprotect(b, fd, u64p(a), P(4), PROTECT),
		  0);
	rec_pagemap(b, r, "pagemap protected", pm, a, 4);
	t = touch(page + 9, TOUCH_WRITE, 'W');
	rec_touch(r, "T0 writes", t, WAIT_MS, true, 'W');
	rec_rv_is(r, "read", rv(b->read(fd, buf, sizeof(buf))), -EAGAIN);
	rec_pagemap(b, r, "pagemap written", pm, a, 4);
	rec_int(r, "the byte", page[9]);
	rec_rv_is(r, "protect again",
		  u_writeprotect(b, fd, u64p(a), P(4), PROTECT), 0);
	rec_pagemap(b, r, "pagemap protected again", pm, a, 4);
	t = touch(page + 10, TOUCH_WRITE, 'X');
	rec_touch(r, "T1 writes", t, WAIT_MS, true, 'X');
	rec_rv_is(r, "read again", rv(b->read(fd, buf, sizeof(buf))), -EAGAIN);
	rec_rv_is(r, "unprotect", u_writeprotect(b, fd, u64p(a), P(4), 0), 0);
	rec_pagemap(b, r, "pagemap unprotected", pm, a, 4);
	close(pm);
}

static const struct wp_scan_case {
	const char *name;
	uint64_t flags;
	int first, pages; /* the range, in pages of A */
	uint64_t vec_len, max_pages, inverted, mask, anyof, ret;
	long expect; /* 0: any count */
	int size_delta, start_delta, end_delta;
	bool vec_null;
} wp_scan_cases[] = {
	{"every page", 0, 0, 16, 32, 0, 0, 0, 0, ALL_CATS, .expect = 0},
	{"written pages", 0, 0, 16, 32, 0, 0, PAGE_IS_WRITTEN, 0,
	 PAGE_IS_WRITTEN | PAGE_IS_PRESENT, .expect = 0},
	{"protected pages (inverted WRITTEN)", 0, 0, 16, 32, 0, PAGE_IS_WRITTEN,
	 PAGE_IS_WRITTEN, 0, ALL_CATS, .expect = 0},
	{"any of PRESENT|SWAPPED", 0, 0, 16, 32, 0, 0, 0,
	 PAGE_IS_PRESENT | PAGE_IS_SWAPPED, ALL_CATS, .expect = 0},
	{"WPALLOWED pages", 0, 0, 16, 32, 0, 0, PAGE_IS_WPALLOWED, 0, ALL_CATS,
	 .expect = 0},
	{"max_pages 2", 0, 0, 16, 32, 2, 0, PAGE_IS_WRITTEN, 0, ALL_CATS,
	 .expect = 0},
	{"vec_len 2", 0, 0, 16, 2, 0, 0, 0, 0, ALL_CATS, .expect = 0},
	{"vec_len 0", 0, 0, 16, 0, 0, 0, 0, 0, ALL_CATS, .expect = 0},
	{"return mask 0", 0, 0, 16, 32, 0, 0, 0, 0, 0, .expect = 0},
	{"end not page aligned", 0, 0, 2, 32, 0, 0, 0, 0, ALL_CATS, .expect = 0,
	 .end_delta = 1},
	{"WP_MATCHING of written pages", PM_SCAN_WP_MATCHING, 0, 8, 32, 0, 0,
	 PAGE_IS_WRITTEN, 0, PAGE_IS_WRITTEN, .expect = 0},
	{"WP_MATCHING over other memory", PM_SCAN_WP_MATCHING, 0, 16, 32, 0, 0,
	 0, 0, ALL_CATS, .expect = 0},
	{"WP_MATCHING, max_pages 1", PM_SCAN_WP_MATCHING, 0, 8, 32, 1, 0,
	 PAGE_IS_WRITTEN, 0, ALL_CATS, .expect = 0},
	{"WP_MATCHING, vec_len 0", PM_SCAN_WP_MATCHING, 0, 8, 0, 0, 0,
	 PAGE_IS_WRITTEN, 0, ALL_CATS, .expect = 0},
	{"WP_MATCHING|CHECK_WPASYNC on WP pages",
	 PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC, 0, 8, 32, 0, 0, 0, 0,
	 ALL_CATS, .expect = 0},
	{"CHECK_WPASYNC over other memory", PM_SCAN_CHECK_WPASYNC, 0, 16, 32, 0,
	 0, 0, 0, ALL_CATS, .expect = -EPERM},
	{"size 8 short", 0, 0, 16, 32, 0, 0, 0, 0, ALL_CATS, .expect = -EINVAL,
	 .size_delta = -8},
	{"flags 4", 4, 0, 16, 32, 0, 0, 0, 0, ALL_CATS, .expect = -EINVAL},
	{"category 1<<9", 0, 0, 16, 32, 0, 0, 1 << 9, 0, ALL_CATS,
	 .expect = -EINVAL},
	{"start not page aligned", 0, 0, 16, 32, 0, 0, 0, 0, ALL_CATS,
	 .expect = -EINVAL, .start_delta = 1},
	{"end before start", 0, 4, -2, 32, 0, 0, 0, 0, ALL_CATS,
	 .expect = -EFAULT},
	{"vec NULL, vec_len 1", 0, 0, 16, 1, 0, 0, 0, 0, ALL_CATS,
	 .expect = -EINVAL, .vec_null = true},
};

/*
 * WP_ASYNC leaves MISSING mode synchronous: a write to a missing page of a
 * MISSING|WP range, protected or not, waits for the monitor as usual.
 */
SCENARIO(wp_async_missing, .features = UFFD_FEATURE_WP_ASYNC)
{
	char *a = map_pages(4, PROT_READ | PROT_WRITE);
	char *src = map_pages(1, PROT_READ | PROT_WRITE);
	struct toucher *t;
	char buf[sizeof(struct uffd_msg)];
	int fd;

	name_area("A", a, P(4));
	fill_pattern(src, PG, 5);
	fd = setup_uffd(b, r, O_NONBLOCK, UFFD_FEATURE_WP_ASYNC);
	REQUIRE(rec_rv_is(r, "setup.register",
			  u_register(b, fd, u64p(a), P(4), MISSING_WP, NULL),
			  0));
	rec_rv_is(r, "protect", u_writeprotect(b, fd, u64p(a), P(4), PROTECT),
		  0);
	t = touch(a + P(2) + 5, TOUCH_WRITE, 'M');
	expect_fault(b, r, fd, "msg", UFFD_PAGEFAULT_FLAG_WRITE, u64p(a + P(2)),
		     -1);
	rec_touch(r, "T0 before COPY", t, QUIET_MS, false, -1);
	rec_rv_is(r, "COPY",
		  u_copy(b, fd, u64p(a + P(2)), u64p(src), PG, 0, NULL), 0);
	rec_touch(r, "T0", t, WAIT_MS, true, 'M');
	rec_rv_is(r, "read", rv(b->read(fd, buf, sizeof(buf))), -EAGAIN);
}

static const struct wp_async_reg_case {
	const char *name;
	uint64_t mode;
	bool file; /* a file on disk, mapped MAP_SHARED */
} wp_async_reg_cases[] = {
	{"WP", UFFDIO_REGISTER_MODE_WP, false},
	{"MISSING|WP", MISSING_WP, false},
	{"WP on a file on disk", UFFDIO_REGISTER_MODE_WP, true},
	{"MISSING|WP on a file on disk", MISSING_WP, true},
};

/* A shared mapping of a fresh 4-page file on disk, removed at once. */
static char *map_disk_file(void)
{
	char path[] = "/var/tmp/uffdemu-wp-XXXXXX";
	int fd = mkstemp(path);
	char *p;

	if (fd < 0 || unlink(path) || ftruncate(fd, (off_t)P(4)))
		scenario_abort("no file on disk");
	p = mmap(NULL, P(4), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		scenario_abort("mmap of a file failed");
	return p;
}

/*
 * REGISTER in a WP_ASYNC context: WP mode alone takes any memory, files
 * included; other modes keep their usual memory types.  Where it
 * registers, a write to a protected page goes through.
 */
SCENARIO(wp_async_register, CASES(wp_async_reg_cases), .mems = ALL_MEMS,
	 .features = UFFD_FEATURE_WP_ASYNC)
{
	const struct wp_async_reg_case *c = &wp_async_reg_cases[variant];
	char *a;
	long ret;
	int fd;

	if (c->file && mem != MEM_ANON) {
		rec_str(r, "file", "only on the anon row");
		return;
	}
	a = c->file ? map_disk_file() : map_mem(mem, 4, PROT_READ | PROT_WRITE);
	name_area("A", a, P(4));
	a[0] = 'a';
	fd = setup_uffd(b, r, O_NONBLOCK, UFFD_FEATURE_WP_ASYNC);
	if (c->file && c->mode == UFFDIO_REGISTER_MODE_WP)
		known_rv_rest(r, KNOWN_WP_ASYNC_FILES, -EINVAL);
	ret = u_register(b, fd, u64p(a), P(4), c->mode, NULL);
	rec_rv(r, "REGISTER", ret);
	if (ret)
		return;
	rec_rv_is(r, "protect", u_writeprotect(b, fd, u64p(a), P(4), PROTECT),
		  0);
	a[1] = 'b';
	rec_int(r, "page 0 after a write", a[1]);
	rec_rv_is(r, "unprotect", u_writeprotect(b, fd, u64p(a), P(4), 0), 0);
}

/* One PAGEMAP_SCAN: the result, walk_end and each region returned. */
static long rec_scan(const struct backend *b, struct record *r,
		     const char *label, int pm, struct pm_scan_arg *arg,
		     long expect)
{
	struct page_region vec[32];
	char l[REC_LABEL_MAX];
	long ret;

	memset(vec, 0xee, sizeof(vec));
	if (arg->vec)
		arg->vec = u64p(vec);
	ret = rv(b->pagemap_scan(pm, arg));
	if (expect)
		rec_rv_is(r, label, ret, expect);
	else
		rec_rv(r, label, ret);
	snprintf(l, sizeof(l), "%s.walk_end", label);
	rec_addr(r, l, arg->walk_end);
	for (long i = 0; i < ret && i < 32; i++) {
		snprintf(l, sizeof(l), "%s[%ld].start", label, i);
		rec_addr(r, l, vec[i].start);
		snprintf(l, sizeof(l), "%s[%ld].end", label, i);
		rec_addr(r, l, vec[i].end);
		snprintf(l, sizeof(l), "%s[%ld].categories", label, i);
		rec_hex(r, l, vec[i].categories);
	}
	return ret;
}

static void scan_all(const struct backend *b, struct record *r,
		     const char *label, int pm, const char *a)
{
	struct pm_scan_arg arg = {
		.size = sizeof(arg),
		.start = u64p(a),
		.end = u64p(a + P(16)),
		.vec = 1,
		.vec_len = 32,
		.return_mask = ALL_CATS,
	};

	rec_scan(b, r, label, pm, &arg, 0);
}

/*
 * PAGEMAP_SCAN over A: pages 0-7 in WP mode of a WP_ASYNC context (0-3
 * populated, 5 the zero page, all protected, then 1 and 6 written), 8-11
 * not registered (8 populated), 12-15 in MISSING mode (12 filled).
 */
SCENARIO(wp_async_scan, CASES(wp_scan_cases), .features = UFFD_FEATURE_WP_ASYNC)
{
	const struct wp_scan_case *c = &wp_scan_cases[variant];
	char *a = map_pages(16, PROT_READ | PROT_WRITE);
	char *src = map_pages(1, PROT_READ | PROT_WRITE);
	struct pm_scan_arg arg;
	struct toucher *t;
	int fd, pm;

	/* One page more, so that the end of the last region is named too. */
	name_area("A", a, P(17));
	fill_pattern(src, PG, 4);
	pm = open_pagemap(r);
	fd = setup_uffd(b, r, O_NONBLOCK, UFFD_FEATURE_WP_ASYNC);
	for (int i = 0; i < 4; i++)
		a[P(i)] = (char)('a' + i);
	a[P(8)] = 'i';
	rec_int(r, "zero page", *(volatile char *)(a + P(5)));
	REQUIRE(rec_rv_is(
		r, "setup.register WP",
		u_register(b, fd, u64p(a), P(8), UFFDIO_REGISTER_MODE_WP, NULL),
		0));
	REQUIRE(rec_rv_is(r, "setup.register MISSING",
			  u_register(b, fd, u64p(a + P(12)), P(4),
				     UFFDIO_REGISTER_MODE_MISSING, NULL),
			  0));
	REQUIRE(rec_rv_is(
		r, "setup.copy",
		u_copy(b, fd, u64p(a + P(12)), u64p(src), PG, 0, NULL), 0));
	REQUIRE(rec_rv_is(r, "setup.protect",
			  u_writeprotect(b, fd, u64p(a), P(8), PROTECT), 0));
	t = touch(a + P(1) + 1, TOUCH_WRITE, 'W');
	rec_touch(r, "T0 writes page 1", t, WAIT_MS, true, 'W');
	t = touch(a + P(6) + 1, TOUCH_WRITE, 'W');
	rec_touch(r, "T1 writes page 6", t, WAIT_MS, true, 'W');
	scan_all(b, r, "before", pm, a);

	arg = (struct pm_scan_arg){
		.size = sizeof(arg) + (uint64_t)(int64_t)c->size_delta,
		.flags = c->flags,
		.start = u64p(a + P(c->first)) + (uint64_t)c->start_delta,
		.end = u64p(a + P(c->first + c->pages)) +
		       (uint64_t)c->end_delta,
		.vec = c->vec_null ? 0 : 1,
		.vec_len = c->vec_len,
		.max_pages = c->max_pages,
		.category_inverted = c->inverted,
		.category_mask = c->mask,
		.category_anyof_mask = c->anyof,
		.return_mask = c->ret,
	};
	if (c->expect && c->expect != -EPERM) {
		rec_rv_is(r, "SCAN", rv(b->pagemap_scan(pm, &arg)), c->expect);
		rec_addr(r, "SCAN.walk_end", arg.walk_end);
		return;
	}
	rec_scan(b, r, "SCAN", pm, &arg, c->expect);
	scan_all(b, r, "after", pm, a);
	rec_pagemap(b, r, "pagemap after", pm, a, 8);
	if (!(c->flags & PM_SCAN_WP_MATCHING))
		return;
	t = touch(a + P(1) + 2, TOUCH_WRITE, 'V');
	rec_touch(r, "T2 writes page 1 again", t, WAIT_MS, true, 'V');
	scan_all(b, r, "written again", pm, a);
	close(pm);
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

/*
 * A write to a protected page of the stage: its WP fault, the page
 * unprotected, and the write done.
 */
static void write_after_unprotect(const struct backend *b, struct record *r,
				  const struct rule_stage *s, int page,
				  const char *label)
{
	struct toucher *t = touch(s->a + P(page) + 8, TOUCH_WRITE, 'w');
	char what[32];

	expect_fault(b, r, s->fd, "msg", WP_WRITE, u64p(s->a + P(page)), -1);
	snprintf(what, sizeof(what), "unprotect page %d", page);
	rec_rv_is(r, what,
		  u_writeprotect(b, s->fd, u64p(s->a + P(page)), PG, 0), 0);
	rec_touch(r, label, t, WAIT_MS, true, 'w');
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
	write_after_unprotect(b, r, s, 1, "T3");
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
	write_after_unprotect(b, r, s, 3, "T1");
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

static const char *const wp_mark_cases[] = {
	"no write while in MISSING mode",
	"a write while in MISSING mode",
};

/*
 * The mark of a protected page outlives a registration without WP mode:
 * there the first write only takes it away, without a fault; if no write
 * came, WP mode registered again finds the page protected.
 */
SCENARIO(wp_mark_kept, CASES(wp_mark_cases),
	 .features = UFFD_FEATURE_PAGEFAULT_FLAG_WP)
{
	struct toucher *t;
	char *a;
	int fd;

	fd = setup_uffd(b, r, O_NONBLOCK, 0);
	a = map_pages(2, PROT_READ | PROT_WRITE);
	name_area("A", a, P(2));
	a[0] = 'a';
	REQUIRE(rec_rv_is(
		r, "REGISTER WP",
		u_register(b, fd, u64p(a), P(2), UFFDIO_REGISTER_MODE_WP, NULL),
		0));
	rec_rv_is(r, "protect", u_writeprotect(b, fd, u64p(a), P(2), PROTECT),
		  0);
	rec_rv_is(r, "REGISTER MISSING",
		  u_register(b, fd, u64p(a), P(2), UFFDIO_REGISTER_MODE_MISSING,
			     NULL),
		  0);
	if (variant == 1) {
		t = touch(a + 5, TOUCH_WRITE, 'm');
		rec_touch(r, "T0 in MISSING mode", t, WAIT_MS, true, 'm');
	}
	rec_rv_is(r, "REGISTER MISSING|WP",
		  u_register(b, fd, u64p(a), P(2), MISSING_WP, NULL), 0);
	t = touch(a + 9, TOUCH_WRITE, 'w');
	if (variant == 0) {
		expect_fault(b, r, fd, "A+0", WP_WRITE, u64p(a), -1);
		rec_rv_is(r, "unprotect", u_writeprotect(b, fd, u64p(a), PG, 0),
			  0);
	}
	rec_touch(r, "T1", t, WAIT_MS, true, 'w');
}

const struct scenario_group scenarios_wp = {
	"wp",
	(const struct scenario *const[]){
		&wp_ioctl,
		&wp_fault,
		&wp_async_api,
		&wp_async_write,
		&wp_async_missing,
		&wp_async_register,
		&wp_async_scan,
		&wp_rules,
		&wp_mark_kept,
		NULL,
	},
};
