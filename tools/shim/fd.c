/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The descriptor calls: creating a userfaultfd (syscall(), open() of
 * /dev/userfaultfd), and ioctl, read, close, dup and fcntl on it.  A call
 * on any other descriptor goes on to the real one after one load.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tools/shim/shim.h"
#include "uffdemu/uffdemu.h"

extern void __chk_fail(void) __attribute__((noreturn));

/* The emulator's descriptor table covers numbers below 2^20. */
#define FD_LIMIT (1U << 20)

static bool kernel_refused(int err)
{
	return err == EPERM || err == ENOSYS || err == EACCES;
}

int shim_userfaultfd(int flags)
{
	char fl[64], res[32];
	int fd, err;

	if (shim_auto) {
		fd = (int)real_syscall(SYS_userfaultfd, flags);
		err = errno;
		if (fd >= 0 || !kernel_refused(err)) {
			if (shim_trace_on)
				shim_trace(
					"userfaultfd(%s) = %s, the kernel's",
					shim_flags_str(flags, fl, sizeof(fl)),
					shim_result(fd, err, res, sizeof(res)));
			errno = err;
			return fd;
		}
	}
	shim_depth++;
	fd = uffdemu_userfaultfd(flags);
	err = errno;
	shim_depth--;
	if (fd >= 0) {
		shim_note_fd(fd);
		shim_activate();
	}
	if (shim_trace_on)
		shim_trace("userfaultfd(%s) = %s",
			   shim_flags_str(flags, fl, sizeof(fl)),
			   shim_result(fd, err, res, sizeof(res)));
	errno = err;
	return fd;
}

int shim_open_dev(const char *path, int flags, mode_t mode)
{
	char res[32];
	int fd, err;

	if (shim_auto) {
		fd = real_open(path, flags, mode);
		if (fd >= 0 || (errno != ENOENT && errno != ENODEV &&
				errno != ENXIO && !kernel_refused(errno)))
			return fd;
	}
	shim_depth++;
	fd = uffdemu_open(path, flags, mode);
	err = errno;
	shim_depth--;
	shim_note_fd(fd);
	if (shim_trace_on)
		shim_trace("open(\"%s\") = %s", path,
			   shim_result(fd, err, res, sizeof(res)));
	errno = err;
	return fd;
}

/* Byte off of the data an iovec array holds. */
static unsigned char iov_byte(const struct iovec *iov, int cnt, size_t off)
{
	for (int i = 0; i < cnt; i++) {
		if (off < iov[i].iov_len)
			return ((const unsigned char *)iov[i].iov_base)[off];
		off -= iov[i].iov_len;
	}
	return 0;
}

/* The descriptors that FORK messages brought are emulated ones. */
static void note_fork_fds(const struct iovec *iov, int cnt, size_t len)
{
	for (size_t m = 0; m + sizeof(struct uffd_msg) <= len;
	     m += sizeof(struct uffd_msg)) {
		unsigned char b[4];
		uint32_t ufd;

		if (iov_byte(iov, cnt, m) != UFFD_EVENT_FORK)
			continue;
		for (size_t k = 0; k < 4; k++)
			b[k] = iov_byte(
				iov, cnt,
				m + offsetof(struct uffd_msg, arg.fork.ufd) +
					k);
		memcpy(&ufd, b, sizeof(ufd));
		shim_note_fd((int)ufd);
	}
}

ssize_t shim_uffd_readv(int fd, const struct iovec *iov, int cnt)
{
	ssize_t r;
	int err;

	/* No emulator lock is held while a read waits for a message. */
	r = uffdemu_readv(fd, iov, cnt);
	err = errno;
	if (r > 0)
		note_fork_fds(iov, cnt, (size_t)r);
	if (shim_trace_on)
		shim_trace_read(fd, iov, cnt, r, err);
	errno = err;
	return r;
}

ssize_t shim_uffd_read(int fd, void *buf, size_t n)
{
	struct iovec iov = {buf, n};

	return shim_uffd_readv(fd, &iov, 1);
}

