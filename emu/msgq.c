/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Threads blocked in userfaults, the message queue behind read(), and the
 * readiness that poll() sees.
 *
 * The waiter lock guards every context's lists.  It is a spinlock held for
 * a few instructions; whoever holds it has every signal blocked and touches
 * no user memory, so a thread cannot fault or be interrupted into the fault
 * handler while holding it, and the fault handler may take it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ  22
#define MADV_POPULATE_WRITE 23
#endif

#include "emu/emu.h"
#include "mm/mm.h"

#define WAITER_POOL 8192

/*
 * Waking a thread that sleeps on another CPU costs tens of microseconds,
 * far more than the rest of a round trip.  When the two ends of a hand-off
 * run on different CPUs, each end first spins this long on the shared
 * word before it sleeps.  On one CPU spinning would only delay the other
 * end, so it does not spin there.
 */
#define SPIN_NS 100000L

static atomic_flag wq = ATOMIC_FLAG_INIT;
static struct waiter pool[WAITER_POOL];
static struct waiter *free_waiters;
static unsigned int pool_used; /* never-used waiters start here */

/*
 * Threads inside emu_fault().  A resolving ioctl that finds none after
 * publishing its pages has nobody to wake and skips the waiter lock: a
 * fault that starts later sees the published state (both sides order
 * this count against the page state with sequential consistency).
 */
static _Atomic int faulting;

static long futex(_Atomic uint32_t *word, int op, uint32_t val,
		  const struct timespec *timeout)
{
	return syscall(SYS_futex, word, op, val, timeout, NULL, 0);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

static long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000L + t.tv_nsec;
}

/* Whether the other end last ran on another CPU.  Safe in a handler. */
static bool other_cpu(_Atomic int *where)
{
	static int cpus;
	int other = atomic_load_explicit(where, memory_order_relaxed);

	if (!cpus)
		cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	return cpus > 1 && other >= 0 && other != sched_getcpu();
}

/* Spins until *word is nonzero or SPIN_NS pass.  Returns its value. */
static uint32_t spin_on(_Atomic uint32_t *word)
{
	long deadline = now_ns() + SPIN_NS;

	for (;;) {
		for (int i = 0; i < 64; i++) {
			uint32_t v = atomic_load(word);

			if (v)
				return v;
			cpu_relax();
		}
		if (now_ns() > deadline)
			return 0;
	}
}

void wq_lock_in_handler(void)
{
	while (atomic_flag_test_and_set_explicit(&wq, memory_order_acquire))
		sched_yield();
}

void wq_unlock_in_handler(void)
{
	atomic_flag_clear_explicit(&wq, memory_order_release);
}

void wq_lock(sigset_t *saved)
{
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, saved);
	wq_lock_in_handler();
}

void wq_unlock(const sigset_t *saved)
{
	wq_unlock_in_handler();
	pthread_sigmask(SIG_SETMASK, saved, NULL);
}

void emu_faults_lock(sigset_t *saved)
{
	wq_lock(saved);
}

void emu_faults_unlock(const sigset_t *saved)
{
	wq_unlock(saved);
}

static void list_append(struct waiter_list *l, struct waiter *w)
{
	w->next = NULL;
	w->prev = l->tail;
	if (l->tail)
		l->tail->next = w;
	else
		l->head = w;
	l->tail = w;
}

static void list_remove(struct waiter_list *l, struct waiter *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		l->head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		l->tail = w->prev;
	w->next = w->prev = NULL;
}

/* Waiter lock held. */
static struct waiter *waiter_alloc(void)
{
	struct waiter *w;

	w = free_waiters;
	if (w)
		free_waiters = w->next;
	else if (pool_used < WAITER_POOL)
		w = &pool[pool_used++];
	return w;
}

static void waiter_free(struct waiter *w)
{
	w->ctx = NULL;
	w->next = free_waiters;
	free_waiters = w;
}

static bool ctx_ready(const struct uffd_ctx *ctx)
{
	int state = atomic_load(&ctx->state);

	if (state == CTX_RELEASED)
		return false;
	return state == CTX_NEW || !ctx->nonblock ||
	       ctx->pending + ctx->pending_events > 0;
}

