/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Contexts: creation, reference counting, release, and what fork does to
 * them.
 *
 * The descriptor a program gets is an epoll instance watching one internal
 * eventfd.  poll(), select() and epoll see it readable exactly while the
 * eventfd is raised, and the emulator raises it while the kernel's
 * userfaultfd would report an event: a message is unread on a non-blocking
 * descriptor, or the descriptor is one for which the kernel reports POLLERR
 * (before UFFDIO_API, or without O_NONBLOCK).
 * Limitation: plain poll() and epoll report such a descriptor as readable
 * (POLLIN) where the kernel reports POLLERR; uffdemu_poll() and the shim
 * report POLLERR.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "emu/emu.h"
#include "mm/mm.h"

static struct uffd_ctx *_Atomic slots[CTX_SLOTS];
static struct uffd_ctx *free_ctxs; /* under the waiter lock */
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_err;
static sigset_t fork_mask;

static void fork_prepare(void)
{
	mm_lock();
	wq_lock(&fork_mask);
}

static void fork_parent(void)
{
	wq_unlock(&fork_mask);
	mm_unlock();
}

/*
 * The child of a fork keeps none of the parent's registrations, like the
 * kernel without UFFD_FEATURE_EVENT_FORK: its missing pages become ordinary
 * memory.  Descriptors it inherited still name the parent's contexts.
 * Limitation: in the child, such a descriptor does not reach the parent's
 * context: read() finds no message and the memory ioctls fail ESRCH, as if
 * the parent's address space were gone.
 */
static void fork_child(void)
{
	struct mm_reg r;

	for (unsigned int s = 1; s < CTX_SLOTS; s++) {
		struct uffd_ctx *ctx = slots[s];

		if (!ctx)
			continue;
		ctx->foreign = true;
		ctx->unread.head = ctx->unread.tail = NULL;
		ctx->read.head = ctx->read.tail = NULL;
		ctx->events.head = ctx->events.tail = NULL;
		ctx->pending = 0;
		ctx->pending_events = 0;
	}
	wq_unlock(&fork_mask);
	while (reg_next(0, UINTPTR_MAX, 0, &r))
		mm_unregister(r.start, r.end);
	mm_unlock();
}

