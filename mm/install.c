/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Hiding missing pages and installing page contents.
 *
 * A missing page must trap on any access, and a page being installed must
 * become visible all at once: a thread racing with the install sees either
 * a fault or the whole new contents.  On Linux two encodings are used:
 *
 * - Guard markers (MADV_GUARD_INSTALL, Linux 6.13 and later) make a page
 *   trap without splitting the memory region, so a million missing pages
 *   resolved in any order cost no regions at all.  A guarded page cannot be
 *   written from outside (/proc/self/mem gives EIO), so a copy first turns
 *   the page PROT_NONE, swaps the guard for the new contents through
 *   /proc/self/mem, and then gives the protection back; the PROT_NONE
 *   region rejoins its neighbours at that point, so the region count does
 *   not grow.  Zero-filling removes the guard and maps the shared zero
 *   page, as a read fault would.
 *
 * - PROT_NONE, on kernels without guard markers or where a guard cannot be
 *   installed (mlocked memory).  /proc/self/mem can write into a PROT_NONE
 *   private page, and mprotect then opens it.
 *   Limitation: each isolated missing or installed page splits a region,
 *   so this encoding stops with ENOMEM at vm.max_map_count regions.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mm/mm.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ  22
#define MADV_POPULATE_WRITE 23
#endif
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#define MADV_GUARD_REMOVE  103
#endif

static bool have_guards;
static int mem_fd = -1;
static int pagemap_fd = -1;

/* The emulator's own descriptors, so that interposers can spare them. */
#define INTERNAL_FDS 1024
static _Atomic int internal[INTERNAL_FDS];

static void internal_add(int fd)
{
	for (int i = 0; i < INTERNAL_FDS; i++) {
		int none = 0;

		if (atomic_compare_exchange_strong(&internal[i], &none, fd + 1))
			return;
	}
}

bool install_internal_fd(int fd)
{
	for (int i = 0; fd >= 0 && i < INTERNAL_FDS; i++)
		if (atomic_load(&internal[i]) == fd + 1)
			return true;
	return false;
}

/* The emulator's own descriptors, at most max of them, in no order. */
int install_internal_fds(int *out, int max)
{
	int n = 0;

	for (int i = 0; i < INTERNAL_FDS && n < max; i++) {
		int v = atomic_load(&internal[i]);

		if (v)
			out[n++] = v - 1;
	}
	return n;
}

/* Closes one of the emulator's own descriptors. */
void install_close_fd(int fd)
{
	for (int i = 0; fd >= 0 && i < INTERNAL_FDS; i++) {
		int mine = fd + 1;

		if (atomic_compare_exchange_strong(&internal[i], &mine, 0))
			break;
	}
	close(fd);
}

/*
 * Keeps an internal descriptor out of the low numbers that the program
 * expects open() and the like to hand out, and records it as internal.
 */
int install_hide_fd(int fd)
{
	struct rlimit rl;
	int high = -1;

	if (fd < 0)
		return fd;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur >= 256)
		high = fcntl(fd, F_DUPFD_CLOEXEC, (int)(rl.rlim_cur * 3 / 4));
	if (high >= 0) {
		close(fd);
		fd = high;
	}
	internal_add(fd);
	return fd;
}

static int open_mem(void)
{
	int fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (mem_fd >= 0)
		install_close_fd(mem_fd);
	mem_fd = install_hide_fd(fd);
	return 0;
}

static bool probe_guards(void)
{
	void *p = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	bool ok;

	if (p == MAP_FAILED)
		return false;
	ok = madvise(p, PAGE_SIZE, MADV_GUARD_INSTALL) == 0;
	munmap(p, PAGE_SIZE);
	return ok;
}

static void open_pagemap(void)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (pagemap_fd >= 0)
		install_close_fd(pagemap_fd);
	pagemap_fd = fd < 0 ? -1 : install_hide_fd(fd);
}

/* /proc/self/mem and pagemap name the address space they were opened in:
 * reopen after fork. */