/*
 * Sets the readiness of the context's descriptor.  Each newly queued
 * message raises it once more, so an edge-triggered epoll sees one edge per
 * message as on the kernel.  Waiter lock held.
 */
static void set_ready(struct uffd_ctx *ctx, bool new_message)
{
	bool ready = ctx_ready(ctx);
	bool unread = atomic_load(&ctx->state) != CTX_RELEASED &&
		      ctx->pending + ctx->pending_events > 0;
	uint64_t v = 1;

	if (ctx->foreign)
		return;
	if (ctx->msgfd >= 0 && unread != ctx->msg_level) {
		uint64_t level = 1;
		ssize_t n = unread ? write(ctx->msgfd, &level, sizeof(level))
				   : read(ctx->msgfd, &level, sizeof(level));

		if (n == sizeof(level))
			ctx->msg_level = unread;
	}
	if (ready && (!ctx->ready_level || new_message)) {
		if (write(ctx->evfd, &v, sizeof(v)) < 0)
			return;
	} else if (!ready && ctx->ready_level) {
		if (read(ctx->evfd, &v, sizeof(v)) < 0)
			return;
	}
	ctx->ready_level = ready;
}

void msgq_update_ready(struct uffd_ctx *ctx)
{
	sigset_t saved;

	wq_lock(&saved);
	set_ready(ctx, false);
	wq_unlock(&saved);
}

void msgq_set_nonblock(struct uffd_ctx *ctx, bool nonblock)
{
	sigset_t saved;

	if (__atomic_load_n(&ctx->nonblock, __ATOMIC_RELAXED) == nonblock)
		return;
	wq_lock(&saved);
	if (ctx->nonblock != nonblock) {
		ctx->nonblock = nonblock;
		set_ready(ctx, false);
	}
	wq_unlock(&saved);
}

/*
 * The end of UFFDIO_API: of two racing calls exactly one moves the context
 * from NEW to READY with its features.
 */
bool msgq_initialize(struct uffd_ctx *ctx, uint64_t features)
{
	sigset_t saved;
	bool won;

	wq_lock(&saved);
	won = atomic_load(&ctx->state) == CTX_NEW;
	if (won) {
		ctx->features = features;
		atomic_store(&ctx->state, CTX_READY);
		set_ready(ctx, false);
	}
	wq_unlock(&saved);
	return won;
}

/*
 * fdinfo's lines: unread messages, all blocked faulters, and the API
 * version, the enabled features (bit 31 once initialized) and the ioctls.
 */
int msgq_fdinfo(struct uffd_ctx *ctx, char *buf, size_t len)
{
	unsigned long pending, total = 0;
	uint64_t features = 0;
	sigset_t saved;
	int n;

	wq_lock(&saved);
	pending = ctx->pending;
	for (struct waiter *w = ctx->unread.head; w; w = w->next)
		total++;
	for (struct waiter *w = ctx->read.head; w; w = w->next)
		total++;
	if (atomic_load(&ctx->state) != CTX_NEW)
		features = ctx->features | UFFD_INTERNAL_INITIALIZED;
	wq_unlock(&saved);
	n = snprintf(
		buf, len, "pending:\t%lu\ntotal:\t%lu\nAPI:\t%llx:%llx:%llx\n",
		pending, total, (unsigned long long)UFFD_API,
		(unsigned long long)features,
		(unsigned long long)(UFFDEMU_API_IOCTLS | EMU_RANGE_IOCTLS));
	return n < 0 ? -EINVAL : n;
}

/* A snapshot, as a poll() result is. */
short msgq_poll_events(struct uffd_ctx *ctx)
{
	unsigned long pending =
		__atomic_load_n(&ctx->pending, __ATOMIC_ACQUIRE) +
		__atomic_load_n(&ctx->pending_events, __ATOMIC_ACQUIRE);

	if (atomic_load(&ctx->state) == CTX_NEW ||
	    !__atomic_load_n(&ctx->nonblock, __ATOMIC_RELAXED))
		return POLLERR;
	return pending ? POLLIN : 0;
}

/*
 * For a poller with nothing to report yet: when the last fault came from
 * another CPU, watch for a message a little before sleeping in poll().
 */
