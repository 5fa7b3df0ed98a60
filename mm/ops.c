/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Operations on registered memory: registering and unregistering pages,
 * filling missing pages, and keeping the picture true when the program
 * unmaps, discards or reprotects memory.  All of them run under mm_lock.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "mm/mm.h"

static uint32_t entry_of(unsigned int slot, uint32_t modes, unsigned int prot)
{
	return slot | modes | ((uint32_t)prot << PS_PROT_SHIFT);
}

static void set_entries(uintptr_t start, uintptr_t end, uint32_t entry)
{
	for (uintptr_t a = start; a < end; a += PAGE_SIZE)
		pagestate_set(a, entry);
}

/* Length of the run from start (below end) whose entries agree in mask. */
static uintptr_t run_end(uintptr_t start, uintptr_t end, uint32_t mask)
{
	uint32_t first = pagestate_get(start) & mask;
	uintptr_t a = start + PAGE_SIZE;

	while (a < end && (pagestate_get(a) & mask) == first)
		a += PAGE_SIZE;
	return a;
}

/* mprotect() of each run of [start, end) whose pages want the same access. */
static void apply_prot(uintptr_t start, uintptr_t end)
{
	for (uintptr_t a = start; a < end;) {
		unsigned int prot = page_prot(pagestate_get(a));
		uintptr_t b = a + PAGE_SIZE;

		while (b < end && page_prot(pagestate_get(b)) == prot)
			b += PAGE_SIZE;
		mprotect((void *)a, b - a, (int)prot);
		a = b;
	}
}

/*
 * Gives [start, end) the modes of a new registration.  The range is closed
 * while its populated pages are found, so no thread can populate a page
 * that is then hidden; a thread that touches it meanwhile sees a busy
 * entry and retries.  Write protection already on the pages stays, as on
 * the kernel: on populated pages that were registered, and markers on
 * empty pages in any case.  In a mode without WP a mark only takes the
 * first write away, and a marker is in the way of ZEROPAGE and POISON,
 * until a fault clears them; WP mode back, the marks that are left count
 * again.  Poison markers stay too, hidden as they were.
 * Shared memory (PS_SHARED in modes) hides the pages this mapping has not
 * mapped, whether or not the file has them: the fault path tells the two
 * apart.
 */
static int register_run(uintptr_t start, uintptr_t end, unsigned int slot,
			uint32_t modes, unsigned int prot)
{
	size_t pages = (end - start) >> PAGE_SHIFT;
	uint32_t base = entry_of(slot, modes, prot);
	unsigned char *vec = malloc(2 * pages); /* then: registered before */
	int err = 0;

	if (!vec)
		return -ENOMEM;
	for (uintptr_t a = start; a < end; a += PAGE_SIZE) {
		uint32_t old = pagestate_get(a);
		uint32_t keep = old & PS_WP;

		vec[pages + ((a - start) >> PAGE_SHIFT)] =
			(old & PS_CTX_MASK) != 0;
		/* What is known of a hugetlb file stays known. */
		if ((modes & PS_HUGE) && (modes & PS_SHARED))
			keep |= old & PS_IN_FILE;
		/* A poison marker stays, hidden as it was. */
		if (old & PS_POISON)
			keep |= old & (PS_POISON | PS_HIDDEN_PROT);
		pagestate_set(a, base | PS_BUSY | keep);
	}
	if (mprotect((void *)start, end - start, PROT_NONE) != 0)
		err = -errno;
	else if (modes & PS_SHARED)
		err = install_mapped(start, end - start, vec);
	else
		err = install_populated(start, end - start, vec);
	for (size_t i = 0; i < pages;) {
		size_t j = i + 1;
		uintptr_t a = start + (i << PAGE_SHIFT);
		uintptr_t b;
		bool by_prot = false;

		while (j < pages && vec[j] == vec[i])
			j++;
		b = start + (j << PAGE_SHIFT);
		if (!err && !vec[i] && ps_tracked(modes))
			err = install_hide(a, b - a, &by_prot);
		for (uintptr_t p = a; p < b; p += PAGE_SIZE) {
			uint32_t e = pagestate_get(p) & ~PS_BUSY;

			if (vec[i] && !vec[pages + ((p - start) >> PAGE_SHIFT)])
				e &= ~PS_WP;
			if (err)
				e = 0;
			else if (vec[i] && ps_tracked(modes))
				e |= PS_PRESENT |
				     ((modes & PS_HUGE) && (modes & PS_SHARED)
					      ? PS_IN_FILE
					      : 0);
			else if (by_prot)
				e |= PS_HIDDEN_PROT;
			pagestate_set(p, e);
		}
		i = j;
	}
	free(vec);
	if (err) {
		mprotect((void *)start, end - start, (int)prot);
		return err;
	}
	apply_prot(start, end);
	return 0;
}

