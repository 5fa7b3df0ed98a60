/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which page tables the kernel would have.  UFFDIO_MOVE without
 * ALLOW_SRC_HOLES fails ENOENT where the source has no page table, before
 * it looks at the destination, so the emulator must know where a table
 * exists even when no page in it holds an entry.  The kernel makes a table
 * when it first needs an entry in its 2 MiB (a fault, also one that blocks
 * or fails, a fill, a move, a write-protect marker) and keeps it, empty or
 * not, until the memory it maps is unmapped with no mapping left in those
 * 2 MiB, or a discard of at least 2 MiB leaves it empty (a kernel that
 * reclaims empty tables, as this one does).
 *
 * A table with entries shows in /proc/self/pagemap (the emulator's own
 * guards aside); one bit per 2 MiB of address space remembers the tables
 * that the kernel would keep once empty.  The bits are set on the fault
 * path too, with atomic operations only.
 * Limitation: a table whose pages were all discarded or unmapped before
 * the emulator started (before the first userfaultfd), or by calls that
 * do not go through it, is not known, and neither is a table the kernel
 * frees for reasons of its own (a huge page collapse, say): a move from
 * there fails ENOENT where the kernel fails EEXIST on the destination, or
 * the other way round.
 */
#include <stdatomic.h>

#include "mm/mm.h"

#define PMD_PAGES 512 /* pages one page table maps */
#define PMD_SIZE  (PMD_PAGES * PAGE_SIZE)
#define PMD_MASK  (~(PMD_SIZE - 1))
#define N_PMDS    (TASK_SIZE / PMD_SIZE + 1)

/* Zero-filled until used: only the pages of it that are written cost. */
static _Atomic uint64_t bits[N_PMDS / 64 + 1];

/* Safe in a signal handler. */
void tables_note(uintptr_t start, uintptr_t end)
{
	for (uintptr_t a = start & PMD_MASK; a < end && a < TASK_SIZE;
	     a += PMD_SIZE) {
		uintptr_t i = a / PMD_SIZE;

		atomic_fetch_or(&bits[i / 64], 1ULL << (i % 64));
	}
}

static bool noted(uintptr_t base)
{
	uintptr_t i = base / PMD_SIZE;

	return base < TASK_SIZE &&
	       (atomic_load(&bits[i / 64]) & (1ULL << (i % 64)));
}

static void drop(uintptr_t base)
{
	uintptr_t i = base / PMD_SIZE;

	if (base < TASK_SIZE)
		atomic_fetch_and(&bits[i / 64], ~(1ULL << (i % 64)));
}

/*
 * Whether some page of the table at base holds an entry the kernel would
 * have: 1, 0, or -1 before the emulator can tell.  Pages the emulator
 * keeps missing hold only its own guard.
 */
static int has_entries(uintptr_t base)
{
	static uint64_t pm[PMD_PAGES]; /* mm_lock held */

	if (install_pagemap(base, pm, PMD_PAGES))
		return -1;
	for (size_t i = 0; i < PMD_PAGES; i++) {
		uint32_t e = pagestate_get(base + i * PAGE_SIZE);

		if (e & (PS_PRESENT | PS_WP | PS_POISON))
			return 1;
		if ((e & PS_CTX_MASK) && (e & PS_MODE_MISSING))
			continue;
		if (pm[i])
			return 1;
	}
	return 0;
}

/* Whether the kernel would have no page table for addr.  mm_lock. */
bool tables_absent(uintptr_t addr)
{
	uintptr_t base = addr & PMD_MASK;

	if (noted(base))
		return false;
	if (has_entries(base) == 0)
		return true;
	tables_note(base, base + 1);
	return false;
}

/* Whether [start, end) leaves part of the 2 MiB at base out. */
static bool partly(uintptr_t base, uintptr_t start, uintptr_t end)
{
	return base < start || base + PMD_SIZE > end;
}

/*
 * [start, end) is about to be unmapped or discarded: its tables stay
 * known once empty.  Only the 2 MiB at either end need a look: those in
 * between go with their pages.  mm_lock.
 */
void tables_before_zap(uintptr_t start, uintptr_t end)
{
	uintptr_t first = start & PMD_MASK, last = (end - 1) & PMD_MASK;

	if (!noted(first) && has_entries(first) == 1)
		tables_note(first, first + 1);
	if (last != first && !noted(last) && has_entries(last) == 1)
		tables_note(last, last + 1);
}

/* Whether a mapping other than [start, end) meets the 2 MiB at base. */
static bool other_mapping(uintptr_t base, uintptr_t start, uintptr_t end)
{
	struct mm_vma v[64];
	int n = mm_vmas(base, base + PMD_SIZE, v, 64);

	if (n < 0 || n > 64)
		return true;
	for (int i = 0; i < n; i++)
		if (v[i].start < start || v[i].end > end)
			return true;
	return false;
}

/*
 * [start, end) was unmapped (or mapped over, when unmapped), or its pages
 * discarded: the tables the kernel frees then are forgotten.  mm_lock.
 */
void tables_after_zap(uintptr_t start, uintptr_t end, bool unmapped)
{
	if (!unmapped && end - start < PMD_SIZE)
		return;
	for (uintptr_t a = start & PMD_MASK; a < end && a < TASK_SIZE;
	     a += PMD_SIZE) {
		if (!partly(a, start, end) ||
		    (unmapped ? !other_mapping(a, start, end)
			      : has_entries(a) == 0))
			drop(a);
	}
}
