/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libuffdemu-preload.so: the emulator under an unchanged program.
 *
 * How calls are routed.  The preload library is the emulator's own objects
 * plus these wrappers, linked with --wrap=NAME for every function the
 * wrappers define.  Inside the library, every call by name (the emulator's
 * read(), close(), mmap(), sigaction() ...) therefore goes to __wrap_NAME,
 * which calls the C library's function found once with dlsym(RTLD_NEXT):
 * the emulator never re-enters a wrapper, and its fault path stays free of
 * anything but system calls.  Only calls from outside the library, the
 * program's and other libraries', reach the wrappers, which are the
 * exported definitions of NAME.
 *
 * A wrapper decides in one load whether its descriptor may be emulated
 * (shim_maybe_emulated(); a yes is confirmed in the emulator's own O(1)
 * table) and in two comparisons whether its buffer may hold registered
 * memory (shim_prefault_wanted()); otherwise it hands the call to the C
 * library as a tail call, adding no return frame across the system call.
 * The shim's own calls to wrapped functions are written real_NAME() to
 * say which one they mean.
 */
#ifndef UFFDEMU_SHIM_H
#define UFFDEMU_SHIM_H

#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#define SHIM_API __attribute__((visibility("default")))

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/*
 * real.c: the C library's functions, found once with dlsym(RTLD_NEXT).
 * A function the C library lacks (an older one) fails ENOSYS.
 */
struct shim_real {
	ssize_t (*read)(int, void *, size_t);
	ssize_t (*readv)(int, const struct iovec *, int);
	ssize_t (*write)(int, const void *, size_t);
	ssize_t (*writev)(int, const struct iovec *, int);
	ssize_t (*pread)(int, void *, size_t, off_t);
	ssize_t (*pwrite)(int, const void *, size_t, off_t);
	ssize_t (*preadv)(int, const struct iovec *, int, off_t);
	ssize_t (*pwritev)(int, const struct iovec *, int, off_t);
	ssize_t (*preadv2)(int, const struct iovec *, int, off_t, int);
	ssize_t (*pwritev2)(int, const struct iovec *, int, off_t, int);
	ssize_t (*recv)(int, void *, size_t, int);
	ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *,
			    socklen_t *);
	ssize_t (*recvmsg)(int, struct msghdr *, int);
	int (*recvmmsg)(int, struct mmsghdr *, unsigned int, int,
			struct timespec *);
	ssize_t (*send)(int, const void *, size_t, int);
	ssize_t (*sendto)(int, const void *, size_t, int,
			  const struct sockaddr *, socklen_t);
	ssize_t (*sendmsg)(int, const struct msghdr *, int);
	int (*sendmmsg)(int, struct mmsghdr *, unsigned int, int);
	ssize_t (*getrandom)(void *, size_t, unsigned int);
	off_t (*lseek)(int, off_t, int);
	int (*open)(const char *, int, ...);
	int (*openat)(int, const char *, int, ...);
	FILE *(*fopen)(const char *, const char *);
	size_t (*fread)(void *, size_t, size_t, FILE *);
	size_t (*fwrite)(const void *, size_t, size_t, FILE *);
	int (*close)(int);
	int (*close_range)(unsigned int, unsigned int, int);
	void (*closefrom)(int);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*fcntl)(int, int, ...);
	int (*ioctl)(int, unsigned long, ...);
	long (*syscall)(long, ...);
	int (*poll)(struct pollfd *, nfds_t, int);
	int (*ppoll)(struct pollfd *, nfds_t, const struct timespec *,
		     const sigset_t *);
	int (*select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
	int (*pselect)(int, fd_set *, fd_set *, fd_set *,
		       const struct timespec *, const sigset_t *);
	int (*epoll_ctl)(int, int, int, struct epoll_event *);
	int (*epoll_wait)(int, struct epoll_event *, int, int);
	int (*epoll_pwait)(int, struct epoll_event *, int, int,
			   const sigset_t *);
	int (*epoll_pwait2)(int, struct epoll_event *, int,
			    const struct timespec *, const sigset_t *);
	void *(*mmap)(void *, size_t, int, int, int, off_t);
	int (*munmap)(void *, size_t);
	void *(*mremap)(void *, size_t, size_t, int, ...);
	int (*madvise)(void *, size_t, int);
	int (*mprotect)(void *, size_t, int);
	int (*fallocate)(int, int, off_t, off_t);
	int (*mlock)(const void *, size_t);
	int (*mlock2)(const void *, size_t, unsigned int);
	int (*sigaction)(int, const struct sigaction *, struct sigaction *);
	sighandler_t (*signal)(int, sighandler_t);
	sighandler_t (*sysv_signal)(int, sighandler_t);
	int (*sigprocmask)(int, const sigset_t *, sigset_t *);
	int (*pthread_sigmask)(int, const sigset_t *, sigset_t *);
	ssize_t (*readlink)(const char *, char *, size_t);
	ssize_t (*readlinkat)(int, const char *, char *, size_t);
};