bool msgq_spin_until_ready(struct uffd_ctx *ctx)
{
	long deadline;

	atomic_store_explicit(&ctx->reader_cpu, sched_getcpu(),
			      memory_order_relaxed);
	if (!other_cpu(&ctx->fault_cpu))
		return false;
	deadline = now_ns() + SPIN_NS;
	while (now_ns() < deadline) {
		for (int i = 0; i < 64; i++) {
			if (msgq_poll_events(ctx))
				return true;
			cpu_relax();
		}
	}
	return false;
}

static pid_t current_tid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* A fault in hugetlb memory reports the huge page's address. */
static void fill_message(struct waiter *w, const struct uffd_ctx *ctx,
			 uintptr_t addr, uint32_t entry, bool write,
			 enum fault_kind kind)
{
	memset(&w->msg, 0, sizeof(w->msg));
	w->msg.event = UFFD_EVENT_PAGEFAULT;
	w->address = ctx->features & UFFD_FEATURE_EXACT_ADDRESS
			     ? addr
			     : ps_page(entry, addr);
	w->msg.arg.pagefault.address = w->address;
	w->msg.arg.pagefault.flags =
		(write ? UFFD_PAGEFAULT_FLAG_WRITE : 0) |
		(kind == FAULT_WP ? UFFD_PAGEFAULT_FLAG_WP : 0) |
		(kind == FAULT_MINOR ? UFFD_PAGEFAULT_FLAG_MINOR : 0);
	if (ctx->features & UFFD_FEATURE_THREAD_ID)
		w->msg.arg.pagefault.feat.ptid = (__u32)current_tid();
}

/*
 * Sleeps until a wake covers the waiter's address.  Returns false when a
 * signal handler ran in between: like the kernel, the thread then goes
 * back to the access, which faults again with a fresh message.  A timed
 * wait is used because the kernel never restarts it after a handler, even
 * one installed with SA_RESTART.
 */
static bool sleep_until_woken(struct waiter *w, const ucontext_t *uc)
{
	const struct timespec tick = {3600, 0};
	sigset_t all;
	bool woken = true;

	if (other_cpu(&w->ctx->reader_cpu) && spin_on(&w->woken))
		return true;
	atomic_store(&w->sleeping, 1);
	pthread_sigmask(SIG_SETMASK, &uc->uc_sigmask, NULL);
	while (!atomic_load(&w->woken)) {
		if (futex(&w->woken, FUTEX_WAIT_PRIVATE, 0, &tick) < 0 &&
		    errno == EINTR) {
			woken = atomic_load(&w->woken);
			break;
		}
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, NULL);
	return woken;
}

/*
 * The userfault itself, called by the SIGSEGV handler with every signal
 * blocked.  Async-signal-safe: the waiter comes from the pool, the only
 * lock is the waiter lock, the rest is system calls.
 */
static bool still_faulting(uint32_t entry, enum fault_kind kind)
{
	if (entry & PS_BUSY)
		return false;
	switch (kind) {
	case FAULT_WP:
		return (entry & (PS_WP | PS_MODE_WP)) == (PS_WP | PS_MODE_WP);
	case FAULT_MINOR:
		return (entry & PS_MODE_MINOR) && ps_hidden(entry);
	case FAULT_MISSING:
		return (entry & PS_MODE_MISSING) && ps_hidden(entry);
	}
	return false;
}

static bool fault_wait(uintptr_t addr, bool write, enum fault_kind kind,
		       ucontext_t *uc);

/*
 * UFFD_FEATURE_WP_ASYNC: a write to a write-protected page is resolved on
 * the spot, as the kernel does it, with no message and no sleep: the page
 * gets its write access back and loses its WP mark, and the access runs
 * again.  Waiter lock held, so a WRITEPROTECT that protects the page again
 * (it sets marks and protections under the same lock) comes wholly before
 * or wholly after.  Should the entry change meanwhile through another path,
 * the page gets the protection the new entry wants.
 * Limitation: this costs a signal and an mprotect() of the page, where the
 * kernel resolves the fault in its page-fault handler.
 */