/* Pages of ours that no longer trap as missing become ordinary memory. */
static void drop_missing(uintptr_t start, uintptr_t end)
{
	for (uintptr_t a = start; a < end;) {
		uint32_t e = pagestate_get(a);
		uintptr_t b = run_end(a, end,
				      PS_MODES | PS_KIND | PS_PRESENT |
					      PS_HIDDEN_PROT | PS_PROTS |
					      PS_WP | PS_POISON);

		if (ps_hidden(e) && !(e & PS_POISON))
			install_unhide(a, b - a, page_prot(e & ~PS_HIDDEN_PROT),
				       e & PS_HIDDEN_PROT);
		a = b;
	}
}

/*
 * Registers [start, end), one mapping with protection prot, to slot in
 * modes.  Pages already registered to slot in a superset of the modes stay
 * as they are; others get exactly these modes.  Pages with an entry keep
 * the protection the program gave them, which the mapping does not show
 * where they are write-protected or hidden.
 */
int mm_register(uintptr_t start, uintptr_t end, unsigned int slot,
		uint32_t modes, unsigned int prot)
{
	int err = pagestate_reserve(start, end - start);

	for (uintptr_t a = start; !err && a < end;) {
		uint32_t e = pagestate_get(a);
		uintptr_t b =
			run_end(a, end, PS_CTX_MASK | PS_MODES | PS_PROTS);

		if ((e & PS_CTX_MASK) != slot || (e & modes) != modes) {
			drop_missing(a, b);
			err = register_run(a, b, slot, modes,
					   e ? ps_prot(e) : prot);
		}
		a = b;
	}
	if (!err)
		err = reg_add(start, end, slot);
	return err;
}

/* What of a page's entry outlives its registration. */
static uint32_t left_after_release(uint32_t e)
{
	if (e & PS_POISON)
		return e & (PS_POISON | PS_PROTS | PS_HIDDEN_PROT);
	/* A marker outside WP mode: unregistering leaves it alone. */
	if ((e & PS_WP) && !(e & PS_MODE_WP))
		return e & (PS_WP | PS_PROTS);
	return 0;
}

/*
 * Forgets the registration of [start, end).  Poison markers outlive it, as
 * on the kernel, and so do write-protect markers of a range no longer in
 * WP mode: those pages keep an entry of their own.
 */
static void keep_poison_release(uintptr_t start, uintptr_t end)
{
	bool keep = false;

	for (uintptr_t a = start; a < end && !keep; a += PAGE_SIZE)
		keep = left_after_release(pagestate_get(a)) != 0;
	if (!keep) {
		pagestate_release(start, end - start);
		return;
	}
	for (uintptr_t a = start; a < end; a += PAGE_SIZE)
		pagestate_set(a, left_after_release(pagestate_get(a)));
}

static void mark_busy(uintptr_t start, uintptr_t end)
{
	for (uintptr_t a = start; a < end; a += PAGE_SIZE) {
		uint32_t e = pagestate_get(a);

		if (e)
			pagestate_set(a, e | PS_BUSY);
	}
}

/*
 * Unregisters [start, end): pages that were missing become ordinary empty
 * memory and write protection goes.  Returns whether any page had MISSING
 * mode (those waiters are woken by the caller).
 */
bool mm_unregister(uintptr_t start, uintptr_t end)
{
	bool missing = false;

	for (uintptr_t a = start; a < end; a += PAGE_SIZE)
		missing |= (pagestate_get(a) & PS_MODE_MISSING) != 0;
	mark_busy(start, end);
	drop_missing(start, end);
	for (uintptr_t a = start; a < end;) {
		uint32_t e = pagestate_get(a);
		uintptr_t b = run_end(a, end, PS_WP | PS_PROTS);

		if (e & PS_WP)
			mprotect((void *)a, b - a, (int)ps_prot(e));
		a = b;
	}
	keep_poison_release(start, end);
	reg_remove(start, end);
	return missing;
}

/*
 * Whether the page at addr is empty: no page and no marker.  The entry
 * knows for pages in MISSING mode; for others the system is asked, and
 * PS_PRESENT is not kept.
 */
bool mm_page_empty(uintptr_t addr, uint32_t entry)
{
	unsigned char vec;

	if (entry & (PS_POISON | PS_WP))
		return false;
	if (entry & PS_MODE_MISSING)
		return !(entry & PS_PRESENT);
	return install_populated(addr, PAGE_SIZE, &vec) == 0 && !vec;
}

