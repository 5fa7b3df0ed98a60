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

static long u_move(const struct backend *b, int fd, uint64_t dst, uint64_t src,
		   uint64_t len, uint64_t mode, int64_t *field)
{
	struct uffdio_move m = {dst, src, len, mode, FIELD_UNTOUCHED};
	long ret = rv(b->ioctl(fd, UFFDIO_MOVE, &m));

	if (field)
		*field = m.move;
	return ret;
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
	rec_read_byte(r, "read page 0", a, sigbus);
	rec_read_byte(r, "read page 1", a + PG, "83");
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
	rec_read_byte(r, "read page 0 after mmap", a, "0");
}

/* --- MOVE --- */

/*
 * A's 8 pages, registered MISSING|WP, are set up page by page from a
 * string, and described by one afterwards:
 *   '.'  missing
 *   'P'  filled by COPY (page k with pattern k); afterwards '0'-'7' name
 *        the page whose contents it holds
 *   'Z'  filled by ZEROPAGE (afterwards: reads as zeros)
 *   'X'  poisoned
 *   'W'  filled by COPY, then write-protected
 *   'M'  a write-protect marker: protected while missing
 *   'T'  missing, and a thread blocked reading it (its message read)
 *   'R'  read before A is registered: the zero page is mapped there
 *   ' '  (afterwards) not looked at
 */
#define MOVE_PAGES 8

static const struct move_case {
	const char *name;
	const char *before;
	int dst, src, pages;
	uint64_t mode;
	long expect;
	int64_t field;
	const char *after;
	bool refault;        /* the blocked thread is woken and faults again */
	bool write_dst;      /* a write to dst afterwards, and to src */
	bool unregister_src; /* the source page is unregistered first */
} move_cases[] = {
	{"a page", "P.......", 4, 0, 1, 0, 0, 4096, .after = "....0..."},
	{"the zero page", "Z.......", 4, 0, 1, 0, 0, 4096, .after = "....Z..."},
	{"a page, the zero page and a hole, holes allowed", "PZ......", 4, 0, 3,
	 HOLES, 0, 12288, .after = "....0Z.."},
	{"a poisoned page", "PX......", 4, 1, 1, 0, -EFAULT, -EFAULT,
	 .after = "0X......"},
	{"a poisoned page, holes allowed", "X.......", 4, 0, 1, HOLES, -EFAULT,
	 -EFAULT, .after = "X......."},
	{"a page, then a poisoned one", "PX......", 4, 0, 2, 0, -EAGAIN, 4096,
	 .after = ".X..0..."},
	{"a write-protected page", "W.......", 4, 0, 1, 0, 0, 4096,
	 .after = "....0...", .write_dst = true},
	{"a write-protect marker", "PM......", 4, 1, 1, 0, -EFAULT, -EFAULT,
	 .after = "0M......"},
	{"a write-protect marker, holes allowed", "PM......", 4, 1, 1, HOLES,
	 -EFAULT, -EFAULT, .after = "0M......"},
	{"onto a write-protect marker", "P...M...", 4, 0, 1, 0, -EEXIST,
	 -EEXIST, .after = "0...M..."},
	{"a page and a write-protected page", "PW......", 4, 0, 2, 0, 0, 8192,
	 .after = "....01.."},
	{"two pages, onto a free page and a write-protect marker", "PP....M.",
	 5, 0, 2, 0, -EAGAIN, 4096, .after = ".1...0M."},
	{"onto a poisoned page", "P...X...", 4, 0, 1, 0, -EEXIST, -EEXIST,
	 .after = "0...X..."},
	{"onto a write-protected page", "P...W...", 4, 0, 1, 0, -EEXIST,
	 -EEXIST, .after = "0...4..."},
	{"a hole onto a blocked thread, holes allowed", "P...T...", 4, 1, 1,
	 HOLES, 0, 4096, .after = "0...T...", .refault = true},
	{"a hole onto a blocked thread", "P...T...", 4, 1, 1, 0, -ENOENT,
	 -ENOENT, .after = "0...T..."},
	{"a page onto a blocked thread", "P...T...", 4, 0, 1, 0, 0, 4096,
	 .after = "....0..."},
	{"overlapping ranges, upward", "P.......", 1, 0, 2, 0, 0, 8192,
	 .after = "..0....."},
	{"overlapping ranges, downward", ".PP.....", 0, 1, 2, 0, 0, 8192,
	 .after = "12......"},
	{"overlapping ranges, upward by 2", "PP......", 2, 0, 4, 0, 0, 16384,
	 .after = "....01.."},
	{"the zero page, unregistered", "Z.......", 4, 0, 1, 0, 0, 4096,
	 .after = " ...Z...", .unregister_src = true},
	{"a page, unregistered", "P.......", 4, 0, 1, 0, 0, 4096,
	 .after = " ...0...", .unregister_src = true},
	{"overlapping ranges, through a blocked thread's page", "PT......", 1,
	 0, 2, 0, 0, 8192, .after = ".T0.....", .refault = true},
	{"overlapping ranges, the zero page moved on", "Z.......", 1, 0, 2, 0,
	 0, 8192, .after = "..Z....."},
	{"overlapping ranges, a zero page read before registering", "R.......",
	 1, 0, 2, HOLES, 0, 8192, .after = "..Z....."},
};

