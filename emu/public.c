/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The public entry points.  Each one behaves as the system call it is
 * named after: -1 and the kernel's errno on failure.  Descriptors that are
 * not emulated go to the real system call.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "emu/emu.h"
#include "mm/mm.h"
#include "uffdemu/uffdemu.h"

#define API __attribute__((visibility("default")))

#ifndef MADV_DONTNEED_LOCKED
#define MADV_DONTNEED_LOCKED 24
#endif

#define UFFD_FLAGS (O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY)

static int fail(int err)
{
	errno = err;
	return -1;
}

static int result(int r)
{
	return r < 0 ? fail(-r) : r;
}

static int create(int flags)
{
	int fd, err = emu_init();

	if (err)
		return fail(-err);
	if (flags & ~UFFD_FLAGS)
		return fail(EINVAL);
	if (!ctx_create(flags, &fd))
		return -1;
	return fd;
}

API int uffdemu_userfaultfd(int flags)
{
	return create(flags);
}

/*
 * /dev/userfaultfd is emulated by a descriptor of /dev/null: it only needs
 * to exist and to be closed like any other.
 */
API int uffdemu_open(const char *path, int flags, mode_t mode)
{
	int fd;

	if (!path || strcmp(path, UFFDEMU_DEV_PATH) != 0)
		return open(path, flags, mode);
	fd = open("/dev/null", (flags & O_ACCMODE) | (flags & O_CLOEXEC));
	if (fd >= 0 && fdtab_set(fd, FD_DEV, NULL)) {
		close(fd);
		return fail(EMFILE);
	}
	return fd;
}

/*
 * fd's table entry.  A fork child's inherited descriptor of the parent's
 * context becomes one of another process's context here, on first use.
 */
static bool entry_get(int fd, struct fd_entry *e)
{
	if (!fdtab_get(fd, e))
		return false;
	if (e->kind == FD_UFFD && e->ctx->foreign)
		remote_inherit(fd, e);
	return true;
}

static int dev_ioctl(int fd, unsigned long request, void *arg)
{
	switch (request) {
	case FIOCLEX:
	case FIONCLEX:
	case FIONBIO:
		return ioctl(fd, request, arg);
	case FIOASYNC:
		/* Reading the int may take a userfault: the handler must be
		 * in place.  Without it no memory can be registered. */
		if (emu_init())
			return ioctl(fd, request, arg);
		return result(ctx_fioasync(fd, arg));
	case USERFAULTFD_IOC_NEW:
		/* The flags travel by value and are truncated to int. */
		return create((int)(uintptr_t)arg);
	}
	return fail(EINVAL);
}

API int uffdemu_ioctl(int fd, unsigned long request, void *arg)
{
	struct fd_entry e;
	int r;

	if (!entry_get(fd, &e))
		return ioctl(fd, request, arg);
	if (e.kind == FD_DEV)
		return dev_ioctl(fd, request, arg);
	if (e.kind == FD_REMOTE)
		return result(remote_ioctl(e.remote, fd, request, arg));
	ctx_get(e.ctx);
	r = ctx_ioctl(e.ctx, fd, request, arg);
	if (request == FIONBIO)
		ctx_sync_flags(e.ctx, fd);
	ctx_put(e.ctx);
	return result(r);
}

static void put_ctx(void *ctx)
{
	ctx_put(ctx);
}

API ssize_t uffdemu_readv(int fd, const struct iovec *iov, int iovcnt)
{
	struct fd_entry e;
	ssize_t r;

	if (!entry_get(fd, &e))
		return readv(fd, iov, iovcnt);
	if (e.kind == FD_DEV)
		return fail(EINVAL);
	if (iovcnt < 0 || iovcnt > IOV_MAX)
		return fail(EINVAL);
	if (e.kind == FD_REMOTE) {
		r = remote_read(e.remote, fd, iov, iovcnt);
		return r < 0 ? fail((int)-r) : r;
	}
	ctx_get(e.ctx);
	/* read() is a cancellation point: a cancelled reader lets go too. */
	pthread_cleanup_push(put_ctx, e.ctx);
	r = msgq_read(e.ctx, fd, iov, iovcnt);
	pthread_cleanup_pop(1);
	return r < 0 ? fail((int)-r) : r;
}

