// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Hugetlb memory (MAP_HUGETLB and hugetlb memfds, 2 MiB pages): every
 * range operation works on whole huge pages, REGISTER, UNREGISTER,
 * WRITEPROTECT and the fills fail EINVAL on a misaligned start or length,
 * faults report the huge page's address, and there is no ZEROPAGE and no
 * MOVE.  The rows need free huge pages (vm.nr_hugepages); without them
 * they are skipped on both sides.
 */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "known.h"
#include "scenario.h"

#define H        ((uint64_t)2 << 20)
#define HP(n)    ((uint64_t)(n)*H)
#define MISSING  UFFDIO_REGISTER_MODE_MISSING
#define WP       UFFDIO_REGISTER_MODE_WP
#define MINOR    UFFDIO_REGISTER_MODE_MINOR
#define WRITE_FL UFFD_PAGEFAULT_FLAG_WRITE
#define WP_FL    UFFD_PAGEFAULT_FLAG_WP
#define PROTECT  UFFDIO_WRITEPROTECT_MODE_WP

/* n huge pages of private hugetlb memory, named A, and a source SRC. */
static char *map_huge(size_t n, char **src)
{
	char *a = mmap(NULL, HP(n), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);

	REQUIRE(a != MAP_FAILED);
	name_area("A", a, HP(n));
	*src = map_pages(H / PG, PROT_READ | PROT_WRITE);
	fill_pattern(*src, H, 5);
	name_area("SRC", *src, H);
	return a;
}

static void rec_no_msg(const struct backend *b, struct record *r, int fd,
		       const char *label)
{
	struct uffd_msg m;

	rec_rv_is(r, label, read_msgs(b, fd, &m, 1), -EAGAIN);
}

static const struct huge_mode_case {
	const char *name;
	uint64_t mode;
} huge_mode_cases[] = {
	{"MISSING", MISSING},
	{"WP", WP},
	{"MISSING|WP", MISSING | WP},
	{"MINOR", MINOR},
	{"MISSING|MINOR", MISSING | MINOR},
	{"MISSING|WP|MINOR", MISSING | WP | MINOR},
};

/*
 * REGISTER in each mode: the masks lack ZEROPAGE and MOVE.  Then the
 * alignment rules of REGISTER and UNREGISTER.
 */
SCENARIO(huge_register, CASES(huge_mode_cases), .needs = NEEDS_HUGEPAGES)
{
	uint64_t mode = huge_mode_cases[variant].mode, ioctls = 0;
	char *a, *src;
	int fd;

	fd = setup_uffd(b, r, O_NONBLOCK, 0);
	a = map_huge(2, &src);
	rec_rv_is(r, "REGISTER A+4K",
		  u_register(b, fd, u64p(a + PG), H, mode, NULL), -EINVAL);
	rec_rv_is(r, "REGISTER A..A+2M+4K",
		  u_register(b, fd, u64p(a), H + PG, mode, NULL), -EINVAL);
	rec_rv_is(r, "REGISTER",
		  u_register(b, fd, u64p(a), HP(2), mode, &ioctls), 0);
	rec_hex(r, "ioctls", ioctls);
	rec_rv_is(r, "UNREGISTER A+4K", u_unregister(b, fd, u64p(a + PG), H),
		  -EINVAL);
	rec_rv(r, "UNREGISTER A..A+2M+4K",
	       u_unregister(b, fd, u64p(a), H + PG));
	rec_rv_is(r, "UNREGISTER", u_unregister(b, fd, u64p(a), HP(2)), 0);
}

/*
 * MISSING faults report the huge page; COPY fills whole huge pages only;
 * ZEROPAGE, CONTINUE and MOVE have no place here.
 */
SCENARIO(huge_missing, .needs = NEEDS_HUGEPAGES)
{
	struct toucher *t;
	int64_t field;
	char *a, *src;
	int fd;

	fd = setup_uffd(b, r, O_NONBLOCK, 0);
	a = map_huge(2, &src);
	REQUIRE(rec_rv_is(r, "REGISTER",
			  u_register(b, fd, u64p(a), HP(2), MISSING, NULL), 0));
	t = touch(a + 0x1234, TOUCH_READ, 0);
	expect_fault(b, r, fd, "A+0x1234", 0, u64p(a), -1);
	rec_rv_is(r, "COPY 4 KiB",
		  u_copy(b, fd, u64p(a), u64p(src), PG, 0, &field), -EINVAL);
	rec_int_is(r, "COPY 4 KiB.field", field, -EINVAL);
	rec_rv_is(r, "COPY at A+4K",
		  u_copy(b, fd, u64p(a + PG), u64p(src), H, 0, &field),
		  -EINVAL);
	rec_rv_is(r, "ZEROPAGE", u_zeropage(b, fd, u64p(a), H, 0, &field),
		  -EINVAL);
	rec_int_is(r, "ZEROPAGE.field", field, -EINVAL);
	rec_rv_is(r, "CONTINUE", u_continue(b, fd, u64p(a), H, 0, &field),
		  -EFAULT);
	rec_rv_is(r, "COPY", u_copy(b, fd, u64p(a), u64p(src), H, 0, &field),
		  0);
	rec_int_is(r, "COPY.field", field, (int64_t)H);
	rec_touch(r, "T0", t, WAIT_MS, true, (unsigned char)src[0x1234]);
	rec_int_is(r, "A+2M-1", (unsigned char)a[H - 1],
		   (unsigned char)src[H - 1]);
	rec_rv_is(r, "COPY again",
		  u_copy(b, fd, u64p(a), u64p(src), H, 0, &field), -EEXIST);
	rec_rv_is(r, "CONTINUE, mapped",
		  u_continue(b, fd, u64p(a), H, 0, &field), -EFAULT);

	t = touch(a + H + 5, TOUCH_WRITE, 'W');
	expect_fault(b, r, fd, "A+2M+5", WRITE_FL, u64p(a + H), -1);
	rec_rv_is(r, "COPY A..A+4M",
		  u_copy(b, fd, u64p(a), u64p(src), HP(2), 0, &field), -EEXIST);
	rec_rv_is(r, "COPY A+2M",
		  u_copy(b, fd, u64p(a + H), u64p(src), H, 0, &field), 0);
	rec_touch(r, "T1", t, WAIT_MS, true, 'W');
	rec_no_msg(b, r, fd, "at the end");
}