static void move_setup(const struct backend *b, struct record *r, int fd,
		       char *a, char *src, const char *before)
{
	char l[REC_LABEL_MAX];
	long ret = 0;
	int k;

	for (k = 0; k < MOVE_PAGES; k++) {
		uint64_t page = u64p(a + P(k));

		snprintf(l, sizeof(l), "setup page %d", k);
		switch (before[k]) {
		case 'P':
		case 'W':
			fill_pattern(src, PG, 10 + (unsigned int)k);
			ret = u_copy(b, fd, page, u64p(src), PG, 0, NULL);
			if (!ret && before[k] == 'W')
				ret = u_writeprotect(
					b, fd, page, PG,
					UFFDIO_WRITEPROTECT_MODE_WP);
			break;
		case 'Z':
			ret = u_zeropage(b, fd, page, PG, 0, NULL);
			break;
		case 'X':
			ret = u_poison(b, fd, page, PG, NULL);
			break;
		case 'M':
			ret = u_writeprotect(b, fd, page, PG,
					     UFFDIO_WRITEPROTECT_MODE_WP);
			break;
		default:
			continue;
		}
		REQUIRE(rec_rv_is(r, l, ret, 0));
	}
}

/*
 * What page k holds: for pages still missing, or holding a marker, a
 * ZEROPAGE tells (it fills a missing page, and finds a marker in the way);
 * the others are read.
 */
static void rec_move_page(const struct backend *b, struct record *r, int fd,
			  char *a, int k, char want)
{
	unsigned char buf[PG];
	char l[REC_LABEL_MAX], v[REC_VALUE_MAX];
	long ret;

	snprintf(l, sizeof(l), "page %d", k);
	if (want == '.' || want == 'T' || want == 'X' || want == 'M') {
		ret = u_zeropage(b, fd, u64p(a + P(k)), PG,
				 UFFDIO_ZEROPAGE_MODE_DONTWAKE, NULL);
		if (want == '.' || want == 'T') {
			rec_fmt_rv(v, sizeof(v), ret);
			rec_str_is(r, l, ret ? v : "missing", "missing");
			return;
		}
		snprintf(l, sizeof(l), "page %d ZEROPAGE", k);
		rec_rv_is(r, l, ret, -EEXIST);
		snprintf(l, sizeof(l), "page %d", k);
		if (want == 'X') {
			snprintf(
				v, sizeof(v), "SIGBUS %d",
				access("/proc/sys/vm/memory_failure_early_kill",
				       F_OK)
					? BUS_ADRERR
					: BUS_MCEERR_AR);
			rec_read_byte(r, l, a + P(k), v);
		} else {
			fmt_page(v, sizeof(v), a + P(k), QUIET_MS);
			rec_str_is(r, l, v, "blocked");
		}
		return;
	}
	if (want == 'Z')
		memset(buf, 0, PG);
	else
		fill_pattern(buf, PG, 10 + (unsigned int)(want - '0'));
	rec_page(r, l, a + P(k), buf, WAIT_MS);
}

