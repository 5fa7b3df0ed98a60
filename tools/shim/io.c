/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Calls that hand the kernel a buffer.  On the kernel's userfaultfd, a
 * system call whose buffer is registered and missing waits while the
 * monitor is asked for the page, then completes; the emulator only sees
 * faults taken in user space, where the call would fail EFAULT.  So each
 * of these touches the buffer's missing pages first (shim_prefault(): two
 * comparisons when nothing registered is near), as a write when the
 * kernel writes to the buffer, as a read when it reads it.
 *
 * The same calls on an emulated userfaultfd fail as on the kernel's, whose
 * file is read-only and cannot seek.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include "tools/shim/shim.h"

extern void __chk_fail(void) __attribute__((noreturn));

/* write(2) and the like on a userfaultfd: opened read-only. */
#define REFUSE_WRITE(fd)                                                    \
	do {                                                                \
		if (unlikely(shim_emulated(fd)) && shim_fd_kind(fd) == 1) { \
			errno = EBADF;                                      \
			return -1;                                          \
		}                                                           \
	} while (0)

/* pread(2) and the like on a userfaultfd: no positioned reads. */
#define REFUSE_PREAD(fd)                                                    \
	do {                                                                \
		if (unlikely(shim_emulated(fd)) && shim_fd_kind(fd) == 1) { \
			errno = ESPIPE;                                     \
			return -1;                                          \
		}                                                           \
	} while (0)

static SHIM_COLD ssize_t write_slow(int fd, const void *buf, size_t n)
{
	REFUSE_WRITE(fd);
	shim_prefault(buf, n, 0);
	return real_write(fd, buf, n);
}

SHIM_API ssize_t write(int fd, const void *buf, size_t n)
{
	if (unlikely(shim_maybe_emulated(fd) || shim_prefault_wanted(buf, n)))
		return write_slow(fd, buf, n);
	return real_write(fd, buf, n);
}

SHIM_API ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	REFUSE_WRITE(fd);
	shim_prefault_iov(iov, cnt, 0);
	return real_writev(fd, iov, cnt);
}

SHIM_API ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	REFUSE_PREAD(fd);
	shim_prefault(buf, n, 1);
	if (unlikely(shim_maybe_emulated(fd)) && shim_pagemap_fd(fd))
		return shim_pagemap_read(fd, buf, n, off);
	return real_pread(fd, buf, n, off);
}

SHIM_API ssize_t pread64(int fd, void *buf, size_t n, off_t off)
{
	return pread(fd, buf, n, off);
}

SHIM_API ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off,
			     size_t buflen)
{
	if (n > buflen)
		__chk_fail();
	return pread(fd, buf, n, off);
}

SHIM_API ssize_t __pread64_chk(int fd, void *buf, size_t n, off_t off,
			       size_t buflen)
{
	if (n > buflen)
		__chk_fail();
	return pread(fd, buf, n, off);
}

SHIM_API ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	REFUSE_WRITE(fd);
	shim_prefault(buf, n, 0);
	return real_pwrite(fd, buf, n, off);
}

SHIM_API ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	return pwrite(fd, buf, n, off);
}

SHIM_API ssize_t preadv(int fd, const struct iovec *iov, int cnt, off_t off)
{
	REFUSE_PREAD(fd);
	shim_prefault_iov(iov, cnt, 1);
	return real_preadv(fd, iov, cnt, off);
}

SHIM_API ssize_t preadv64(int fd, const struct iovec *iov, int cnt, off_t off)
{
	return preadv(fd, iov, cnt, off);
}

SHIM_API ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	REFUSE_WRITE(fd);
	shim_prefault_iov(iov, cnt, 0);
	return real_pwritev(fd, iov, cnt, off);
}

SHIM_API ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off_t off)
{
	return pwritev(fd, iov, cnt, off);
}

SHIM_API ssize_t preadv2(int fd, const struct iovec *iov, int cnt, off_t off,
			 int flags)
{
	/* An offset of -1 reads at the file position, like readv(). */
	if (off == -1 && unlikely(shim_emulated(fd)))
		return shim_uffd_readv(fd, iov, cnt);
	REFUSE_PREAD(fd);
	shim_prefault_iov(iov, cnt, 1);
	return real_preadv2(fd, iov, cnt, off, flags);
}

SHIM_API ssize_t preadv64v2(int fd, const struct iovec *iov, int cnt, off_t off,
			    int flags)
{
	return preadv2(fd, iov, cnt, off, flags);
}

SHIM_API ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t off,
			  int flags)
{
	REFUSE_WRITE(fd);
	shim_prefault_iov(iov, cnt, 0);
	return real_pwritev2(fd, iov, cnt, off, flags);
}