static void init(void)
{
	trace_init();
	init_err = install_init();
	if (!init_err)
		init_err = fault_init();
	if (!init_err)
		pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/*
 * Sets the emulator up on first use.  The probes it makes may fail on the
 * way without the call failing, and a successful system call leaves errno
 * alone: so does this.
 */
int emu_init(void)
{
	int saved = errno;

	pthread_once(&init_once, init);
	errno = saved;
	return init_err;
}

struct uffd_ctx *ctx_by_slot(unsigned int slot)
{
	if (slot == 0 || slot >= CTX_SLOTS)
		return NULL;
	return atomic_load_explicit(&slots[slot], memory_order_acquire);
}

static struct uffd_ctx *ctx_alloc(void)
{
	struct uffd_ctx *ctx;
	sigset_t saved;

	wq_lock(&saved);
	ctx = free_ctxs;
	if (ctx)
		free_ctxs = ctx->free_next;
	wq_unlock(&saved);
	if (!ctx) {
		ctx = mmap(NULL, sizeof(*ctx), PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (ctx == MAP_FAILED)
			return NULL;
	}
	memset(ctx, 0, sizeof(*ctx));
	return ctx;
}

static int slot_alloc(struct uffd_ctx *ctx)
{
	for (unsigned int s = 1; s < CTX_SLOTS; s++) {
		struct uffd_ctx *none = NULL;

		if (atomic_compare_exchange_strong(&slots[s], &none, ctx))
			return (int)s;
	}
	return -ENOMEM;
}

static void ctx_free(struct uffd_ctx *ctx)
{
	sigset_t saved;

	wq_lock(&saved);
	ctx->free_next = free_ctxs;
	free_ctxs = ctx;
	wq_unlock(&saved);
}

/*
 * Creates a context in the NEW state and the descriptor for it.  Returns
 * NULL with errno set as the kernel would (EMFILE, ENFILE, ENOMEM).
 */
struct uffd_ctx *ctx_create(int flags, int *fd_out)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct uffd_ctx *ctx;
	int fd, evfd, err;

	fd = epoll_create1(flags & O_CLOEXEC ? EPOLL_CLOEXEC : 0);
	if (fd < 0)
		return NULL;
	evfd = install_hide_fd(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
	ctx = ctx_alloc();
	err = errno;
	if (evfd < 0 || !ctx)
		goto fail;
	ctx->msgfd = -1;
	ctx->pid = getpid();
	ctx->slot = slot_alloc(ctx);
	if (ctx->slot < 0) {
		err = ENOMEM;
		goto fail;
	}
	/* The event's data names the context to another process. */
	ev.data.u64 = remote_tag(ctx);
	if (epoll_ctl(fd, EPOLL_CTL_ADD, evfd, &ev) ||
	    (flags & O_NONBLOCK && fcntl(fd, F_SETFL, O_NONBLOCK))) {
		err = errno;
		goto fail_slot;
	}
	ctx->evfd = evfd;
	ctx->flags = flags;
	ctx->nonblock = flags & O_NONBLOCK;
	atomic_store(&ctx->reader_cpu, -1);
	atomic_store(&ctx->fault_cpu, -1);
	atomic_store(&ctx->users, 1);
	atomic_store(&ctx->mem_refs, 1);
	atomic_store(&ctx->state, CTX_NEW);
	if (fdtab_set(fd, FD_UFFD, ctx)) {
		err = ENOMEM;
		goto fail_slot;
	}
	msgq_update_ready(ctx);
	*fd_out = fd;
	return ctx;
fail_slot:
	atomic_store(&slots[ctx->slot], NULL);
fail:
	if (ctx)
		ctx_free(ctx);
	if (evfd >= 0)
		install_close_fd(evfd);
	close(fd);
	errno = err ? err : ENOMEM;
	return NULL;
}

void ctx_get(struct uffd_ctx *ctx)
{
	atomic_fetch_add(&ctx->users, 1);
}

void ctx_mem_put(struct uffd_ctx *ctx)
{
	if (atomic_fetch_sub(&ctx->mem_refs, 1) == 1)
		ctx_free(ctx);
}

/* Drops every registration of ctx: its missing pages become ordinary. */
void ctx_unregister_all(struct uffd_ctx *ctx)
{
	struct mm_reg r;

	mm_lock();
	while (reg_next(0, UINTPTR_MAX, (unsigned int)ctx->slot, &r))
		mm_unregister(r.start, r.end);
	mm_unlock();
}

/*
 * The last descriptor is closed and no call is in progress: like the
 * kernel, faults in the context's ranges stop queueing, the ranges are
 * unregistered, and every blocked thread resumes on ordinary memory.
 */
static void ctx_release(struct uffd_ctx *ctx)
{
	sigset_t saved;

	wq_lock(&saved);
	atomic_store(&ctx->state, CTX_RELEASED);
	wq_unlock(&saved);
	if (!ctx->foreign)
		ctx_unregister_all(ctx);
	msgq_wake_all(ctx);
	wq_lock(&saved);
	atomic_store(&slots[ctx->slot], NULL);
	wq_unlock(&saved);
	install_close_fd(ctx->evfd);
	if (ctx->msgfd >= 0)
		install_close_fd(ctx->msgfd);
	ctx_mem_put(ctx);
}

void ctx_put(struct uffd_ctx *ctx)
{
	if (atomic_fetch_sub(&ctx->users, 1) == 1)
		ctx_release(ctx);
}

bool ctx_mm_alive(const struct uffd_ctx *ctx)
{
	return !ctx->foreign;
}

/* Follows O_NONBLOCK changes made on the descriptor behind our back. */
void ctx_sync_flags(struct uffd_ctx *ctx, int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		msgq_set_nonblock(ctx, fl & O_NONBLOCK);
}