SCENARIO(move, CASES(move_cases),
	 .features = UFFD_FEATURE_MOVE | UFFD_FEATURE_POISON |
		     UFFD_FEATURE_WP_UNPOPULATED)
{
	const struct move_case *c = &move_cases[variant];
	struct toucher *t = NULL;
	int64_t field = FIELD_UNTOUCHED;
	char *a, *src;
	int fd, k;

	fd = setup_uffd(b, r, O_NONBLOCK, UFFD_FEATURE_WP_UNPOPULATED);
	a = map_pages(MOVE_PAGES, PROT_READ | PROT_WRITE);
	src = map_pages(1, PROT_READ | PROT_WRITE);
	name_area("A", a, P(MOVE_PAGES));
	name_area("SRC", src, PG);
	for (k = 0; k < MOVE_PAGES; k++)
		if (c->before[k] == 'R')
			rec_hex_is(r, "read before registering",
				   *(volatile unsigned char *)(a + P(k)), 0);
	REQUIRE(rec_rv_is(
		r, "setup.register",
		u_register(b, fd, u64p(a), P(MOVE_PAGES), MISSING_WP, NULL),
		0));
	move_setup(b, r, fd, a, src, c->before);
	for (k = 0; k < MOVE_PAGES; k++)
		if (c->before[k] == 'T') {
			t = touch(a + P(k) + 5, TOUCH_READ, 0);
			touch_settle(t);
			expect_fault(b, r, fd, "T0 msg", 0, u64p(a + P(k)), -1);
		}
	if (c->unregister_src)
		rec_rv_is(r, "UNREGISTER src",
			  u_unregister(b, fd, u64p(a + P(c->src)), P(c->pages)),
			  0);
	rec_rv_is(r, "MOVE",
		  u_move(b, fd, u64p(a + P(c->dst)), u64p(a + P(c->src)),
			 P(c->pages), c->mode, &field),
		  c->expect);
	rec_int_is(r, "field", field, c->field);
	if (t) {
		if (c->refault)
			expect_fault(b, r, fd, "T0 faults again", 0,
				     u64p(a + P(c->dst)), -1);
		else
			rec_hex_is(r, "no new message",
				   (uint64_t)wait_msg(b, fd, QUIET_MS), 0);
		rec_touch(r, "T0", t, QUIET_MS, c->after[c->dst] != 'T', -1);
	}
	if (c->write_dst) {
		struct toucher *w = touch(a + P(c->dst), TOUCH_WRITE, 'W');

		rec_touch(r, "write to dst", w, WAIT_MS, true, 'W');
	}
	for (k = 0; k < MOVE_PAGES; k++)
		if ((!c->write_dst || k != c->dst) && c->after[k] != ' ')
			rec_move_page(b, r, fd, a, k, c->after[k]);
	if (c->write_dst) {
		/* The source, filled again by the ZEROPAGE above. */
		struct toucher *w = touch(a + P(c->src), TOUCH_WRITE, 'S');

		rec_touch(r, "write to src", w, WAIT_MS, true, 'S');
	}
}

/* --- MOVE and the source's page table --- */

/*
 * Without ALLOW_SRC_HOLES, MOVE fails ENOENT where the source has no page
 * table, before it looks at the destination; with a table but no page it
 * finds the destination taken first (EEXIST).  Area S, 2 MiB of its own,
 * is the source; page 0 of A, filled, the destination.
 */
enum table_before {
	TB_UNTOUCHED,    /* nothing ever there */
	TB_DISCARDED,    /* page 0 written, then MADV_DONTNEED */
	TB_UNMAPPED,     /* page 0 written, then unmapped alone */
	TB_ALL_UNMAPPED, /* page 0 written, all of S unmapped, mapped again */
	TB_BLOCKED,      /* S registered, a thread blocked on page 0 */
	TB_MOVED,        /* page 0 written, then moved away */
	TB_DISCARDED_2M, /* page 0 written, then all 2 MiB discarded */
	TB_FAILED_COPY,  /* S registered, a COPY to page 0 from an unreadable
			    source failed */
};

