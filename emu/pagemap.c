/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The PAGEMAP_SCAN ioctl of /proc/self/pagemap, answered for registered
 * memory as the kernel answers it with its own userfaultfd.
 *
 * The real ioctl is asked for the plain categories of every page of the
 * range (it knows which pages are present, swapped, file-backed, the zero
 * page, huge or soft-dirty).  For registered pages these are corrected from
 * the emulator's picture: its missing pages are empty (the guard markers
 * that keep them so are its own), a WP mark takes PAGE_IS_WRITTEN away, a
 * mark on an empty page or a poison marker is the kernel's marker entry,
 * a swapped one, and WP mode of a WP_ASYNC context is PAGE_IS_WPALLOWED.
 * The matching, the output and PM_SCAN_WP_MATCHING then follow the
 * kernel's walk page by page.
 *
 * Limitation: the regions are written to vec once the walk is over, where
 * the kernel writes them in batches of up to 512 as it walks: with a vec
 * that cannot be written the call fails EFAULT as on the kernel, but only
 * after walking (and with PM_SCAN_WP_MATCHING protecting) the whole range,
 * where the kernel stops after its first batch.  PAGE_IS_SOFT_DIRTY of a
 * page the emulator keeps missing is whatever the real page table shows
 * for it.  In a range that also holds emulated pages, memory registered
 * with the kernel's own userfaultfd is reported as the kernel sees it, but
 * PM_SCAN_WP_MATCHING does not protect it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "emu/emu.h"
#include "mm/mm.h"
#include "uffdemu/pagemap.h"

#define API __attribute__((visibility("default")))

#define PM_SCAN_FLAGS  (PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC)
/* The categories of Linux 6.7; 6.14 added PAGE_IS_GUARD. */
#define CATEGORIES_6_7 0xffULL
/* Categories of the page itself, as opposed to those of its mapping. */
#define PAGE_KIND                                                             \
	(PAGE_IS_PRESENT | PAGE_IS_SWAPPED | PAGE_IS_FILE | PAGE_IS_PFNZERO | \
	 PAGE_IS_HUGE | PAGE_IS_GUARD | PAGE_IS_WRITTEN)

/* The highest end of a user range access_ok() accepts (x86-64, 4 levels). */
#define USER_END TASK_SIZE

static int fail(int err)
{
	errno = err;
	return -1;
}

API int uffdemu_pagemap_own(int fd)
{
	char link[64], target[128];
	const char *rest;
	size_t n;
	ssize_t got;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	got = readlink(link, target, sizeof(target) - 1);
	if (got <= 0)
		return 0;
	target[got] = '\0';
	n = (size_t)snprintf(link, sizeof(link), "/proc/%d/", (int)getpid());
	if (strncmp(target, link, n) != 0)
		return 0;
	rest = target + n;
	if (strncmp(rest, "task/", 5) == 0) {
		rest += 5;
		if (*rest < '0' || *rest > '9')
			return 0;
		while (*rest >= '0' && *rest <= '9')
			rest++;
		if (*rest++ != '/')
			return 0;
	}
	return strcmp(rest, "pagemap") == 0;
}

/*
 * The categories this kernel knows, or 0 when it has no PAGEMAP_SCAN.
 * Probed once with an empty walk.
 */
static uint64_t known_categories(int fd)
{
	static uint64_t known = ~0ULL;
	struct pm_scan_arg a = {.size = sizeof(a)};

	if (known != ~0ULL)
		return known;
	a.return_mask = PAGE_IS_GUARD;
	if (ioctl(fd, PAGEMAP_SCAN, &a) >= 0) {
		known = CATEGORIES_6_7 | PAGE_IS_GUARD;
	} else {
		a.return_mask = 0;
		known = ioctl(fd, PAGEMAP_SCAN, &a) >= 0 ? CATEGORIES_6_7 : 0;
	}
	return known;
}

/* access_ok(): the range lies below the end of user space, unwrapped. */
static bool access_ok(uint64_t addr, uint64_t size)
{
	uint64_t sum = addr + size;

	return sum >= addr && sum <= USER_END;
}

/* The kernel's argument checks, in its order; then its defaults. */
static int get_args(struct pm_scan_arg *a, void *uarg, uint64_t categories)
{
	if (uaccess_read(a, uarg, sizeof(*a)))
		return -EFAULT;
	if (a->size != sizeof(*a))
		return -EINVAL;
	if (a->flags & ~(uint64_t)PM_SCAN_FLAGS)
		return -EINVAL;
	if ((a->category_inverted | a->category_mask | a->category_anyof_mask |
	     a->return_mask) &
	    ~categories)
		return -EINVAL;
	if (a->start & ~PAGE_MASK)
		return -EINVAL;
	if (!access_ok(a->start, a->end - a->start))
		return -EFAULT;
	if (!a->vec && a->vec_len)
		return -EINVAL;
	if (a->vec &&
	    (a->vec_len > UINT64_MAX / sizeof(struct page_region) ||
	     !access_ok(a->vec, a->vec_len * sizeof(struct page_region))))
		return -EFAULT;
	a->end = (a->end + PAGE_SIZE - 1) & PAGE_MASK;
	a->walk_end = 0;
	if (!a->max_pages)
		a->max_pages = ULONG_MAX;
	return 0;
}