int shim_uffd_ioctl(int fd, unsigned long req, void *arg)
{
	char save[SHIM_TRACE_SAVE];
	int r, err;

	if (shim_trace_on)
		shim_trace_ioctl_before(req, arg, save);
	shim_depth++;
	r = uffdemu_ioctl(fd, req, arg);
	err = errno;
	shim_depth--;
	if (req == USERFAULTFD_IOC_NEW && r >= 0) {
		shim_note_fd(r);
		shim_activate();
	}
	/* A range that was read, even if it then failed, may be partly
	 * registered: the hull takes it in. */
	if (req == UFFDIO_REGISTER && (r == 0 || err != EFAULT)) {
		const struct uffdio_register *reg = arg;

		shim_note_registered((uintptr_t)reg->range.start,
				     reg->range.len);
	}
	if (shim_trace_on)
		shim_trace_ioctl(fd, req, arg, save, r, err);
	errno = err;
	return r;
}

int shim_uffd_close(int fd)
{
	char res[32];
	int r, err;

	shim_depth++;
	r = uffdemu_close(fd);
	err = errno;
	shim_depth--;
	if (shim_trace_on)
		shim_trace("close(%d) = %s", fd,
			   shim_result(r, err, res, sizeof(res)));
	errno = err;
	return r;
}

/* The new number of an emulated descriptor is noted, and traced. */
static int dup_result(const char *call, int fd, int r)
{
	int err = errno;

	if (r >= 0 && r != fd && uffdemu_is_emulated(r)) {
		shim_note_fd(r);
		if (shim_trace_on)
			shim_trace("%s(%d) = %d", call, fd, r);
	}
	errno = err;
	return r;
}

int shim_do_dup(int fd)
{
	int r;

	if (likely(!__atomic_load_n(&shim_fds_any, __ATOMIC_RELAXED)))
		return real_dup(fd);
	shim_depth++;
	r = uffdemu_dup(fd);
	shim_depth--;
	return dup_result("dup", fd, r);
}

int shim_do_dup2(int fd, int newfd)
{
	int r;

	if (likely(!__atomic_load_n(&shim_fds_any, __ATOMIC_RELAXED)))
		return real_dup2(fd, newfd);
	shim_depth++;
	r = uffdemu_dup2(fd, newfd);
	shim_depth--;
	return dup_result("dup2", fd, r);
}

int shim_do_dup3(int fd, int newfd, int flags)
{
	int r;

	if (likely(!__atomic_load_n(&shim_fds_any, __ATOMIC_RELAXED)))
		return real_dup3(fd, newfd, flags);
	shim_depth++;
	r = uffdemu_dup3(fd, newfd, flags);
	shim_depth--;
	return dup_result("dup3", fd, r);
}

/*
 * Every command on an emulated descriptor, and the duplicating ones on any
 * descriptor once the emulator is in use (the new number must not keep a
 * stale entry), go through the emulator.
 */
int shim_do_fcntl(int fd, int cmd, long arg)
{
	bool dupfd = cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC;
	int r;

	if (likely(!shim_emulated(fd)) &&
	    !(dupfd && __atomic_load_n(&shim_fds_any, __ATOMIC_RELAXED)))
		return real_fcntl(fd, cmd, arg);
	shim_depth++;
	r = uffdemu_fcntl(fd, cmd, arg);
	shim_depth--;
	return dupfd ? dup_result("fcntl F_DUPFD", fd, r) : r;
}

/* --- the exported entry points --- */

static SHIM_COLD ssize_t read_slow(int fd, void *buf, size_t n)
{
	if (shim_emulated(fd))
		return shim_uffd_read(fd, buf, n);
	shim_prefault(buf, n, 1);
	if (shim_maybe_emulated(fd) && shim_pagemap_fd(fd))
		return shim_pagemap_read(fd, buf, n, -1);
	return real_read(fd, buf, n);
}

SHIM_API ssize_t read(int fd, void *buf, size_t n)
{
	if (unlikely(shim_maybe_emulated(fd) || shim_prefault_wanted(buf, n)))
		return read_slow(fd, buf, n);
	return real_read(fd, buf, n);
}

SHIM_API ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	if (n > buflen)
		__chk_fail();
	return read(fd, buf, n);
}

SHIM_API ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
	if (unlikely(shim_emulated(fd)))
		return shim_uffd_readv(fd, iov, cnt);
	shim_prefault_iov(iov, cnt, 1);
	return real_readv(fd, iov, cnt);
}

/*
 * PAGEMAP_SCAN on a pagemap file: once a userfaultfd exists the emulator
 * answers for this process's registered pages (and passes the rest on).
 * Limitation: made through syscall(SYS_ioctl, ...) it reaches the kernel,
 * which knows nothing of the emulated write protection.
 */
static SHIM_COLD int pagemap_scan(int fd, void *arg)
{
	int r, err;

	shim_depth++;
	r = uffdemu_pagemap_scan(fd, arg);
	err = errno;
	shim_depth--;
	errno = err;
	return r;
}

