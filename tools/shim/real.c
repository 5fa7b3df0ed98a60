/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The C library's own functions.
 *
 * They are found with dlsym(RTLD_NEXT) by a constructor that runs before
 * the program's main(), and on first use by any call that comes earlier
 * (another library's constructor may call read() before ours has run).
 * The wrappers call them through shim_real; the emulator's objects call
 * them through the __wrap_NAME functions below, which is where the linker
 * sends every call they make to NAME (see shim.h).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tools/shim/shim.h"

struct shim_real shim_real;

/* Stand-ins for what an older C library lacks: ENOSYS, as its kernel. */
static ssize_t no_preadv2(int fd, const struct iovec *iov, int cnt, off_t off,
			  int flags)
{
	return errno = ENOSYS, -1;
}

static ssize_t no_pwritev2(int fd, const struct iovec *iov, int cnt, off_t off,
			   int flags)
{
	return errno = ENOSYS, -1;
}

static int no_recvmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags,
		       struct timespec *timeout)
{
	return errno = ENOSYS, -1;
}

static int no_sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags)
{
	return errno = ENOSYS, -1;
}

static ssize_t no_getrandom(void *buf, size_t n, unsigned int flags)
{
	return errno = ENOSYS, -1;
}

static int no_close_range(unsigned int first, unsigned int last, int flags)
{
	return errno = ENOSYS, -1;
}

static void no_closefrom(int lowfd)
{
	syscall(SYS_close_range, (unsigned int)lowfd, ~0U, 0);
}

static int no_epoll_pwait2(int epfd, struct epoll_event *ev, int max,
			   const struct timespec *ts, const sigset_t *mask)
{
	return errno = ENOSYS, -1;
}

static int no_mlock2(const void *addr, size_t len, unsigned int flags)
{
	return errno = ENOSYS, -1;
}

static void *must(const char *name)
{
	static const char msg[] = "uffdemu: missing from the C library: ";
	void *p = dlsym(RTLD_NEXT, name);

	if (!p) {
		/* Not through write(): that may be what is missing. */
		syscall(SYS_write, 2, msg, sizeof(msg) - 1);
		syscall(SYS_write, 2, name, strlen(name));
		syscall(SYS_write, 2, "\n", 1);
		abort();
	}
	return p;
}

static void *maybe(const char *name, void *stand_in)
{
	void *p = dlsym(RTLD_NEXT, name);

	return p ? p : stand_in;
}

#define MUST(name)  (shim_real.name = must(#name))
#define MAYBE(name) (shim_real.name = maybe(#name, (void *)no_##name))

/*
 * Idempotent.  The functions the emulator itself needs come first, and
 * read comes last: a caller that finds shim_real.read set finds them all.
 */
void shim_resolve_all(void)
{
	ssize_t (*read_fn)(int, void *, size_t);

	if (__atomic_load_n(&shim_real.read, __ATOMIC_ACQUIRE))
		return;
	MUST(syscall);
	MUST(write);
	MUST(close);
	MUST(open);
	MUST(fcntl);
	MUST(ioctl);
	MUST(mmap);
	MUST(munmap);
	MUST(mremap);
	MUST(madvise);
	MUST(mprotect);
	MUST(fallocate);
	MUST(sigaction);
	MUST(signal);
	MUST(sysv_signal);
	MUST(sigprocmask);
	MUST(pthread_sigmask);
	MUST(readv);
	MUST(writev);
	MUST(pread);
	MUST(pwrite);
	MUST(preadv);
	MUST(pwritev);
	MUST(recv);
	MUST(recvfrom);
	MUST(recvmsg);
	MUST(send);
	MUST(sendto);
	MUST(sendmsg);
	MUST(lseek);
	MUST(openat);
	MUST(fopen);
	MUST(fread);
	MUST(fwrite);
	MUST(dup);
	MUST(dup2);
	MUST(dup3);
	MUST(poll);
	MUST(ppoll);
	MUST(select);
	MUST(pselect);
	MUST(epoll_ctl);
	MUST(epoll_wait);
	MUST(epoll_pwait);
	MUST(mlock);
	MUST(readlink);
	MUST(readlinkat);
	MAYBE(preadv2);
	MAYBE(pwritev2);
	MAYBE(recvmmsg);
	MAYBE(sendmmsg);
	MAYBE(getrandom);
	MAYBE(close_range);
	MAYBE(closefrom);
	MAYBE(epoll_pwait2);
	MAYBE(mlock2);
	read_fn = must("read");
	__atomic_store_n(&shim_real.read, read_fn, __ATOMIC_RELEASE);
}