SHIM_API ssize_t pwritev64v2(int fd, const struct iovec *iov, int cnt,
			     off_t off, int flags)
{
	return pwritev2(fd, iov, cnt, off, flags);
}

/* The kernel's userfaultfd ignores lseek(2) and returns 0. */
SHIM_API off_t lseek(int fd, off_t off, int whence)
{
	if (unlikely(shim_emulated(fd)) && shim_fd_kind(fd) == 1)
		return 0;
	return real_lseek(fd, off, whence);
}

SHIM_API off_t lseek64(int fd, off_t off, int whence)
{
	return lseek(fd, off, whence);
}

SHIM_API ssize_t recv(int fd, void *buf, size_t n, int flags)
{
	shim_prefault(buf, n, 1);
	return real_recv(fd, buf, n, flags);
}

SHIM_API ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen,
			    int flags)
{
	if (n > buflen)
		__chk_fail();
	return recv(fd, buf, n, flags);
}

SHIM_API ssize_t recvfrom(int fd, void *buf, size_t n, int flags,
			  struct sockaddr *addr, socklen_t *alen)
{
	shim_prefault(buf, n, 1);
	return real_recvfrom(fd, buf, n, flags, addr, alen);
}

SHIM_API ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen,
				int flags, struct sockaddr *addr,
				socklen_t *alen)
{
	if (n > buflen)
		__chk_fail();
	return recvfrom(fd, buf, n, flags, addr, alen);
}

SHIM_API ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	shim_prefault_msg(msg, 1);
	if (unlikely(msg && msg->msg_controllen))
		return shim_recvmsg_fds(fd, msg, flags);
	return real_recvmsg(fd, msg, flags);
}

SHIM_API int recvmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags,
		      struct timespec *timeout)
{
	if (__atomic_load_n(&shim_reg_hi, __ATOMIC_RELAXED) && v)
		for (unsigned int i = 0; i < n; i++)
			shim_prefault_msg(&v[i].msg_hdr, 1);
	return real_recvmmsg(fd, v, n, flags, timeout);
}

SHIM_API ssize_t send(int fd, const void *buf, size_t n, int flags)
{
	shim_prefault(buf, n, 0);
	return real_send(fd, buf, n, flags);
}

SHIM_API ssize_t sendto(int fd, const void *buf, size_t n, int flags,
			const struct sockaddr *addr, socklen_t alen)
{
	shim_prefault(buf, n, 0);
	return real_sendto(fd, buf, n, flags, addr, alen);
}

SHIM_API ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	shim_prefault_msg(msg, 0);
	if (unlikely(msg && msg->msg_controllen && shim_fds_any))
		return shim_sendmsg_fds(fd, msg, flags);
	return real_sendmsg(fd, msg, flags);
}

SHIM_API int sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags)
{
	if (__atomic_load_n(&shim_reg_hi, __ATOMIC_RELAXED) && v)
		for (unsigned int i = 0; i < n; i++)
			shim_prefault_msg(&v[i].msg_hdr, 0);
	return real_sendmmsg(fd, v, n, flags);
}

SHIM_API ssize_t getrandom(void *buf, size_t n, unsigned int flags)
{
	shim_prefault(buf, n, 1);
	return real_getrandom(buf, n, flags);
}

/*
 * stdio moves large blocks straight between the caller's buffer and the
 * file, with the C library's internal read and write.
 */
SHIM_API size_t fread(void *buf, size_t size, size_t n, FILE *f)
{
	if (!__builtin_mul_overflow(size, n, &(size_t){0}))
		shim_prefault(buf, size * n, 1);
	return real_fread(buf, size, n, f);
}

SHIM_API size_t __fread_chk(void *buf, size_t buflen, size_t size, size_t n,
			    FILE *f)
{
	size_t total;

	if (__builtin_mul_overflow(size, n, &total) || total > buflen)
		__chk_fail();
	return fread(buf, size, n, f);
}

SHIM_API size_t fwrite(const void *buf, size_t size, size_t n, FILE *f)
{
	if (!__builtin_mul_overflow(size, n, &(size_t){0}))
		shim_prefault(buf, size * n, 0);
	return real_fwrite(buf, size, n, f);
}

/* mlock(2) populates the range, writing where it may (Linux 6.18). */
SHIM_API int mlock(const void *addr, size_t len)
{
	shim_prefault(addr, len, 1);
	return real_mlock(addr, len);
}

SHIM_API int mlock2(const void *addr, size_t len, unsigned int flags)
{
	shim_prefault(addr, len, 1);
	return real_mlock2(addr, len, flags);
}
