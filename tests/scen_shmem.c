// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Shared memory: a memfd mapped MAP_SHARED and shared anonymous memory,
 * and a memfd mapped MAP_PRIVATE, whose pages are the file's until they
 * are written or filled.
 * Its pages live in the file, so "missing" means missing from the file,
 * a page the file has but this mapping has not mapped yet is a minor
 * fault, and a page installed through one mapping is seen through every
 * other.  Most scenarios keep a second, unregistered view V of the
 * registered area A, through which the monitor (here, the scenario)
 * writes the file directly.
 */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "helpers.h"
#include "known.h"
#include "scenario.h"

#define P(n)     ((uint64_t)(n)*PG)
#define MISSING  UFFDIO_REGISTER_MODE_MISSING
#define WP       UFFDIO_REGISTER_MODE_WP
#define MINOR    UFFDIO_REGISTER_MODE_MINOR
#define WRITE_FL UFFD_PAGEFAULT_FLAG_WRITE
#define WP_FL    UFFD_PAGEFAULT_FLAG_WP
#define MINOR_FL UFFD_PAGEFAULT_FLAG_MINOR
#define SHARED   (MEM_BIT(MEM_SHMEM) | MEM_BIT(MEM_SHARED_ANON))
#define PRIVATE  MEM_BIT(MEM_SHMEM_PRIVATE)

/* The registered area A, its view V and a source page SRC. */
struct shm {
	int fd;
	char *a;
	char *v;
	char *src;
};

static void shm_init(const struct backend *b, struct record *r, struct shm *s,
		     enum mem_type mem, uint64_t features, size_t pages)
{
	s->fd = setup_uffd(b, r, O_NONBLOCK, features);
	s->a = map_mem(mem, pages, PROT_READ | PROT_WRITE);
	s->v = mem == MEM_ANON ? NULL : map_mem_view(s->a, pages);
	s->src = map_pages(1, PROT_READ | PROT_WRITE);
	fill_pattern(s->src, PG, 7);
	name_area("A", s->a, P(pages));
	if (s->v)
		name_area("V", s->v, P(pages));
	name_area("SRC", s->src, PG);
}

static void shm_register(const struct backend *b, struct record *r,
			 const struct shm *s, size_t pages, uint64_t mode)
{
	uint64_t ioctls = IOCTLS_UNTOUCHED;

	REQUIRE(rec_rv_is(
		r, "REGISTER",
		u_register(b, s->fd, u64p(s->a), P(pages), mode, &ioctls), 0));
	rec_hex(r, "REGISTER.ioctls", ioctls);
}

/* No message is waiting. */
static void rec_no_msg(const struct backend *b, struct record *r, int fd,
		       const char *label)
{
	struct uffd_msg m;

	rec_rv_is(r, label, read_msgs(b, fd, &m, 1), -EAGAIN);
}

static long copy_to(const struct backend *b, const struct shm *s, size_t page,
		    size_t pages, int64_t *field)
{
	return u_copy(b, s->fd, u64p(s->a + P(page)), u64p(s->src), P(pages), 0,
		      field);
}

/*
 * MISSING mode: a page the file has is mapped without a message, one it
 * lacks faults; COPY and ZEROPAGE put the page in the file, where the view
 * sees it, and fail EEXIST where the file has the page already, mapped
 * here or not.
 */
SCENARIO(shm_missing, .mems = SHARED)
{
	struct toucher *t;
	struct shm s;
	int64_t field;

	shm_init(b, r, &s, mem, 0, 6);
	s.v[0] = 'v';
	s.v[P(4)] = 'w';
	shm_register(b, r, &s, 6, MISSING);
	rec_page(r, "A+0, in the file", s.a, s.v, WAIT_MS);
	rec_no_msg(b, r, s.fd, "no message for A+0");

	t = touch(s.a + P(1) + 9, TOUCH_READ, 0);
	expect_fault(b, r, s.fd, "A+1", 0, u64p(s.a + P(1)), -1);
	rec_rv_is(r, "COPY A+1", copy_to(b, &s, 1, 1, &field), 0);
	rec_touch(r, "T0", t, WAIT_MS, true, (unsigned char)s.src[9]);
	rec_int_is(r, "V+1 after COPY", (unsigned char)s.v[P(1) + 9],
		   (unsigned char)s.src[9]);

	rec_rv_is(r, "COPY A+4, in the file only", copy_to(b, &s, 4, 1, &field),
		  -EEXIST);
	rec_int_is(r, "COPY A+4.field", field, -EEXIST);
	rec_rv_is(r, "COPY A+0, mapped", copy_to(b, &s, 0, 1, &field), -EEXIST);
	rec_rv_is(r, "ZEROPAGE A+2",
		  u_zeropage(b, s.fd, u64p(s.a + P(2)), PG, 0, &field), 0);
	rec_int_is(r, "V+2 after ZEROPAGE", s.v[P(2)], 0);
	s.v[P(2) + 1] = 'z';
	rec_int_is(r, "A+2 after a write through V", s.a[P(2) + 1], 'z');
	rec_rv_is(r, "COPY A+3..A+5", copy_to(b, &s, 3, 2, &field), -EAGAIN);
	rec_int_is(r, "COPY A+3..A+5.field", field, P(1));

	t = touch(s.a + P(5), TOUCH_WRITE, 'W');
	expect_fault(b, r, s.fd, "A+5", WRITE_FL, u64p(s.a + P(5)), -1);
	rec_rv_is(r, "ZEROPAGE A+5",
		  u_zeropage(b, s.fd, u64p(s.a + P(5)), PG, 0, NULL), 0);
	rec_touch(r, "T1", t, WAIT_MS, true, 'W');
	rec_int_is(r, "V+5", s.v[P(5)], 'W');
	rec_no_msg(b, r, s.fd, "at the end");
}

/*
 * Two registered mappings of the same file: each reports its own fault,
 * a COPY through one wakes only its own address, and the other, woken,
 * finds the page in the file; MADV_REMOVE through one takes the page out
 * of both.
 */