/* How a page that a fill may replace is kept missing. */
static enum install_hidden hidden_by(uint32_t e)
{
	if (e & PS_HIDDEN_PROT)
		return HIDDEN_PROT;
	if (e & PS_POISON)
		return HIDDEN_GUARD;
	if (ps_hidden(e))
		return HIDDEN_GUARD;
	return HIDDEN_NONE;
}

/*
 * What a fill may replace: no page, and for COPY a marker too.  The others
 * do not replace markers.
 */
static bool fillable(enum mm_fill_op op, uint32_t e, bool populated)
{
	if (populated)
		return false;
	return op == FILL_COPY || !(e & (PS_POISON | PS_WP));
}

/* *by_prot says whether POISON hid the pages with PROT_NONE. */
static ssize_t fill_run(enum mm_fill_op op, uintptr_t a, uintptr_t b,
			const char *src, uint32_t before, uint32_t after,
			bool *by_prot)
{
	enum install_hidden hidden = hidden_by(before);

	switch (op) {
	case FILL_COPY:
		if ((before & PS_HUGE) && (before & PS_SHARED))
			return install_huge_shared(
				a, src, b - a, page_prot(before),
				page_prot(after), hidden, ps_page_size(before));
		if (before & PS_HUGE)
			return install_copy_unit(a, src, b - a,
						 page_prot(after), hidden,
						 ps_page_size(before));
		if (before & PS_COW)
			return install_private(a, src, b - a, page_prot(after),
					       hidden);
		if (before & PS_SHARED)
			return install_shared(a, src, b - a, page_prot(before),
					      page_prot(after), hidden);
		return install_copy(a, src, b - a, page_prot(after), hidden);
	case FILL_ZERO:
		if (before & PS_COW)
			return install_private(a, NULL, b - a, page_prot(after),
					       hidden);
		if (before & PS_SHARED)
			return install_shared(a, NULL, b - a, page_prot(before),
					      page_prot(after), hidden);
		return install_zero(a, b - a, page_prot(after), hidden)
			       ?: (ssize_t)(b - a);
	case FILL_CONTINUE:
		/* A MAP_PRIVATE mapping maps the file's page to copy later. */
		return install_map(a, b - a, page_prot(before),
				   page_prot(after), hidden, before & PS_COW)
			       ?: (ssize_t)(b - a);
	case FILL_POISON:
		if (hidden == HIDDEN_NONE) {
			int err = install_hide(a, b - a, by_prot);

			if (err)
				return err;
		}
		return (ssize_t)(b - a);
	}
	return -EINVAL;
}

/* Pages whose population one mincore() call of a fill looks up. */
#define FILL_CHUNK 256

/*
 * shared_fillable_end() for hugetlb memory mapped MAP_SHARED, a huge page
 * at a time: what the emulator knows of the file stands for mincore(),
 * which sees only this mapping's huge pages.  Past the end of the file
 * COPY fails EFAULT (the install finds it), CONTINUE too, POISON does not.
 */
static ssize_t huge_shared_fillable_end(enum mm_fill_op op, uintptr_t a,
					uintptr_t b)
{
	const size_t size = ps_page_size(pagestate_get(a));
	uintptr_t from = a;

	for (; a < b; a += size) {
		uint32_t e = pagestate_get(a);
		bool mapped = e & PS_PRESENT;
		bool cached = mapped || (e & PS_IN_FILE) || mm_alias_maps(a);
		bool ok;

		if (op == FILL_CONTINUE && !cached)
			return a > from ? (ssize_t)a : -EFAULT;
		if (op == FILL_COPY)
			ok = !cached;
		else if (op == FILL_CONTINUE)
			ok = !mapped;
		else
			ok = !mapped && !(e & (PS_POISON | PS_WP));
		if (!ok)
			break;
	}
	return (ssize_t)a;
}

/*
 * fillable_end() for shared memory, where the file may have a page this
 * mapping has not mapped.  COPY and ZEROPAGE need the file to lack the
 * page, and replace a marker, or, in a MAP_PRIVATE mapping, need this
 * mapping to lack it; POISON needs only this mapping to lack it, inside
 * the file (EFAULT); CONTINUE needs the file to have it (EFAULT, EINVAL past
 * its end) and this mapping to lack it (EEXIST).
 */