static void reopen_in_child(void)
{
	open_mem();
	open_pagemap();
}

int install_init(void)
{
	int err = open_mem();

	if (err)
		return err;
	open_pagemap();
	have_guards = probe_guards();
	pthread_atfork(NULL, NULL, reopen_in_child);
	return 0;
}

const char *install_method(void)
{
	return have_guards ? "guard markers" : "PROT_NONE";
}

static int sys_err(int r)
{
	return r == 0 ? 0 : -errno;
}

/*
 * Makes [start, start + len) missing: any contents are dropped and every
 * access traps.  *by_prot tells which encoding was used.
 */
int install_hide(uintptr_t start, size_t len, bool *by_prot)
{
	void *p = (void *)start;

	if (have_guards && madvise(p, len, MADV_GUARD_INSTALL) == 0) {
		*by_prot = false;
		return 0;
	}
	/* Close the range first, so nothing can repopulate it in between. */
	if (mprotect(p, len, PROT_NONE) != 0)
		return -errno;
	*by_prot = true;
	return sys_err(madvise(p, len, MADV_DONTNEED));
}

/* Turns missing pages back into ordinary empty memory. */
int install_unhide(uintptr_t start, size_t len, unsigned int prot, bool by_prot)
{
	void *p = (void *)start;

	if (by_prot)
		return sys_err(mprotect(p, len, (int)prot));
	return sys_err(madvise(p, len, MADV_GUARD_REMOVE));
}