SCENARIO(shm_two_views, .mems = SHARED)
{
	struct toucher *t0, *t1;
	uint64_t ioctls;
	struct shm s;

	shm_init(b, r, &s, mem, 0, 2);
	shm_register(b, r, &s, 2, MISSING);
	rec_rv_is(r, "REGISTER V",
		  u_register(b, s.fd, u64p(s.v), P(2), MISSING, &ioctls), 0);
	t0 = touch(s.a + 3, TOUCH_READ, 0);
	expect_fault(b, r, s.fd, "A+0", 0, u64p(s.a), -1);
	t1 = touch(s.v + 5, TOUCH_READ, 0);
	expect_fault(b, r, s.fd, "V+0", 0, u64p(s.v), -1);
	rec_rv_is(r, "COPY A+0", copy_to(b, &s, 0, 1, NULL), 0);
	rec_touch(r, "T0", t0, WAIT_MS, true, (unsigned char)s.src[3]);
	rec_touch(r, "T1 before WAKE", t1, QUIET_MS, false, -1);
	rec_rv_is(r, "COPY V+0",
		  u_copy(b, s.fd, u64p(s.v), u64p(s.src), PG, 0, NULL),
		  -EEXIST);
	rec_rv_is(r, "WAKE V+0", u_wake(b, s.fd, u64p(s.v), PG), 0);
	rec_touch(r, "T1", t1, WAIT_MS, true, (unsigned char)s.src[5]);

	/* MADV_REMOVE through A takes the page from V too. */
	rec_rv_is(r, "MADV_REMOVE A+0", rv(b->madvise(s.a, PG, MADV_REMOVE)),
		  0);
	t1 = touch(s.v + 9, TOUCH_READ, 0);
	expect_fault(b, r, s.fd, "V+0 after it", 0, u64p(s.v), -1);
	rec_rv_is(r, "ZEROPAGE V+0",
		  u_zeropage(b, s.fd, u64p(s.v), PG, 0, NULL), 0);
	rec_touch(r, "T2", t1, WAIT_MS, true, 0);
	rec_no_msg(b, r, s.fd, "at the end");
}

static const struct minor_case {
	const char *name;
	uint64_t mode;
} minor_cases[] = {
	{"MINOR", MINOR},
	{"MISSING|MINOR", MISSING | MINOR},
	{"MINOR|WP", MINOR | WP},
};

static uint64_t minor_features(int variant, enum mem_type mem)
{
	(void)mem;
	return UFFD_FEATURE_MINOR_SHMEM |
	       (minor_cases[variant].mode & WP
			? UFFD_FEATURE_WP_HUGETLBFS_SHMEM |
				  UFFD_FEATURE_PAGEFAULT_FLAG_WP
			: 0);
}

/*
 * MINOR mode: a page the file has but A has not mapped faults as minor,
 * for reads and writes; the monitor may change it through V first, and
 * CONTINUE maps it.  A page the file lacks is allocated without a message
 * in MINOR mode alone, and is a MISSING fault with MISSING mode.
 * CONTINUE fails EEXIST on a mapped page and EFAULT where the file has no
 * page, and stops at the first such page.
 */
SCENARIO(shm_minor, CASES(minor_cases), .mems = SHARED,
	 .case_features = minor_features)
{
	uint64_t mode = minor_cases[variant].mode;
	struct toucher *t;
	struct shm s;
	int64_t field;

	shm_init(b, r, &s, mem, 0, 6);
	s.v[0] = 'v';
	s.v[P(2)] = 'w';
	s.v[P(3)] = 'x';
	shm_register(b, r, &s, 6, mode);

	t = touch(s.a + 1, TOUCH_READ, 0);
	expect_fault(b, r, s.fd, "A+0", MINOR_FL, u64p(s.a), -1);
	s.v[1] = 'm';
	rec_rv_is(r, "CONTINUE A+0",
		  u_continue(b, s.fd, u64p(s.a), PG, 0, &field), 0);
	rec_int_is(r, "CONTINUE A+0.field", field, P(1));
	rec_touch(r, "T0", t, WAIT_MS, true, 'm');
	rec_rv_is(r, "CONTINUE A+0 again",
		  u_continue(b, s.fd, u64p(s.a), PG, 0, &field), -EEXIST);
	rec_int_is(r, "CONTINUE A+0 again.field", field, -EEXIST);

	t = touch(s.a + P(2) + 8, TOUCH_WRITE, 'W');
	expect_fault(b, r, s.fd, "A+2", MINOR_FL | WRITE_FL, u64p(s.a + P(2)),
		     -1);
	rec_rv_is(r, "CONTINUE A+2",
		  u_continue(b, s.fd, u64p(s.a + P(2)), PG, 0, NULL), 0);
	rec_touch(r, "T1", t, WAIT_MS, true, 'W');
	rec_int_is(r, "V+2 after the write", s.v[P(2) + 8], 'W');

	t = touch(s.a + P(1), TOUCH_READ, 0);
	if (mode & MISSING) {
		expect_fault(b, r, s.fd, "A+1", 0, u64p(s.a + P(1)), -1);
		rec_rv_is(r, "ZEROPAGE A+1",
			  u_zeropage(b, s.fd, u64p(s.a + P(1)), PG, 0, NULL),
			  0);
	}
	rec_touch(r, "T2 on A+1, not in the file", t, WAIT_MS, true, 0);

	rec_rv_is(r, "CONTINUE A+4, not in the file",
		  u_continue(b, s.fd, u64p(s.a + P(4)), PG, 0, &field),
		  -EFAULT);
	rec_int_is(r, "CONTINUE A+4.field", field, -EFAULT);
	rec_rv_is(r, "CONTINUE A+3..A+6",
		  u_continue(b, s.fd, u64p(s.a + P(3)), P(3), 0, &field),
		  -EAGAIN);
	rec_int_is(r, "CONTINUE A+3..A+6.field", field, P(1));
	rec_int_is(r, "A+3", s.a[P(3)], 'x');
	rec_no_msg(b, r, s.fd, "at the end");
}