/* The plain categories the real ioctl gives, a batch of regions at a time. */
struct raw {
	int fd;
	uint64_t all;  /* every category this kernel knows */
	uint64_t next; /* where the next batch starts */
	uint64_t end;
	struct page_region r[256];
	int n, i;
	int err;
};

/*
 * The first region of plain categories that ends after addr (it may start
 * after it: no mapping covers the pages between), or false when there is
 * none.  Addresses only grow from call to call.
 */
static bool raw_next(struct raw *w, uint64_t addr, struct page_region *out)
{
	for (;;) {
		struct pm_scan_arg a = {.size = sizeof(a)};
		long n;

		while (w->i < w->n && w->r[w->i].end <= addr)
			w->i++;
		if (w->i < w->n) {
			*out = w->r[w->i];
			return true;
		}
		if (w->next >= w->end)
			return false;
		a.start = addr > w->next ? addr : w->next;
		a.end = w->end;
		a.vec = (uintptr_t)w->r;
		a.vec_len = sizeof(w->r) / sizeof(w->r[0]);
		a.return_mask = w->all;
		n = ioctl(w->fd, PAGEMAP_SCAN, &a);
		if (n < 0) {
			w->err = -errno;
			return false;
		}
		w->n = (int)n;
		w->i = 0;
		w->next = a.walk_end > a.start ? a.walk_end : w->end;
	}
}

/* What the kernel shows for a registered page: see the top of the file. */
static uint64_t emulated_category(uint32_t e, uint64_t real)
{
	struct uffd_ctx *ctx = ctx_by_slot(e & PS_CTX_MASK);
	uint64_t cat = real & ~(uint64_t)PAGE_IS_GUARD;

	if (e & PS_POISON) {
		cat = (cat & ~(uint64_t)PAGE_KIND) | PAGE_IS_SWAPPED |
		      PAGE_IS_WRITTEN;
	} else if ((e & PS_MODE_MISSING) && !(e & PS_PRESENT)) {
		cat = (cat & ~(uint64_t)PAGE_KIND) |
		      (e & PS_WP ? PAGE_IS_SWAPPED : PAGE_IS_WRITTEN);
	} else {
		/* A zero page installed and not touched since. */
		if ((e & PS_PRESENT) &&
		    !(cat & (PAGE_IS_PRESENT | PAGE_IS_SWAPPED)))
			cat |= PAGE_IS_PRESENT | PAGE_IS_PFNZERO;
		if (e & PS_WP) {
			cat &= ~(uint64_t)PAGE_IS_WRITTEN;
			if (!(cat & (PAGE_IS_PRESENT | PAGE_IS_SWAPPED)))
				cat |= PAGE_IS_SWAPPED;
		}
	}
	if ((e & PS_MODE_WP) && ctx && (ctx->features & UFFD_FEATURE_WP_ASYNC))
		cat |= PAGE_IS_WPALLOWED;
	return cat;
}

struct scan {
	struct pm_scan_arg a;
	struct page_region *out; /* the regions for vec */
	size_t n, room;
	uint64_t found;             /* pages in them */
	uintptr_t wp_start, wp_end; /* a run of pages to protect */
};

/* Makes room for one more region in out. */
static bool room_for_one(struct scan *s)
{
	size_t room;
	void *p;

	if (s->n < s->room)
		return true;
	room = s->room ? s->room * 2 : 64;
	p = realloc(s->out, room * sizeof(*s->out));
	if (!p)
		return false;
	s->out = p;
	s->room = room;
	return true;
}

static bool interesting(const struct pm_scan_arg *a, uint64_t cat)
{
	cat ^= a->category_inverted;
	if ((cat & a->category_mask) != a->category_mask)
		return false;
	return !a->category_anyof_mask || (cat & a->category_anyof_mask);
}

/*
 * Adds the pages [addr, *end), all in category cat, to the output, as the
 * kernel does: max_pages may cut the run short, and a run that can neither
 * extend the last region nor have one of its own when vec is full is not
 * taken.  *end is where the pages taken end; false says the walk stops
 * there.
 */