static ssize_t mem_write(uintptr_t dst, const void *src, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(mem_fd, (const char *)src + done, len - done,
				   (off_t)(dst + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

/*
 * Fills pages [dst, dst + len), kept missing as hidden says, from src and
 * opens them with prot.  Returns the number of bytes installed (whole
 * pages of size unit), or a negative errno when none was.  Pages not
 * installed stay as they were: missing, or empty.  A huge page that cannot
 * be had fails ENOMEM, as on the kernel (its source was found readable).
 */
ssize_t install_copy_unit(uintptr_t dst, const void *src, size_t len,
			  unsigned int prot, enum install_hidden hidden,
			  size_t unit)
{
	void *p = (void *)dst;
	ssize_t done;
	size_t whole;
	bool dummy;

	if (hidden != HIDDEN_PROT) {
		/* Closed while the contents go in: a racing access waits. */
		if (prot != PROT_NONE && mprotect(p, len, PROT_NONE) != 0)
			return -errno;
		if (hidden == HIDDEN_GUARD &&
		    madvise(p, len, MADV_GUARD_REMOVE) != 0) {
			int err = -errno;

			mprotect(p, len, (int)prot);
			return err;
		}
	}
	done = mem_write(dst, src, len);
	whole = (size_t)done & ~(unit - 1);
	if (whole < len) {
		/* The source became unreadable under us: the rest stays as
		 * it was. */
		if (hidden == HIDDEN_GUARD)
			install_hide(dst + whole, len - whole, &dummy);
		else
			madvise((char *)p + whole, len - whole, MADV_DONTNEED);
	}
	if (whole && mprotect(p, whole, (int)prot) != 0)
		return -errno;
	if (hidden != HIDDEN_PROT && whole < len && prot != PROT_NONE)
		mprotect((char *)p + whole, len - whole, (int)prot);
	if (!whole)
		return unit > PAGE_SIZE ? -ENOMEM : -EFAULT;
	return (ssize_t)whole;
}

ssize_t install_copy(uintptr_t dst, const void *src, size_t len,
		     unsigned int prot, enum install_hidden hidden)
{
	return install_copy_unit(dst, src, len, prot, hidden, PAGE_SIZE);
}

/*
 * Maps the shared zero page into the empty pages of [start, start + len),
 * as a read fault would, so that they are populated as after the kernel's
 * UFFDIO_ZEROPAGE.  One readable page is simply read: the fault costs less
 * than a system call, and the faulting thread would take it anyway.  More
 * pages take one MADV_POPULATE_READ; pages that may not be read are read
 * through /proc/self/mem, which may.
 * Limitation: in a 2 MiB range with no page table yet (outside MISSING mode,
 * with transparent huge pages always on), the read may map the huge zero
 * page, populating the whole range, where the kernel maps one page.
 */
static void map_zero_pages(uintptr_t start, size_t len, unsigned int prot)
{
	static char buf[16 * PAGE_SIZE]; /* mm_lock held */

	if (len == PAGE_SIZE && (prot & PROT_READ) &&
	    uaccess_touch_read((const void *)start, 1) == 0)
		return;
	if (madvise((void *)start, len, MADV_POPULATE_READ) == 0)
		return;
	for (size_t off = 0; off < len;) {
		size_t n = len - off < sizeof(buf) ? len - off : sizeof(buf);
		ssize_t got = pread(mem_fd, buf, n, (off_t)(start + off));

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		off += (size_t)got;
	}
}

/* Installs zero-filled pages: the shared zero page, as the kernel does. */
int install_zero(uintptr_t dst, size_t len, unsigned int prot,
		 enum install_hidden hidden)
{
	int err = 0;

	if (hidden != HIDDEN_NONE)
		err = install_unhide(dst, len, prot, hidden == HIDDEN_PROT);
	if (!err)
		map_zero_pages(dst, len, prot);
	return err;
}

/*
 * Shared memory.  Its pages live in the file, so a page is installed by
 * writing it into the file through a second mapping of the same pages
 * (mremap() with an old size of 0 makes one), which no guard marker covers,
 * and then opening this mapping's view.  Faults on other mappings of the
 * same memory in this process see the page in the file before its
 * contents are whole: they wait while an install is in progress.
 * Limitation: another process that reads the page during the copy may see
 * part of the new contents, where the kernel adds the page to the file
 * once it is full; and a page another process adds to the file between
 * the check that the file lacks it and the copy is overwritten, where the
 * kernel fails EEXIST.
 */
static _Atomic int shared_installs;

bool install_shared_busy(void)
{
	return atomic_load(&shared_installs) != 0;
}

/*
 * Maps the page contents of [dst, dst + len) in, as the kernel would: a
 * fill maps its pages whatever the protection, so a PROT_NONE range is
 * opened for reading while its pages are mapped.
 */
static void populate(uintptr_t dst, size_t len, unsigned int prot, bool cow)
{
	void *p = (void *)dst;

	if ((prot & PROT_WRITE) && !cow) {
		madvise(p, len, MADV_POPULATE_WRITE);
	} else if (prot & (PROT_READ | PROT_WRITE)) {
		madvise(p, len, MADV_POPULATE_READ);
	} else if (mprotect(p, len, PROT_READ) == 0) {
		madvise(p, len, MADV_POPULATE_READ);
		mprotect(p, len, (int)prot);
	}
}

/*
 * Opens this mapping's view of [dst, dst + len), whose pages the file has:
 * the hidden pages lose their guard or PROT_NONE, and every page gets prot
 * (old_prot is what the mapping has now) and is mapped.  In a mapping made
 * MAP_PRIVATE (cow) the file's pages are mapped read-only, so that the
 * first write makes the private copy, as after the kernel's CONTINUE.
 */
int install_map(uintptr_t dst, size_t len, unsigned int old_prot,
		unsigned int prot, enum install_hidden hidden, bool cow)
{
	void *p = (void *)dst;

	if (hidden == HIDDEN_GUARD && madvise(p, len, MADV_GUARD_REMOVE) != 0)
		return -errno;
	if ((hidden == HIDDEN_PROT || prot != old_prot) &&
	    mprotect(p, len, (int)prot) != 0)
		return -errno;
	populate(dst, len, prot, cow);
	return 0;
}

/* Bytes at the start of [start, start + len) whose pages the file has. */
static size_t cached_prefix(uintptr_t start, size_t len)
{
	unsigned char vec[64];
	size_t done = 0;

	while (done < len) {
		size_t n = (len - done) >> PAGE_SHIFT, i = 0;

		if (n > sizeof(vec))
			n = sizeof(vec);
		if (mincore((void *)(start + done), n << PAGE_SHIFT, vec) != 0)
			break;
		while (i < n && (vec[i] & 1))
			i++;
		done += i << PAGE_SHIFT;
		if (i < n)
			break;
	}
	return done;
}

/*
 * Adds pages [dst, dst + len) of shared memory to its file, filled from
 * src or, without src, with zeros, and maps them here as install_map()
 * does.  Returns the bytes installed, whole pages: a page at or past the
 * end of the file ends the run (EFAULT when it is the first), as on the
 * kernel.
 */
ssize_t install_shared(uintptr_t dst, const void *src, size_t len,
		       unsigned int old_prot, unsigned int prot,
		       enum install_hidden hidden)
{
	void *alias;
	size_t whole = 0;
	int err = 0;

	atomic_fetch_add(&shared_installs, 1);
	alias = mremap((void *)dst, 0, len, MREMAP_MAYMOVE);
	if (alias == MAP_FAILED) {
		err = -ENOMEM;
		goto out;
	}
	/* The alias has this mapping's protection of the moment. */
	if (!(old_prot & PROT_WRITE) &&
	    mprotect(alias, len, PROT_READ | PROT_WRITE) != 0) {
		err = -errno;
	} else if (src) {
		ssize_t n = mem_write((uintptr_t)alias, src, len);

		whole = n > 0 ? (size_t)n & PAGE_MASK : 0;
	} else if (madvise(alias, len, MADV_POPULATE_WRITE) == 0) {
		whole = len;
	} else {
		/* Stopped at the end of the file: count what went in. */
		whole = cached_prefix((uintptr_t)alias, len);
	}
	munmap(alias, len);
	if (!err && whole)
		err = install_map(dst, whole, old_prot, prot, hidden, false);
out:
	atomic_fetch_sub(&shared_installs, 1);
	if (err)
		return err;
	return whole ? (ssize_t)whole : -EFAULT;
}

/*
 * A memfd or tmpfs file mapped MAP_PRIVATE.  A fill makes private copies,
 * written through /proc/self/mem as into anonymous memory.  Where the file
 * lacks the page, the system's copy-on-write fault behind that write first
 * adds a page of zeros to the file; a hole is punched over it afterwards,
 * so that the file ends as it was, as after the kernel's fill, which never
 * touches the file.  Faults on other mappings of the file in this process
 * wait while that page is there, as during a shared install.
 * Limitation: other processes may see that page of zeros in the file
 * meanwhile; data another process writes into it just before the punch
 * is lost.  Where the file cannot be opened for writing (without
 * CAP_CHECKPOINT_RESTORE) or is sealed against writes, the page of zeros
 * stays in the file.
 */
#define PRIVATE_CHUNK 64

static const char *zero_source(void)
{
	static const char *zeros; /* mm_lock held */

	if (!zeros) {
		void *p = mmap(NULL, PRIVATE_CHUNK * PAGE_SIZE, PROT_READ,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p != MAP_FAILED)
			zeros = p;
	}
	return zeros;
}

static bool all_zero(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i])
			return false;
	return true;
}

/* Takes out of the file the pages of [start, start + len) it had not. */
static void drop_added(uintptr_t start, size_t len, const unsigned char *cached)
{
	static char buf[PAGE_SIZE]; /* mm_lock held */
	uint64_t offset = 0;
	int fd = -1;

	for (size_t i = 0; i < len >> PAGE_SHIFT; i++) {
		off_t at;

		if (cached[i] & 1)
			continue;
		if (fd < 0)
			fd = mm_vma_file(start, O_RDWR, &offset);
		if (fd < 0)
			return;
		at = (off_t)(offset + (i << PAGE_SHIFT));
		if (pread(fd, buf, PAGE_SIZE, at) == (ssize_t)PAGE_SIZE &&
		    all_zero(buf, PAGE_SIZE))
			fallocate(fd,
				  FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				  at, PAGE_SIZE);
	}
	if (fd >= 0)
		close(fd);
}

/*
 * Fills pages [dst, dst + len) of a MAP_PRIVATE file mapping from src or,
 * without src, with zeros, as install_copy() does.  A page at or past the
 * end of the file ends the run (EFAULT when it is the first).
 * Limitation: a zero-filled page is a private page of zeros, where the
 * kernel maps the shared zero page.
 */
ssize_t install_private(uintptr_t dst, const void *src, size_t len,
			unsigned int prot, enum install_hidden hidden)
{
	unsigned char cached[PRIVATE_CHUNK];
	size_t done = 0;
	ssize_t err = 0;

	if (!src && !zero_source())
		return -ENOMEM;
	atomic_fetch_add(&shared_installs, 1);
	while (done < len) {
		size_t n = len - done;
		ssize_t r;

		if (n > PRIVATE_CHUNK * PAGE_SIZE)
			n = PRIVATE_CHUNK * PAGE_SIZE;
		if (mincore((void *)(dst + done), n, cached) != 0) {
			err = -errno;
			break;
		}
		r = install_copy(dst + done,
				 src ? (const char *)src + done : zero_source(),
				 n, prot, hidden);
		if (r < 0) {
			err = r;
			break;
		}
		drop_added(dst + done, (size_t)r, cached);
		done += (size_t)r;
		if ((size_t)r < n)
			break;
	}
	atomic_fetch_sub(&shared_installs, 1);
	return done ? (ssize_t)done : err;
}

/*
 * Hugetlb memory mapped MAP_SHARED.  Its pages cannot be written through a
 * second mapping made with mremap() (hugetlb refuses it) nor through
 * /proc/self/mem (not into a shared mapping it may not write), so each
 * huge page is allocated in the file with fallocate(), written through a
 * mapping of the file of its own, and then opened here; size is the huge
 * pages' size.  Whether the allocation added the page tells whether the
 * file had it: EEXIST then, the page is left as it was, and the emulator
 * knows from then on that the file has it.
 * Limitation: another process that reads the page meanwhile may see it
 * zero-filled or partly written.  Whether the allocation added the page is
 * read off the file's block count: a page another process adds to the
 * same file at that moment makes a page the file had look new, and the
 * copy then overwrites it.
 */
/*
 * Adds the huge page at off to the file open at fd, filled from src: 0, or
 * EEXIST when the file had it, EFAULT past its end or when src could not
 * be read, ENOMEM.
 */
static int fill_file_page(int fd, uint64_t off, const char *src, size_t size)
{
	struct stat st;
	blkcnt_t before;
	void *view;
	int err = 0;

	if (fstat(fd, &st) != 0 || off >= (uint64_t)st.st_size)
		return -EFAULT;
	before = st.st_blocks;
	if (fallocate(fd, FALLOC_FL_KEEP_SIZE, (off_t)off, size) != 0 ||
	    fstat(fd, &st) != 0)
		return -ENOMEM;
	if (st.st_blocks == before)
		return -EEXIST;
	view = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		    (off_t)off);
	if (view == MAP_FAILED)
		err = -ENOMEM;
	else if (mem_write((uintptr_t)view, src, size) != (ssize_t)size)
		err = -EFAULT;
	if (view != MAP_FAILED)
		munmap(view, size);
	/* A page added but not filled goes again. */
	if (err)
		fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			  (off_t)off, size);
	return err;
}