static void resolve_async(uintptr_t addr, uint32_t entry)
{
	uintptr_t page = ps_page(entry, addr);
	size_t size = ps_page_size(entry);
	uint32_t now;

	if (mprotect((void *)page, size, (int)page_prot(entry & ~PS_WP)) != 0) {
		/* Out of memory regions: let the access try again. */
		sched_yield();
		return;
	}
	if (pagestate_cas_page(page, size, entry, entry & ~PS_WP))
		return;
	now = pagestate_get(page);
	if (now & PS_CTX_MASK)
		mprotect((void *)page, size, (int)page_prot(now));
}

bool emu_fault(uintptr_t addr, bool write, enum fault_kind kind, void *ucontext)
{
	bool taken;

	atomic_fetch_add(&faulting, 1);
	taken = fault_wait(addr, write, kind, ucontext);
	atomic_fetch_sub(&faulting, 1);
	return taken;
}

/*
 * Under the waiter lock, so that a page is mapped only while its entry
 * still says hidden: a discard or a fill of the page comes before or after.
 * Around a fault, a page with a write-protect marker is not empty to the
 * kernel and stays as it is.
 */
void emu_fault_map(uintptr_t start, uintptr_t end, const unsigned char *cached,
		   uint32_t want, bool around, bool write)
{
	const uint32_t same = PS_CTX_MASK | PS_MODES | PS_PROTS | PS_KIND;
	const uint32_t skip = PS_BUSY | PS_POISON | (around ? PS_WP : 0);

	wq_lock_in_handler();
	for (uintptr_t page = start; page < end; page += PAGE_SIZE) {
		uint32_t e = pagestate_get(page);

		if (!(cached[(page - start) >> PAGE_SHIFT] & 1) ||
		    (e & same) != want || !ps_hidden(e) || (e & skip))
			continue;
		if (install_unhide(page, PAGE_SIZE,
				   page_prot(e & ~PS_HIDDEN_PROT),
				   e & PS_HIDDEN_PROT) != 0)
			continue;
		pagestate_set(page, (e | PS_PRESENT) & ~PS_HIDDEN_PROT);
		/* In a MAP_PRIVATE mapping the write makes its private copy. */
		if (write && (e & PS_COW))
			continue;
		/*
		 * Mapped now, by a write where the page may be written: the
		 * system's read fault would map the unregistered neighbours
		 * of the real mapping too (fault-around), where the kernel's
		 * registered mapping ends at the registration.
		 * A MAP_PRIVATE mapping is mapped by a read, which maps the
		 * file's page and makes no private copy.
		 * Limitation: a read-only mapping, and a MAP_PRIVATE one, is
		 * mapped by a read, so the system may map unregistered
		 * neighbours around it.
		 */
		madvise((void *)page, PAGE_SIZE,
			(page_prot(e) & PROT_WRITE) && !(e & PS_COW)
				? MADV_POPULATE_WRITE
				: MADV_POPULATE_READ);
	}
	wq_unlock_in_handler();
}

/*
 * emu_fault_map() for a hidden huge page of hugetlb memory: opened, and
 * the access that runs again maps it (the file's page, or a new one; in a
 * MAP_PRIVATE mapping a write makes the private copy).
 */
void emu_fault_map_huge(uintptr_t page, uint32_t want)
{
	const uint32_t same = PS_CTX_MASK | PS_MODES | PS_PROTS | PS_KIND;
	uint32_t e;

	wq_lock_in_handler();
	e = pagestate_get(page);
	if ((e & same) == want && ps_hidden(e) &&
	    !(e & (PS_BUSY | PS_POISON)) &&
	    install_unhide(page, ps_page_size(e),
			   page_prot(e & ~PS_HIDDEN_PROT),
			   e & PS_HIDDEN_PROT) == 0)
		for (uintptr_t a = page; a < page + ps_page_size(e);
		     a += PAGE_SIZE)
			pagestate_set(a, (e | PS_PRESENT |
					  (e & PS_SHARED ? PS_IN_FILE : 0)) &
						 ~PS_HIDDEN_PROT);
	wq_unlock_in_handler();
}