static SHIM_COLD int ioctl_slow(int fd, unsigned long req, void *arg)
{
	if (shim_emulated(fd))
		return shim_uffd_ioctl(fd, req, arg);
	if (req == PAGEMAP_SCAN && shim_is_active() && shim_depth == 0)
		return pagemap_scan(fd, arg);
	/* Requests that encode their argument's size and direction. */
	if (_IOC_DIR(req) & (_IOC_READ | _IOC_WRITE))
		shim_prefault(arg, _IOC_SIZE(req), _IOC_DIR(req) == _IOC_READ);
	return real_ioctl(fd, req, arg);
}

/*
 * ioctl(), fcntl() and syscall() are variadic in C, but on Linux's ABIs a
 * call passes its integer and pointer arguments in the same places whether
 * the callee is variadic or not, so they are defined here with fixed
 * arguments, under their C library names by assembler label.  A variadic
 * function cannot pass its call on as a tail call, and the extra return
 * frame across the system call cost about 20 ns a call (measured), the
 * whole of the shim's budget.  An argument the caller did not pass is read
 * as whatever its register holds and passed on unused, as the C library's
 * own syscall() does.
 */
SHIM_API int shim_ioctl(int fd, unsigned long req, void *arg) __asm__("ioctl");
SHIM_API int shim_fcntl(int fd, int cmd, long arg) __asm__("fcntl");
SHIM_API int shim_fcntl64(int fd, int cmd, long arg) __asm__("fcntl64");
SHIM_API long shim_syscall(long nr, long a1, long a2, long a3, long a4, long a5,
			   long a6) __asm__("syscall");

SHIM_API int shim_ioctl(int fd, unsigned long req, void *arg)
{
	if (unlikely(shim_maybe_emulated(fd) ||
		     shim_prefault_wanted(arg, _IOC_SIZE(req)) ||
		     req == PAGEMAP_SCAN))
		return ioctl_slow(fd, req, arg);
	return real_ioctl(fd, req, arg);
}

static SHIM_COLD int close_slow(int fd)
{
	if (shim_emulated(fd))
		return shim_uffd_close(fd);
	return real_close(fd);
}

SHIM_API int close(int fd)
{
	if (unlikely(shim_maybe_emulated(fd)))
		return close_slow(fd);
	return real_close(fd);
}

/* Lets go of the emulated descriptors among [first, last]. */
static void release_range(unsigned int first, unsigned int last)
{
	struct rlimit rl;

	if (!__atomic_load_n(&shim_fds_any, __ATOMIC_RELAXED))
		return;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max < FD_LIMIT &&
	    last >= rl.rlim_max)
		last = (unsigned int)rl.rlim_max - 1;
	if (last >= FD_LIMIT)
		last = FD_LIMIT - 1;
	for (unsigned int fd = first; fd <= last && fd < FD_LIMIT; fd++)
		if (shim_emulated((int)fd))
			shim_uffd_close((int)fd);
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/*
 * Closes [first, last] around the emulator's own descriptors, which the
 * emulator needs as long as the process lives (they are close-on-exec, so
 * an exec still drops them).
 */
static int close_sparing(unsigned int first, unsigned int last, int flags)
{
	int own[64], n = uffdemu_internal_fds(own, 64);
	unsigned int from = first;

	qsort(own, (size_t)n, sizeof(own[0]), cmp_int);
	for (int i = 0; i < n && from <= last; i++) {
		unsigned int fd = (unsigned int)own[i];

		if (fd < from || fd > last)
			continue;
		if (fd > from && real_close_range(from, fd - 1, flags) != 0)
			return -1;
		if (fd == last)
			return 0;
		from = fd + 1;
	}
	return real_close_range(from, last, flags);
}

SHIM_API int close_range(unsigned int first, unsigned int last, int flags)
{
	if (flags & CLOSE_RANGE_CLOEXEC || first > last ||
	    !__atomic_load_n(&shim_fds_any, __ATOMIC_RELAXED))
		return real_close_range(first, last, flags);
	release_range(first, last);
	return close_sparing(first, last, flags);
}

SHIM_API void closefrom(int lowfd)
{
	if (lowfd < 0)
		return;
	if (!__atomic_load_n(&shim_fds_any, __ATOMIC_RELAXED)) {
		real_closefrom(lowfd);
		return;
	}
	release_range((unsigned int)lowfd, ~0U);
	close_sparing((unsigned int)lowfd, ~0U, 0);
}

