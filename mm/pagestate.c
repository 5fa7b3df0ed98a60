/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The page-state table: one 32-bit entry per page of the address space,
 * in leaves of 1 GiB of address space each, allocated when memory in them
 * is first registered and never moved, so the fault handler can read an
 * entry with two loads and no lock.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#include "mm/mm.h"

#define ADDR_BITS  48
#define LEAF_SHIFT 18 /* pages per leaf: 2^18, 1 GiB of addresses */
#define LEAF_PAGES (1UL << LEAF_SHIFT)
#define TOP_SIZE   (1UL << (ADDR_BITS - PAGE_SHIFT - LEAF_SHIFT))

static _Atomic(uint32_t *) top[TOP_SIZE];

static uint32_t *leaf_for(uintptr_t addr)
{
	uintptr_t page = addr >> PAGE_SHIFT;

	if (page >> LEAF_SHIFT >= TOP_SIZE)
		return NULL;
	return atomic_load_explicit(&top[page >> LEAF_SHIFT],
				    memory_order_acquire);
}

/* Makes sure every page of [start, start + len) has an entry.  mm_lock. */
int pagestate_reserve(uintptr_t start, size_t len)
{
	for (uintptr_t a = start; a - start < len;
	     a = (a | ((LEAF_PAGES << PAGE_SHIFT) - 1)) + 1) {
		uintptr_t i = a >> PAGE_SHIFT >> LEAF_SHIFT;
		void *leaf;

		if (i >= TOP_SIZE)
			return -EINVAL;
		if (atomic_load_explicit(&top[i], memory_order_relaxed))
			continue;
		leaf = mmap(NULL, LEAF_PAGES * sizeof(uint32_t),
			    PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (leaf == MAP_FAILED)
			return -ENOMEM;
		atomic_store_explicit(&top[i], leaf, memory_order_release);
	}
	return 0;
}

/* Safe in a signal handler. */
uint32_t pagestate_get(uintptr_t addr)
{
	uint32_t *leaf = leaf_for(addr);

	if (!leaf)
		return 0;
	return atomic_load_explicit(
		(_Atomic uint32_t *)&leaf[(addr >> PAGE_SHIFT) &
					  (LEAF_PAGES - 1)],
		memory_order_acquire);
}

/* The page must have been reserved. */
void pagestate_set(uintptr_t addr, uint32_t entry)
{
	uint32_t *leaf = leaf_for(addr);

	atomic_store_explicit((_Atomic uint32_t *)&leaf[(addr >> PAGE_SHIFT) &
							(LEAF_PAGES - 1)],
			      entry, memory_order_release);
}

/* Replaces the entry if it is still old; safe in a signal handler. */
bool pagestate_cas(uintptr_t addr, uint32_t old, uint32_t entry)
{
	uint32_t *leaf = leaf_for(addr);

	if (!leaf)
		return false;
	return atomic_compare_exchange_strong_explicit(
		(_Atomic uint32_t *)&leaf[(addr >> PAGE_SHIFT) &
					  (LEAF_PAGES - 1)],
		&old, entry, memory_order_acq_rel, memory_order_acquire);
}

/*
 * pagestate_cas() for every entry of the page of size bytes at page (a
 * huge page has one per PAGE_SIZE): the first decides, the others follow.
 */
bool pagestate_cas_page(uintptr_t page, size_t size, uint32_t old,
			uint32_t entry)
{
	if (!pagestate_cas(page, old, entry))
		return false;
	for (size_t off = PAGE_SIZE; off < size; off += PAGE_SIZE)
		pagestate_cas(page + off, old, entry);
	return true;
}

/*
 * Forgets [start, start + len) and gives the table's own memory for it back
 * to the system where whole pages of entries became zero.
 */
void pagestate_release(uintptr_t start, size_t len)
{
	const uintptr_t per_page = PAGE_SIZE / sizeof(uint32_t);
	uintptr_t first = start >> PAGE_SHIFT;
	uintptr_t last = first + (len >> PAGE_SHIFT);

	for (uintptr_t p = first; p < last; p++) {
		uint32_t *leaf = leaf_for(p << PAGE_SHIFT);
		uint32_t *e;

		if (!leaf) {
			p |= LEAF_PAGES - 1;
			continue;
		}
		e = &leaf[p & (LEAF_PAGES - 1)];
		if (p % per_page == 0 && last - p >= per_page) {
			madvise(e, PAGE_SIZE, MADV_DONTNEED);
			p += per_page - 1;
			continue;
		}
		atomic_store_explicit((_Atomic uint32_t *)e, 0,
				      memory_order_release);
	}
}