/* With UFFD_FEATURE_EXACT_ADDRESS the fault reports the address itself. */
SCENARIO(huge_exact, .needs = NEEDS_HUGEPAGES,
	 .features = UFFD_FEATURE_EXACT_ADDRESS)
{
	struct toucher *t;
	char *a, *src;
	int fd;

	fd = setup_uffd(b, r, O_NONBLOCK, UFFD_FEATURE_EXACT_ADDRESS);
	a = map_huge(1, &src);
	REQUIRE(rec_rv_is(r, "REGISTER",
			  u_register(b, fd, u64p(a), H, MISSING, NULL), 0));
	t = touch(a + 0x12345, TOUCH_READ, 0);
	expect_fault(b, r, fd, "A+0x12345", 0, u64p(a + 0x12345), -1);
	rec_rv_is(r, "WAKE the huge page's first 4 KiB",
		  u_wake(b, fd, u64p(a), PG), 0);
	rec_touch(r, "T0 after that WAKE", t, 100, false, -1);
	rec_rv_is(r, "COPY", u_copy(b, fd, u64p(a), u64p(src), H, 0, NULL), 0);
	rec_touch(r, "T0", t, WAIT_MS, true, (unsigned char)src[0x12345]);
}

/*
 * POISON marks the whole huge page: any access raises SIGBUS; POISON
 * again fails EEXIST, and COPY replaces the marker.
 */
SCENARIO(huge_poison, .needs = NEEDS_HUGEPAGES, .features = UFFD_FEATURE_POISON)
{
	char *a, *src, sigbus[32];
	int64_t field;
	int fd;

	snprintf(sigbus, sizeof(sigbus), "SIGBUS %d",
		 access("/proc/sys/vm/memory_failure_early_kill", F_OK)
			 ? BUS_ADRERR
			 : BUS_MCEERR_AR);
	fd = setup_uffd(b, r, O_NONBLOCK, 0);
	a = map_huge(2, &src);
	REQUIRE(rec_rv_is(r, "REGISTER",
			  u_register(b, fd, u64p(a), HP(2), MISSING, NULL), 0));
	rec_rv_is(r, "POISON 4 KiB", u_poison(b, fd, u64p(a), PG, &field),
		  -EINVAL);
	rec_rv_is(r, "POISON", u_poison(b, fd, u64p(a), H, &field), 0);
	rec_int_is(r, "POISON.field", field, (int64_t)H);
	rec_read_byte(r, "read A+0", a, sigbus);
	rec_read_byte(r, "read A+2M-1", a + H - 1, sigbus);
	rec_rv_is(r, "POISON again", u_poison(b, fd, u64p(a), H, &field),
		  -EEXIST);
	rec_rv_is(r, "COPY over the marker",
		  u_copy(b, fd, u64p(a), u64p(src), H, 0, NULL), 0);
	rec_read_byte(r, "read A+0 after COPY", a, NULL);
	rec_rv_is(r, "POISON over a page", u_poison(b, fd, u64p(a), H, &field),
		  -EEXIST);
	rec_no_msg(b, r, fd, "at the end");
}

/*
 * WP mode: a page COPY made write-protected faults on the first write;
 * WRITEPROTECT needs whole huge pages and leaves a marker on an empty
 * one, so its first write is a WP fault too (after the page is
 * populated), in WP mode alone.
 */
