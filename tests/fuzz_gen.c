// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The fuzzer's generator: random operations, most of them where something
 * happens (on open descriptors past UFFDIO_API, in registered ranges, on
 * the pages of blocked threads), some with invalid arguments.  It keeps a
 * picture of the children, learnt from the kernel's records, to steer, and
 * to stay clear of what would make a record depend on thread timing: two
 * blocked threads woken at once that would fault again, or that share a
 * page one of them writes.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "fuzz.h"
#include "helpers.h"
#include "known.h"

/*
 * The features asked for: those the emulator offers but the events, which
 * block the thread that raises them until the monitor reads them, and here
 * the monitor and the thread that unmaps are one.
 */
#define FEATURES                                                            \
	(EMU_FEATURES_OFFERED &                                             \
	 ~(uint64_t)(UFFD_FEATURE_EVENT_REMAP | UFFD_FEATURE_EVENT_REMOVE | \
		     UFFD_FEATURE_EVENT_UNMAP))

/* --- random numbers --- */

uint64_t fz_splitmix(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* --- emulator bugs the generator steers clear of --- */

/*
 * Divergences found and reported, not yet fixed: while one is on, the
 * generator does not make the operations that show it, so that a run can
 * look for others.  --no-avoid makes them all again.
 */
enum { AVOID_FILL_ACROSS, AVOID_MOVE_SRC_TABLE, AVOID_FAULT_AROUND, N_AVOID };

static struct {
	const char *name;
	const char *what;
	bool on;
} avoid[N_AVOID] = {
	[AVOID_FILL_ACROSS] = {"fill-across-mappings",
			       "COPY and ZEROPAGE across a place where the "
			       "kernel may keep two mappings unmerged (the "
			       "known difference unmerged-mappings: the "
			       "emulator fills where the kernel fails ENOENT)",
			       true},
	[AVOID_MOVE_SRC_TABLE] =
		{"move-src-table",
		 "MOVE without ALLOW_SRC_HOLES from an area emptied by "
		 "munmap() or MADV_DONTNEED before the first userfaultfd "
		 "(the emulator cannot know of its page table then: "
		 "ENOENT where the kernel has the table and fails EEXIST "
		 "on the destination)",
		 true},
	[AVOID_FAULT_AROUND] =
		{"fault-around",
		 "a touch of a page of the shared area B that no registration "
		 "covers while another part of B is registered, and with "
		 "--private-b a read of any page of B then (the known "
		 "difference fault-around: the system maps the neighbours of "
		 "the whole real mapping, where the kernel's mapping ends at "
		 "the registration)",
		 true},
};

/* --- the generator's picture of the children --- */

struct fz_model {
	uint64_t rng;
	bool open[FZ_UFFD_SLOTS];
	bool ready[FZ_UFFD_SLOTS]; /* UFFDIO_API done */
	int n_threads;
	struct {
		uint32_t op_id;
		uint64_t addr;
		unsigned int how;
		bool blocked;
	} threads[FZ_MAX_THREADS];
	/* Areas A, B and C page by page (bit i is page i). */
	struct {
		uint32_t cuts;      /* a mapping may begin at page i */
		uint32_t zeroed;    /* filled by ZEROPAGE, untouched since */
		uint32_t wp;        /* WRITEPROTECT'ed at some time */
		bool emptied_early; /* by munmap() or MADV_DONTNEED, before
				       the first userfaultfd was made */
	} pages[AREA_C + 1];
	uint32_t b_registered; /* pages of B some registration covers */
	bool b_holes;          /* part of B may have been unregistered */
	bool started;          /* a userfaultfd was made */
	bool device;           /* the kernel's /dev/userfaultfd can be used */
	/* The last ranges REGISTER accepted, where the action is. */
	struct {
		uint8_t area;
		uint64_t off;
		uint64_t len;
	} reg[8];
	int n_reg;
};

/*
 * The pages [*first, *end) of area a (A, B or C, and the two pages after
 * it) that op's range covers, when the range is page-aligned and does not
 * wrap.
 */
static bool area_span(const struct fz_op *op, enum fz_area a,
		      unsigned int *first, unsigned int *end)
{
	uint64_t start = fz_addr(op->area, op->off), base = fz_area_base(a);
	/* Ranges reach up to 2 pages past an area, and mmap() maps there. */
	uint64_t size = (uint64_t)(fz_area_pages(a) + 2) * PG, lo, hi;
	uint64_t len = op->len;

	/* The memory calls round the length up to pages. */
	if (op->kind >= FZ_MADVISE && op->kind <= FZ_MMAP)
		len = (len + PG - 1) & ~(PG - 1);
	if ((start | len) & (PG - 1) || !len || start + len < start)
		return false;
	lo = start > base ? start - base : 0;
	hi = start + len - base;
	if (start + len <= base || lo >= size)
		return false;
	*first = (unsigned int)(lo / PG);
	*end = (unsigned int)((hi < size ? hi : size) / PG);
	return true;
}

/* The same for op's own area. */
static bool page_span(const struct fz_op *op, unsigned int *first,
		      unsigned int *end)
{
	return op->area <= AREA_C &&
	       area_span(op, (enum fz_area)op->area, first, end);
}

static uint32_t page_mask(unsigned int first, unsigned int end)
{
	return (uint32_t)((1ULL << end) - (1ULL << first));
}

static uint64_t rnd(struct fz_model *m, uint64_t n)
{
	return n ? fz_splitmix(&m->rng) % n : 0;
}

static bool chance(struct fz_model *m, unsigned int percent)
{
	return rnd(m, 100) < percent;
}

static uint64_t pick(struct fz_model *m, const uint64_t *v, size_t n)
{
	return v[rnd(m, n)];
}

#define PICK(m, ...)                             \
	pick(m, (const uint64_t[]){__VA_ARGS__}, \
	     sizeof((const uint64_t[]){__VA_ARGS__}) / sizeof(uint64_t))

static unsigned int pick_slot(struct fz_model *m)
{
	unsigned int open[FZ_UFFD_SLOTS], n = 0, ready = 0, k;

	for (k = 0; k < FZ_UFFD_SLOTS; k++)
		if (m->open[k] && m->ready[k])
			open[n++] = k;
	ready = n;
	for (k = 0; k < FZ_UFFD_SLOTS; k++)
		if (m->open[k] && !m->ready[k])
			open[n++] = k;
	if (ready && chance(m, 80))
		return open[rnd(m, ready)];
	if (n && chance(m, 80))
		return open[rnd(m, n)];
	if (chance(m, 40))
		return chance(m, 50) ? FZ_SLOT_CLOSED : FZ_SLOT_OTHER;
	return (unsigned int)rnd(m, FZ_UFFD_SLOTS);
}

/* A slot for a new descriptor: a free one mostly. */
static unsigned int pick_new_slot(struct fz_model *m)
{
	unsigned int k = (unsigned int)rnd(m, FZ_UFFD_SLOTS), i;

	for (i = 0; i < FZ_UFFD_SLOTS && chance(m, 90); i++)
		if (!m->open[(k + i) % FZ_UFFD_SLOTS])
			return (k + i) % FZ_UFFD_SLOTS;
	return k;
}

static enum fz_area pick_area(struct fz_model *m, bool any)
{
	static const enum fz_area common[] = {AREA_A, AREA_A, AREA_A,
					      AREA_B, AREA_B, AREA_C};
	static const enum fz_area rare[] = {AREA_R, AREA_N, AREA_GAP, AREA_ABS,
					    AREA_SRC};

	if (!any || chance(m, 85))
		return common[rnd(m, ARRAY_SIZE(common))];
	/* SRC is never a destination: COPY reads from it. */
	return rare[rnd(m, ARRAY_SIZE(rare) - 1)];
}

/* A range, now and then an invalid one. */
static void pick_range(struct fz_model *m, struct fz_op *op, bool any)
{
	unsigned int pages;
	uint64_t first;

	op->area = pick_area(m, any);
	if (op->area == AREA_ABS) {
		op->off = PICK(m, 0, PG, TASK_SIZE_47, 1ULL << 47, -PG,
			       TASK_SIZE_47 - PG);
		op->len = PICK(m, PG, 0, -PG, 2 * PG);
		return;
	}
	pages = fz_area_pages(op->area);
	first = rnd(m, pages + 1);
	op->off = first * PG;
	op->len = (1 + rnd(m, pages - first + 2)) * PG;
	if (!any || !chance(m, 12))
		return;
	switch (rnd(m, 7)) {
	case 0:
		op->off += PICK(m, 1, 0x800, PG - 8);
		break;
	case 1:
		op->len = 0;
		break;
	case 2:
		op->len = PICK(m, 1, PG + 1, PG / 2);
		break;
	case 3:
		op->len = -PG;
		break;
	case 4:
		op->len = 1ULL << 47;
		break;
	case 5:
		op->len = -op->off - fz_area_base(op->area);
		break;
	default:
		op->off = -PG; /* with the base: a wrapping start */
		break;
	}
}

/*
 * A range where something happens, mostly: the page of a blocked thread,
 * or part of a range registered lately; else any range.
 */
static void pick_target(struct fz_model *m, struct fz_op *op)
{
	int blocked[FZ_MAX_THREADS], n = 0, k;
	uint64_t pages, first;

	for (k = 0; k < m->n_threads; k++)
		if (m->threads[k].blocked)
			blocked[n++] = k;
	if (n && chance(m, 40)) {
		uint64_t addr = m->threads[blocked[rnd(m, n)]].addr;

		for (k = AREA_A; k <= AREA_C; k++)
			if (addr - fz_area_base((enum fz_area)k) <
			    fz_area_pages((enum fz_area)k) * PG)
				op->area = (uint8_t)k;
		op->off = (addr - fz_area_base(op->area)) & ~(PG - 1);
		op->len = PG * (1 + rnd(m, 2));
		return;
	}
	if (m->n_reg && chance(m, 50)) {
		k = (int)rnd(m, (uint64_t)m->n_reg);
		pages = m->reg[k].len / PG;
		first = rnd(m, pages);
		op->area = m->reg[k].area;
		op->off = m->reg[k].off + first * PG;
		op->len = (1 + rnd(m, pages - first)) * PG;
		return;
	}
	pick_range(m, op, true);
}

static unsigned int pick_place(struct fz_model *m, unsigned int percent_ok)
{
	if (chance(m, percent_ok))
		return PLACE_OK;
	return (unsigned int)(1 + rnd(m, N_PLACES - 1));
}

/* Blocked threads whose reported address lies in the op's range. */
static int blocked_in(const struct fz_model *m, const struct fz_op *op)
{
	uint64_t start = fz_addr(op->area, op->off);
	int k, n = 0;

	for (k = 0; k < m->n_threads; k++)
		n += m->threads[k].blocked &&
		     m->threads[k].addr - (start & ~(PG - 1)) < op->len;
	return n;
}

/*
 * Whether op could wake two threads whose pages are still missing: they
 * would fault again at once, and the order of their new messages would be
 * a race on either backend.  Such operations are not generated.
 */
static bool racy_wake(const struct fz_model *m, const struct fz_op *op)
{
	bool wakes = op->kind == FZ_WAKE ||
		     (op->kind == FZ_WRITEPROTECT && !op->mode) ||
		     (op->kind == FZ_MOVE &&
		      (op->mode & UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES));

	return wakes && blocked_in(m, op) > 1;
}

static void gen_fd_op(struct fz_model *m, struct fz_op *op)
{
	switch (op->kind) {
	case FZ_CREATE:
	case FZ_DEV_CREATE:
		op->slot2 = (uint8_t)pick_new_slot(m);
		op->mode = (chance(m, 85) ? O_NONBLOCK : 0) |
			   (chance(m, 50) ? O_CLOEXEC : 0) |
			   (chance(m, 20) ? UFFD_USER_MODE_ONLY : 0);
		if (chance(m, 8))
			op->mode = PICK(m, 2, O_RDWR, O_APPEND, -1ULL,
					1ULL << 32, (1ULL << 40) | 2,
					(1ULL << 63) | O_NONBLOCK);
		break;
	case FZ_DUP:
		op->slot2 = (uint8_t)pick_new_slot(m);
		break;
	case FZ_SETFL:
		op->mode = chance(m, 70) ? O_NONBLOCK : 0;
		break;
	case FZ_READ:
		op->mode = PICK(m, 32, 64, 96, 320, 32, 64, 33, 100, 0, 1, 31);
		op->place = (uint8_t)pick_place(m, 93);
		break;
	case FZ_POLL:
		op->mode = PICK(m, POLLIN, POLLIN, POLLIN | POLLOUT | POLLPRI,
				0, POLLOUT);
		break;
	case FZ_IOCTL:
		op->x = PICK(m, _IO(0xAA, 0x10), 0, FIONREAD, FIONBIO, FIONBIO,
			     FIOCLEX, FIONCLEX, FIOASYNC, _IO(0, 2),
			     _IOR(UFFDIO, _UFFDIO_API, struct uffdio_api),
			     _IOWR(UFFDIO, 0x3e, struct uffdio_api));
		op->mode = rnd(m, 2);
		op->place = (uint8_t)pick_place(m, 85);
		break;
	}
}

/* Trims a fill so that it does not cross a place where mappings may meet. */
static void fill_within(const struct fz_model *m, struct fz_op *op)
{
	unsigned int first, end, k;

	if (!avoid[AVOID_FILL_ACROSS].on || !page_span(op, &first, &end))
		return;
	for (k = first + 1; k < end; k++)
		if (m->pages[op->area].cuts & (1U << k)) {
			op->len = (uint64_t)(k - first) * PG;
			return;
		}
}

static bool move_avoided(const struct fz_model *m, const struct fz_op *op)
{
	return avoid[AVOID_MOVE_SRC_TABLE].on &&
	       !(op->mode & UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES) &&
	       op->src_area <= AREA_C && m->pages[op->src_area].emptied_early;
}

/*
 * MOVE: the source is ordinary or registered memory of A, B or C, and
 * neither side may cross a place where two mappings may meet.
 */
static bool gen_move(struct fz_model *m, struct fz_op *op)
{
	struct fz_op src;
	uint64_t len;

	pick_target(m, op);
	fill_within(m, op);
	src = *op;
	pick_range(m, &src, false);
	src.len = op->len;
	len = src.len;
	fill_within(m, &src);
	if (src.len != len && avoid[AVOID_FILL_ACROSS].on)
		return false;
	op->src_area = src.area;
	op->src_off = src.off;
	if (chance(m, 8))
		op->src_off += PICK(m, 1, PG / 2);
	op->mode = PICK(m, 0, 0, 0, 0, 1, 2, 3, 4);
	op->place = (uint8_t)pick_place(m, 94);
	return !move_avoided(m, op);
}

static bool gen_uffd_op(struct fz_model *m, struct fz_op *op)
{
	switch (op->kind) {
	case FZ_API:
		op->x = chance(m, 90) ? UFFD_API
				      : PICK(m, 0xAB, 0, UFFD_API | 1ULL << 32);
		op->mode = chance(m, 30) ? 0 : fz_splitmix(&m->rng) & FEATURES;
		if (chance(m, 8))
			op->mode |= PICK(m, 1ULL << 17, 1ULL << 20, 1ULL << 31,
					 1ULL << 32, 1ULL << 63);
		op->place = (uint8_t)pick_place(m, 92);
		break;
	case FZ_REGISTER:
		pick_range(m, op, true);
		op->mode = PICK(m, 1, 1, 1, 1, 1, 1, 1, 2, 3, 3);
		if (chance(m, 8))
			op->mode = PICK(m, 0, 4, 5, 8, 1 | 1ULL << 32, 7);
		op->place = (uint8_t)pick_place(m, 94);
		break;
	case FZ_UNREGISTER:
	case FZ_WAKE:
		pick_target(m, op);
		op->place = (uint8_t)pick_place(m, 96);
		break;
	case FZ_COPY:
		pick_target(m, op);
		op->src_area = AREA_SRC;
		op->src_off = PICK(m, 0, 0, PG, 2 * PG, 3 * PG, 1, 0x800,
				   3 * PG + 0x10);
		fill_within(m, op);
		if (chance(m, 6)) {
			op->src_area = (uint8_t)PICK(m, AREA_GAP, AREA_ABS);
			op->src_off = op->src_area == AREA_GAP
					      ? 0
					      : PICK(m, 0, 1ULL << 47, -PG);
		}
		op->mode = PICK(m, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 4,
				1ULL << 63);
		op->place = (uint8_t)pick_place(m, 94);
		break;
	case FZ_ZEROPAGE:
		pick_target(m, op);
		fill_within(m, op);
		op->mode = PICK(m, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 4);
		op->place = (uint8_t)pick_place(m, 94);
		break;
	case FZ_WRITEPROTECT:
		pick_target(m, op);
		op->mode = PICK(m, 1, 1, 0, 0, 2, 3, 4);
		op->place = (uint8_t)pick_place(m, 96);
		break;
	case FZ_POISON:
		pick_target(m, op);
		fill_within(m, op);
		op->mode = PICK(m, 0, 0, 0, 0, 0, 1, 1, 2);
		op->place = (uint8_t)pick_place(m, 94);
		break;
	case FZ_MOVE:
		return gen_move(m, op);
	}
	return true;
}

/*
 * Whether a new touch would share a page with a blocked thread while one
 * of them writes: released together, they would race for the contents.
 */
static bool racy_touch(const struct fz_model *m, const struct fz_op *op)
{
	uint64_t page = fz_addr(op->area, op->off) & ~(PG - 1);
	int k;

	for (k = 0; k < m->n_threads; k++)
		if (m->threads[k].blocked &&
		    (m->threads[k].addr & ~(PG - 1)) == page &&
		    (op->mode == TOUCH_BYTE_WRITE ||
		     m->threads[k].how == TOUCH_BYTE_WRITE))
			return true;
	return false;
}

static bool gen_thread_op(struct fz_model *m, struct fz_op *op)
{
	static const enum fz_area where[] = {
		AREA_A, AREA_A, AREA_A, AREA_A,   AREA_A,  AREA_A, AREA_B,
		AREA_B, AREA_B, AREA_B, AREA_C,   AREA_C,  AREA_C, AREA_C,
		AREA_C, AREA_R, AREA_N, AREA_SRC, AREA_GAP};
	int blocked[FZ_MAX_THREADS], n = 0, k;

	if (op->kind == FZ_SIGNAL) {
		for (k = 0; k < m->n_threads; k++)
			if (m->threads[k].blocked)
				blocked[n++] = k;
#ifdef TESTS_TSAN
		n = 0; /* it defers handlers: the refault would not come */
#endif
		if (!n)
			return false;
		op->x = m->threads[blocked[rnd(m, n)]].op_id;
		return true;
	}
	if (m->n_threads >= FZ_MAX_THREADS)
		return false;
	op->area = where[rnd(m, ARRAY_SIZE(where))];
	op->mode = PICK(m, TOUCH_BYTE_READ, TOUCH_BYTE_WRITE, TOUCH_BYTE_WRITE,
			TOUCH_PAGE_READ);
	op->off = rnd(m, fz_area_pages(op->area) * PG);
	if (m->n_reg && chance(m, 75)) {
		k = (int)rnd(m, (uint64_t)m->n_reg);
		op->area = m->reg[k].area;
		op->off = m->reg[k].off + rnd(m, m->reg[k].len);
		if (op->off >= fz_area_pages(op->area) * PG)
			op->off = rnd(m, fz_area_pages(op->area) * PG);
	}
	if (op->mode == TOUCH_PAGE_READ)
		op->off &= ~(PG - 1);
	op->x = (op->id & 0x7f) | 0x80;
	/* After a partial UNREGISTER any page may be unregistered. */
	if (avoid[AVOID_FAULT_AROUND].on && op->area == AREA_B &&
	    m->b_registered &&
	    (m->b_holes || !(m->b_registered & (1U << (op->off / PG)))))
		return false;
	/* In a MAP_PRIVATE B a read of a registered page maps around too. */
	if (avoid[AVOID_FAULT_AROUND].on && op->area == AREA_B &&
	    fz_b_private && m->b_registered &&
	    (m->b_registered != 0xff || m->b_holes) &&
	    op->mode != TOUCH_BYTE_WRITE)
		return false;
	return !racy_touch(m, op);
}

/* Pages [off, off + len) of B, clipped to it, as a mask. */
static uint32_t b_pages(uint64_t off, uint64_t len)
{
	uint32_t mask = 0;

	for (uint64_t p = off / PG; p < 8 && p * PG < off + len; p++)
		mask |= 1U << p;
	return mask;
}

/*
 * Memory operations stay within the areas A, B and C (and a page or two
 * past them): anything wider could take the process's own memory away.
 */
static bool gen_memory_op(struct fz_model *m, struct fz_op *op)
{
	pick_range(m, op, false);
	if (op->kind == FZ_MADVISE && m->n_reg && chance(m, 60)) {
		int k = (int)rnd(m, (uint64_t)m->n_reg);

		op->area = m->reg[k].area;
		op->off = m->reg[k].off;
		op->len = m->reg[k].len;
	}
	if (chance(m, 8))
		op->off += 1;
	else if (chance(m, 8))
		op->len = PICK(m, 0, PG + 1);
	if (op->kind == FZ_MADVISE)
		op->mode = chance(m, 85) ? MADV_DONTNEED : MADV_NORMAL;
	if (op->kind != FZ_MPROTECT)
		return true;
	op->mode = PICK(m, PROT_READ | PROT_WRITE, PROT_READ | PROT_WRITE,
			PROT_READ | PROT_WRITE, PROT_READ, PROT_NONE);
	return true;
}

/* Weights of the kinds, in enum fz_kind order. */
static const unsigned int weights[N_KINDS] = {
	[FZ_CREATE] = 6,    [FZ_DEV_CREATE] = 1, [FZ_API] = 6,
	[FZ_REGISTER] = 12, [FZ_UNREGISTER] = 4, [FZ_WAKE] = 5,
	[FZ_COPY] = 12,     [FZ_ZEROPAGE] = 7,   [FZ_WRITEPROTECT] = 6,
	[FZ_POISON] = 3,    [FZ_MOVE] = 4,       [FZ_IOCTL] = 2,
	[FZ_READ] = 9,      [FZ_POLL] = 5,       [FZ_CLOSE] = 2,
	[FZ_DUP] = 1,       [FZ_SETFL] = 2,      [FZ_TOUCH] = 15,
	[FZ_SIGNAL] = 1,    [FZ_MADVISE] = 4,    [FZ_MPROTECT] = 2,
	[FZ_MUNMAP] = 1,    [FZ_MMAP] = 1,       [FZ_FDINFO] = 1,
};

static unsigned int pick_kind(struct fz_model *m)
{
	unsigned int total = 0, k;
	uint64_t x;

	for (k = 0; k < N_KINDS; k++)
		total += weights[k];
	x = rnd(m, total);
	for (k = 0; x >= weights[k]; k++)
		x -= weights[k];
	return k;
}

static bool gen_kind(struct fz_model *m, struct fz_op *op)
{
	switch (op->kind) {
	case FZ_DEV_CREATE:
		if (!m->device)
			return false;
		break;
	case FZ_TOUCH:
	case FZ_SIGNAL:
		return gen_thread_op(m, op);
	case FZ_MADVISE:
	case FZ_MPROTECT:
	case FZ_MUNMAP:
	case FZ_MMAP:
		return gen_memory_op(m, op);
	case FZ_API:
	case FZ_REGISTER:
	case FZ_UNREGISTER:
	case FZ_WAKE:
	case FZ_COPY:
	case FZ_ZEROPAGE:
	case FZ_WRITEPROTECT:
	case FZ_POISON:
	case FZ_MOVE:
		return gen_uffd_op(m, op) && !racy_wake(m, op);
	}
	gen_fd_op(m, op);
	return true;
}

/* Most descriptors get past UFFDIO_API soon after they are made. */
static void steer(struct fz_model *m, struct fz_op *op)
{
	if (op->slot < FZ_UFFD_SLOTS && m->open[op->slot] &&
	    !m->ready[op->slot] && op->kind != FZ_API && chance(m, 60))
		op->kind = FZ_API;
}

void fz_gen_op(struct fz_model *m, struct fz_op *op, uint32_t id)
{
	do {
		memset(op, 0, sizeof(*op));
		op->id = id;
		op->kind = (uint8_t)pick_kind(m);
		op->slot = (uint8_t)pick_slot(m);
		steer(m, op);
	} while (!gen_kind(m, op));
}

/* What op did to the pages of area a, by the kernel's record. */
static void model_area(struct fz_model *m, const struct fz_op *op,
		       const struct record *r, enum fz_area a)
{
	const char *rv_line = rec_get(r, "rv");
	bool ok = rv_line && !strcmp(rv_line, "0");
	unsigned int first, end;
	uint32_t mask;

	if (!area_span(op, a, &first, &end))
		return;
	mask = page_mask(first, end);
	switch (op->kind) {
	case FZ_REGISTER:
	case FZ_UNREGISTER:
	case FZ_MPROTECT:
	case FZ_MMAP:
	case FZ_MUNMAP:
	case FZ_MADVISE:
		m->pages[a].cuts |= 1U << first | 1U << end;
		break;
	case FZ_ZEROPAGE:
	case FZ_MOVE:
		/* At most (a fault writing the field back hides the count);
		 * MOVE may bring a zero page. */
		m->pages[a].zeroed |= mask;
		break;
	case FZ_WRITEPROTECT:
		if (op->mode & UFFDIO_WRITEPROTECT_MODE_WP)
			m->pages[a].wp |= mask;
		break;
	case FZ_COPY:
		/* MODE_WP leaves the pages it fills write-protected. */
		if (op->mode & UFFDIO_COPY_MODE_WP)
			m->pages[a].wp |= mask;
		break;
	}
	/* Even when it fails ENOMEM past the end, it empties what it met. */
	if (!m->started &&
	    (op->kind == FZ_MUNMAP ||
	     (op->kind == FZ_MADVISE && op->mode == MADV_DONTNEED)))
		m->pages[a].emptied_early = true;
	if (!ok)
		return;
	if (op->kind == FZ_MUNMAP ||
	    (op->kind == FZ_MADVISE && op->mode == MADV_DONTNEED))
		m->pages[a].zeroed &= ~mask;
}

static void model_pages(struct fz_model *m, const struct fz_op *op,
			const struct record *r)
{
	size_t k;
	int a;

	/* A page a thread read or wrote is populated: no longer a zero fill. */
	for (k = 0; op->kind == FZ_TOUCH && op->area <= AREA_C && k < r->n; k++)
		if (!strncmp(r->lines[k].value, "done", 4))
			m->pages[op->area].zeroed &= ~(1U << (op->off / PG));
	for (a = AREA_A; a <= AREA_C; a++)
		model_area(m, op, r, (enum fz_area)a);
}

void fz_model_update(struct fz_model *m, const struct fz_op *op,
		     const struct record *r)
{
	const char *v = rec_get(r, "new");
	size_t i;
	int k;

	if (v && !strcmp(v, "fd") &&
	    (op->kind == FZ_CREATE || op->kind == FZ_DEV_CREATE))
		m->started = true;
	if (v && !strcmp(v, "fd") && op->slot2 < FZ_UFFD_SLOTS) {
		m->open[op->slot2] = true;
		m->ready[op->slot2] = op->kind == FZ_DUP &&
				      op->slot < FZ_UFFD_SLOTS &&
				      m->ready[op->slot];
	}
	v = rec_get(r, "rv");
	if (op->slot < FZ_UFFD_SLOTS && v && !strcmp(v, "0")) {
		if (op->kind == FZ_CLOSE)
			m->open[op->slot] = m->ready[op->slot] = false;
		if (op->kind == FZ_API)
			m->ready[op->slot] = true;
	}
	for (i = 0; i < r->n; i++) {
		if (sscanf(r->lines[i].label, "T%d", &k) != 1 || k < 0 ||
		    k >= FZ_MAX_THREADS)
			continue;
		if (k >= m->n_threads) {
			m->n_threads = k + 1;
			m->threads[k].op_id = op->id;
			m->threads[k].addr = fz_addr(op->area, op->off);
			m->threads[k].how = (unsigned int)op->mode;
		}
		m->threads[k].blocked = !strcmp(r->lines[i].value, "blocked");
	}
	model_pages(m, op, r);
	if (op->area == AREA_B && v && !strcmp(v, "0")) {
		/* Sure of what a registration covered, not of the rest. */
		if (op->kind == FZ_REGISTER)
			m->b_registered |= b_pages(op->off, op->len);
		if (op->kind == FZ_UNREGISTER)
			m->b_holes = b_pages(op->off, op->len) != 0xff;
		if (op->kind == FZ_UNREGISTER && !m->b_holes)
			m->b_registered = 0;
	}
	if (op->kind == FZ_REGISTER && v && !strcmp(v, "0") &&
	    op->area <= AREA_C) {
		int slot = m->n_reg < 8 ? m->n_reg++ : (int)rnd(m, 8);

		m->reg[slot].area = op->area;
		m->reg[slot].off = op->off;
		m->reg[slot].len = op->len;
	}
}

struct fz_model *fz_model_new(uint64_t seed, bool device)
{
	struct fz_model *m = calloc(1, sizeof(*m));

	if (!m)
		abort();
	m->rng = seed;
	m->device = device;
	return m;
}

void fz_avoid_all(bool on)
{
	int i;

	for (i = 0; i < N_AVOID; i++)
		avoid[i].on = on;
}

bool fz_avoid_set(const char *name, bool on)
{
	int i;

	for (i = 0; i < N_AVOID; i++)
		if (!strcmp(avoid[i].name, name)) {
			avoid[i].on = on;
			return true;
		}
	return false;
}

void fz_avoid_print(FILE *f)
{
	int i;

	for (i = 0; i < N_AVOID; i++)
		if (avoid[i].on)
			fprintf(f, "uffdemu-fuzz: avoiding %s: %s\n",
				avoid[i].name, avoid[i].what);
}