SHIM_API int dup(int fd)
{
	return shim_do_dup(fd);
}

SHIM_API int dup2(int fd, int newfd)
{
	return shim_do_dup2(fd, newfd);
}

SHIM_API int dup3(int fd, int newfd, int flags)
{
	return shim_do_dup3(fd, newfd, flags);
}

SHIM_API int shim_fcntl(int fd, int cmd, long arg)
{
	return shim_do_fcntl(fd, cmd, arg);
}

SHIM_API int shim_fcntl64(int fd, int cmd, long arg)
{
	return shim_do_fcntl(fd, cmd, arg);
}

/* --- open() and its variants --- */

static bool takes_mode(int flags)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

/*
 * Returns the descriptor for the paths the shim serves itself, or -2 to
 * let the real call open the path.
 */
static int open_special(const char *path, int flags, mode_t mode)
{
	int n;

	if (likely(!path || path[0] != '/'))
		return -2;
	if (strcmp(path, UFFDEMU_DEV_PATH) == 0)
		return shim_open_dev(path, flags, mode);
	n = shim_proc_fd_target(path, "fdinfo");
	if (n >= 0 && shim_fd_kind(n) == 1)
		return shim_fdinfo_open(n, flags);
	return -2;
}

static int do_open(const char *path, int flags, mode_t mode)
{
	int fd = open_special(path, flags, mode);

	if (fd == -2 && unlikely(path && path[0] == '/'))
		fd = shim_pagemap_open(path, AT_FDCWD, flags, mode);
	return fd != -2 ? fd : real_open(path, flags, mode);
}

static int do_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	int fd = open_special(path, flags, mode);

	if (fd == -2 && unlikely(path && path[0] == '/'))
		fd = shim_pagemap_open(path, dirfd, flags, mode);
	return fd != -2 ? fd : real_openat(dirfd, path, flags, mode);
}

#define MODE_ARG(flags, last)                   \
	({                                      \
		mode_t m = 0;                   \
		if (takes_mode(flags)) {        \
			va_list ap;             \
			va_start(ap, last);     \
			m = va_arg(ap, mode_t); \
			va_end(ap);             \
		}                               \
		m;                              \
	})

SHIM_API int open(const char *path, int flags, ...)
{
	return do_open(path, flags, MODE_ARG(flags, flags));
}

SHIM_API int open64(const char *path, int flags, ...)
{
	return do_open(path, flags, MODE_ARG(flags, flags));
}

SHIM_API int openat(int dirfd, const char *path, int flags, ...)
{
	return do_openat(dirfd, path, flags, MODE_ARG(flags, flags));
}

SHIM_API int openat64(int dirfd, const char *path, int flags, ...)
{
	return do_openat(dirfd, path, flags, MODE_ARG(flags, flags));
}

/*
 * The fortified variants.  An O_CREAT without a mode is left to the C
 * library's own, which reports it and aborts.
 */