static bool fault_wait(uintptr_t addr, bool write, enum fault_kind kind,
		       ucontext_t *uc)
{
	struct uffd_ctx *ctx;
	struct waiter *w;
	uint32_t entry;

	wq_lock_in_handler();
	entry = pagestate_get(addr);
	ctx = ctx_by_slot(entry & PS_CTX_MASK);
	if (!ctx || !still_faulting(entry, kind) ||
	    atomic_load(&ctx->state) == CTX_RELEASED) {
		/* Resolved, unregistered or being released meanwhile. */
		wq_unlock_in_handler();
		return true;
	}
	if (kind == FAULT_WP && (ctx->features & UFFD_FEATURE_WP_ASYNC)) {
		resolve_async(addr, entry);
		wq_unlock_in_handler();
		return true;
	}
	if (ctx->features & UFFD_FEATURE_SIGBUS) {
		wq_unlock_in_handler();
		/* UFFD_FEATURE_SIGBUS: fail instead of waiting. */
		fault_raise_sigbus(addr, uc, BUS_ADRERR, 0);
		return true;
	}
	w = waiter_alloc();
	if (!w) {
		wq_unlock_in_handler();
		sched_yield();
		return true;
	}
	w->ctx = ctx;
	atomic_store(&w->woken, 0);
	atomic_store(&w->sleeping, 0);
	fill_message(w, ctx, addr, entry, write, kind);
	if (trace_enabled())
		trace_fault(w->address, w->msg.arg.pagefault.flags, ctx->slot);
	w->unread = true;
	list_append(&ctx->unread, w);
	ctx->pending++;
	atomic_fetch_add(&ctx->mem_refs, 1);
	atomic_fetch_add(&ctx->msg_seq, 1);
	set_ready(ctx, true);
	atomic_store_explicit(&ctx->fault_cpu, sched_getcpu(),
			      memory_order_relaxed);
	wq_unlock_in_handler();
	if (atomic_load(&ctx->readers_waiting))
		futex(&ctx->msg_seq, FUTEX_WAKE_PRIVATE, INT_MAX, NULL);

	if (!sleep_until_woken(w, uc)) {
		wq_lock_in_handler();
		if (!atomic_load(&w->woken)) {
			list_remove(w->unread ? &ctx->unread : &ctx->read, w);
			if (w->unread)
				ctx->pending--;
			set_ready(ctx, false);
		}
		wq_unlock_in_handler();
	}
	wq_lock_in_handler();
	waiter_free(w);
	wq_unlock_in_handler();
	ctx_mem_put(ctx);
	return true;
}

/*
 * Sleepers to wake once the waiter lock is dropped: a thread woken while
 * the waker holds it would only run into the lock.  A word whose waiter
 * was freed and reused meanwhile gets a spurious wake-up, which its new
 * owner tolerates.
 */
struct wake_batch {
	int n;
	_Atomic uint32_t *word[64];
};

static void wake_flush(struct wake_batch *b)
{
	for (int i = 0; i < b->n; i++)
		futex(b->word[i], FUTEX_WAKE_PRIVATE, 1, NULL);
	b->n = 0;
}

/* Waiter lock held. */
static void wake_one(struct uffd_ctx *ctx, struct waiter *w,
		     struct wake_batch *b)
{
	list_remove(w->unread ? &ctx->unread : &ctx->read, w);
	if (w->unread)
		ctx->pending--;
	w->unread = false;
	atomic_store(&w->woken, 1);
	/* A waiter still spinning sees the word; only a sleeper needs the
	 * system call. */
	if (!atomic_load(&w->sleeping))
		return;
	if (b->n == 64)
		futex(&w->woken, FUTEX_WAKE_PRIVATE, 1, NULL);
	else
		b->word[b->n++] = &w->woken;
}

static unsigned int wake_list(struct uffd_ctx *ctx, struct waiter *w,
			      uint64_t start, uint64_t len,
			      struct wake_batch *b)
{
	unsigned int n = 0;

	while (w) {
		struct waiter *next = w->next;

		if (w->address >= start && w->address - start < len) {
			wake_one(ctx, w, b);
			n++;
		}
		w = next;
	}
	return n;
}

/* Waiter lock held. */
static void wake_locked(struct uffd_ctx *ctx, uint64_t start, uint64_t len,
			struct wake_batch *b)
{
	unsigned int n = wake_list(ctx, ctx->unread.head, start, len, b);