API ssize_t uffdemu_read(int fd, void *buf, size_t count)
{
	struct iovec iov = {buf, count};
	struct fd_entry e;

	if (!fdtab_get(fd, &e))
		return read(fd, buf, count);
	return uffdemu_readv(fd, &iov, 1);
}

/* The reference a table entry holds. */
static void entry_put(const struct fd_entry *e)
{
	if (e->kind == FD_UFFD)
		ctx_put(e->ctx);
	else if (e->kind == FD_REMOTE)
		remote_put(e->remote);
}

API int uffdemu_close(int fd)
{
	struct fd_entry e;
	int r;

	if (!fdtab_get(fd, &e))
		return close(fd);
	fdtab_clear(fd);
	r = close(fd);
	entry_put(&e);
	return r;
}

/* newfd now names what fd names; an emulated newfd was closed by it. */
static int adopt(int fd, int newfd)
{
	struct fd_entry old, e;

	if (newfd < 0)
		return newfd;
	if (fdtab_get(newfd, &old) && newfd != fd) {
		fdtab_clear(newfd);
		entry_put(&old);
	}
	if (fdtab_get(fd, &e)) {
		if (e.kind == FD_UFFD)
			ctx_get(e.ctx);
		if (e.kind == FD_REMOTE)
			remote_get(e.remote);
		fdtab_set(newfd, e.kind,
			  e.kind == FD_REMOTE ? (void *)e.remote
					      : (void *)e.ctx);
	}
	return newfd;
}

API int uffdemu_dup(int fd)
{
	return adopt(fd, dup(fd));
}

API int uffdemu_dup2(int oldfd, int newfd)
{
	if (oldfd == newfd)
		return dup2(oldfd, newfd);
	return adopt(oldfd, dup2(oldfd, newfd));
}

API int uffdemu_dup3(int oldfd, int newfd, int flags)
{
	return adopt(oldfd, dup3(oldfd, newfd, flags));
}

API int uffdemu_fcntl(int fd, int cmd, long arg)
{
	struct fd_entry e;
	int r = fcntl(fd, cmd, arg);

	if (r < 0 || !fdtab_get(fd, &e))
		return r;
	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
		return adopt(fd, r);
	if (cmd == F_SETFL && e.kind == FD_UFFD)
		ctx_sync_flags(e.ctx, fd);
	/* The kernel's userfaultfd is opened read-only. */
	if (cmd == F_GETFL && (e.kind == FD_UFFD || e.kind == FD_REMOTE))
		r = (r & ~O_ACCMODE) | O_RDONLY;
	return r;
}

/* Calls fn for each descriptor passed in msg's SCM_RIGHTS messages. */
static void each_passed_fd(const struct msghdr *msg, void (*fn)(int fd))
{
	if (!msg || !msg->msg_control ||
	    msg->msg_controllen < sizeof(struct cmsghdr))
		return;
	for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)msg); c;
	     c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			fn(fd);
		}
	}
}

/* A descriptor about to leave: its context is kept for the receiver. */
static void sending(int fd)
{
	struct fd_entry e;

	if (!fdtab_get(fd, &e))
		return;
	if (e.kind == FD_UFFD)
		remote_export(e.ctx);
	else if (e.kind == FD_REMOTE)
		remote_forward(e.remote);
}

static void received(int fd)
{
	remote_adopt(fd);
}

API ssize_t uffdemu_sendmsg(int sock, const struct msghdr *msg, int flags)
{
	each_passed_fd(msg, sending);
	return sendmsg(sock, msg, flags);
}

API ssize_t uffdemu_recvmsg(int sock, struct msghdr *msg, int flags)
{
	ssize_t r = recvmsg(sock, msg, flags);
	int err = errno;

	if (r >= 0 && !(flags & MSG_PEEK))
		each_passed_fd(msg, received);
	errno = err;
	return r;
}

API int uffdemu_is_emulated(int fd)
{
	struct fd_entry e;

	return fdtab_get(fd, &e);
}