static ssize_t shared_fillable_end(enum mm_fill_op op, uintptr_t a, uintptr_t b,
				   uint32_t e)
{
	static unsigned char cached[FILL_CHUNK], mapped[FILL_CHUNK];
	size_t n = 0, pages;
	bool inside = true;
	int err;

	if (b - a > FILL_CHUNK * PAGE_SIZE)
		b = a + FILL_CHUNK * PAGE_SIZE;
	pages = (b - a) >> PAGE_SHIFT;
	err = install_populated(a, b - a, cached);
	if (!err && ps_tracked(e))
		memset(mapped, (e & PS_PRESENT) != 0, pages);
	else if (!err)
		err = install_mapped(a, b - a, mapped);
	if (err)
		return err;
	for (; n < pages; n++) {
		bool ok;

		switch (op) {
		case FILL_COPY:
		case FILL_ZERO:
			/*
			 * A private copy needs only this mapping to lack the
			 * page, and only COPY replaces a marker, as for
			 * anonymous memory; past the end of the file the
			 * install fails.  A shared page needs the file to
			 * lack it, and both replace markers, as the kernel's
			 * shmem fill.
			 */
			if (e & PS_COW) {
				ok = !mapped[n] && fillable(op, e, false);
				/* The end of the file is checked first. */
				if (!ok && n == 0 && !mapped[n] &&
				    mm_past_eof(a))
					return -EFAULT;
			} else
				ok = !cached[n];
			break;
		case FILL_POISON:
			ok = !mapped[n] && !(e & (PS_POISON | PS_WP));
			/* When the last page is inside the file, all are. */
			if (ok && n == 0)
				inside = !mm_past_eof(b - PAGE_SIZE);
			if (ok && !inside && mm_past_eof(a + n * PAGE_SIZE))
				return n ? (ssize_t)(a + n * PAGE_SIZE)
					 : -EFAULT;
			break;
		case FILL_CONTINUE:
			if (n == 0 && !cached[n])
				return mm_past_eof(a) ? -EINVAL : -EFAULT;
			ok = cached[n] && !mapped[n];
			break;
		default:
			ok = false;
		}
		if (!ok)
			break;
	}
	return (ssize_t)(a + n * PAGE_SIZE);
}

/*
 * The end of the run of fillable pages from a, below b, which agree in
 * their entries.  Pages in MISSING mode say in their entry whether they
 * are populated; for others the system is asked, for the run at once.
 */
static ssize_t fillable_end(enum mm_fill_op op, uintptr_t a, uintptr_t b,
			    uint32_t e)
{
	static unsigned char vec[FILL_CHUNK]; /* mm_lock held */
	size_t n = 0;
	int err;

	if ((e & PS_SHARED) && (e & PS_HUGE))
		return huge_shared_fillable_end(op, a, b);
	if (e & PS_SHARED)
		return shared_fillable_end(op, a, b, e);
	/*
	 * CONTINUE in private hugetlb memory: only in a file (anonymous
	 * memory has no page cache), where another mapping of the file shows
	 * the page (EFAULT first), and only where this mapping lacks it
	 * (EEXIST).
	 */
	if ((e & PS_HUGE) && op == FILL_CONTINUE && !(e & PS_COW))
		return -EFAULT;
	if ((e & PS_HUGE) && op == FILL_CONTINUE) {
		for (uintptr_t p = a; p < b; p += ps_page_size(e)) {
			bool mapped = e & PS_PRESENT;

			if (!mm_alias_maps(p))
				return p > a ? (ssize_t)p : -EFAULT;
			if (!(e & PS_MODE_MISSING)) {
				err = install_populated(p, PAGE_SIZE, vec);
				if (err)
					return err;
				mapped = vec[0];
			}
			if (mapped)
				return (ssize_t)p;
		}
		return (ssize_t)b;
	}
	if (e & PS_MODE_MISSING)
		return fillable(op, e, e & PS_PRESENT) ? (ssize_t)b
						       : (ssize_t)a;
	if (e & PS_HUGE) {
		/* A huge page is populated as a whole: one look each. */
		for (; a < b; a += ps_page_size(e)) {
			err = install_populated(a, PAGE_SIZE, vec);
			if (err)
				return err;
			if (!fillable(op, e, vec[0]))
				break;
		}
		return (ssize_t)a;
	}
	if (b - a > FILL_CHUNK * PAGE_SIZE)
		b = a + FILL_CHUNK * PAGE_SIZE;
	err = install_populated(a, b - a, vec);
	if (err)
		return err;
	while (a + n * PAGE_SIZE < b && fillable(op, e, vec[n]))
		n++;
	return (ssize_t)(a + n * PAGE_SIZE);
}