/*
 * CONTINUE with MODE_WP maps the page write-protected: a write is then a
 * WP fault.  Without WP mode on the range MODE_WP fails EINVAL.
 */
SCENARIO(shm_continue_wp, .mems = SHARED,
	 .features = UFFD_FEATURE_MINOR_SHMEM |
		     UFFD_FEATURE_WP_HUGETLBFS_SHMEM |
		     UFFD_FEATURE_PAGEFAULT_FLAG_WP)
{
	struct toucher *t;
	struct shm s;
	int64_t field;
	uint64_t ioctls;

	shm_init(b, r, &s, mem, 0, 4);
	s.v[0] = 'v';
	s.v[P(2)] = 'w';
	shm_register(b, r, &s, 2, MINOR | WP);
	rec_rv_is(r, "CONTINUE(WP) A+0",
		  u_continue(b, s.fd, u64p(s.a), PG, UFFDIO_CONTINUE_MODE_WP,
			     &field),
		  0);
	rec_int_is(r, "A+0", s.a[0], 'v');
	t = touch(s.a + 4, TOUCH_WRITE, 'W');
	expect_fault(b, r, s.fd, "A+0", WP_FL | WRITE_FL, u64p(s.a), -1);
	rec_rv_is(r, "unprotect A+0", u_writeprotect(b, s.fd, u64p(s.a), PG, 0),
		  0);
	rec_touch(r, "T0", t, WAIT_MS, true, 'W');

	rec_rv_is(r, "REGISTER(MINOR) A+2",
		  u_register(b, s.fd, u64p(s.a + P(2)), P(2), MINOR, &ioctls),
		  0);
	rec_rv_is(r, "CONTINUE(WP) A+2, no WP mode",
		  u_continue(b, s.fd, u64p(s.a + P(2)), PG,
			     UFFDIO_CONTINUE_MODE_WP, &field),
		  -EINVAL);
	rec_int_is(r, "CONTINUE(WP) A+2.field", field, -EINVAL);
	rec_no_msg(b, r, s.fd, "at the end");
}

/*
 * The checks of CONTINUE before and around its fill: mode bits, range,
 * the mapping (anonymous memory takes no CONTINUE), and a range registered
 * without MINOR mode, which CONTINUE serves all the same.
 */
SCENARIO(shm_continue_rules, .mems = SHARED | MEM_BIT(MEM_ANON))
{
	char *other = map_pages(1, PROT_READ | PROT_WRITE);
	struct shm s;
	int64_t field;

	name_area("O", other, PG);
	shm_init(b, r, &s, mem, 0, 4);
	if (mem != MEM_ANON)
		s.v[P(1)] = 'v';
	setup_register(b, r, s.fd, s.a, P(4));
	rec_rv_is(r, "mode 4", u_continue(b, s.fd, u64p(s.a), PG, 4, &field),
		  -EINVAL);
	rec_int_is(r, "mode 4.field", field, FIELD_UNTOUCHED);
	rec_rv_is(r, "start unaligned",
		  u_continue(b, s.fd, u64p(s.a) + 8, PG, 0, &field), -EINVAL);
	rec_rv_is(r, "len 0", u_continue(b, s.fd, u64p(s.a), 0, 0, &field),
		  -EINVAL);
	rec_rv_is(r, "not registered",
		  u_continue(b, s.fd, u64p(other), PG, 0, &field), -ENOENT);
	rec_int_is(r, "not registered.field", field, -ENOENT);
	rec_rv_is(r, "MODE_WP, MISSING mode",
		  u_continue(b, s.fd, u64p(s.a), PG, UFFDIO_CONTINUE_MODE_WP,
			     &field),
		  -EINVAL);
	if (mem == MEM_ANON) {
		rec_rv_is(r, "anonymous memory",
			  u_continue(b, s.fd, u64p(s.a), PG, 0, &field),
			  -EINVAL);
		rec_int_is(r, "anonymous memory.field", field, -EINVAL);
		return;
	}
	rec_rv_is(r, "A+0, not in the file",
		  u_continue(b, s.fd, u64p(s.a), PG, 0, &field), -EFAULT);
	rec_rv_is(r, "A+1, in the file",
		  u_continue(b, s.fd, u64p(s.a + P(1)), PG, 0, &field), 0);
	rec_int_is(r, "A+1", s.a[P(1)], 'v');
	rec_rv_is(r, "A+1 again",
		  u_continue(b, s.fd, u64p(s.a + P(1)), PG, 0, &field),
		  -EEXIST);
}

static const char *const minor_wake_cases[] = {
	"UNREGISTER, then WAKE",
	"CONTINUE with DONTWAKE, then WAKE",
};

/*
 * A thread in a minor fault is not woken by UNREGISTER, nor by a CONTINUE
 * with DONTWAKE; WAKE wakes it, and it finds the page.
 */
SCENARIO(shm_minor_wake, CASES(minor_wake_cases), .mems = SHARED,
	 .features = UFFD_FEATURE_MINOR_SHMEM)
{
	struct toucher *t;
	struct shm s;

	shm_init(b, r, &s, mem, 0, 2);
	s.v[5] = 'v';
	shm_register(b, r, &s, 2, MINOR);
	t = touch(s.a + 5, TOUCH_READ, 0);
	expect_fault(b, r, s.fd, "A+0", MINOR_FL, u64p(s.a), -1);
	if (variant == 0)
		rec_rv_is(r, "UNREGISTER",
			  u_unregister(b, s.fd, u64p(s.a), P(2)), 0);
	else
		rec_rv_is(r, "CONTINUE(DONTWAKE)",
			  u_continue(b, s.fd, u64p(s.a), PG,
				     UFFDIO_CONTINUE_MODE_DONTWAKE, NULL),
			  0);
	rec_touch(r, "T0 before WAKE", t, QUIET_MS, false, -1);
	rec_rv_is(r, "WAKE", u_wake(b, s.fd, u64p(s.a), PG), 0);
	rec_touch(r, "T0", t, WAIT_MS, true, 'v');
	rec_no_msg(b, r, s.fd, "at the end");
}