/* Sets the results of the emulated descriptors; returns how many are set. */
static int poll_emulated(struct pollfd *fds, nfds_t nfds, int *others)
{
	int ready = 0;

	*others = 0;
	for (nfds_t i = 0; i < nfds; i++) {
		struct fd_entry e;

		if (!entry_get(fds[i].fd, &e) || e.kind != FD_UFFD) {
			*others += fds[i].fd >= 0;
			continue;
		}
		fds[i].revents = msgq_poll_events(e.ctx) &
				 (short)(fds[i].events | POLLERR);
		ready += fds[i].revents != 0;
	}
	return ready;
}

/*
 * The kernel reports POLLERR on a userfaultfd before UFFDIO_API and on a
 * blocking one whatever was asked for, so such a descriptor makes the call
 * return at once, as does one with a message.  Otherwise the real poll()
 * waits on the descriptors, after a short watch for a message when the
 * faults come from another CPU.  An emulated descriptor's result is always
 * set from its context.
 */
static long elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000L +
	       (now.tv_nsec - since->tv_nsec) / 1000000L;
}

API int uffdemu_poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	int others, ready = poll_emulated(fds, nfds, &others);
	struct timespec start;
	int r, left = timeout;

	if (!ready && timeout && !others && nfds == 1) {
		struct fd_entry e;

		if (fdtab_get(fds[0].fd, &e) && e.kind == FD_UFFD &&
		    msgq_spin_until_ready(e.ctx))
			ready = poll_emulated(fds, nfds, &others);
	}
	if (ready && !others)
		return ready;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		r = poll(fds, nfds, ready ? 0 : left);
		if (r < 0)
			return r;
		poll_emulated(fds, nfds, &others);
		r = 0;
		for (nfds_t i = 0; i < nfds; i++)
			r += fds[i].revents != 0;
		/*
		 * A descriptor woke the real poll() but its message went to
		 * another reader meanwhile: wait on, as the kernel's poll()
		 * does, rather than return 0 before the timeout.
		 */
		if (r || !left)
			return r;
		if (timeout > 0) {
			left = timeout - (int)elapsed_ms(&start);
			if (left <= 0)
				return 0;
		}
		ready = 0;
	}
}

static bool page_range(void *addr, size_t len, uintptr_t *start, uintptr_t *end)
{
	*start = (uintptr_t)addr;
	if (*start & ~PAGE_MASK || len == 0)
		return false;
	*end = *start + ((len + PAGE_SIZE - 1) & PAGE_MASK);
	return *end > *start;
}

/*
 * Forgets registered memory the program unmapped or mapped over, and
 * prepares the UNMAP events of its owners.  mm_lock held.
 */
static void unmapped(struct event_batch *b, const unsigned int *slots, int n,
		     uintptr_t start, uintptr_t end)
{
	events_unmap(b, slots, n, start, end);
	mm_forget(start, end);
}

API int uffdemu_munmap(void *addr, size_t len)
{
	unsigned int slots[EVENT_BATCH];
	struct event_batch b = {0};
	uintptr_t start, end;
	int r, n;

	if (!page_range(addr, len, &start, &end))
		return munmap(addr, len);
	mm_lock();
	n = events_owners(start, end, slots, EVENT_BATCH);
	tables_before_zap(start, end);
	r = munmap(addr, len);
	if (r == 0) {
		tables_after_zap(start, end, true);
		unmapped(&b, slots, n, start, end);
	}
	mm_unlock();
	events_deliver(&b);
	return r;
}

/*
 * mmap(2).  A fixed mapping over registered memory replaces it, as an
 * unmap would.
 */
API void *uffdemu_mmap(void *addr, size_t len, int prot, int flags, int fd,
		       off_t offset)
{
	unsigned int slots[EVENT_BATCH];
	struct event_batch b = {0};
	uintptr_t start, end;
	void *r;
	int n;

	if (!(flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) ||
	    !page_range(addr, len, &start, &end))
		return mmap(addr, len, prot, flags, fd, offset);
	mm_lock();
	n = events_owners(start, end, slots, EVENT_BATCH);
	tables_before_zap(start, end);
	r = mmap(addr, len, prot, flags, fd, offset);
	if (r != MAP_FAILED)
		tables_after_zap(start, end, true);
	if (r != MAP_FAILED && n)
		unmapped(&b, slots, n, start, end);
	mm_unlock();
	events_deliver(&b);
	return r;
}

/*
 * Whether shared memory (MAP_SHARED, hugetlb memory included) maps all of
 * [start, end): MADV_REMOVE fails anywhere else, before it does anything.
 */