/*
 * UFFDIO_COPY, ZEROPAGE and POISON from dst upward: fills pages until the
 * first that is not empty (EEXIST) or a failure.  wp leaves copied pages
 * write-protected.  Returns the bytes done, or a negative errno when none
 * was.  publish() records each run's new state; the caller makes that
 * atomic with its wake-ups.
 */
ssize_t mm_fill(enum mm_fill_op op, uintptr_t dst, const char *src, size_t len,
		bool wp, mm_publish_fn *publish, void *arg)
{
	const uint32_t same = PS_PRESENT | PS_HIDDEN_PROT | PS_PROTS | PS_WP |
			      PS_POISON | PS_MODES | PS_KIND;
	uintptr_t end = dst + len, a = dst;

	while (a < end) {
		uint32_t e = pagestate_get(a), set, clear, after;
		uintptr_t b = run_end(a, end, same);
		uint32_t present = ps_tracked(e) ? PS_PRESENT : 0;
		ssize_t r = fillable_end(op, a, b, e);
		bool by_prot = false;

		if (r < 0 || (uintptr_t)r == a) {
			if (a > dst)
				return (ssize_t)(a - dst);
			return r < 0 ? r : -EEXIST;
		}
		b = (uintptr_t)r;
		tables_note(a, b);
		if (op == FILL_POISON) {
			set = PS_POISON;
			clear = PS_PRESENT;
		} else {
			set = present | (wp ? PS_WP : 0);
			clear = PS_HIDDEN_PROT | PS_POISON | (wp ? 0 : PS_WP);
			if ((e & PS_HUGE) && (e & PS_SHARED))
				set |= PS_IN_FILE;
		}
		after = (e & ~clear) | set;
		r = fill_run(op, a, b,
			     (const char *)((uintptr_t)src + (a - dst)), e,
			     after, &by_prot);
		if (r < 0)
			return a > dst ? (ssize_t)(a - dst) : r;
		if (by_prot)
			set |= PS_HIDDEN_PROT;
		publish(arg, a, a + (uintptr_t)r, set, clear);
		a += (uintptr_t)r;
		if (a < b)
			break;
	}
	return (ssize_t)(a - dst);
}

/* Sets and clears entry bits over [start, end). */
void mm_update(uintptr_t start, uintptr_t end, uint32_t set, uint32_t clear)
{
	for (uintptr_t a = start; a < end; a += PAGE_SIZE)
		pagestate_set(a, (pagestate_get(a) & ~clear) | set);
}

/*
 * Whether the page at src holds a page (its own or the zero page), rather
 * than nothing or a marker.  The entry knows for pages in MISSING mode.
 */
static bool src_populated(uintptr_t src, uint32_t e)
{
	unsigned char vec;

	if (e & PS_POISON)
		return false;
	if ((e & PS_CTX_MASK) && (e & PS_MODE_MISSING))
		return e & PS_PRESENT;
	return install_populated(src, PAGE_SIZE, &vec) == 0 && vec;
}

/*
 * UFFDIO_MOVE from src to dst, page by page: dst must be empty (EEXIST),
 * src must hold a page: nothing there fails ENOENT (unless allow_holes
 * lets the hole count as moved, and wakes its waiters like a page moved),
 * a poison or write-protect marker fails EFAULT.  The page must be owned
 * by this process alone (EBUSY); the zero page moves as the zero page,
 * also when an earlier step of the same move put it there.  The page's
 * contents go to dst atomically, writable and without write protection
 * (the kernel does not carry the uffd-wp mark over), then src becomes
 * empty: missing again where it is registered in MISSING mode.
 * Limitation: between the two steps the contents are at both places, and
 * a write to src in that window is lost, where the kernel moves the page
 * in one step.
 */