	n += wake_list(ctx, ctx->read.head, start, len, b);
	set_ready(ctx, false);
	if (n && trace_enabled())
		trace_wake(start, len, n);
}

/*
 * Wakes every thread of ctx blocked on an address in [start, start + len),
 * whether its message was read or not; an unread message is withdrawn.
 */
void msgq_wake_range(struct uffd_ctx *ctx, uint64_t start, uint64_t len)
{
	struct wake_batch b = {0};
	sigset_t saved;

	wq_lock(&saved);
	wake_locked(ctx, start, len, &b);
	wq_unlock(&saved);
	wake_flush(&b);
}

/*
 * Makes new page states visible to faulting threads and, with wake, wakes
 * the threads blocked on those pages, in one step: a fault either sees the
 * new state or was queued before the wake-up.
 */
void msgq_publish(struct uffd_ctx *ctx, uintptr_t start, uintptr_t end,
		  uint32_t set, uint32_t clear, bool wake)
{
	struct wake_batch b = {0};
	sigset_t saved;

	mm_update(start, end, set, clear);
	atomic_thread_fence(memory_order_seq_cst);
	if (!atomic_load(&faulting))
		return;
	wq_lock(&saved);
	if (wake)
		wake_locked(ctx, start, end - start, &b);
	wq_unlock(&saved);
	wake_flush(&b);
}

/* Release: every faulting thread resumes, every event is dropped. */
void msgq_wake_all(struct uffd_ctx *ctx)
{
	sigset_t saved;

	msgq_wake_range(ctx, 0, UINT64_MAX);
	wq_lock(&saved);
	while (ctx->events.head) {
		struct waiter *w = ctx->events.head;

		list_remove(&ctx->events, w);
		w->unread = true; /* dropped, for msgq_event() */
		atomic_store(&w->woken, 1);
		futex(&w->woken, FUTEX_WAKE_PRIVATE, 1, NULL);
	}
	ctx->pending_events = 0;
	wq_unlock(&saved);
}

/*
 * Delivers a non-cooperative event and waits until the monitor has read
 * it, as the kernel makes the thread that changed the memory wait.  The
 * caller raised mmap_changing when it prepared the event; it drops here,
 * once the thread resumes.  Only a fatal signal ends the wait on the
 * kernel, so every signal stays blocked meanwhile.  A released context
 * takes no event.  Returns whether a reader took it.
 */
bool msgq_event(struct uffd_ctx *ctx, const struct uffd_msg *msg)
{
	sigset_t saved, all;
	struct waiter *w = NULL;
	bool taken = false;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &saved);
	for (;;) {
		wq_lock_in_handler();
		if (atomic_load(&ctx->state) == CTX_RELEASED ||
		    (w = waiter_alloc()))
			break;
		wq_unlock_in_handler();
		sched_yield();
	}
	if (w) {
		w->ctx = ctx;
		w->event = true;
		w->unread = false;
		w->msg = *msg;
		atomic_store(&w->woken, 0);
		list_append(&ctx->events, w);
		ctx->pending_events++;
		atomic_fetch_add(&ctx->msg_seq, 1);
		set_ready(ctx, true);
	}
	wq_unlock_in_handler();
	if (w) {
		if (atomic_load(&ctx->readers_waiting))
			futex(&ctx->msg_seq, FUTEX_WAKE_PRIVATE, INT_MAX, NULL);
		while (!atomic_load(&w->woken))
			futex(&w->woken, FUTEX_WAIT_PRIVATE, 0, NULL);
		wq_lock_in_handler();
		taken = !w->unread;
		w->event = false;
		waiter_free(w);
		wq_unlock_in_handler();
	}
	atomic_fetch_sub(&ctx->mmap_changing, 1);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	return taken;
}