static bool all_shared(uintptr_t start, uintptr_t end)
{
	struct mm_vma v[64];
	int n = mm_vmas(start, end, v, 64);
	uintptr_t at = start;

	if (n <= 0 || n > 64)
		return false;
	for (int i = 0; i < n; i++) {
		if (v[i].start > at ||
		    (v[i].type != VMA_SHMEM && v[i].type != VMA_HUGETLB))
			return false;
		at = v[i].end;
	}
	return at >= end;
}

/* The file of [start, end) knows no page there any more. */
static void forget_in_file(uintptr_t start, uintptr_t end)
{
	for (uintptr_t a = start; a < end; a += PAGE_SIZE)
		if (pagestate_get(a) & PS_IN_FILE)
			mm_update(a, a + PAGE_SIZE, 0, PS_IN_FILE);
}

/*
 * The pages of [start, end) left a file that registered shared mappings
 * (not MAP_PRIVATE ones) map there: they are missing there again.  Only
 * whole pages go, huge pages included.
 */
static void left_file(uintptr_t start, uintptr_t end)
{
	for (uintptr_t a = start; a < end;) {
		uint32_t e = pagestate_get(a);
		size_t size = ps_page_size(e);
		uintptr_t b;

		if (!(e & PS_SHARED) || (e & PS_COW) || (a & (size - 1))) {
			a = (a & ~(size - 1)) + size;
			continue;
		}
		for (b = a;
		     b + size <= end &&
		     (pagestate_get(b) & (PS_SHARED | PS_COW)) == PS_SHARED;
		     b += size)
			;
		if (b == a)
			break;
		mm_discard(a, b);
		forget_in_file(a, b);
		a = b;
	}
}

/*
 * MADV_REMOVE took the pages of [start, end) out of their file: every
 * other registered mapping of those pages in this process has lost them
 * too, and they are missing there again.
 * Limitation: an access through such a mapping just before they are
 * hidden again finds no page and the system gives it a new one, without
 * the MISSING fault the kernel reports.  Mappings in other processes are
 * not told at all, as for any page another process takes out of a file.
 */
static void removed_from_file(uintptr_t start, uintptr_t end)
{
	struct mm_vma views[16];

	forget_in_file(start, end);
	for (uintptr_t a = start; a < end;) {
		struct mm_vma v;
		uintptr_t b;
		int n;

		if (mm_vmas(a, a + 1, &v, 1) != 1)
			break;
		b = v.end < end ? v.end : end;
		n = mm_views(a, b - a, views, 16);
		for (int i = 0; i < n; i++)
			left_file(views[i].start, views[i].end);
		a = b;
	}
}

/*
 * fallocate(2).  A hole punched in a file takes its pages out of every
 * registered shared mapping of it in this process: they are missing again
 * there, as on the kernel.
 * Limitation: a MAP_PRIVATE mapping of the file keeps the picture it had,
 * so a page of the file it mapped, and lost to the hole, is given again
 * by the system without the fault the kernel reports.
 */
API int uffdemu_fallocate(int fd, int mode, off_t offset, off_t len)
{
	struct mm_vma views[16];
	int r = fallocate(fd, mode, offset, len), n;

	if (r != 0 || !(mode & FALLOC_FL_PUNCH_HOLE) || offset < 0 || len <= 0)
		return r;
	mm_lock();
	n = mm_fd_views(fd, (uint64_t)offset, (uint64_t)len, views, 16);
	for (int i = 0; i < n; i++)
		left_file(views[i].start, views[i].end);
	mm_unlock();
	return 0;
}

/*
 * madvise(2).  Discarding registered memory tells the owners first
 * (UFFD_EVENT_REMOVE) and waits for them, as the kernel does; the pages go
 * after that, and registered MISSING pages are missing again (MADV_REMOVE
 * also takes them out of the file of shared memory).
 * Limitation: MADV_FREE leaves the pages populated in the emulator's
 * picture; if the system reclaims them they read as zeros without a fault.
 */