static const struct table_case {
	const char *name;
	enum table_before before;
	long expect;
} table_cases[] = {
	{"no table", TB_UNTOUCHED, -ENOENT},
	{"a table a discard emptied", TB_DISCARDED, -EEXIST},
	{"a table, its page unmapped", TB_UNMAPPED, -EEXIST},
	{"all of it unmapped and mapped again", TB_ALL_UNMAPPED, -ENOENT},
	{"a table a blocked fault made", TB_BLOCKED, -EEXIST},
	{"a table a move emptied", TB_MOVED, -EEXIST},
	{"a table a discard of 2 MiB emptied", TB_DISCARDED_2M, -ENOENT},
	{"a table a failed COPY made", TB_FAILED_COPY, -EEXIST},
};

#define S_PAGES 512

SCENARIO(move_table, CASES(table_cases), .features = UFFD_FEATURE_MOVE)
{
	const struct table_case *c = &table_cases[variant];
	struct toucher *t = NULL;
	int64_t field = FIELD_UNTOUCHED;
	char *a, *s, *src;
	int fd;

	fd = setup_uffd(b, r, O_NONBLOCK, 0);
	a = map_pages(2, PROT_READ | PROT_WRITE);
	src = map_pages(1, PROT_READ | PROT_WRITE);
	s = map_far(S_PAGES, PROT_READ | PROT_WRITE);
	memset(src, 'S', PG);
	name_area("A", a, P(2));
	name_area("S", s, P(S_PAGES));
	setup_register(b, r, fd, a, P(2));
	REQUIRE(rec_rv_is(r, "COPY to A",
			  u_copy(b, fd, u64p(a), u64p(src), PG, 0, NULL), 0));
	if (c->before != TB_UNTOUCHED && c->before != TB_BLOCKED &&
	    c->before != TB_FAILED_COPY)
		s[0] = 'x';
	switch (c->before) {
	case TB_DISCARDED:
		rec_rv_is(r, "MADV_DONTNEED",
			  rv(b->madvise(s, PG, MADV_DONTNEED)), 0);
		break;
	case TB_UNMAPPED:
		rec_rv_is(r, "munmap", rv(b->munmap(s, PG)), 0);
		break;
	case TB_ALL_UNMAPPED:
		rec_rv_is(r, "munmap", rv(b->munmap(s, P(S_PAGES))), 0);
		REQUIRE(rec_int_is(
			r, "mmap again",
			mmap(s, P(S_PAGES), PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
			     -1, 0) == s,
			1));
		break;
	case TB_BLOCKED:
		setup_register(b, r, fd, s, P(S_PAGES));
		t = touch(s, TOUCH_READ, 0);
		touch_settle(t);
		expect_fault(b, r, fd, "T0 msg", 0, u64p(s), -1);
		break;
	case TB_MOVED:
		rec_rv_is(r, "MOVE page 0 away",
			  u_move(b, fd, u64p(a + PG), u64p(s), PG, 0, NULL), 0);
		break;
	case TB_DISCARDED_2M:
		rec_rv_is(r, "MADV_DONTNEED",
			  rv(b->madvise(s, P(S_PAGES), MADV_DONTNEED)), 0);
		break;
	case TB_FAILED_COPY: {
		char *none = map_pages(1, PROT_NONE);

		setup_register(b, r, fd, s, P(S_PAGES));
		rec_rv_is(r, "COPY from a PROT_NONE page",
			  u_copy(b, fd, u64p(s), u64p(none), PG, 0, NULL),
			  -EFAULT);
		break;
	}
	default:
		break;
	}
	rec_rv_is(r, "MOVE",
		  u_move(b, fd, u64p(a), u64p(s + P(1)), PG, 0, &field),
		  c->expect);
	rec_int_is(r, "field", field, c->expect);
	if (t) {
		rec_rv_is(r, "ZEROPAGE for T0",
			  u_zeropage(b, fd, u64p(s), PG, 0, NULL), 0);
		rec_touch(r, "T0", t, WAIT_MS, true, 0);
	}
}

const struct scenario_group scenarios_move = {
	"move",
	(const struct scenario *const[]){
		&poison_kept,
		&move,
		&move_table,
		NULL,
	},
};