extern struct shim_real shim_real;

#define REAL(name)                                 \
	(*(likely(shim_real.name) ? shim_real.name \
				  : (shim_resolve_all(), shim_real.name)))

#define real_read            REAL(read)
#define real_readv           REAL(readv)
#define real_write           REAL(write)
#define real_writev          REAL(writev)
#define real_pread           REAL(pread)
#define real_pwrite          REAL(pwrite)
#define real_preadv          REAL(preadv)
#define real_pwritev         REAL(pwritev)
#define real_preadv2         REAL(preadv2)
#define real_pwritev2        REAL(pwritev2)
#define real_recv            REAL(recv)
#define real_recvfrom        REAL(recvfrom)
#define real_recvmsg         REAL(recvmsg)
#define real_recvmmsg        REAL(recvmmsg)
#define real_send            REAL(send)
#define real_sendto          REAL(sendto)
#define real_sendmsg         REAL(sendmsg)
#define real_sendmmsg        REAL(sendmmsg)
#define real_getrandom       REAL(getrandom)
#define real_lseek           REAL(lseek)
#define real_open            REAL(open)
#define real_openat          REAL(openat)
#define real_fopen           REAL(fopen)
#define real_fread           REAL(fread)
#define real_fwrite          REAL(fwrite)
#define real_close           REAL(close)
#define real_close_range     REAL(close_range)
#define real_closefrom       REAL(closefrom)
#define real_dup             REAL(dup)
#define real_dup2            REAL(dup2)
#define real_dup3            REAL(dup3)
#define real_fcntl           REAL(fcntl)
#define real_ioctl           REAL(ioctl)
#define real_syscall         REAL(syscall)
#define real_poll            REAL(poll)
#define real_ppoll           REAL(ppoll)
#define real_select          REAL(select)
#define real_pselect         REAL(pselect)
#define real_epoll_ctl       REAL(epoll_ctl)
#define real_epoll_wait      REAL(epoll_wait)
#define real_epoll_pwait     REAL(epoll_pwait)
#define real_epoll_pwait2    REAL(epoll_pwait2)
#define real_mmap            REAL(mmap)
#define real_munmap          REAL(munmap)
#define real_mremap          REAL(mremap)
#define real_madvise         REAL(madvise)
#define real_mprotect        REAL(mprotect)
#define real_fallocate       REAL(fallocate)
#define real_mlock           REAL(mlock)
#define real_mlock2          REAL(mlock2)
#define real_sigaction       REAL(sigaction)
#define real_signal          REAL(signal)
#define real_sysv_signal     REAL(sysv_signal)
#define real_sigprocmask     REAL(sigprocmask)
#define real_pthread_sigmask REAL(pthread_sigmask)
#define real_readlink        REAL(readlink)
#define real_readlinkat      REAL(readlinkat)

/* Resolves every real function; idempotent, called early and on demand. */
void shim_resolve_all(void);

/*
 * state.c: what the process has done with userfaultfd so far.
 *
 * active: an emulated userfaultfd was created in this process image (or
 * inherited by fork).  Until then the memory and signal wrappers pass
 * everything through untouched, so a program that never uses userfaultfd
 * runs exactly as without the shim.
 */
extern bool shim_active;
extern bool shim_trace_on;
extern bool shim_auto;

/* The hull of every range ever registered: [lo, hi), empty when lo >= hi. */
extern uintptr_t shim_reg_lo;
extern uintptr_t shim_reg_hi;

/*
 * Calls into the emulator that may hold its locks run with this raised.
 * A wrapper reached meanwhile from the same thread (a malloc that maps
 * memory, a signal handler) passes straight to the real call instead of
 * re-entering the emulator.
 */
extern __thread int shim_depth __attribute__((tls_model("initial-exec")));

static inline bool shim_is_active(void)
{
	return __atomic_load_n(&shim_active, __ATOMIC_RELAXED);
}

void shim_activate(void);
void shim_note_registered(uintptr_t start, uint64_t len);

/* 1 for a userfaultfd, 2 for an emulated /dev/userfaultfd, else 0. */
int shim_fd_kind(int fd);

/*
 * The descriptor numbers that may be emulated: a bit is set when the shim
 * gets an emulated descriptor (or one of the process's pagemap file) under
 * that number and never cleared, so a
 * clear bit is a sure "no" in one load, and a set one is asked of the
 * emulator's table.  Numbers above the mask are asked once any exists.
 */
#define SHIM_FDMASK_BITS 65536
extern uint64_t shim_fdmask[SHIM_FDMASK_BITS / 64];
extern bool shim_fds_high;
extern bool shim_fds_any;