API int uffdemu_madvise(void *addr, size_t len, int advice)
{
	struct event_batch b = {0};
	uintptr_t start, end;
	int r;

	if (!page_range(addr, len, &start, &end) ||
	    (advice != MADV_DONTNEED && advice != MADV_DONTNEED_LOCKED &&
	     advice != MADV_FREE && advice != MADV_REMOVE) ||
	    (advice == MADV_REMOVE && !all_shared(start, end)))
		return madvise(addr, len, advice);
	/*
	 * Hugetlb memory discards whole huge pages: the start must be
	 * aligned (EINVAL), the end is rounded down, and an empty range
	 * tells no one.  MADV_FREE fails EINVAL there.
	 */
	if (pagestate_get(start) & PS_HUGE) {
		size_t size = ps_page_size(pagestate_get(start));

		end = start + ((end - start) & ~(size - 1));
		if ((start & (size - 1)) || advice == MADV_FREE || end == start)
			return madvise(addr, len, advice);
	}
	mm_lock();
	events_remove(&b, start, end);
	mm_unlock();
	events_deliver(&b);

	mm_lock();
	if (advice != MADV_FREE)
		tables_before_zap(start, end);
	r = advice == MADV_FREE ? 0 : mm_discard(start, end);
	if (r == 0)
		r = madvise(addr, len, advice);
	else
		r = fail(-r);
	if (r == 0 && advice == MADV_REMOVE)
		removed_from_file(start, end);
	if (r == 0 && advice != MADV_FREE)
		tables_after_zap(start, end, false);
	mm_unlock();
	return r;
}

/*
 * The part of [start, end) that an mprotect() failing ENOMEM changed: the
 * kernel goes mapping by mapping from start and stops at the first hole.
 */
static uintptr_t protected_prefix(uintptr_t start, uintptr_t end)
{
	struct mm_vma v[64];
	int n = mm_vmas(start, end, v, 64);
	uintptr_t at = start;

	for (int i = 0; i < n && i < 64 && v[i].start <= at; i++)
		at = v[i].end;
	return at < end ? at : end;
}

/*
 * mprotect(2).  Where it fails with ENOMEM, the kernel changed the
 * mappings before the hole, and so does the emulator's picture.
 * Limitation: a failure for another reason (EACCES at a mapping that
 * cannot take prot) leaves the picture as it was, where the kernel changed
 * the mappings before the one it failed at.
 */
API int uffdemu_mprotect(void *addr, size_t len, int prot)
{
	uintptr_t start, end, done;
	sigset_t saved;
	int r, err;

	if (!page_range(addr, len, &start, &end))
		return mprotect(addr, len, prot);
	mm_lock();
	/* An asynchronous write-protect fault resolved in between would give
	 * a page the old protection back. */
	emu_faults_lock(&saved);
	r = mprotect(addr, len, prot);
	err = errno;
	if (r == 0) {
		mm_protect(start, end, (unsigned int)prot);
	} else if (err == ENOMEM) {
		done = protected_prefix(start, end);
		if (done > start)
			mm_protect(start, done, (unsigned int)prot);
	}
	emu_faults_unlock(&saved);
	mm_unlock();
	errno = err;
	return r;
}

/*
 * mremap(2).  The owners of moved memory hear UNMAP for a registered
 * destination it replaced, REMAP, then UNMAP of the old range; shrinking
 * in place unmaps the tail.
 */
API void *uffdemu_mremap(void *old_addr, size_t old_len, size_t new_len,
			 int flags, void *new_addr)
{
	uintptr_t os = (uintptr_t)old_addr, oe, ns, fixed = 0;
	unsigned int slots[EVENT_BATCH], dslots[EVENT_BATCH];
	size_t nlen = (new_len + PAGE_SIZE - 1) & PAGE_MASK;
	struct event_batch b = {0};
	int n, dn = 0;
	void *r;

	if (!page_range(old_addr, old_len ? old_len : 1, &os, &oe))
		return mremap(old_addr, old_len, new_len, flags, new_addr);
	mm_lock();
	n = events_owners(os, oe, slots, EVENT_BATCH);
	if ((flags & MREMAP_FIXED) && nlen) {
		fixed = (uintptr_t)new_addr;
		dn = events_owners(fixed, fixed + nlen, dslots, EVENT_BATCH);
	}
	r = mm_remap(old_addr, old_len, new_len, flags, new_addr,
		     events_keep_on_remap);
	ns = (uintptr_t)r;
	if (r != MAP_FAILED && ns != os) {
		events_unmap(&b, dslots, dn, fixed, fixed + nlen);
		events_remap(&b, slots, n, os, ns, old_len);
		if (!(flags & MREMAP_DONTUNMAP))
			events_unmap(&b, slots, n, os, oe);
	} else if (r != MAP_FAILED && os + nlen < oe) {
		events_unmap(&b, slots, n, os + nlen, oe);
	}
	mm_unlock();
	events_deliver(&b);
	return r;
}