/* A memfd of 4 pages mapped over 6 (A), and a source page SRC. */
static char *map_short_memfd(int flags, char **src)
{
	int mfd = memfd_create("uffdemu-eof", MFD_CLOEXEC);
	char *a;

	*src = map_pages(1, PROT_READ | PROT_WRITE);
	REQUIRE(mfd >= 0 && ftruncate(mfd, (off_t)P(4)) == 0);
	a = mmap(NULL, P(6), PROT_READ | PROT_WRITE, flags, mfd, 0);
	REQUIRE(a != MAP_FAILED);
	close(mfd);
	name_area("A", a, P(6));
	name_area("SRC", *src, PG);
	fill_pattern(*src, PG, 3);
	return a;
}

/*
 * A memfd of 4 pages mapped over 6: past the end of the file COPY,
 * ZEROPAGE, CONTINUE and POISON fail EFAULT (a COPY across the end does
 * the first part), and an access raises SIGBUS without a message.
 */
SCENARIO(shm_eof, .features = UFFD_FEATURE_POISON)
{
	char *src, *a = map_short_memfd(MAP_SHARED, &src);
	int64_t field;
	int fd;

	fd = setup_uffd(b, r, O_NONBLOCK, 0);
	REQUIRE(rec_rv_is(r, "REGISTER",
			  u_register(b, fd, u64p(a), P(6), MISSING, NULL), 0));
	rec_rv_is(r, "COPY A+4",
		  u_copy(b, fd, u64p(a + P(4)), u64p(src), PG, 0, &field),
		  -EFAULT);
	rec_int_is(r, "COPY A+4.field", field, -EFAULT);
	rec_rv_is(r, "COPY A+3..A+5",
		  u_copy(b, fd, u64p(a + P(3)), u64p(src), P(2), 0, &field),
		  -EAGAIN);
	rec_int_is(r, "COPY A+3..A+5.field", field, P(1));
	rec_rv_is(r, "ZEROPAGE A+5",
		  u_zeropage(b, fd, u64p(a + P(5)), PG, 0, &field), -EFAULT);
	rec_rv_is(r, "CONTINUE A+4",
		  u_continue(b, fd, u64p(a + P(4)), PG, 0, &field), -EINVAL);
	rec_rv_is(r, "POISON A+4", u_poison(b, fd, u64p(a + P(4)), PG, &field),
		  -EFAULT);
	rec_int(r, "POISON A+4.field", field);
	rec_read_byte(r, "read A+4", a + P(4), "SIGBUS 2");
	rec_read_byte(r, "read A+3", a + P(3), NULL);
	rec_no_msg(b, r, fd, "at the end");
}

/*
 * POISON on shared memory needs only this mapping's entry to be empty: a
 * page the file has but A has not mapped is poisoned there, and the file
 * keeps it.  COPY replaces the marker of a page the file lacks.
 */
SCENARIO(shm_poison, .mems = SHARED, .features = UFFD_FEATURE_POISON)
{
	struct shm s;
	int64_t field;
	char sigbus[32];

	snprintf(sigbus, sizeof(sigbus), "SIGBUS %d",
		 access("/proc/sys/vm/memory_failure_early_kill", F_OK)
			 ? BUS_ADRERR
			 : BUS_MCEERR_AR);
	shm_init(b, r, &s, mem, 0, 4);
	s.v[0] = 'v';
	setup_register(b, r, s.fd, s.a, P(4));
	rec_rv_is(r, "POISON A+0, in the file",
		  u_poison(b, s.fd, u64p(s.a), PG, &field), 0);
	rec_read_byte(r, "read A+0", s.a, sigbus);
	rec_read_byte(r, "read V+0", s.v, "118");
	rec_rv_is(r, "POISON A+1",
		  u_poison(b, s.fd, u64p(s.a + P(1)), PG, &field), 0);
	rec_read_byte(r, "read A+1", s.a + P(1), sigbus);
	rec_rv_is(r, "COPY A+1", copy_to(b, &s, 1, 1, &field), 0);
	rec_read_byte(r, "read A+1 after COPY", s.a + P(1), NULL);
	rec_rv_is(r, "ZEROPAGE A+2",
		  u_zeropage(b, s.fd, u64p(s.a + P(2)), PG, 0, NULL), 0);
	rec_rv_is(r, "POISON A+2, mapped",
		  u_poison(b, s.fd, u64p(s.a + P(2)), PG, &field), -EEXIST);
	rec_rv_is(r, "ZEROPAGE A+0, poisoned",
		  u_zeropage(b, s.fd, u64p(s.a), PG, 0, &field), -EEXIST);
	rec_no_msg(b, r, s.fd, "at the end");
}

/*
 * WP mode on shared memory: WRITEPROTECT marks mapped pages and leaves a
 * marker on empty entries, so the first write to a page the file lacks,
 * or has without A mapping it, is a WP fault too; a read is not.
 */
SCENARIO(shm_wp, .mems = SHARED,
	 .features = UFFD_FEATURE_WP_HUGETLBFS_SHMEM |
		     UFFD_FEATURE_PAGEFAULT_FLAG_WP)
{
	struct toucher *t;
	struct shm s;

	shm_init(b, r, &s, mem, 0, 4);
	s.a[0] = 'a';
	s.v[P(2)] = 'v';
	shm_register(b, r, &s, 4, WP);
	rec_rv_is(r, "protect A+0..A+3",
		  u_writeprotect(b, s.fd, u64p(s.a), P(3),
				 UFFDIO_WRITEPROTECT_MODE_WP),
		  0);
	for (int k = 0; k < 3; k++) {
		char l[32];

		if (k == 2)
			rec_int_is(r, "read A+2", s.a[P(2)], 'v');
		t = touch(s.a + P(k) + 1, TOUCH_WRITE, 'W');
		snprintf(l, sizeof(l), "A+%d", k);
		expect_fault(b, r, s.fd, l, WP_FL | WRITE_FL, u64p(s.a + P(k)),
			     -1);
		rec_rv_is(r, "unprotect",
			  u_writeprotect(b, s.fd, u64p(s.a + P(k)), PG, 0), 0);
		rec_touch(r, "writer", t, WAIT_MS, true, 'W');
	}
	s.a[P(3)] = 'u';
	rec_int_is(r, "V+3 after a write to A+3", s.v[P(3)], 'u');
	rec_no_msg(b, r, s.fd, "at the end");
}