ssize_t install_huge_shared(uintptr_t dst, const void *src, size_t len,
			    unsigned int old_prot, unsigned int prot,
			    enum install_hidden hidden, size_t size)
{
	size_t done = 0;
	uint64_t base;
	int fd = mm_vma_file(dst, O_RDWR, &base), err = 0;

	if (fd < 0)
		return -ENOMEM;
	atomic_fetch_add(&shared_installs, 1);
	while (!err && done < len) {
		err = fill_file_page(fd, base + done, (const char *)src + done,
				     size);
		/* Found in the file: known to be there from now on. */
		for (size_t p = 0; err == -EEXIST && p < size; p += PAGE_SIZE)
			pagestate_set(dst + done + p,
				      pagestate_get(dst + done + p) |
					      PS_IN_FILE);
		if (!err)
			err = install_map(dst + done, size, old_prot, prot,
					  hidden, false);
		if (!err)
			done += size;
	}
	atomic_fetch_sub(&shared_installs, 1);
	close(fd);
	return done ? (ssize_t)done : err;
}

/* vec[i] = 1 where page i of the range is populated. */
int install_populated(uintptr_t start, size_t len, unsigned char *vec)
{
	if (mincore((void *)start, len, vec) != 0)
		return -errno;
	for (size_t i = 0; i < len >> PAGE_SHIFT; i++)
		vec[i] &= 1;
	return 0;
}