SCENARIO(huge_wp, .needs = NEEDS_HUGEPAGES,
	 .features = UFFD_FEATURE_PAGEFAULT_FLAG_WP)
{
	struct toucher *t;
	char *a, *src;
	int fd;

	fd = setup_uffd(b, r, O_NONBLOCK, 0);
	a = map_huge(2, &src);
	REQUIRE(rec_rv_is(r, "REGISTER MISSING|WP",
			  u_register(b, fd, u64p(a), H, MISSING | WP, NULL),
			  0));
	REQUIRE(rec_rv_is(r, "REGISTER WP A+2M",
			  u_register(b, fd, u64p(a + H), H, WP, NULL), 0));
	rec_rv_is(
		r, "COPY(WP)",
		u_copy(b, fd, u64p(a), u64p(src), H, UFFDIO_COPY_MODE_WP, NULL),
		0);
	rec_int_is(r, "read A+7", (unsigned char)a[7], (unsigned char)src[7]);
	t = touch(a + 7, TOUCH_WRITE, 'W');
	expect_fault(b, r, fd, "A+7", WP_FL | WRITE_FL, u64p(a), -1);
	rec_rv_is(r, "unprotect 4 KiB", u_writeprotect(b, fd, u64p(a), PG, 0),
		  -EINVAL);
	rec_rv_is(r, "unprotect A+4K",
		  u_writeprotect(b, fd, u64p(a + PG), H, 0), -EINVAL);
	rec_rv_is(r, "unprotect", u_writeprotect(b, fd, u64p(a), H, 0), 0);
	rec_touch(r, "T0", t, WAIT_MS, true, 'W');

	rec_rv_is(r, "protect empty A+2M",
		  u_writeprotect(b, fd, u64p(a + H), H, PROTECT), 0);
	rec_int_is(r, "read A+2M", a[H], 0);
	t = touch(a + H + 9, TOUCH_WRITE, 'V');
	expect_fault(b, r, fd, "A+2M+9", WP_FL | WRITE_FL, u64p(a + H), -1);
	rec_rv_is(r, "unprotect A+2M", u_writeprotect(b, fd, u64p(a + H), H, 0),
		  0);
	rec_touch(r, "T1", t, WAIT_MS, true, 'V');
	rec_no_msg(b, r, fd, "at the end");
}

/*
 * MADV_DONTNEED on hugetlb memory: the start must be aligned, the end is
 * rounded down to a huge page; a discarded page faults again.
 */
SCENARIO(huge_discard, .needs = NEEDS_HUGEPAGES)
{
	struct toucher *t;
	char *a, *src;
	int fd;

	fd = setup_uffd(b, r, O_NONBLOCK, 0);
	a = map_huge(2, &src);
	REQUIRE(rec_rv_is(r, "REGISTER",
			  u_register(b, fd, u64p(a), HP(2), MISSING, NULL), 0));
	REQUIRE(rec_rv_is(r, "COPY",
			  u_copy(b, fd, u64p(a), u64p(src), HP(1), 0, NULL),
			  0));
	rec_rv_is(r, "MADV_DONTNEED 4 KiB",
		  rv(b->madvise(a, PG, MADV_DONTNEED)), 0);
	rec_read_byte(r, "read A+0", a, NULL);
	rec_rv_is(r, "MADV_DONTNEED at A+4K",
		  rv(b->madvise(a + PG, H, MADV_DONTNEED)), -EINVAL);
	rec_rv_is(r, "MADV_FREE", rv(b->madvise(a, H, MADV_FREE)), -EINVAL);
	rec_rv_is(r, "MADV_DONTNEED A..A+2M+4K",
		  rv(b->madvise(a, H + PG, MADV_DONTNEED)), 0);
	t = touch(a + 3, TOUCH_READ, 0);
	expect_fault(b, r, fd, "A+3", 0, u64p(a), -1);
	rec_rv_is(r, "COPY again",
		  u_copy(b, fd, u64p(a), u64p(src), H, 0, NULL), 0);
	rec_touch(r, "T0", t, WAIT_MS, true, (unsigned char)src[3]);
	rec_no_msg(b, r, fd, "at the end");
}

/* UFFDIO_MOVE does not take hugetlb memory. */
SCENARIO(huge_move, .needs = NEEDS_HUGEPAGES, .features = UFFD_FEATURE_MOVE)
{
	struct uffdio_move m;
	char *a, *src, *s2;
	int fd;

	fd = setup_uffd(b, r, O_NONBLOCK, UFFD_FEATURE_MOVE);
	a = map_huge(1, &src);
	s2 = map_pages(H / PG, PROT_READ | PROT_WRITE);
	memset(s2, 'm', H);
	name_area("S2", s2, H);
	REQUIRE(rec_rv_is(r, "REGISTER",
			  u_register(b, fd, u64p(a), H, MISSING, NULL), 0));
	m = (struct uffdio_move){u64p(a), u64p(s2), H, 0, 0};
	rec_rv_is(r, "MOVE into it", rv(b->ioctl(fd, UFFDIO_MOVE, &m)),
		  -EINVAL);
	rec_int_is(r, "MOVE.move", m.move, -EINVAL);
}

static const struct huge_file_case {
	const char *name;
	bool memfd;
	int flags;
} huge_file_cases[] = {
	{"MAP_SHARED | MAP_HUGETLB", false, MAP_SHARED},
	{"hugetlb memfd, MAP_SHARED", true, MAP_SHARED},
	{"hugetlb memfd, MAP_PRIVATE", true, MAP_PRIVATE},
};

/*
 * Hugetlb memory with a file behind it: COPY puts the page in the file of
 * a shared mapping, and leaves the file of a private one without it.
 */