static const struct discard_case {
	const char *name;
	int advice;
	uint64_t mode;
} discard_cases[] = {
	{"MADV_DONTNEED, MISSING", MADV_DONTNEED, MISSING},
	{"MADV_DONTNEED, MINOR", MADV_DONTNEED, MINOR},
	{"MADV_REMOVE, MISSING", MADV_REMOVE, MISSING},
	{"MADV_REMOVE, MISSING|MINOR", MADV_REMOVE, MISSING | MINOR},
};

static uint64_t discard_features(int variant, enum mem_type mem)
{
	(void)mem;
	return discard_cases[variant].mode & MINOR ? UFFD_FEATURE_MINOR_SHMEM
						   : 0;
}

/*
 * Discarding a mapped page: MADV_DONTNEED drops only this mapping's entry,
 * so the file keeps the page (mapped again silently in MISSING mode, a
 * minor fault in MINOR mode); MADV_REMOVE drops it from the file, so the
 * next access is a MISSING fault.
 */
SCENARIO(shm_discard, CASES(discard_cases), .mems = SHARED,
	 .case_features = discard_features)
{
	const struct discard_case *c = &discard_cases[variant];
	struct toucher *t;
	struct shm s;

	shm_init(b, r, &s, mem, 0, 2);
	s.v[0] = 'v';
	s.a[P(1)] = 'a';
	shm_register(b, r, &s, 2, c->mode);
	if (c->mode & MINOR) {
		t = touch(s.a, TOUCH_READ, 0);
		expect_fault(b, r, s.fd, "A+0", MINOR_FL, u64p(s.a), -1);
		rec_rv_is(r, "CONTINUE",
			  u_continue(b, s.fd, u64p(s.a), PG, 0, NULL), 0);
		rec_touch(r, "T0", t, WAIT_MS, true, 'v');
	} else {
		rec_int_is(r, "A+0", s.a[0], 'v');
	}
	rec_rv_is(r, "madvise", rv(b->madvise(s.a, P(2), c->advice)), 0);
	t = touch(s.a, TOUCH_READ, 0);
	if (c->advice == MADV_REMOVE) {
		expect_fault(b, r, s.fd, "A+0 again", 0, u64p(s.a), -1);
		rec_rv_is(r, "ZEROPAGE",
			  u_zeropage(b, s.fd, u64p(s.a), PG, 0, NULL), 0);
		rec_touch(r, "T1", t, WAIT_MS, true, 0);
	} else if (c->mode & MINOR) {
		expect_fault(b, r, s.fd, "A+0 again", MINOR_FL, u64p(s.a), -1);
		rec_rv_is(r, "CONTINUE again",
			  u_continue(b, s.fd, u64p(s.a), PG, 0, NULL), 0);
		rec_touch(r, "T1", t, WAIT_MS, true, 'v');
	} else {
		rec_touch(r, "T1", t, WAIT_MS, true, 'v');
	}
	rec_no_msg(b, r, s.fd, "at the end");
}

static const struct file_case {
	const char *name;
	int open_flags; /* -1: a memfd sealed against writes */
	int prot;
	int flags;
	long expect;
} file_cases[] = {
	{"tmpfs file, read-write", O_RDWR, PROT_READ | PROT_WRITE, MAP_SHARED,
	 0},
	{"tmpfs file opened read-only", O_RDONLY, PROT_READ, MAP_SHARED,
	 -EPERM},
	{"memfd sealed against writes", -1, PROT_READ, MAP_SHARED, -EPERM},
	{"tmpfs file opened read-only, MAP_PRIVATE", O_RDONLY,
	 PROT_READ | PROT_WRITE, MAP_PRIVATE, 0},
	{"memfd sealed against writes, MAP_PRIVATE", -1, PROT_READ | PROT_WRITE,
	 MAP_PRIVATE, 0},
};

/*
 * Files of tmpfs mapped MAP_SHARED register as shared memory, unless the
 * mapping may never be written (a file opened read-only, a memfd sealed
 * against writes): EPERM.  Mapped MAP_PRIVATE they register, and a fill
 * leaves the file as it was.  A page of the file is then read through the
 * registration.
 */
SCENARIO(shm_files, CASES(file_cases))
{
	const struct file_case *c = &file_cases[variant];
	char path[64];
	int ffd, fd;
	char *a, *v;
	long ret;

	if (c->open_flags >= 0) {
		snprintf(path, sizeof(path), "/dev/shm/uffdemu-%d", getpid());
		ffd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		REQUIRE(ffd >= 0 && ftruncate(ffd, (off_t)P(2)) == 0 &&
			pwrite(ffd, "f", 1, 0) == 1);
		close(ffd);
		ffd = open(path, c->open_flags | O_CLOEXEC);
		unlink(path);
	} else {
		ffd = memfd_create("uffdemu-sealed",
				   MFD_CLOEXEC | MFD_ALLOW_SEALING);
		REQUIRE(ffd >= 0 && ftruncate(ffd, (off_t)P(2)) == 0 &&
			pwrite(ffd, "f", 1, 0) == 1 &&
			fcntl(ffd, F_ADD_SEALS, F_SEAL_WRITE) == 0);
	}
	REQUIRE(ffd >= 0);
	a = mmap(NULL, P(2), c->prot, c->flags, ffd, 0);
	v = mmap(NULL, P(2), PROT_READ, MAP_SHARED, ffd, 0);
	REQUIRE(a != MAP_FAILED && v != MAP_FAILED);
	close(ffd);
	name_area("A", a, P(2));
	name_area("V", v, P(2));
	fd = setup_uffd(b, r, O_NONBLOCK, 0);
	ret = u_register(b, fd, u64p(a), P(2), MISSING, NULL);
	rec_rv_is(r, "REGISTER", ret, c->expect);
	if (ret)
		return;
	rec_int_is(r, "A+0", a[0], 'f');
	rec_rv_is(r, "ZEROPAGE A+1",
		  u_zeropage(b, fd, u64p(a + P(1)), PG, 0, NULL), 0);
	rec_int_is(r, "A+1", a[P(1)], 0);
	if (c->flags == MAP_PRIVATE && c->open_flags < 0)
		known(r, KNOWN_PRIVATE_FILL, "1");
	rec_int_is(r, "the file has page 1", in_file(v + P(1)),
		   c->flags == MAP_SHARED);
}