#define PM_PRESENT   (1ULL << 63)
#define PM_SWAPPED   (1ULL << 62)
#define PM_EXCLUSIVE (1ULL << 56)
#define PM_GUARD     (1ULL << 58) /* a guard marker, shown as swapped */

/*
 * vec[i] = 1 where page i of the range is mapped here: for shared memory,
 * whose mincore() also counts pages the file has, the page table decides.
 */
int install_mapped(uintptr_t start, size_t len, unsigned char *vec)
{
	static uint64_t pm[512]; /* mm_lock held */
	size_t pages = len >> PAGE_SHIFT;

	for (size_t i = 0; i < pages;) {
		size_t n = pages - i < 512 ? pages - i : 512;
		int err = install_pagemap(start + (i << PAGE_SHIFT), pm, n);

		if (err)
			return err;
		for (size_t k = 0; k < n; k++)
			vec[i + k] =
				(pm[k] & PM_PRESENT) ||
				((pm[k] & PM_SWAPPED) && !(pm[k] & PM_GUARD));
		i += n;
	}
	return 0;
}

/*
 * The raw /proc/self/pagemap entries of n pages from addr.  Entries of
 * pages no mapping covers read as zero.
 */
int install_pagemap(uintptr_t addr, uint64_t *out, size_t n)
{
	size_t want = n * sizeof(*out);

	if (pagemap_fd < 0 || pread(pagemap_fd, out, want,
				    (off_t)((addr >> PAGE_SHIFT) *
					    sizeof(*out))) != (ssize_t)want)
		return -EFAULT;
	return 0;
}