API int uffdemu_sigaction(int sig, const struct sigaction *act,
			  struct sigaction *oact)
{
	return fault_sigaction(sig, act, oact);
}

static bool kernel_access_allowed(uint32_t entry, bool write)
{
	unsigned int prot = ps_prot(entry);

	return write ? (prot & PROT_WRITE) != 0 : (prot & PROT_READ) != 0;
}

API void uffdemu_prefault(const void *addr, size_t len, int write)
{
	uintptr_t a = (uintptr_t)addr & PAGE_MASK;
	uintptr_t end = (uintptr_t)addr + len;

	if (end < (uintptr_t)addr)
		end = UINTPTR_MAX;
	for (; a < end && a != 0; a += PAGE_SIZE) {
		uint32_t e = pagestate_get(a);
		struct uffd_ctx *ctx;

		if (!e) {
			/* Nothing registered in this page of the table's
			 * leaves: skip to the next page. */
			continue;
		}
		if (!kernel_access_allowed(e, write) || (e & PS_POISON))
			continue;
		if (!(((e & PS_MODE_MISSING) && !(e & PS_PRESENT)) ||
		      (write && (e & PS_WP) && (e & PS_MODE_WP))))
			continue;
		ctx = ctx_by_slot(e & PS_CTX_MASK);
		if (!ctx)
			continue;
		/* Asynchronous write protection is resolved without asking
		 * anyone, for the kernel's own accesses too. */
		if (!(write && (e & PS_WP) &&
		      (ctx->features & UFFD_FEATURE_WP_ASYNC) &&
		      !((e & PS_MODE_MISSING) && !(e & PS_PRESENT))) &&
		    ((ctx->flags & UFFD_USER_MODE_ONLY) ||
		     (ctx->features & UFFD_FEATURE_SIGBUS)))
			continue;
		if (write)
			uaccess_touch_write((void *)a, 1);
		else
			uaccess_touch_read((const void *)a, 1);
	}
}

API int uffdemu_fdinfo(int fd, char *buf, size_t len)
{
	struct fd_entry e;
	int n;

	if (!entry_get(fd, &e) || e.kind == FD_DEV)
		return fail(EBADF);
	n = e.kind == FD_REMOTE ? remote_fdinfo(e.remote, buf, len)
				: msgq_fdinfo(e.ctx, buf, len);
	return n < 0 ? fail(-n) : n;
}

#define PM_PRESENT       (1ULL << 63)
#define PM_UFFD_WP       (1ULL << 57)
/* What the kernel shows for a uffd-wp marker and a poison marker. */
#define PM_WP_MARKER     0x420000000000003fULL
#define PM_POISON_MARKER 0x400000000000005fULL

API void uffdemu_pagemap_fixup(uint64_t *entries, uint64_t first_page, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t page = first_page + i;
		uint32_t e;

		if (page >= (TASK_SIZE >> PAGE_SHIFT))
			break;
		e = pagestate_get((uintptr_t)(page << PAGE_SHIFT));
		if (!e)
			continue;
		if (e & PS_POISON)
			entries[i] = PM_POISON_MARKER;
		else if (entries[i] & PM_PRESENT)
			entries[i] |= (e & PS_WP) && (e & PS_MODE_WP)
					      ? PM_UFFD_WP
					      : 0;
		else if ((e & PS_MODE_MISSING) || (e & PS_WP))
			/* A guard or a PROT_NONE page that stands for a
			 * missing one, or a page marked unpopulated. */
			entries[i] = e & PS_WP ? PM_WP_MARKER : 0;
	}
}

API int uffdemu_internal_fd(int fd)
{
	return install_internal_fd(fd);
}

API int uffdemu_internal_fds(int *fds, int max)
{
	return install_internal_fds(fds, max);
}

API pid_t uffdemu_fork(void)
{
	return fork();
}