/*
 * A memfd mapped MAP_PRIVATE, MISSING mode: COPY and ZEROPAGE make private
 * pages, where the file has the page too, and leave the file as it was.
 * A page the file has is mapped without a message and follows the file
 * until A writes it; one it lacks faults.  MADV_REMOVE needs a shared
 * mapping.
 */
SCENARIO(shm_private, .mems = PRIVATE)
{
	struct toucher *t;
	struct shm s;
	int64_t field;

	shm_init(b, r, &s, mem, 0, 6);
	s.v[0] = 'v';
	s.v[P(4)] = 'w';
	shm_register(b, r, &s, 6, MISSING);
	rec_rv_is(r, "COPY A+4, in the file only", copy_to(b, &s, 4, 1, &field),
		  0);
	rec_int_is(r, "A+4 after COPY", (unsigned char)s.a[P(4) + 9],
		   (unsigned char)s.src[9]);
	rec_int_is(r, "V+4 after COPY", s.v[P(4)], 'w');

	rec_int_is(r, "A+0, in the file", s.a[0], 'v');
	s.v[1] = 'x';
	rec_int_is(r, "A+0 after a write through V", s.a[1], 'x');
	s.a[2] = 'p';
	rec_int_is(r, "V+0 after a write to A+0", s.v[2], 0);
	s.v[3] = 'y';
	rec_int_is(r, "A+0 after its write and one through V", s.a[3], 0);
	rec_no_msg(b, r, s.fd, "no message for A+0");

	t = touch(s.a + P(1) + 9, TOUCH_READ, 0);
	expect_fault(b, r, s.fd, "A+1", 0, u64p(s.a + P(1)), -1);
	rec_rv_is(r, "COPY A+1", copy_to(b, &s, 1, 1, &field), 0);
	rec_touch(r, "T0", t, WAIT_MS, true, (unsigned char)s.src[9]);
	rec_int_is(r, "the file has page 1", in_file(s.v + P(1)), 0);
	rec_rv_is(r, "COPY A+0, mapped", copy_to(b, &s, 0, 1, &field), -EEXIST);

	rec_rv_is(r, "ZEROPAGE A+2",
		  u_zeropage(b, s.fd, u64p(s.a + P(2)), PG, 0, &field), 0);
	rec_int_is(r, "A+2 after ZEROPAGE", s.a[P(2)], 0);
	s.a[P(2) + 1] = 'z';
	rec_int_is(r, "A+2 after a write", s.a[P(2) + 1], 'z');
	rec_int_is(r, "the file has page 2", in_file(s.v + P(2)), 0);
	rec_rv_is(r, "COPY A+3..A+5", copy_to(b, &s, 3, 2, &field), -EAGAIN);
	rec_int_is(r, "COPY A+3..A+5.field", field, P(1));
	rec_int_is(r, "the file has page 3", in_file(s.v + P(3)), 0);

	t = touch(s.a + P(5), TOUCH_WRITE, 'W');
	expect_fault(b, r, s.fd, "A+5", WRITE_FL, u64p(s.a + P(5)), -1);
	rec_rv_is(r, "ZEROPAGE A+5",
		  u_zeropage(b, s.fd, u64p(s.a + P(5)), PG, 0, NULL), 0);
	rec_touch(r, "T1", t, WAIT_MS, true, 'W');
	rec_int_is(r, "the file has page 5", in_file(s.v + P(5)), 0);
	rec_rv(r, "MADV_REMOVE A+1",
	       rv(b->madvise(s.a + P(1), PG, MADV_REMOVE)));
	rec_int_is(r, "A+1 after MADV_REMOVE", (unsigned char)s.a[P(1) + 9],
		   (unsigned char)s.src[9]);
	rec_no_msg(b, r, s.fd, "at the end");
}

/*
 * MINOR mode on a MAP_PRIVATE memfd: reads and writes of a page the file
 * has are minor faults; CONTINUE maps the file's page, which a write then
 * copies.  A page the file lacks is allocated in the file without a
 * message.  MADV_DONTNEED drops the private copy: the file's page is a
 * minor fault again.
 */