/*
 * What kind of populated page is at addr, for UFFDIO_MOVE: this process's
 * own, shared with another (a fork child), or the shared zero page.  The
 * caller knows the page is populated: one filled with zeros and never
 * written has no page mapped here, where the kernel has the zero page.
 * Limitation: the kernel keeps a page shared after a fork until the parent
 * writes to it, even once the child is gone; the pagemap tells only
 * whether it is mapped once now, so such a page moves here where the
 * kernel answers EBUSY.  A page shared with a child whose contents are all
 * zeros is taken for the zero page.
 */
int install_page_kind(uintptr_t addr, int *kind)
{
	static const unsigned char zeros[64];
	uint64_t pm;

	if (pagemap_fd < 0 ||
	    pread(pagemap_fd, &pm, sizeof(pm),
		  (off_t)((addr >> PAGE_SHIFT) * sizeof(pm))) != sizeof(pm))
		return -EFAULT;
	if (pm & PM_EXCLUSIVE) {
		*kind = PAGE_OWN;
		return 0;
	}
	/* Populated, but no page mapped: it reads as zeros, as the zero
	 * page the kernel would have mapped there. */
	*kind = PAGE_ZERO;
	if (!(pm & (PM_PRESENT | PM_SWAPPED)))
		return 0;
	*kind = PAGE_SHARED;
	if (pm & PM_SWAPPED)
		return 0;
	for (size_t off = 0; off < PAGE_SIZE; off += sizeof(zeros))
		if (memcmp((const char *)addr + off, zeros, sizeof(zeros)))
			return 0;
	*kind = PAGE_ZERO;
	return 0;
}