ssize_t mm_move(uintptr_t dst, uintptr_t src, size_t len, bool allow_holes,
		mm_publish_fn *publish, void *arg)
{
	size_t done = 0;

	while (done < len) {
		uintptr_t d = dst + done, s = src + done;
		uint32_t de = pagestate_get(d), se = pagestate_get(s);
		int kind = 0;
		ssize_t r;

		if (!allow_holes && tables_absent(s))
			return done ? (ssize_t)done : -ENOENT;
		/* The kernel makes the tables it moves between. */
		tables_note(d, d + PAGE_SIZE);
		if (allow_holes)
			tables_note(s, s + PAGE_SIZE);
		if (!mm_page_empty(d, de))
			return done ? (ssize_t)done : -EEXIST;
		if (!src_populated(s, se)) {
			if (se & (PS_POISON | PS_WP))
				return done ? (ssize_t)done : -EFAULT;
			if (!allow_holes)
				return done ? (ssize_t)done : -ENOENT;
			publish(arg, d, d + PAGE_SIZE, 0, 0);
			done += PAGE_SIZE;
			continue;
		}
		r = install_page_kind(s, &kind);
		if (r < 0 || kind == PAGE_SHARED)
			return done ? (ssize_t)done : (r < 0 ? r : -EBUSY);
		if (kind == PAGE_ZERO)
			r = install_zero(d, PAGE_SIZE, ps_prot(de),
					 hidden_by(de))
				    ?: (ssize_t)PAGE_SIZE;
		else
			r = install_copy(d, (const void *)s, PAGE_SIZE,
					 ps_prot(de), hidden_by(de));
		if (r < 0)
			return done ? (ssize_t)done : r;
		/* The source empties before anyone is woken on dst. */
		if ((se & PS_CTX_MASK) && (se & PS_MODE_MISSING)) {
			bool by_prot;

			install_hide(s, PAGE_SIZE, &by_prot);
			mm_update(s, s + PAGE_SIZE,
				  by_prot ? PS_HIDDEN_PROT : 0,
				  PS_PRESENT | PS_WP);
			/* Hidden, it takes the program's protection back. */
			if ((se & PS_WP) && !by_prot)
				mprotect((void *)s, PAGE_SIZE,
					 (int)ps_prot(se));
		} else {
			madvise((void *)s, PAGE_SIZE, MADV_DONTNEED);
			if (se & PS_WP) {
				mm_update(s, s + PAGE_SIZE, 0, PS_WP);
				mprotect((void *)s, PAGE_SIZE,
					 (int)ps_prot(se));
			}
		}
		publish(arg, d, d + PAGE_SIZE,
			de & PS_MODE_MISSING ? PS_PRESENT : 0,
			PS_HIDDEN_PROT | PS_WP | PS_POISON);
		done += PAGE_SIZE;
	}
	return (ssize_t)done;
}

/*
 * Marks the pages of [start, end) that vec says are populated (every page
 * with unpopulated) write-protected and takes their write access away, in
 * one step for the fault path: an asynchronous resolution of one of these
 * pages comes before or after, never in between.
 */
static void protect_marked(uintptr_t start, uintptr_t end, bool unpopulated,
			   const unsigned char *vec)
{
	sigset_t saved;

	emu_faults_lock(&saved);
	for (uintptr_t a = start; a < end; a += PAGE_SIZE) {
		uint32_t e = pagestate_get(a);
		bool populated = e & PS_MODE_MISSING ? (e & PS_PRESENT) != 0
				 : vec ? vec[(a - start) >> PAGE_SHIFT] != 0
				       : false;

		/* A poison marker stays as it is. */
		if ((populated || unpopulated) && !(e & PS_POISON))
			pagestate_set(a, e | PS_WP);
	}
	apply_prot(start, end);
	emu_faults_unlock(&saved);
}

/*
 * UFFDIO_WRITEPROTECT on [start, end), all of it registered in WP mode.
 * Protecting marks populated pages, and empty ones too with unpopulated
 * (WP_UNPOPULATED): their first write traps.  Unprotecting gives the pages
 * their access back first; clear() then drops the marks, under the
 * caller's waiter lock, before the caller wakes the writers.
 */
int mm_writeprotect(uintptr_t start, uintptr_t end, bool wp, bool unpopulated,
		    void (*clear)(uintptr_t start, uintptr_t end))
{
	size_t pages = (end - start) >> PAGE_SHIFT;
	unsigned char *vec;
	int err;

	if (!wp) {
		for (uintptr_t a = start; a < end;) {
			uint32_t e = pagestate_get(a);
			uintptr_t b = run_end(
				a, end,
				PS_WP | PS_PROTS | PS_HIDDEN_PROT | PS_PRESENT);

			if (e & PS_WP)
				mprotect((void *)a, b - a,
					 (int)page_prot(e & ~PS_WP));
			a = b;
		}
		clear(start, end);
		return 0;
	}
	vec = malloc(pages);
	if (!vec)
		return -ENOMEM;
	/* Markers for empty pages need tables, and those stay. */
	if (unpopulated)
		tables_note(start, end);
	err = install_populated(start, end - start, vec);
	if (!err)
		protect_marked(start, end, unpopulated, vec);
	free(vec);
	return err;
}

/*
 * Write-protects every page of [start, end), populated or not, as
 * WP_UNPOPULATED does: PAGEMAP_SCAN's PM_SCAN_WP_MATCHING.
 */
void mm_writeprotect_all(uintptr_t start, uintptr_t end)
{
	protect_marked(start, end, true, NULL);
}