SCENARIO(huge_files, CASES(huge_file_cases), .needs = NEEDS_HUGEPAGES)
{
	const struct huge_file_case *c = &huge_file_cases[variant];
	struct toucher *t;
	struct stat st;
	int mfd = -1, fd;
	char *a, *src;
	long ret;

	if (c->memfd) {
		mfd = memfd_create("uffdemu-huge", MFD_CLOEXEC | MFD_HUGETLB);
		REQUIRE(mfd >= 0 && ftruncate(mfd, (off_t)HP(2)) == 0);
	}
	a = mmap(NULL, HP(2), PROT_READ | PROT_WRITE,
		 c->flags | (c->memfd ? 0 : MAP_ANONYMOUS | MAP_HUGETLB), mfd,
		 0);
	REQUIRE(a != MAP_FAILED);
	name_area("A", a, HP(2));
	src = map_pages(H / PG, PROT_READ | PROT_WRITE);
	fill_pattern(src, H, 9);
	name_area("SRC", src, H);
	fd = setup_uffd(b, r, O_NONBLOCK, 0);
	ret = u_register(b, fd, u64p(a), HP(2), MISSING, NULL);
	rec_rv_is(r, "REGISTER", ret, 0);
	if (ret)
		return;
	t = touch(a + H + 1, TOUCH_READ, 0);
	expect_fault(b, r, fd, "A+2M+1", 0, u64p(a + H), -1);
	rec_rv_is(r, "COPY", u_copy(b, fd, u64p(a + H), u64p(src), H, 0, NULL),
		  0);
	rec_touch(r, "T0", t, WAIT_MS, true, (unsigned char)src[1]);
	if (mfd >= 0) {
		REQUIRE(fstat(mfd, &st) == 0);
		rec_int_is(r, "blocks of the file", st.st_blocks,
			   c->flags == MAP_SHARED ? (int64_t)(H / 512) : 0);
	}
}

/* UFFD_FEATURE_SIGBUS: a missing huge page raises SIGBUS at once. */
SCENARIO(huge_sigbus, .needs = NEEDS_HUGEPAGES, .features = UFFD_FEATURE_SIGBUS)
{
	char *a, *src;
	int fd;

	fd = setup_uffd(b, r, O_NONBLOCK, UFFD_FEATURE_SIGBUS);
	a = map_huge(1, &src);
	REQUIRE(rec_rv_is(r, "REGISTER",
			  u_register(b, fd, u64p(a), H, MISSING, NULL), 0));
	rec_read_byte(r, "read A+5", a + 5, "SIGBUS 2");
	rec_rv_is(r, "COPY", u_copy(b, fd, u64p(a), u64p(src), H, 0, NULL), 0);
	rec_read_byte(r, "read A+5 after COPY", a + 5, NULL);
	rec_no_msg(b, r, fd, "at the end");
}

/*
 * UFFD_FEATURE_WP_ASYNC: a write to a protected huge page is resolved
 * without a message, and the whole huge page becomes writable.
 */
SCENARIO(huge_wp_async, .needs = NEEDS_HUGEPAGES,
	 .features = UFFD_FEATURE_WP_ASYNC)
{
	char *a, *src;
	int fd;

	fd = setup_uffd(b, r, O_NONBLOCK, UFFD_FEATURE_WP_ASYNC);
	a = map_huge(1, &src);
	a[0] = 'a';
	REQUIRE(rec_rv_is(r, "REGISTER",
			  u_register(b, fd, u64p(a), H, WP, NULL), 0));
	rec_rv_is(r, "protect", u_writeprotect(b, fd, u64p(a), H, PROTECT), 0);
	a[H - 1] = 'z';
	a[PG] = 'y';
	rec_int_is(r, "A+2M-1", a[H - 1], 'z');
	rec_int_is(r, "A+4K", a[PG], 'y');
	rec_rv_is(r, "protect again",
		  u_writeprotect(b, fd, u64p(a), H, PROTECT), 0);
	a[1] = 'b';
	rec_int_is(r, "A+1", a[1], 'b');
	rec_no_msg(b, r, fd, "at the end");
}

/*
 * A hugetlb memfd of size huge pages mapped MAP_SHARED twice, n huge pages
 * each: A and V.
 */