static bool output(struct scan *s, uint64_t cat, uint64_t addr, uint64_t *end)
{
	struct page_region *last = s->n ? &s->out[s->n - 1] : NULL;
	uint64_t pages = (*end - addr) >> PAGE_SHIFT;
	bool taken = true;

	if (!s->a.vec_len)
		return true;
	cat &= s->a.return_mask;
	if (pages > s->a.max_pages - s->found) {
		pages = s->a.max_pages - s->found;
		*end = addr + (pages << PAGE_SHIFT);
		taken = false;
	}
	if (!pages) {
		/* nothing to add */
	} else if (last && last->end == addr && last->categories == cat) {
		last->end = *end;
	} else if (s->n == s->a.vec_len || !room_for_one(s)) {
		*end = addr;
		pages = 0;
		taken = false;
	} else {
		s->out[s->n++] = (struct page_region){addr, *end, cat};
	}
	s->found += pages;
	if (!taken)
		s->a.walk_end = *end;
	return taken;
}

static void protect_flush(struct scan *s)
{
	if (s->wp_end > s->wp_start)
		mm_writeprotect_all(s->wp_start, s->wp_end);
	s->wp_start = s->wp_end = 0;
}

static void protect(struct scan *s, uintptr_t addr, uintptr_t end)
{
	if (addr != s->wp_end) {
		protect_flush(s);
		s->wp_start = addr;
	}
	s->wp_end = end;
}

/*
 * One run of pages [addr, end) in category cat, as the kernel's walk takes
 * it.  emulated: registered pages, which PM_SCAN_WP_MATCHING protects in
 * the emulator.  Returns 0 to go on, 1 when the walk stops, or an errno.
 */
static int run(struct scan *s, uint64_t addr, uint64_t end, uint64_t cat,
	       bool emulated)
{
	bool go_on;

	if (!(cat & PAGE_IS_WPALLOWED)) {
		if (s->a.flags & PM_SCAN_CHECK_WPASYNC)
			return -EPERM;
		if (s->a.flags & PM_SCAN_WP_MATCHING)
			return 0;
	}
	if (!interesting(&s->a, cat))
		return 0;
	go_on = output(s, cat, addr, &end);
	if (end > addr && (s->a.flags & PM_SCAN_WP_MATCHING) &&
	    (cat & PAGE_IS_WRITTEN) && emulated)
		protect(s, addr, end);
	return go_on ? 0 : 1;
}

/*
 * The walk, under mm_lock: mapped memory region by region of plain
 * categories, registered pages one by one.  Returns 0 or a negative errno.
 */
static int walk(struct scan *s, struct raw *w)
{
	uint64_t addr = s->a.start;
	struct page_region pr;
	int r = 0;

	while (!r && addr < s->a.end && raw_next(w, addr, &pr)) {
		if (pr.start > addr)
			addr = pr.start; /* no mapping in between */
		while (!r && addr < pr.end) {
			struct mm_reg reg;

			if (!reg_next(addr, pr.end, 0, &reg)) {
				r = run(s, addr, pr.end, pr.categories, false);
				addr = pr.end;
			} else if (reg.start > addr) {
				r = run(s, addr, reg.start, pr.categories,
					false);
				addr = reg.start;
			} else {
				for (; !r && addr < reg.end;
				     addr += PAGE_SIZE) {
					uint32_t e = pagestate_get(addr);

					r = run(s, addr, addr + PAGE_SIZE,
						emulated_category(
							e, pr.categories),
						(e & PS_CTX_MASK) != 0);
				}
			}
		}
	}
	protect_flush(s);
	if (w->err)
		return w->err;
	return r < 0 ? r : 0;
}

/* Whether [start, end) holds a registered page. */
static bool any_emulated(uint64_t start, uint64_t end)
{
	struct mm_reg r;

	return start < end && reg_next(start, end, 0, &r);
}

API int uffdemu_pagemap_scan(int fd, struct pm_scan_arg *uarg)
{
	struct scan s = {0};
	struct raw *w;
	uint64_t categories;
	int err;
	long ret;

	if (!uffdemu_pagemap_own(fd) || !(categories = known_categories(fd)))
		return ioctl(fd, PAGEMAP_SCAN, uarg);
	err = get_args(&s.a, uarg, categories);
	if (err)
		return fail(-err);
	mm_lock();
	if (!any_emulated(s.a.start, s.a.end)) {
		mm_unlock();
		return ioctl(fd, PAGEMAP_SCAN, uarg);
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		mm_unlock();
		return fail(ENOMEM);
	}
	w->fd = fd;
	w->all = categories;
	w->next = s.a.start;
	w->end = s.a.end;
	err = walk(&s, w);
	mm_unlock();
	free(w);
	ret = err ? err : (long)s.n;
	if (s.n && uaccess_write((void *)(uintptr_t)s.a.vec, s.out,
				 s.n * sizeof(*s.out)))
		ret = -EFAULT;
	free(s.out);
	if (!s.a.walk_end)
		s.a.walk_end = s.a.end;
	if (uaccess_write(&uarg->walk_end, &s.a.walk_end, sizeof(s.a.walk_end)))
		ret = -EFAULT;
	return ret < 0 ? fail((int)-ret) : (int)ret;
}