/* The program unmapped [start, end): forget it. */
void mm_forget(uintptr_t start, uintptr_t end)
{
	pagestate_release(start, end - start);
	reg_remove(start, end);
}

/*
 * The program discarded [start, end) (MADV_DONTNEED, MADV_REMOVE and the
 * like): its registered pages that trap while not mapped are hidden again.
 * Hiding them also discards their contents, in one step, so no write can
 * slip in between.  Write protection of anonymous pages goes with their
 * contents, and so do the markers of empty ones; shared and hugetlb memory
 * keep the markers, and leave one where a page was write-protected (shared
 * memory only in WP mode).
 * The caller gives the rest of the range its real discard afterwards.
 */
int mm_discard(uintptr_t start, uintptr_t end)
{
	for (uintptr_t a = start; a < end;) {
		uint32_t e = pagestate_get(a);
		uintptr_t b = run_end(a, end,
				      PS_CTX_MASK | PS_MODES | PS_PROTS |
					      PS_PRESENT | PS_WP | PS_POISON |
					      PS_HIDDEN_PROT | PS_KIND);
		/*
		 * A write-protected page of shared memory leaves a marker
		 * where the range is in WP mode; hugetlb memory always does.
		 */
		bool marker =
			(e & PS_HUGE) || ((e & PS_SHARED) && (e & PS_MODE_WP));
		uint32_t lost = PS_PRESENT | (marker ? 0 : PS_WP);
		uint32_t after = e & ~lost;
		bool by_prot;
		int err;

		if (e & PS_POISON) {
			/* Discarding removes a poison marker. */
			uint32_t left = e & ~(PS_POISON | PS_WP);

			if (!ps_tracked(e)) {
				install_unhide(a, b - a, ps_prot(e),
					       e & PS_HIDDEN_PROT);
				left &= ~PS_HIDDEN_PROT;
			}
			/* A registered page stays registered. */
			set_entries(a, b, e & PS_CTX_MASK ? left : 0);
		} else if (ps_tracked(e) && (e & PS_PRESENT)) {
			sigset_t saved;

			/* Against the fault path mapping a shared page. */
			emu_faults_lock(&saved);
			set_entries(a, b, e | PS_BUSY);
			err = install_hide(a, b - a, &by_prot);
			set_entries(a, b,
				    after | (by_prot ? PS_HIDDEN_PROT : 0));
			emu_faults_unlock(&saved);
			if (err)
				return err;
			/* A guard keeps them missing: the access comes back. */
			if ((e & PS_WP) && !by_prot)
				mprotect((void *)a, b - a,
					 (int)page_prot(after));
		} else if ((e & PS_CTX_MASK) && (e & PS_WP) &&
			   !(e & (PS_SHARED | PS_HUGE))) {
			/* Markers go too, on missing pages as well. */
			set_entries(a, b, after);
			mprotect((void *)a, b - a, (int)page_prot(after));
		} else if ((e & PS_WP) && !(e & PS_CTX_MASK)) {
			/* A marker left on memory no longer registered. */
			set_entries(a, b, 0);
		}
		a = b;
	}
	return 0;
}

/*
 * The program changed the protection of [start, end) to prot.  Pages
 * hidden with PROT_NONE stay so, write-protected pages stay read-only;
 * pages without an entry keep what the program gave them.
 * The caller holds emu_faults_lock() over the real mprotect() and this.
 */
void mm_protect(uintptr_t start, uintptr_t end, unsigned int prot)
{
	for (uintptr_t a = start; a < end; a += PAGE_SIZE) {
		uint32_t e = pagestate_get(a);

		if (e)
			pagestate_set(a, (e & ~PS_PROTS) | ((uint32_t)prot
							    << PS_PROT_SHIFT));
	}
	/* Runs of pages that need less than prot, by what they need. */
	for (uintptr_t a = start; a < end;) {
		uint32_t e = pagestate_get(a);
		unsigned int want = page_prot(e);
		uintptr_t b = a + PAGE_SIZE;

		if (!e || want == prot) {
			a = b;
			continue;
		}
		while (b < end && pagestate_get(b) &&
		       page_prot(pagestate_get(b)) == want)
			b += PAGE_SIZE;
		mprotect((void *)a, b - a, (int)want);
		a = b;
	}
}

static void restore_entries(uintptr_t start, uintptr_t end)
{
	for (uintptr_t a = start; a < end; a += PAGE_SIZE) {
		uint32_t e = pagestate_get(a);

		if (e & PS_CTX_MASK)
			pagestate_set(a, e & ~PS_BUSY);
	}
}

static bool any_registered(uintptr_t start, uintptr_t end)
{
	struct mm_reg r;

	return start < end && reg_next(start, end, 0, &r);
}