/* --- what the emulator's objects call (linked with --wrap) --- */

#define WRAP(ret, name, params, args)   \
	ret __wrap_##name params;       \
	ret __wrap_##name params        \
	{                               \
		return REAL(name) args; \
	}

WRAP(ssize_t, read, (int fd, void *buf, size_t n), (fd, buf, n))
WRAP(ssize_t, readv, (int fd, const struct iovec *iov, int cnt), (fd, iov, cnt))
WRAP(ssize_t, write, (int fd, const void *buf, size_t n), (fd, buf, n))
WRAP(ssize_t, writev, (int fd, const struct iovec *iov, int cnt),
     (fd, iov, cnt))
WRAP(ssize_t, pread, (int fd, void *buf, size_t n, off_t off),
     (fd, buf, n, off))
WRAP(ssize_t, pwrite, (int fd, const void *buf, size_t n, off_t off),
     (fd, buf, n, off))
WRAP(ssize_t, preadv, (int fd, const struct iovec *iov, int cnt, off_t off),
     (fd, iov, cnt, off))
WRAP(ssize_t, pwritev, (int fd, const struct iovec *iov, int cnt, off_t off),
     (fd, iov, cnt, off))
WRAP(ssize_t, preadv2,
     (int fd, const struct iovec *iov, int cnt, off_t off, int flags),
     (fd, iov, cnt, off, flags))
WRAP(ssize_t, pwritev2,
     (int fd, const struct iovec *iov, int cnt, off_t off, int flags),
     (fd, iov, cnt, off, flags))
WRAP(ssize_t, recv, (int fd, void *buf, size_t n, int flags),
     (fd, buf, n, flags))
WRAP(ssize_t, recvfrom,
     (int fd, void *buf, size_t n, int flags, struct sockaddr *addr,
      socklen_t *alen),
     (fd, buf, n, flags, addr, alen))
WRAP(ssize_t, recvmsg, (int fd, struct msghdr *msg, int flags),
     (fd, msg, flags))
WRAP(int, recvmmsg,
     (int fd, struct mmsghdr *v, unsigned int n, int flags,
      struct timespec *timeout),
     (fd, v, n, flags, timeout))
WRAP(ssize_t, send, (int fd, const void *buf, size_t n, int flags),
     (fd, buf, n, flags))
WRAP(ssize_t, sendto,
     (int fd, const void *buf, size_t n, int flags, const struct sockaddr *addr,
      socklen_t alen),
     (fd, buf, n, flags, addr, alen))
WRAP(ssize_t, sendmsg, (int fd, const struct msghdr *msg, int flags),
     (fd, msg, flags))
WRAP(int, sendmmsg, (int fd, struct mmsghdr *v, unsigned int n, int flags),
     (fd, v, n, flags))
WRAP(ssize_t, getrandom, (void *buf, size_t n, unsigned int flags),
     (buf, n, flags))
WRAP(off_t, lseek, (int fd, off_t off, int whence), (fd, off, whence))
WRAP(FILE *, fopen, (const char *path, const char *mode), (path, mode))
WRAP(size_t, fread, (void *buf, size_t size, size_t n, FILE *f),
     (buf, size, n, f))
WRAP(size_t, fwrite, (const void *buf, size_t size, size_t n, FILE *f),
     (buf, size, n, f))
WRAP(int, close, (int fd), (fd))
WRAP(int, close_range, (unsigned int first, unsigned int last, int flags),
     (first, last, flags))