static void *fortified(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

SHIM_API int __open_2(const char *path, int flags)
{
	if (takes_mode(flags))
		return ((int (*)(const char *, int))fortified("__open_2"))(
			path, flags);
	return do_open(path, flags, 0);
}

SHIM_API int __open64_2(const char *path, int flags)
{
	if (takes_mode(flags))
		return ((int (*)(const char *, int))fortified("__open64_2"))(
			path, flags);
	return do_open(path, flags, 0);
}

SHIM_API int __openat_2(int dirfd, const char *path, int flags)
{
	if (takes_mode(flags))
		return ((int (*)(int, const char *, int))fortified(
			"__openat_2"))(dirfd, path, flags);
	return do_openat(dirfd, path, flags, 0);
}

SHIM_API int __openat64_2(int dirfd, const char *path, int flags)
{
	if (takes_mode(flags))
		return ((int (*)(int, const char *, int))fortified(
			"__openat64_2"))(dirfd, path, flags);
	return do_openat(dirfd, path, flags, 0);
}

/* --- syscall() --- */

/*
 * The fd calls a program may make through syscall() instead of the C
 * library, on an emulated descriptor.  Returns true with *ret set when it
 * took the call.
 */
static bool divert_fd_call(long nr, const long *a, long *ret)
{
	int fd = (int)a[0];

	if (likely(!shim_emulated(fd)))
		return false;
	switch (nr) {
	case SYS_read:
		*ret = shim_uffd_read(fd, (void *)a[1], (size_t)a[2]);
		return true;
	case SYS_readv:
		*ret = shim_uffd_readv(fd, (const struct iovec *)a[1],
				       (int)a[2]);
		return true;
	case SYS_ioctl:
		*ret = shim_uffd_ioctl(fd, (unsigned long)a[1], (void *)a[2]);
		return true;
	case SYS_close:
		*ret = shim_uffd_close(fd);
		return true;
	case SYS_fcntl:
		*ret = shim_do_fcntl(fd, (int)a[1], a[2]);
		return true;
	case SYS_dup:
		*ret = shim_do_dup(fd);
		return true;
#ifdef SYS_dup2
	case SYS_dup2:
		*ret = shim_do_dup2(fd, (int)a[1]);
		return true;
#endif
	case SYS_dup3:
		*ret = shim_do_dup3(fd, (int)a[1], (int)a[2]);
		return true;
	}
	return false;
}

static bool divert_mem_call(long nr, const long *a, long *ret)
{
	void *addr = (void *)a[0];
	size_t len = (size_t)a[1];

	switch (nr) {
	case SYS_mmap:
		*ret = (long)shim_do_mmap(addr, len, (int)a[2], (int)a[3],
					  (int)a[4], (off_t)a[5]);
		return true;
	case SYS_munmap:
		*ret = shim_do_munmap(addr, len);
		return true;
	case SYS_mremap:
		*ret = (long)shim_do_mremap(addr, len, (size_t)a[2], (int)a[3],
					    (void *)a[4]);
		return true;
	case SYS_madvise:
		*ret = shim_do_madvise(addr, len, (int)a[2]);
		return true;
	case SYS_mprotect:
		*ret = shim_do_mprotect(addr, len, (int)a[2]);
		return true;
	case SYS_fallocate:
		*ret = shim_do_fallocate((int)a[0], (int)a[1], (off_t)a[2],
					 (off_t)a[3]);
		return true;
	}
	return false;
}

static SHIM_COLD long syscall_slow(long nr, long a1, long a2, long a3, long a4,
				   long a5, long a6)
{
	long a[6] = {a1, a2, a3, a4, a5, a6}, ret;

	if (nr == SYS_userfaultfd)
		return shim_userfaultfd((int)a1);
	if (divert_fd_call(nr, a, &ret))
		return ret;
	if (shim_is_active() && divert_mem_call(nr, a, &ret))
		return ret;
	if (nr == SYS_read || nr == SYS_pread64)
		shim_prefault((void *)a2, (size_t)a3, 1);
	else if (nr == SYS_write || nr == SYS_pwrite64)
		shim_prefault((void *)a2, (size_t)a3, 0);
	return real_syscall(nr, a1, a2, a3, a4, a5, a6);
}

SHIM_API long shim_syscall(long nr, long a1, long a2, long a3, long a4, long a5,
			   long a6)
{
	if (unlikely(nr == SYS_userfaultfd ||
		     __atomic_load_n(&shim_fds_any, __ATOMIC_RELAXED)))
		return syscall_slow(nr, a1, a2, a3, a4, a5, a6);
	return real_syscall(nr, a1, a2, a3, a4, a5, a6);
}

/*
 * Descriptors passed with SCM_RIGHTS: an emulated userfaultfd sent away
 * stays served here for the receiver, and one received from another
 * process becomes emulated here too.
 */
ssize_t shim_sendmsg_fds(int fd, const struct msghdr *msg, int flags)
{
	ssize_t r;
	int err;

	shim_depth++;
	r = uffdemu_sendmsg(fd, msg, flags);
	err = errno;
	shim_depth--;
	errno = err;
	return r;
}

static void note_received(const struct msghdr *msg)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)msg); c;
	     c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < n; i++) {
			int got;

			memcpy(&got, CMSG_DATA(c) + i * sizeof(int),
			       sizeof(got));
			if (uffdemu_is_emulated(got)) {
				shim_note_fd(got);
				shim_activate();
			}
		}
	}
}

ssize_t shim_recvmsg_fds(int fd, struct msghdr *msg, int flags)
{
	ssize_t r;
	int err;

	shim_depth++;
	r = uffdemu_recvmsg(fd, msg, flags);
	err = errno;
	shim_depth--;
	if (r >= 0 && !(flags & MSG_PEEK) && msg->msg_control &&
	    msg->msg_controllen >= sizeof(struct cmsghdr))
		note_received(msg);
	errno = err;
	return r;
}