/* In-place growth: the new tail is registered like the end of the VMA. */
static void grow_registered(uintptr_t old_end, uintptr_t new_end)
{
	uint32_t last = pagestate_get(old_end - PAGE_SIZE) & ~PS_BUSY;
	unsigned int slot = last & PS_CTX_MASK;
	bool by_prot = false;

	if (!slot || pagestate_reserve(old_end, new_end - old_end))
		return;
	last &= PS_CTX_MASK | PS_MODES | PS_PROTS;
	if (last & PS_MODE_MISSING)
		install_hide(old_end, new_end - old_end, &by_prot);
	set_entries(old_end, new_end, last | (by_prot ? PS_HIDDEN_PROT : 0));
	reg_add(old_end, new_end, slot);
}

static void move_registration(uintptr_t os, uintptr_t oe, uintptr_t ns,
			      size_t nlen, bool (*keep)(unsigned int slot))
{
	struct mm_reg r;
	bool kept_last = false;

	if (pagestate_reserve(ns, nlen))
		return;
	for (uintptr_t a = os; reg_next(a, oe, 0, &r); a = r.end) {
		uintptr_t n0 = ns + (r.start - os), n1 = ns + (r.end - os);

		if (n1 > ns + nlen)
			n1 = ns + nlen;
		if (n0 >= n1)
			break;
		if (keep(r.slot)) {
			for (uintptr_t p = n0; p < n1; p += PAGE_SIZE)
				pagestate_set(p, pagestate_get(os + (p - ns)) &
							 ~PS_BUSY);
			reg_add(n0, n1, r.slot);
			kept_last = r.end == oe;
		} else {
			install_unhide(n0, n1 - n0, 0, false);
			mprotect((void *)n0, n1 - n0,
				 (int)ps_prot(pagestate_get(r.start)));
			kept_last = false;
		}
	}
	if (kept_last && ns + (oe - os) < ns + nlen)
		grow_registered(ns + (oe - os), ns + nlen);
}

/*
 * mremap() of registered memory, as the kernel does it: memory that moves
 * stays registered where keep() says its owner has UFFD_FEATURE_EVENT_REMAP
 * and arrives unregistered elsewhere, the old range of MREMAP_DONTUNMAP
 * stays registered and empty, growth in place is registered like the rest.
 */
void *mm_remap(void *old_addr, size_t old_len, size_t new_len, int flags,
	       void *new_addr, bool (*keep)(unsigned int slot))
{
	uintptr_t os = (uintptr_t)old_addr;
	uintptr_t oe = os + ((old_len + PAGE_SIZE - 1) & PAGE_MASK);
	size_t nlen = (new_len + PAGE_SIZE - 1) & PAGE_MASK;
	uintptr_t fixed = flags & MREMAP_FIXED ? (uintptr_t)new_addr : 0;
	bool old_reg = !(os & ~PAGE_MASK) && any_registered(os, oe);
	bool dst_reg = fixed && !(fixed & ~PAGE_MASK) &&
		       any_registered(fixed, fixed + nlen);
	void *res;
	uintptr_t ns;

	if (!old_reg && !dst_reg)
		return mremap(old_addr, old_len, new_len, flags, new_addr);
	mark_busy(os, oe);
	if (dst_reg)
		mark_busy(fixed, fixed + nlen);
	res = mremap(old_addr, old_len, new_len, flags, new_addr);
	if (res == MAP_FAILED) {
		restore_entries(os, oe);
		if (dst_reg)
			restore_entries(fixed, fixed + nlen);
		return res;
	}
	ns = (uintptr_t)res;
	if (dst_reg)
		mm_forget(fixed, fixed + nlen);
	if (ns == os) {
		if (os + nlen < oe)
			mm_forget(os + nlen, oe);
		restore_entries(os, os + nlen < oe ? os + nlen : oe);
		if (os + nlen > oe)
			grow_registered(oe, os + nlen);
		return res;
	}
	/*
	 * Moved.  Guard markers and protections travel with the pages; where
	 * the owner keeps its registration the entries follow them, elsewhere
	 * the new place is ordinary memory.
	 */
	move_registration(os, oe, ns, nlen, keep);
	if (flags & MREMAP_DONTUNMAP) {
		bool by_prot = false;
		uint32_t e = pagestate_get(os) & ~(PS_BUSY | PS_PRESENT);

		install_hide(os, oe - os, &by_prot);
		set_entries(os, oe, e | (by_prot ? PS_HIDDEN_PROT : 0));
	} else {
		mm_forget(os, oe);
	}
	return res;
}