SCENARIO(shm_private_minor, .mems = PRIVATE,
	 .features = UFFD_FEATURE_MINOR_SHMEM)
{
	struct toucher *t;
	struct shm s;
	int64_t field;

	shm_init(b, r, &s, mem, 0, 6);
	s.v[0] = 'v';
	s.v[P(1)] = 'w';
	s.v[P(3)] = 'x';
	shm_register(b, r, &s, 6, MINOR);

	t = touch(s.a + 1, TOUCH_READ, 0);
	expect_fault(b, r, s.fd, "A+0", MINOR_FL, u64p(s.a), -1);
	s.v[1] = 'm';
	rec_rv_is(r, "CONTINUE A+0",
		  u_continue(b, s.fd, u64p(s.a), PG, 0, &field), 0);
	rec_touch(r, "T0", t, WAIT_MS, true, 'm');
	s.v[2] = 'n';
	rec_int_is(r, "A+0 after a write through V", s.a[2], 'n');
	s.a[3] = 'p';
	rec_int_is(r, "V+0 after a write to A+0", s.v[3], 0);

	t = touch(s.a + P(1) + 8, TOUCH_WRITE, 'W');
	expect_fault(b, r, s.fd, "A+1", MINOR_FL | WRITE_FL, u64p(s.a + P(1)),
		     -1);
	rec_rv_is(r, "CONTINUE A+1",
		  u_continue(b, s.fd, u64p(s.a + P(1)), PG, 0, NULL), 0);
	rec_touch(r, "T1", t, WAIT_MS, true, 'W');
	rec_int_is(r, "V+1 after the write", s.v[P(1) + 8], 0);
	rec_int_is(r, "A+1, from the file", s.a[P(1)], 'w');

	t = touch(s.a + P(2), TOUCH_READ, 0);
	rec_touch(r, "T2 on A+2, not in the file", t, WAIT_MS, true, 0);
	rec_int_is(r, "the file has page 2", in_file(s.v + P(2)), 1);

	rec_rv_is(r, "CONTINUE A+4, not in the file",
		  u_continue(b, s.fd, u64p(s.a + P(4)), PG, 0, &field),
		  -EFAULT);
	rec_rv_is(r, "CONTINUE A+3",
		  u_continue(b, s.fd, u64p(s.a + P(3)), PG, 0, &field), 0);
	rec_int_is(r, "A+3", s.a[P(3)], 'x');
	rec_rv_is(r, "CONTINUE A+3 again",
		  u_continue(b, s.fd, u64p(s.a + P(3)), PG, 0, &field),
		  -EEXIST);

	rec_rv_is(r, "MADV_DONTNEED A+0",
		  rv(b->madvise(s.a, PG, MADV_DONTNEED)), 0);
	t = touch(s.a + 3, TOUCH_READ, 0);
	expect_fault(b, r, s.fd, "A+0 again", MINOR_FL, u64p(s.a), -1);
	rec_rv_is(r, "CONTINUE A+0 again",
		  u_continue(b, s.fd, u64p(s.a), PG, 0, NULL), 0);
	rec_touch(r, "T3", t, WAIT_MS, true, 0);
	rec_int_is(r, "A+0 byte 1", s.a[1], 'm');
	rec_no_msg(b, r, s.fd, "at the end");
}

/*
 * WP and MISSING modes on a MAP_PRIVATE memfd: a page COPY made
 * write-protected, and a page the file has behind a marker, fault on the
 * first write and are then private copies; the file keeps its page.
 */
SCENARIO(shm_private_wp, .mems = PRIVATE,
	 .features = UFFD_FEATURE_WP_HUGETLBFS_SHMEM |
		     UFFD_FEATURE_PAGEFAULT_FLAG_WP)
{
	struct toucher *t;
	struct shm s;

	shm_init(b, r, &s, mem, 0, 4);
	s.v[P(1)] = 'v';
	shm_register(b, r, &s, 4, MISSING | WP);
	rec_rv_is(r, "COPY(WP) A+0",
		  u_copy(b, s.fd, u64p(s.a), u64p(s.src), PG,
			 UFFDIO_COPY_MODE_WP, NULL),
		  0);
	rec_rv_is(r, "protect A+1",
		  u_writeprotect(b, s.fd, u64p(s.a + P(1)), PG,
				 UFFDIO_WRITEPROTECT_MODE_WP),
		  0);
	rec_int_is(r, "read A+1", s.a[P(1)], 'v');
	for (int k = 0; k < 2; k++) {
		char l[32];

		t = touch(s.a + P(k) + 1, TOUCH_WRITE, 'W');
		snprintf(l, sizeof(l), "A+%d", k);
		expect_fault(b, r, s.fd, l, WP_FL | WRITE_FL, u64p(s.a + P(k)),
			     -1);
		rec_rv_is(r, "unprotect",
			  u_writeprotect(b, s.fd, u64p(s.a + P(k)), PG, 0), 0);
		rec_touch(r, "writer", t, WAIT_MS, true, 'W');
	}
	rec_int_is(r, "the file has page 0", in_file(s.v), 0);
	rec_int_is(r, "V+1 after the write to A+1", s.v[P(1) + 1], 0);
	rec_no_msg(b, r, s.fd, "at the end");
}

/*
 * The end of a memfd mapped MAP_PRIVATE: fills fail EFAULT there, an
 * access raises SIGBUS.
 */
SCENARIO(shm_private_eof, .features = UFFD_FEATURE_POISON)
{
	char *src, *a = map_short_memfd(MAP_PRIVATE, &src);
	int64_t field;
	int fd;

	fd = setup_uffd(b, r, O_NONBLOCK, 0);
	REQUIRE(rec_rv_is(r, "REGISTER",
			  u_register(b, fd, u64p(a), P(6), MISSING | WP, NULL),
			  0));
	rec_rv_is(r, "COPY A+4",
		  u_copy(b, fd, u64p(a + P(4)), u64p(src), PG, 0, &field),
		  -EFAULT);
	rec_int_is(r, "COPY A+4.field", field, -EFAULT);
	rec_rv_is(r, "COPY A+3..A+5",
		  u_copy(b, fd, u64p(a + P(3)), u64p(src), P(2), 0, &field),
		  -EAGAIN);
	rec_int_is(r, "COPY A+3..A+5.field", field, P(1));
	rec_rv_is(r, "ZEROPAGE A+5",
		  u_zeropage(b, fd, u64p(a + P(5)), PG, 0, &field), -EFAULT);
	rec_rv(r, "CONTINUE A+4",
	       u_continue(b, fd, u64p(a + P(4)), PG, 0, &field));
	rec_rv_is(r, "POISON A+4", u_poison(b, fd, u64p(a + P(4)), PG, &field),
		  -EFAULT);
	rec_rv_is(r, "protect A+5",
		  u_writeprotect(b, fd, u64p(a + P(5)), PG,
				 UFFDIO_WRITEPROTECT_MODE_WP),
		  0);
	rec_rv(r, "ZEROPAGE A+5, write-protected",
	       u_zeropage(b, fd, u64p(a + P(5)), PG, 0, &field));
	rec_rv(r, "COPY A+5, write-protected",
	       u_copy(b, fd, u64p(a + P(5)), u64p(src), PG, 0, &field));
	rec_read_byte(r, "read A+4", a + P(4), "SIGBUS 2");
	rec_read_byte(r, "read A+3", a + P(3), NULL);
	rec_no_msg(b, r, fd, "at the end");
}