static char *map_huge_shared(size_t n, size_t size, char **v, char **src)
{
	int mfd = memfd_create("uffdemu-huge", MFD_CLOEXEC | MFD_HUGETLB);
	char *a;

	REQUIRE(mfd >= 0);
	a = mmap(NULL, HP(n), PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	*v = mmap(NULL, HP(n), PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	REQUIRE(a != MAP_FAILED && *v != MAP_FAILED);
	/* After the mappings, which make a hugetlb file as long as they are. */
	REQUIRE(ftruncate(mfd, (off_t)HP(size)) == 0);
	close(mfd);
	name_area("A", a, HP(n));
	name_area("V", *v, HP(n));
	/* Two huge pages: COPYs of two read no memory beyond. */
	*src = map_pages(HP(2) / PG, PROT_READ | PROT_WRITE);
	fill_pattern(*src, HP(2), 11);
	name_area("SRC", *src, HP(2));
	return a;
}

/*
 * Shared hugetlb memory, MISSING mode: a page the file has is mapped
 * without a message; COPY puts a page in the file, seen through V, and
 * fails EEXIST where the file has the page; after MADV_DONTNEED the file
 * still has it, after MADV_REMOVE it is missing again.
 */
SCENARIO(huge_shared, .needs = NEEDS_HUGEPAGES)
{
	struct toucher *t;
	char *a, *v, *src;
	int64_t field;
	int fd;

	fd = setup_uffd(b, r, O_NONBLOCK, 0);
	a = map_huge_shared(3, 3, &v, &src);
	v[0] = 'v';
	REQUIRE(rec_rv_is(r, "REGISTER",
			  u_register(b, fd, u64p(a), HP(3), MISSING, NULL), 0));
	rec_int_is(r, "A+0, in the file", a[0], 'v');
	rec_no_msg(b, r, fd, "no message for A+0");
	rec_rv_is(r, "COPY A+0, mapped",
		  u_copy(b, fd, u64p(a), u64p(src), H, 0, &field), -EEXIST);

	t = touch(a + H + 5, TOUCH_READ, 0);
	expect_fault(b, r, fd, "A+2M+5", 0, u64p(a + H), -1);
	rec_rv_is(r, "COPY A+2M",
		  u_copy(b, fd, u64p(a + H), u64p(src), H, 0, &field), 0);
	rec_touch(r, "T0", t, WAIT_MS, true, (unsigned char)src[5]);
	rec_int_is(r, "V+2M+5", (unsigned char)v[H + 5], (unsigned char)src[5]);

	v[HP(2)] = 'w';
	rec_rv_is(r, "COPY A+4M, in the file only",
		  u_copy(b, fd, u64p(a + HP(2)), u64p(src), H, 0, &field),
		  -EEXIST);
	rec_int_is(r, "V+4M after it", v[HP(2)], 'w');

	rec_rv_is(r, "MADV_DONTNEED A+0", rv(b->madvise(a, H, MADV_DONTNEED)),
		  0);
	rec_int_is(r, "A+0 again", a[0], 'v');
	rec_rv_is(r, "MADV_REMOVE A+2M", rv(b->madvise(a + H, H, MADV_REMOVE)),
		  0);
	t = touch(a + H + 7, TOUCH_READ, 0);
	expect_fault(b, r, fd, "A+2M+7", 0, u64p(a + H), -1);
	rec_rv_is(r, "COPY A+2M again",
		  u_copy(b, fd, u64p(a + H), u64p(src), H, 0, &field), 0);
	rec_touch(r, "T1", t, WAIT_MS, true, (unsigned char)src[7]);
	rec_no_msg(b, r, fd, "at the end");
}

/*
 * Shared hugetlb memory, MINOR mode: a page the file has is a minor
 * fault, whose contents the monitor may change through V before CONTINUE
 * maps it; a page the file lacks is allocated without a message.
 */
SCENARIO(huge_shared_minor, .needs = NEEDS_HUGEPAGES,
	 .features = UFFD_FEATURE_MINOR_HUGETLBFS)
{
	struct toucher *t;
	char *a, *v, *src;
	int64_t field;
	int fd;

	fd = setup_uffd(b, r, O_NONBLOCK, 0);
	a = map_huge_shared(3, 3, &v, &src);
	v[0] = 'v';
	v[HP(2)] = 'x';
	REQUIRE(rec_rv_is(r, "REGISTER",
			  u_register(b, fd, u64p(a), HP(3), MINOR, NULL), 0));
	t = touch(a + 1, TOUCH_READ, 0);
	expect_fault(b, r, fd, "A+1", UFFD_PAGEFAULT_FLAG_MINOR, u64p(a), -1);
	v[1] = 'm';
	rec_rv_is(r, "CONTINUE 4 KiB",
		  u_continue(b, fd, u64p(a), PG, 0, &field), -EINVAL);
	rec_rv_is(r, "CONTINUE", u_continue(b, fd, u64p(a), H, 0, &field), 0);
	rec_int_is(r, "CONTINUE.field", field, (int64_t)H);
	rec_touch(r, "T0", t, WAIT_MS, true, 'm');
	rec_rv_is(r, "CONTINUE again", u_continue(b, fd, u64p(a), H, 0, &field),
		  -EEXIST);
	rec_rv_is(r, "CONTINUE A+2M, not in the file",
		  u_continue(b, fd, u64p(a + H), H, 0, &field), -EFAULT);
	t = touch(a + H + 3, TOUCH_WRITE, 'n');
	rec_touch(r, "T1 on A+2M, not in the file", t, WAIT_MS, true, 'n');
	rec_int_is(r, "V+2M+3", v[H + 3], 'n');
	t = touch(a + HP(2) + 1, TOUCH_WRITE, 'W');
	expect_fault(b, r, fd, "A+4M+1", UFFD_PAGEFAULT_FLAG_MINOR | WRITE_FL,
		     u64p(a + HP(2)), -1);
	rec_rv_is(r, "CONTINUE A+4M",
		  u_continue(b, fd, u64p(a + HP(2)), H, 0, NULL), 0);
	rec_touch(r, "T2", t, WAIT_MS, true, 'W');
	rec_int_is(r, "V+4M", v[HP(2)], 'x');
	rec_no_msg(b, r, fd, "at the end");
}

/*
 * The end of a shared hugetlb file: COPY and CONTINUE fail EFAULT, an
 * access raises SIGBUS; POISON works there.
 */
SCENARIO(huge_shared_eof, .needs = NEEDS_HUGEPAGES,
	 .features = UFFD_FEATURE_POISON)
{
	char *a, *v, *src;
	int64_t field;
	int fd;

	fd = setup_uffd(b, r, O_NONBLOCK, 0);
	a = map_huge_shared(2, 1, &v, &src);
	REQUIRE(rec_rv_is(r, "REGISTER",
			  u_register(b, fd, u64p(a), HP(2), MISSING, NULL), 0));
	rec_rv_is(r, "COPY A+2M",
		  u_copy(b, fd, u64p(a + H), u64p(src), H, 0, &field), -EFAULT);
	rec_rv_is(r, "COPY A..A+4M",
		  u_copy(b, fd, u64p(a), u64p(src), HP(2), 0, &field), -EAGAIN);
	rec_int_is(r, "COPY A..A+4M.field", field, (int64_t)H);
	rec_rv_is(r, "CONTINUE A+2M",
		  u_continue(b, fd, u64p(a + H), H, 0, &field), -EFAULT);
	rec_read_byte(r, "read A+2M", a + H, "SIGBUS 2");
	rec_read_byte(r, "read A+0", a, NULL);
	/* Hugetlb poisons past the end too. */
	rec_rv_is(r, "POISON A+2M", u_poison(b, fd, u64p(a + H), H, &field), 0);
	rec_no_msg(b, r, fd, "at the end");
}

#define G        ((uint64_t)1 << 30)
#define HUGE_1GB (30 << 26) /* MAP_HUGE_1GB, MFD_HUGE_1GB */

/*
 * Hugetlb memory with 1 GiB pages, a memfd mapped MAP_SHARED: alignment to
 * the gigantic page, the fault reports its address, COPY fills it whole,
 * MADV_DONTNEED rounds down to it.  Mapped MAP_PRIVATE the emulator does
 * not take it.
 */
static const char *const giga_cases[] = {"MAP_SHARED", "MAP_PRIVATE"};

SCENARIO(giga_missing, CASES(giga_cases), .needs = NEEDS_GIGAPAGES,
	 .watchdog_s = 60)
{
	int mfd = memfd_create("uffdemu-giga",
			       MFD_CLOEXEC | MFD_HUGETLB | HUGE_1GB);
	struct toucher *t;
	uint64_t ioctls = 0;
	int64_t field;
	char *a, *src;
	long ret;
	int fd;

	REQUIRE(mfd >= 0 && ftruncate(mfd, (off_t)G) == 0);
	fd = setup_uffd(b, r, O_NONBLOCK, 0);
	a = mmap(NULL, G, PROT_READ | PROT_WRITE,
		 variant ? MAP_PRIVATE : MAP_SHARED, mfd, 0);
	REQUIRE(a != MAP_FAILED);
	close(mfd);
	name_area("A", a, G);
	src = map_pages(G / PG, PROT_READ | PROT_WRITE);
	memset(src, 'g', G);
	src[G - 1] = 'z';
	name_area("SRC", src, G);
	rec_rv_is(r, "REGISTER A..A+2M",
		  u_register(b, fd, u64p(a), H, MISSING, NULL), -EINVAL);
	if (variant)
		known_rv_rest(r, KNOWN_GIGA_PRIVATE, -EINVAL);
	ret = u_register(b, fd, u64p(a), G, MISSING | WP, &ioctls);
	rec_rv_is(r, "REGISTER", ret, 0);
	if (ret)
		return; /* as marked */
	rec_hex(r, "ioctls", ioctls);
	t = touch(a + 0x12345678, TOUCH_READ, 0);
	expect_fault(b, r, fd, "A+0x12345678", 0, u64p(a), -1);
	rec_rv_is(r, "COPY 2 MiB",
		  u_copy(b, fd, u64p(a), u64p(src), H, 0, &field), -EINVAL);
	rec_rv_is(r, "protect 2 MiB",
		  u_writeprotect(b, fd, u64p(a), H, PROTECT), -EINVAL);
	rec_rv_is(r, "COPY", u_copy(b, fd, u64p(a), u64p(src), G, 0, &field),
		  0);
	rec_int_is(r, "COPY.field", field, (int64_t)G);
	rec_touch(r, "T0", t, WAIT_MS, true, 'g');
	rec_int_is(r, "A+1G-1", a[G - 1], 'z');
	rec_rv_is(r, "MADV_DONTNEED 2 MiB", rv(b->madvise(a, H, MADV_DONTNEED)),
		  0);
	rec_int_is(r, "A+0 after it", a[0], 'g');
	/* What takes the page away: from the file, or from the mapping. */
	rec_rv_is(r, "discard",
		  rv(b->madvise(a, G, variant ? MADV_DONTNEED : MADV_REMOVE)),
		  0);
	t = touch(a + 5, TOUCH_READ, 0);
	expect_fault(b, r, fd, "A+5", 0, u64p(a), -1);
	rec_rv_is(r, "COPY again",
		  u_copy(b, fd, u64p(a), u64p(src), G, 0, NULL), 0);
	rec_touch(r, "T1", t, WAIT_MS, true, 'g');
	rec_no_msg(b, r, fd, "at the end");
}

/*
 * A shared hugetlb memfd with 1 GiB pages, MINOR mode: the monitor writes
 * the page through a second view, CONTINUE maps it.
 */
SCENARIO(giga_shared_minor, .needs = NEEDS_GIGAPAGES, .watchdog_s = 60,
	 .features = UFFD_FEATURE_MINOR_HUGETLBFS)
{
	int mfd = memfd_create("uffdemu-giga",
			       MFD_CLOEXEC | MFD_HUGETLB | HUGE_1GB);
	struct toucher *t;
	int64_t field;
	char *a, *v;
	int fd;

	REQUIRE(mfd >= 0);
	a = mmap(NULL, G, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	v = mmap(NULL, G, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	REQUIRE(a != MAP_FAILED && v != MAP_FAILED);
	close(mfd);
	name_area("A", a, G);
	name_area("V", v, G);
	v[0] = 'v';
	fd = setup_uffd(b, r, O_NONBLOCK, 0);
	REQUIRE(rec_rv_is(r, "REGISTER",
			  u_register(b, fd, u64p(a), G, MINOR, NULL), 0));
	t = touch(a + H + 1, TOUCH_READ, 0);
	expect_fault(b, r, fd, "A+2M+1", UFFD_PAGEFAULT_FLAG_MINOR, u64p(a),
		     -1);
	v[H + 1] = 'm';
	rec_rv_is(r, "CONTINUE 2 MiB", u_continue(b, fd, u64p(a), H, 0, &field),
		  -EINVAL);
	rec_rv_is(r, "CONTINUE", u_continue(b, fd, u64p(a), G, 0, &field), 0);
	rec_touch(r, "T0", t, WAIT_MS, true, 'm');
	rec_int_is(r, "A+0", a[0], 'v');
	rec_no_msg(b, r, fd, "at the end");
}

/*
 * Private anonymous memory with hugetlb memory right after it, in one
 * range: the masks lose ZEROPAGE and MOVE, only the first mapping's start
 * is checked for alignment, a fill may not cross from one to the other,
 * and WRITEPROTECT and UNREGISTER change the anonymous part before they
 * fail EINVAL on the hugetlb part.
 */
SCENARIO(huge_mixed, .needs = NEEDS_HUGEPAGES,
	 .features = UFFD_FEATURE_PAGEFAULT_FLAG_WP)
{
	uint64_t ioctls = 0;
	struct toucher *t;
	char *a, *h, *src;
	int64_t field;
	int fd;

	fd = setup_uffd(b, r, O_NONBLOCK, 0);
	/* 2 MiB of anonymous memory, then 4 MiB of hugetlb memory. */
	a = map_pages(HP(4) / PG, PROT_READ | PROT_WRITE);
	a = (char *)((u64p(a) + H - 1) & ~(H - 1));
	h = mmap(a + H, HP(2), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_FIXED, -1, 0);
	REQUIRE(h == a + H);
	name_area("A", a, H);
	name_area("H", h, HP(2));
	src = map_pages(H / PG, PROT_READ | PROT_WRITE);
	fill_pattern(src, H, 3);
	name_area("SRC", src, H);
	a[5] = 'a';
	rec_rv_is(r, "REGISTER from H+4K",
		  u_register(b, fd, u64p(h + PG), H, MISSING | WP, NULL),
		  -EINVAL);
	rec_rv_is(r, "REGISTER from A+4K",
		  u_register(b, fd, u64p(a + PG), HP(3) - PG, MISSING | WP,
			     &ioctls),
		  0);
	rec_hex(r, "ioctls", ioctls);
	rec_rv_is(r, "REGISTER A+0 too",
		  u_register(b, fd, u64p(a), PG, MISSING | WP, NULL), 0);
	rec_rv_is(r, "COPY across",
		  u_copy(b, fd, u64p(a + H - PG), u64p(src), H, 0, &field),
		  -ENOENT);
	rec_rv_is(r, "protect A..H+2M+4K",
		  u_writeprotect(b, fd, u64p(a), HP(2) + PG, PROTECT), -EINVAL);
	t = touch(a + 6, TOUCH_WRITE, 'w');
	expect_fault(b, r, fd, "A+6", WP_FL | WRITE_FL, u64p(a), -1);
	rec_rv_is(r, "unprotect A+0", u_writeprotect(b, fd, u64p(a), PG, 0), 0);
	rec_touch(r, "T0", t, WAIT_MS, true, 'w');
	rec_rv_is(r, "UNREGISTER A..H+4K", u_unregister(b, fd, u64p(a), H + PG),
		  -EINVAL);
	t = touch(a + PG + 7, TOUCH_WRITE, 'u');
	rec_touch(r, "T1 on A+4K, no longer registered", t, WAIT_MS, true, 'u');
	rec_rv_is(r, "COPY into H",
		  u_copy(b, fd, u64p(h), u64p(src), H, 0, &field), 0);
	rec_no_msg(b, r, fd, "at the end");
}

/*
 * Shared hugetlb memory and a fork child: the child's access adds a page
 * to the file (the child's mapping is not registered), so COPY there fails
 * EEXIST, and the page is then mapped without a message.
 */
SCENARIO(huge_shared_fork, .needs = NEEDS_HUGEPAGES)
{
	char *a, *src;
	int64_t field;
	int fd, status;
	pid_t pid;

	fd = setup_uffd(b, r, O_NONBLOCK, 0);
	a = mmap(NULL, HP(2), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	REQUIRE(a != MAP_FAILED);
	name_area("A", a, HP(2));
	src = map_pages(H / PG, PROT_READ | PROT_WRITE);
	memset(src, 's', H);
	name_area("SRC", src, H);
	REQUIRE(rec_rv_is(r, "REGISTER",
			  u_register(b, fd, u64p(a), HP(2), MISSING, NULL), 0));
	rec_rv_is(r, "COPY A+0", u_copy(b, fd, u64p(a), u64p(src), H, 0, NULL),
		  0);
	pid = b->fork();
	if (pid == 0) {
		a[H + 3] = 'c';
		a[4] = 'd';
		_exit(0);
	}
	REQUIRE(pid > 0 && waitpid(pid, &status, 0) == pid);
	rec_int_is(r, "the child's exit", WIFEXITED(status), 1);
	rec_int_is(r, "A+4, written by the child", a[4], 'd');
	rec_rv_is(r, "COPY A+2M, added by the child",
		  u_copy(b, fd, u64p(a + H), u64p(src), H, 0, &field), -EEXIST);
	rec_int_is(r, "A+2M+3", a[H + 3], 'c');
	rec_no_msg(b, r, fd, "at the end");
}

/*
 * A hugetlb memfd mapped MAP_PRIVATE (A) and MAP_SHARED (V): a page the
 * file has is a minor fault in A, which CONTINUE maps from the file (A
 * sees V's writes until it writes itself); a page it lacks is a MISSING
 * fault, whose COPY stays private.  MISSING mode alone maps the file's
 * page without a message.
 */
static const char *const huge_cow_cases[] = {"MISSING|MINOR", "MISSING"};

SCENARIO(huge_private_file, CASES(huge_cow_cases), .needs = NEEDS_HUGEPAGES)
{
	int mfd = memfd_create("uffdemu-huge", MFD_CLOEXEC | MFD_HUGETLB);
	uint64_t mode = variant ? MISSING : MISSING | MINOR;
	struct toucher *t;
	char *a, *v, *src;
	int64_t field;
	int fd;

	REQUIRE(mfd >= 0);
	a = mmap(NULL, HP(2), PROT_READ | PROT_WRITE, MAP_PRIVATE, mfd, 0);
	v = mmap(NULL, HP(2), PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	REQUIRE(a != MAP_FAILED && v != MAP_FAILED);
	REQUIRE(ftruncate(mfd, (off_t)HP(2)) == 0);
	close(mfd);
	name_area("A", a, HP(2));
	name_area("V", v, HP(2));
	src = map_pages(H / PG, PROT_READ | PROT_WRITE);
	memset(src, 's', H);
	name_area("SRC", src, H);
	v[0] = 'v';
	fd = setup_uffd(b, r, O_NONBLOCK, 0);
	REQUIRE(rec_rv_is(r, "REGISTER",
			  u_register(b, fd, u64p(a), HP(2), mode, NULL), 0));
	t = touch(a + 1, TOUCH_READ, 0);
	if (mode & MINOR) {
		expect_fault(b, r, fd, "A+1", UFFD_PAGEFAULT_FLAG_MINOR,
			     u64p(a), -1);
		v[1] = 'm';
		rec_rv_is(r, "CONTINUE",
			  u_continue(b, fd, u64p(a), H, 0, &field), 0);
		rec_touch(r, "T0", t, WAIT_MS, true, 'm');
		rec_rv_is(r, "CONTINUE again",
			  u_continue(b, fd, u64p(a), H, 0, &field), -EEXIST);
	} else {
		rec_touch(r, "T0", t, WAIT_MS, true, 0);
	}
	v[2] = 'n';
	rec_int_is(r, "A+2 after a write through V", a[2], 'n');
	a[3] = 'p';
	rec_int_is(r, "V+3 after a write to A", v[3], 0);
	rec_rv_is(r, "CONTINUE A+2M, not in the file",
		  u_continue(b, fd, u64p(a + H), H, 0, &field), -EFAULT);
	t = touch(a + H + 5, TOUCH_READ, 0);
	expect_fault(b, r, fd, "A+2M+5", 0, u64p(a + H), -1);
	rec_rv_is(r, "COPY A+2M",
		  u_copy(b, fd, u64p(a + H), u64p(src), H, 0, &field), 0);
	rec_touch(r, "T1", t, WAIT_MS, true, 's');
	rec_int_is(r, "V+2M", v[H + 5], 0);
	rec_no_msg(b, r, fd, "at the end");
}

static const struct scenario *const list[] = {
	&huge_register,
	&huge_missing,
	&huge_exact,
	&huge_poison,
	&huge_wp,
	&huge_discard,
	&huge_move,
	&huge_files,
	&huge_sigbus,
	&huge_wp_async,
	&huge_shared,
	&huge_shared_minor,
	&huge_shared_eof,
	&huge_shared_fork,
	&huge_private_file,
	&huge_mixed,
	&giga_missing,
	&giga_shared_minor,
	NULL,
};

const struct scenario_group scenarios_hugetlb = {"hugetlb", list};