void shim_note_fd(int fd);
int uffdemu_is_emulated(int fd);

/* False when fd is surely not emulated: one load. */
static inline bool shim_maybe_emulated(int fd)
{
	unsigned int u = (unsigned int)fd;

	if (likely(u < SHIM_FDMASK_BITS))
		return (__atomic_load_n(&shim_fdmask[u / 64],
					__ATOMIC_RELAXED) >>
			(u % 64)) &
		       1;
	return fd >= 0 && __atomic_load_n(&shim_fds_high, __ATOMIC_RELAXED);
}

static inline bool shim_emulated(int fd)
{
	return unlikely(shim_maybe_emulated(fd)) && uffdemu_is_emulated(fd);
}

/*
 * The userfaults the kernel would take on behalf of a system call that
 * reads (write == 0) or writes (write != 0) [buf, buf + len).  The common
 * case, no registration near the buffer, costs two comparisons.
 */
void shim_prefault_slow(uintptr_t addr, size_t len, int write);

/* Whether [buf, buf + len) may hold registered memory. */
static inline bool shim_prefault_wanted(const void *buf, size_t len)
{
	uintptr_t a = (uintptr_t)buf;

	if (likely(a >= __atomic_load_n(&shim_reg_hi, __ATOMIC_RELAXED)) ||
	    len == 0)
		return false;
	return a + len > __atomic_load_n(&shim_reg_lo, __ATOMIC_RELAXED) ||
	       a + len < a;
}

static inline void shim_prefault(const void *buf, size_t len, int write)
{
	if (unlikely(shim_prefault_wanted(buf, len)))
		shim_prefault_slow((uintptr_t)buf, len, write);
}

/*
 * The shape of a hot wrapper: the checks that say "nothing to do" are
 * inline, and everything else is in a cold function, so the common path
 * is a few loads and a jump to the C library.
 */
#define SHIM_COLD __attribute__((noinline, cold))

void shim_prefault_iov(const struct iovec *iov, int cnt, int write);
void shim_prefault_msg(const struct msghdr *msg, int write);

/* fd.c: the emulated side of the descriptor calls. */
int shim_userfaultfd(int flags);
ssize_t shim_uffd_read(int fd, void *buf, size_t n);
ssize_t shim_uffd_readv(int fd, const struct iovec *iov, int cnt);
int shim_uffd_ioctl(int fd, unsigned long req, void *arg);
int shim_uffd_close(int fd);
int shim_do_fcntl(int fd, int cmd, long arg);
int shim_do_dup(int fd);
int shim_do_dup2(int fd, int newfd);
int shim_do_dup3(int fd, int newfd, int flags);
int shim_open_dev(const char *path, int flags, mode_t mode);
ssize_t shim_sendmsg_fds(int fd, const struct msghdr *msg, int flags);
ssize_t shim_recvmsg_fds(int fd, struct msghdr *msg, int flags);

/* poll.c */
int shim_do_poll(struct pollfd *fds, nfds_t n, int timeout);

/* mem.c */
void *shim_do_mmap(void *addr, size_t len, int prot, int flags, int fd,
		   off_t off);
int shim_do_munmap(void *addr, size_t len);
void *shim_do_mremap(void *old, size_t old_len, size_t new_len, int flags,
		     void *new_addr);
int shim_do_madvise(void *addr, size_t len, int advice);
int shim_do_fallocate(int fd, int mode, off_t offset, off_t len);
int shim_do_mprotect(void *addr, size_t len, int prot);

/* proc.c: /proc/self/fd/N and /proc/self/fdinfo/N of emulated fds. */
int shim_proc_fd_target(const char *path, const char *dir);
int shim_fdinfo_open(int fd, int flags);

/*
 * This process's /proc pagemap file: opening it notes the descriptor (in
 * the mask of descriptors that may be emulated, so that read() and pread()
 * take their slow path for it), and reads of it get the entries the kernel
 * would show with its own userfaultfd (uffdemu_pagemap_fixup()).
 */
int shim_pagemap_open(const char *path, int dirfd, int flags, mode_t mode);
bool shim_pagemap_fd(int fd);
ssize_t shim_pagemap_read(int fd, void *buf, size_t n, off_t off);

/* trace.c: one line per call, on stderr, when UFFDEMU_TRACE is set. */
void shim_trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void shim_trace_ioctl_before(unsigned long req, const void *arg, void *save);
void shim_trace_ioctl(int fd, unsigned long req, const void *arg,
		      const void *save, int r, int err);
void shim_trace_read(int fd, const struct iovec *iov, int cnt, ssize_t r,
		     int err);
const char *shim_flags_str(int flags, char *buf, size_t len);
const char *shim_result(long r, int err, char *buf, size_t len);

#define SHIM_TRACE_SAVE 64

#endif /* UFFDEMU_SHIM_H */
