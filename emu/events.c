/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Non-cooperative events: UFFD_EVENT_REMOVE, UNMAP and REMAP.
 *
 * As on the kernel an event has two phases.  It is prepared while the
 * memory operation holds mm_lock: the context's mmap_changing goes up, so
 * its resolving ioctls fail EAGAIN from then on.  It is delivered after
 * mm_lock is dropped: the message is queued and the thread that did the
 * operation waits until the monitor reads it.
 */
#include <string.h>

#include "emu/emu.h"
#include "mm/mm.h"

/* Prepares one event for the context in slot, if it asked for feature. */
static void prepare(struct event_batch *b, unsigned int slot, uint64_t feature,
		    uint8_t type, uint64_t a1, uint64_t a2, uint64_t a3)
{
	struct uffd_ctx *ctx;
	struct uffd_msg *m;
	sigset_t saved;

	if (b->n == EVENT_BATCH)
		return;
	wq_lock(&saved);
	ctx = ctx_by_slot(slot);
	if (!ctx || ctx->foreign || !(ctx->features & feature) ||
	    atomic_load(&ctx->state) != CTX_READY) {
		wq_unlock(&saved);
		return;
	}
	atomic_fetch_add(&ctx->mem_refs, 1);
	atomic_fetch_add(&ctx->mmap_changing, 1);
	wq_unlock(&saved);

	m = &b->ev[b->n].msg;
	memset(m, 0, sizeof(*m));
	m->event = type;
	if (type == UFFD_EVENT_REMAP) {
		m->arg.remap.from = a1;
		m->arg.remap.to = a2;
		m->arg.remap.len = a3;
	} else {
		m->arg.remove.start = a1;
		m->arg.remove.end = a2;
	}
	b->ev[b->n].ctx = ctx;
	b->n++;
}

/* The contexts owning registered pages in [start, end), each once. */
int events_owners(uintptr_t start, uintptr_t end, unsigned int *slots, int max)
{
	struct mm_reg r;
	int n = 0;

	for (uintptr_t a = start; reg_next(a, end, 0, &r); a = r.end) {
		bool seen = false;

		for (int i = 0; i < n; i++)
			seen |= slots[i] == r.slot;
		if (!seen && n < max)
			slots[n++] = r.slot;
	}
	return n;
}

/* UNMAP of [start, end) for each owner: the whole range, once per context. */
void events_unmap(struct event_batch *b, const unsigned int *slots, int n,
		  uintptr_t start, uintptr_t end)
{
	for (int i = 0; i < n; i++)
		prepare(b, slots[i], UFFD_FEATURE_EVENT_UNMAP, UFFD_EVENT_UNMAP,
			start, end, 0);
}

void events_remap(struct event_batch *b, const unsigned int *slots, int n,
		  uintptr_t from, uintptr_t to, uint64_t len)
{
	for (int i = 0; i < n; i++)
		prepare(b, slots[i], UFFD_FEATURE_EVENT_REMAP, UFFD_EVENT_REMAP,
			from, to, len);
}

/*
 * REMOVE for a discard of [start, end): one per registered VMA, clipped to
 * it.  A VMA is where owner, modes and protection agree.
 */
void events_remove(struct event_batch *b, uintptr_t start, uintptr_t end)
{
	const uint32_t same = PS_CTX_MASK | PS_MODES | PS_PROTS;
	struct mm_reg r;

	for (uintptr_t a = start; reg_next(a, end, 0, &r); a = r.end) {
		uintptr_t s = r.start;

		while (s < r.end) {
			uint32_t e = pagestate_get(s) & same;
			uintptr_t t = s + PAGE_SIZE;

			while (t < r.end && (pagestate_get(t) & same) == e)
				t += PAGE_SIZE;
			prepare(b, r.slot, UFFD_FEATURE_EVENT_REMOVE,
				UFFD_EVENT_REMOVE, s, t, 0);
			s = t;
		}
	}
}

/* Delivers the prepared events in order, each waited for.  No mm_lock. */
void events_deliver(struct event_batch *b)
{
	for (int i = 0; i < b->n; i++) {
		msgq_event(b->ev[i].ctx, &b->ev[i].msg);
		ctx_mem_put(b->ev[i].ctx);
	}
	b->n = 0;
}

/* Whether the context in slot keeps its registration across a move. */
bool events_keep_on_remap(unsigned int slot)
{
	struct uffd_ctx *ctx = ctx_by_slot(slot);

	return ctx && (ctx->features & UFFD_FEATURE_EVENT_REMAP);
}