/*
 * One registration over a memfd page and an anonymous page next to it:
 * WRITEPROTECT leaves a marker on the empty memfd page only (the context
 * has no WP_UNPOPULATED), so ZEROPAGE fills the anonymous one.
 */
SCENARIO(shm_wp_mixed, .features = UFFD_FEATURE_PAGEFAULT_FLAG_WP)
{
	int mfd = memfd_create("uffdemu-mixed", MFD_CLOEXEC);
	int64_t field;
	char *a;
	int fd;

	REQUIRE(mfd >= 0 && ftruncate(mfd, (off_t)PG) == 0);
	a = map_pages(2, PROT_READ | PROT_WRITE);
	REQUIRE(mmap(a, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, mfd,
		     0) == a);
	close(mfd);
	name_area("A", a, P(2));
	fd = setup_uffd(b, r, O_NONBLOCK, 0);
	REQUIRE(rec_rv_is(r, "REGISTER",
			  u_register(b, fd, u64p(a), P(2), MISSING | WP, NULL),
			  0));
	rec_rv_is(r, "protect",
		  u_writeprotect(b, fd, u64p(a), P(2),
				 UFFDIO_WRITEPROTECT_MODE_WP),
		  0);
	rec_rv(r, "ZEROPAGE A+0, the memfd's",
	       u_zeropage(b, fd, u64p(a), PG, 0, &field));
	rec_rv_is(r, "ZEROPAGE A+1, anonymous",
		  u_zeropage(b, fd, u64p(a + PG), PG, 0, &field), 0);
	rec_no_msg(b, r, fd, "at the end");
}

/*
 * A hole punched in the file with fallocate() takes the page from the
 * registered mapping too: it is missing again there.
 */
SCENARIO(shm_punch)
{
	int mfd = memfd_create("uffdemu-punch", MFD_CLOEXEC);
	struct toucher *t;
	char *a, *v;
	int fd;

	REQUIRE(mfd >= 0 && ftruncate(mfd, (off_t)P(2)) == 0);
	a = mmap(NULL, P(2), PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	v = mmap(NULL, P(2), PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	REQUIRE(a != MAP_FAILED && v != MAP_FAILED);
	name_area("A", a, P(2));
	name_area("V", v, P(2));
	v[0] = 'v';
	v[P(1)] = 'w';
	fd = setup_uffd(b, r, O_NONBLOCK, 0);
	REQUIRE(rec_rv_is(r, "REGISTER",
			  u_register(b, fd, u64p(a), P(2), MISSING, NULL), 0));
	rec_int_is(r, "A+0", a[0], 'v');
	rec_int_is(r, "A+1", a[P(1)], 'w');
	rec_rv_is(
		r, "punch A+0 and half of A+1",
		rv(b->fallocate(mfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				0, (off_t)(PG + PG / 2))),
		0);
	rec_int_is(r, "A+1, half punched", a[P(1)], 0);
	rec_int_is(r, "A+1, its other half", a[P(1) + PG / 2], 0);
	t = touch(a + 3, TOUCH_READ, 0);
	expect_fault(b, r, fd, "A+0", 0, u64p(a), -1);
	rec_rv_is(r, "ZEROPAGE A+0", u_zeropage(b, fd, u64p(a), PG, 0, NULL),
		  0);
	rec_touch(r, "T0", t, WAIT_MS, true, 0);
	close(mfd);
	rec_no_msg(b, r, fd, "at the end");
}

static const char *const wp_discard_cases[] = {"WP mode kept",
					       "WP mode dropped"};

/*
 * MADV_DONTNEED of a write-protected page of shared memory leaves a
 * marker where the range is still in WP mode (POISON then fails EEXIST),
 * and none where a registration without WP mode (MISSING, which WP alone
 * does not include) replaced it.
 */
SCENARIO(shm_wp_discard, CASES(wp_discard_cases), .mems = SHARED | PRIVATE,
	 .features = UFFD_FEATURE_POISON)
{
	struct shm s;
	int64_t field;

	shm_init(b, r, &s, mem, 0, 2);
	s.a[0] = 'a';
	shm_register(b, r, &s, 2, WP);
	rec_rv_is(r, "protect",
		  u_writeprotect(b, s.fd, u64p(s.a), PG,
				 UFFDIO_WRITEPROTECT_MODE_WP),
		  0);
	if (variant)
		shm_register(b, r, &s, 2, MISSING);
	rec_rv_is(r, "MADV_DONTNEED", rv(b->madvise(s.a, PG, MADV_DONTNEED)),
		  0);
	rec_rv_is(r, "POISON", u_poison(b, s.fd, u64p(s.a), PG, &field),
		  variant ? 0 : -EEXIST);
	rec_no_msg(b, r, s.fd, "at the end");
}

static const struct scenario *const list[] = {
	&shm_missing,
	&shm_two_views,
	&shm_minor,
	&shm_continue_wp,
	&shm_continue_rules,
	&shm_minor_wake,
	&shm_eof,
	&shm_poison,
	&shm_wp,
	&shm_discard,
	&shm_files,
	&shm_private,
	&shm_private_minor,
	&shm_private_wp,
	&shm_private_eof,
	&shm_wp_mixed,
	&shm_punch,
	&shm_wp_discard,
	NULL,
};

const struct scenario_group scenarios_shmem = {"shmem", list};
