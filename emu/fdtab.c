/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which descriptor numbers are emulated userfaultfds: two array lookups,
 * no lock, so every interposed call can ask cheaply.
 */
#include <errno.h>
#include <stdatomic.h>
#include <sys/mman.h>

#include "emu/emu.h"

#define CHUNK_SHIFT 10
#define CHUNK_SIZE  (1 << CHUNK_SHIFT)
#define CHUNKS      1024 /* descriptors below 2^20 */

#define TAG_UFFD   1UL
#define TAG_DEV    2UL
#define TAG_REMOTE 3UL
#define TAG_MASK   3UL

static _Atomic(_Atomic uintptr_t *) chunks[CHUNKS];

static _Atomic uintptr_t *slot_of(int fd, bool create)
{
	_Atomic uintptr_t *chunk, *fresh;
	unsigned int c = (unsigned int)fd >> CHUNK_SHIFT;

	if (fd < 0 || c >= CHUNKS)
		return NULL;
	chunk = atomic_load_explicit(&chunks[c], memory_order_acquire);
	if (!chunk && create) {
		fresh = mmap(NULL, CHUNK_SIZE * sizeof(uintptr_t),
			     PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (fresh == MAP_FAILED)
			return NULL;
		chunk = NULL;
		if (!atomic_compare_exchange_strong(&chunks[c], &chunk, fresh))
			munmap(fresh, CHUNK_SIZE * sizeof(uintptr_t));
		else
			chunk = fresh;
	}
	return chunk ? &chunk[fd & (CHUNK_SIZE - 1)] : NULL;
}

bool fdtab_get(int fd, struct fd_entry *out)
{
	_Atomic uintptr_t *s = slot_of(fd, false);
	uintptr_t v = s ? atomic_load_explicit(s, memory_order_acquire) : 0;

	static const enum fd_kind kinds[] = {FD_NONE, FD_UFFD, FD_DEV,
					     FD_REMOTE};

	out->kind = kinds[v & TAG_MASK];
	out->ctx = out->kind == FD_UFFD ? (struct uffd_ctx *)(v & ~TAG_MASK)
					: NULL;
	out->remote = out->kind == FD_REMOTE ? (struct remote *)(v & ~TAG_MASK)
					     : NULL;
	return out->kind != FD_NONE;
}

int fdtab_set(int fd, enum fd_kind kind, void *obj)
{
	static const uintptr_t tags[] = {[FD_UFFD] = TAG_UFFD,
					 [FD_DEV] = TAG_DEV,
					 [FD_REMOTE] = TAG_REMOTE};
	_Atomic uintptr_t *s = slot_of(fd, true);

	if (!s)
		return -EMFILE;
	atomic_store_explicit(s, (uintptr_t)obj | tags[kind],
			      memory_order_release);
	return 0;
}

void fdtab_clear(int fd)
{
	_Atomic uintptr_t *s = slot_of(fd, false);

	if (s)
		atomic_store_explicit(s, 0, memory_order_release);
}

void fdtab_for_each(void (*fn)(int fd, struct fd_entry *e, void *arg),
		    void *arg)
{
	for (int c = 0; c < CHUNKS; c++) {
		_Atomic uintptr_t *chunk = atomic_load(&chunks[c]);

		if (!chunk)
			continue;
		for (int i = 0; i < CHUNK_SIZE; i++) {
			struct fd_entry e;
			int fd = c * CHUNK_SIZE + i;

			if (fdtab_get(fd, &e))
				fn(fd, &e, arg);
		}
	}
}