/* Takes the oldest unread message, or returns false. */
static bool take_message(struct uffd_ctx *ctx, struct uffd_msg *msg,
			 uint32_t *seq)
{
	struct waiter *w;
	sigset_t saved;

	wq_lock(&saved);
	w = ctx->unread.head;
	if (w) {
		list_remove(&ctx->unread, w);
		list_append(&ctx->read, w);
		w->unread = false;
		ctx->pending--;
		*msg = w->msg;
		set_ready(ctx, false);
	} else if ((w = ctx->events.head)) {
		/* Faults first, then events; reading one lets its raiser
		 * go on. */
		list_remove(&ctx->events, w);
		ctx->pending_events--;
		*msg = w->msg;
		atomic_store(&w->woken, 1);
		futex(&w->woken, FUTEX_WAKE_PRIVATE, 1, NULL);
		set_ready(ctx, false);
	}
	*seq = atomic_load(&ctx->msg_seq);
	wq_unlock(&saved);
	atomic_store_explicit(&ctx->reader_cpu, sched_getcpu(),
			      memory_order_relaxed);
	return w != NULL;
}

static void reader_gone(void *arg)
{
	struct uffd_ctx *ctx = arg;

	atomic_fetch_sub(&ctx->readers_waiting, 1);
}

/*
 * A blocking read() waits here.  Like the C library's read(), the wait is
 * a cancellation point: cancellation is let in for the system call alone.
 * The kernel restarts or fails the wait after a signal handler as it does
 * the real read(): SA_RESTART decides.
 */
static long wait_for_message(struct uffd_ctx *ctx, uint32_t seq)
{
	int old;
	long r;

	atomic_fetch_add(&ctx->readers_waiting, 1);
	pthread_cleanup_push(reader_gone, ctx);
	pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, &old);
	r = futex(&ctx->msg_seq, FUTEX_WAIT_PRIVATE, seq, NULL);
	pthread_setcanceltype(old, NULL);
	pthread_cleanup_pop(1);
	return r;
}

/* Copies len bytes to the iovec array at byte offset off. */
static int iov_put(const struct iovec *iov, int iovcnt, size_t off,
		   const void *data, size_t len)
{
	const char *p = data;

	for (int i = 0; i < iovcnt && len; i++) {
		size_t n;

		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		n = iov[i].iov_len - off;
		if (n > len)
			n = len;
		if (uaccess_write((char *)iov[i].iov_base + off, p, n))
			return -EFAULT;
		p += n;
		len -= n;
		off = 0;
	}
	return 0;
}

/*
 * Up to max unread messages, without waiting: for a monitor in another
 * process, which waits on its own.  -EINVAL before UFFDIO_API, -EAGAIN
 * when there is none.
 */
ssize_t msgq_take(struct uffd_ctx *ctx, struct uffd_msg *out, size_t max)
{
	size_t n = 0;
	uint32_t seq;

	if (atomic_load(&ctx->state) == CTX_NEW)
		return -EINVAL;
	/* A FORK message's descriptor travels alone with its answer. */
	while (n < max && (n == 0 || out[n - 1].event != UFFD_EVENT_FORK) &&
	       take_message(ctx, &out[n], &seq))
		n++;
	return n ? (ssize_t)n : -EAGAIN;
}

/*
 * read(): whole messages only, as many as fit and are available; waits
 * only for the first.  A message whose copy-out faults is lost, as on the
 * kernel.
 */
ssize_t msgq_read(struct uffd_ctx *ctx, int fd, const struct iovec *iov,
		  int iovcnt)
{
	size_t room = 0, done = 0;
	struct uffd_msg msg;
	uint32_t seq;
	long r;

	if (atomic_load(&ctx->state) == CTX_NEW)
		return -EINVAL;
	for (int i = 0; i < iovcnt; i++)
		room += iov[i].iov_len;
	if (room < sizeof(msg))
		return -EINVAL;
	while (room - done >= sizeof(msg)) {
		if (!take_message(ctx, &msg, &seq)) {
			if (done)
				break;
			ctx_sync_flags(ctx, fd);
			if (__atomic_load_n(&ctx->nonblock, __ATOMIC_RELAXED))
				return -EAGAIN;
			r = wait_for_message(ctx, seq);
			if (r < 0 && errno == EINTR)
				return -EINTR;
			continue;
		}
		if (msg.event == UFFD_EVENT_FORK) {
			r = ctx_fork_fd(ctx, &msg);
			if (r < 0)
				return done ? (ssize_t)done : r;
		}
		if (iov_put(iov, iovcnt, done, &msg, sizeof(msg)) < 0)
			return done ? (ssize_t)done : -EFAULT;
		done += sizeof(msg);
	}
	return (ssize_t)done;
}