WRAP(int, dup, (int fd), (fd))
WRAP(int, dup2, (int fd, int newfd), (fd, newfd))
WRAP(int, dup3, (int fd, int newfd, int flags), (fd, newfd, flags))
WRAP(int, poll, (struct pollfd * fds, nfds_t n, int timeout), (fds, n, timeout))
WRAP(int, ppoll,
     (struct pollfd * fds, nfds_t n, const struct timespec *ts,
      const sigset_t *mask),
     (fds, n, ts, mask))
WRAP(int, select, (int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv),
     (n, r, w, e, tv))
WRAP(int, pselect,
     (int n, fd_set *r, fd_set *w, fd_set *e, const struct timespec *ts,
      const sigset_t *mask),
     (n, r, w, e, ts, mask))
WRAP(int, epoll_ctl, (int epfd, int op, int fd, struct epoll_event *ev),
     (epfd, op, fd, ev))
WRAP(int, epoll_wait, (int epfd, struct epoll_event *ev, int max, int timeout),
     (epfd, ev, max, timeout))
WRAP(int, epoll_pwait,
     (int epfd, struct epoll_event *ev, int max, int timeout,
      const sigset_t *mask),
     (epfd, ev, max, timeout, mask))
WRAP(int, epoll_pwait2,
     (int epfd, struct epoll_event *ev, int max, const struct timespec *ts,
      const sigset_t *mask),
     (epfd, ev, max, ts, mask))
WRAP(void *, mmap,
     (void *addr, size_t len, int prot, int flags, int fd, off_t off),
     (addr, len, prot, flags, fd, off))
WRAP(int, munmap, (void *addr, size_t len), (addr, len))
WRAP(int, madvise, (void *addr, size_t len, int advice), (addr, len, advice))
WRAP(int, mprotect, (void *addr, size_t len, int prot), (addr, len, prot))
WRAP(int, fallocate, (int fd, int mode, off_t offset, off_t len),
     (fd, mode, offset, len))
WRAP(int, mlock, (const void *addr, size_t len), (addr, len))
WRAP(int, mlock2, (const void *addr, size_t len, unsigned int flags),
     (addr, len, flags))
WRAP(int, sigaction,
     (int sig, const struct sigaction *act, struct sigaction *oact),
     (sig, act, oact))
WRAP(sighandler_t, signal, (int sig, sighandler_t handler), (sig, handler))
WRAP(int, sigprocmask, (int how, const sigset_t *set, sigset_t *old),
     (how, set, old))
WRAP(int, pthread_sigmask, (int how, const sigset_t *set, sigset_t *old),
     (how, set, old))
WRAP(ssize_t, readlink, (const char *path, char *buf, size_t len),
     (path, buf, len))
WRAP(ssize_t, readlinkat, (int dirfd, const char *path, char *buf, size_t len),
     (dirfd, path, buf, len))

/* The variadic ones take what the C library's own versions take. */

static bool takes_mode(int flags)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

int __wrap_open(const char *path, int flags, ...);
int __wrap_open(const char *path, int flags, ...)
{
	mode_t mode = 0;

	if (takes_mode(flags)) {
		va_list ap;

		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	return REAL(open)(path, flags, mode);
}

int __wrap_openat(int dirfd, const char *path, int flags, ...);
int __wrap_openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	if (takes_mode(flags)) {
		va_list ap;

		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	return REAL(openat)(dirfd, path, flags, mode);
}

int __wrap_fcntl(int fd, int cmd, ...);
int __wrap_fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return REAL(fcntl)(fd, cmd, arg);
}

int __wrap_ioctl(int fd, unsigned long req, ...);
int __wrap_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	return REAL(ioctl)(fd, req, arg);
}

/* Six arguments are always passed on, as the C library's syscall() does. */
long __wrap_syscall(long nr, ...);
long __wrap_syscall(long nr, ...)
{
	long a[6];
	va_list ap;

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	return REAL(syscall)(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

void *__wrap_mremap(void *old, size_t old_len, size_t new_len, int flags, ...);
void *__wrap_mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
	void *new_addr = NULL;

	if (flags & MREMAP_FIXED) {
		va_list ap;

		va_start(ap, flags);
		new_addr = va_arg(ap, void *);
		va_end(ap);
	}
	return REAL(mremap)(old, old_len, new_len, flags, new_addr);
}
