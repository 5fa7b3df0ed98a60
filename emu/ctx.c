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
#include <sys/socket.h>
#include <unistd.h>

#include "emu/emu.h"
#include "mm/mm.h"

static struct uffd_ctx *_Atomic slots[CTX_SLOTS];
static struct uffd_ctx *free_ctxs; /* under the waiter lock */
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_err;
static sigset_t fork_mask;

/*
 * Contexts with UFFD_FEATURE_EVENT_FORK across one fork.  The child makes
 * a context of its own for each, in the same slot, so that its pages stay
 * registered as they were, and hands its descriptor to the parent over a
 * socket pair; the parent delivers the FORK event with it and waits for
 * the read, and the child waits for the parent, as on the kernel, where
 * fork() returns only after the read.
 * Limitation: only a fork through the C library runs these handlers, and
 * at most FORK_MAX contexts take part in one fork; the ranges of others
 * are unregistered in the child.
 */
#define FORK_MAX 16

static struct {
	struct uffd_ctx *ctx;
	int sv[2];
} forking[FORK_MAX];
static int n_forking;

static bool forked_slot(unsigned int slot)
{
	for (int i = 0; i < n_forking; i++)
		if ((unsigned int)forking[i].ctx->slot == slot)
			return true;
	return false;
}

static void fork_prepare(void)
{
	struct mm_reg r;

	/*
	 * The child inherits every descriptor: each context is on its way
	 * there, and may be used from there.
	 */
	for (unsigned int s = 1; s < CTX_SLOTS; s++) {
		struct uffd_ctx *ctx = slots[s];

		if (ctx && !ctx->foreign &&
		    atomic_load(&ctx->state) != CTX_RELEASED &&
		    atomic_load(&ctx->users) > 0)
			remote_export(ctx);
	}
	mm_lock();
	n_forking = 0;
	for (unsigned int s = 1; s < CTX_SLOTS && n_forking < FORK_MAX; s++) {
		struct uffd_ctx *ctx = slots[s];

		if (!ctx || ctx->foreign ||
		    !(ctx->features & UFFD_FEATURE_EVENT_FORK) ||
		    atomic_load(&ctx->state) != CTX_READY ||
		    !reg_next(0, UINTPTR_MAX, s, &r) ||
		    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
			       forking[n_forking].sv))
			continue;
		ctx_get(ctx);
		atomic_fetch_add(&ctx->mmap_changing, 1);
		forking[n_forking++].ctx = ctx;
	}
	wq_lock(&fork_mask);
}

/* The descriptor of a fork child's context, from the child. */
static int receive_fd(int sock)
{
	int fds[2];
	char b;

	if (remote_recv(sock, &b, 1, fds) != 1 && fds[0] >= 0) {
		close(fds[0]);
		fds[0] = -1;
	}
	if (fds[1] >= 0)
		close(fds[1]);
	return fds[0];
}

/* The parent's side: the FORK event, with the child's descriptor. */
static void deliver_fork(struct uffd_ctx *ctx, int sock)
{
	struct uffd_msg msg = {.event = UFFD_EVENT_FORK};
	int fd = install_hide_fd(receive_fd(sock));
	struct fd_entry e;

	if (fd >= 0 && remote_adopt(fd)) {
		msg.arg.fork.ufd = (uint32_t)fd;
		if (msgq_event(ctx, &msg))
			fd = -1; /* the reader's now */
	} else {
		atomic_fetch_sub(&ctx->mmap_changing, 1);
	}
	if (fd >= 0) {
		if (fdtab_get(fd, &e) && e.kind == FD_REMOTE) {
			fdtab_clear(fd);
			remote_put(e.remote);
		}
		install_close_fd(fd);
	}
	/* The child may go on (unless it is gone: no SIGPIPE then). */
	send(sock, "g", 1, MSG_NOSIGNAL);
}

static void fork_parent(void)
{
	wq_unlock(&fork_mask);
	mm_unlock();
	for (int i = 0; i < n_forking; i++) {
		close(forking[i].sv[1]);
		deliver_fork(forking[i].ctx, forking[i].sv[0]);
		close(forking[i].sv[0]);
		ctx_put(forking[i].ctx);
	}
	n_forking = 0;
}

static struct uffd_ctx *ctx_make(int flags, int *fd_out, unsigned int slot);

/*
 * The child's side: a context of its own in the parent context's slot,
 * with the same flags and features, already past UFFDIO_API; it lives
 * while its descriptor is on its way to the parent and then while the
 * parent, or the monitor that reads the event, holds it.
 */
static void child_context(struct uffd_ctx *parent, int sock)
{
	struct uffd_ctx *ctx;
	char b;
	int fd;

	ctx = ctx_make(parent->flags, &fd, (unsigned int)parent->slot);
	if (!ctx) {
		/* No context: the pages go back to ordinary memory. */
		struct mm_reg r;

		mm_lock();
		for (uintptr_t a = 0;
		     reg_next(a, UINTPTR_MAX, (unsigned int)parent->slot, &r);
		     a = r.end)
			mm_unregister(r.start, r.end);
		mm_unlock();
		return;
	}
	msgq_initialize(ctx, parent->features);
	remote_export(ctx);
	remote_send(sock, "f", 1, &fd, 1);
	fdtab_clear(fd);
	close(fd);
	ctx_put(ctx);
	while (read(sock, &b, 1) < 0 && errno == EINTR)
		;
}

/*
 * The child of a fork keeps none of the parent's registrations, like the
 * kernel without UFFD_FEATURE_EVENT_FORK: its missing pages become ordinary
 * memory.  Those of a context with it stay, owned by the child's context.
 * Descriptors it inherited still name the parent's contexts, and reach
 * them as another process's contexts (remote_inherit()).
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
	for (uintptr_t a = 0; reg_next(a, UINTPTR_MAX, 0, &r); a = r.end)
		if (!forked_slot(r.slot))
			mm_unregister(r.start, r.end);
	mm_unlock();
	for (int i = 0; i < n_forking; i++) {
		close(forking[i].sv[0]);
		child_context(forking[i].ctx, forking[i].sv[1]);
		close(forking[i].sv[1]);
	}
	n_forking = 0;
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
	return ctx_make(flags, fd_out, 0);
}

/* ctx_create(), in the given slot when slot is not 0. */
static struct uffd_ctx *ctx_make(int flags, int *fd_out, unsigned int slot)
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
	if (slot)
		atomic_store(&slots[slot], ctx);
	ctx->slot = slot ? (int)slot : slot_alloc(ctx);
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
	/* A fork child may have given the slot to a context of its own. */
	atomic_compare_exchange_strong(&slots[ctx->slot],
				       &(struct uffd_ctx *){ctx}, NULL);
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

/*
 * The FORK message being read: its descriptor, kept at a high number
 * until now, becomes the reader's, at the lowest free number, close-on-exec
 * as the parent context's creation flags say.
 */
long ctx_fork_fd(const struct uffd_ctx *ctx, struct uffd_msg *msg)
{
	int hidden = (int)msg->arg.fork.ufd, fd;
	struct fd_entry e;

	if (!fdtab_get(hidden, &e) || e.kind != FD_REMOTE)
		return -EBADF;
	fd = fcntl(hidden, ctx->flags & O_CLOEXEC ? F_DUPFD_CLOEXEC : F_DUPFD,
		   0);
	if (fd < 0)
		return -errno;
	/* The reference goes with the number. */
	fdtab_set(fd, FD_REMOTE, e.remote);
	fdtab_clear(hidden);
	install_close_fd(hidden);
	msg->arg.fork.ufd = (uint32_t)fd;
	return 0;
}

/* Follows O_NONBLOCK changes made on the descriptor behind our back. */
void ctx_sync_flags(struct uffd_ctx *ctx, int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		msgq_set_nonblock(ctx, fl & O_NONBLOCK);
}
