/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uffdemu: userfaultfd emulated in user space.
 *
 * Every entry point behaves like the system call it is named after: it
 * returns -1 and sets errno exactly where the kernel would.  Calls on file
 * descriptors that are not emulated userfaultfds are passed through to the
 * real system call, so a program can route all its calls through these
 * functions (the LD_PRELOAD shim does just that).
 *
 * The memory entry points (munmap, mremap, madvise, mprotect, fork) exist
 * because the emulator keeps its own picture of registered memory: a program
 * that changes registered memory behind the emulator's back gets undefined
 * results for that memory.
 */
#ifndef UFFDEMU_UFFDEMU_H
#define UFFDEMU_UFFDEMU_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "pagemap.h"
#include "userfaultfd.h"

#ifdef __cplusplus
extern "C" {
#endif

/* userfaultfd(2): flags O_CLOEXEC, O_NONBLOCK, UFFD_USER_MODE_ONLY. */
int uffdemu_userfaultfd(int flags);

/*
 * open(2).  Opening UFFDEMU_DEV_PATH gives an emulated /dev/userfaultfd
 * whose only ioctl is USERFAULTFD_IOC_NEW; any other path is opened for real.
 */
#define UFFDEMU_DEV_PATH "/dev/userfaultfd"
int uffdemu_open(const char *path, int flags, mode_t mode);

/* ioctl(2).  For USERFAULTFD_IOC_NEW the flags travel by value in arg. */
int uffdemu_ioctl(int fd, unsigned long request, void *arg);

ssize_t uffdemu_read(int fd, void *buf, size_t count);
ssize_t uffdemu_readv(int fd, const struct iovec *iov, int iovcnt);
int uffdemu_close(int fd);
int uffdemu_dup(int fd);
int uffdemu_dup2(int oldfd, int newfd);
int uffdemu_dup3(int oldfd, int newfd, int flags);
int uffdemu_fcntl(int fd, int cmd, long arg);

/*
 * sendmsg(2) and recvmsg(2), for userfaultfds passed to another process
 * with SCM_RIGHTS (both processes must use them, or the shim): a monitor
 * that receives one reads its messages and makes its ioctls on it as on
 * the kernel's, and the faulting process serves them.  Its context is
 * released once no process has it open any more.
 */
struct msghdr;
ssize_t uffdemu_sendmsg(int sock, const struct msghdr *msg, int flags);
ssize_t uffdemu_recvmsg(int sock, struct msghdr *msg, int flags);

/*
 * poll(2) with the kernel's readiness for emulated userfaultfds: POLLERR
 * before UFFDIO_API and on a blocking fd, POLLIN while a message is unread.
 */
int uffdemu_poll(struct pollfd *fds, nfds_t nfds, int timeout);

/* Memory operations the emulator must see. */
void *uffdemu_mmap(void *addr, size_t len, int prot, int flags, int fd,
		   off_t offset);
int uffdemu_munmap(void *addr, size_t len);
void *uffdemu_mremap(void *old_addr, size_t old_len, size_t new_len, int flags,
		     void *new_addr);
int uffdemu_madvise(void *addr, size_t len, int advice);
int uffdemu_mprotect(void *addr, size_t len, int prot);
/* fallocate(2): a hole punched in a file is missing again where it is
 * registered. */
int uffdemu_fallocate(int fd, int mode, off_t offset, off_t len);
pid_t uffdemu_fork(void);

/* 1 if fd is an emulated userfaultfd (or /dev/userfaultfd), else 0. */
int uffdemu_is_emulated(int fd);

/*
 * sigaction(2).  Once a userfaultfd exists the emulator's SIGSEGV handler
 * stays installed: a SIGSEGV handler set here receives the faults that are
 * not userfaults, and is what oact reports.
 */
struct sigaction;
int uffdemu_sigaction(int sig, const struct sigaction *act,
		      struct sigaction *oact);

/*
 * Takes, from user space, the userfaults that the kernel would take on
 * behalf of a system call accessing [addr, addr + len): write is nonzero
 * when the system call writes to the memory.  Missing pages, and for a
 * write write-protected ones, fault; others are left alone, as are those of
 * contexts whose kernel-mode faults fail instead (UFFD_USER_MODE_ONLY,
 * UFFD_FEATURE_SIGBUS), but for the write-protected pages of a WP_ASYNC
 * context, which the kernel unprotects for any writer.
 */
void uffdemu_prefault(const void *addr, size_t len, int write);

/*
 * Rewrites n entries read from /proc/self/pagemap, the first for virtual
 * page number first_page, to what the kernel would show with its own
 * userfaultfd: bit 57 (uffd-wp) on write-protected pages, the kernel's
 * marker entries for pages marked with WP_UNPOPULATED and for poisoned
 * pages, and an empty entry where the emulator keeps a missing page
 * inaccessible.
 */
void uffdemu_pagemap_fixup(uint64_t *entries, uint64_t first_page, size_t n);

/*
 * ioctl(fd, PAGEMAP_SCAN, arg) on fd, a descriptor of this process's
 * /proc/PID/pagemap, answered as the kernel would answer it with its own
 * userfaultfd: registered pages are reported from the emulator's picture
 * (PAGE_IS_WPALLOWED in WP mode of a WP_ASYNC context, PAGE_IS_WRITTEN where
 * no WP mark is, markers as swapped entries, missing pages as empty), and
 * PM_SCAN_WP_MATCHING write-protects them in the emulator.  Other
 * descriptors, and ranges without registered pages, go to the real ioctl.
 * Returns the number of regions written to arg->vec, or -1 and errno.
 */
struct pm_scan_arg;
int uffdemu_pagemap_scan(int fd, struct pm_scan_arg *arg);

/*
 * 1 if fd is open on this process's own pagemap file (/proc/PID/pagemap or
 * /proc/PID/task/TID/pagemap), whose entries uffdemu_pagemap_fixup() and
 * uffdemu_pagemap_scan() correct.
 */
int uffdemu_pagemap_own(int fd);

/*
 * 1 if fd is one of the emulator's own descriptors (kept at high numbers,
 * close-on-exec), which a program closing descriptors wholesale
 * (close_range, closefrom) should spare.
 */
int uffdemu_internal_fd(int fd);
/* Those descriptors, at most max of them into fds; returns how many. */
int uffdemu_internal_fds(int *fds, int max);

/*
 * The userfaultfd-specific lines of /proc/self/fdinfo/fd (pending:, total:,
 * API:) into buf, NUL-terminated.  Returns their length, or -1 with errno
 * EBADF when fd is not an emulated userfaultfd.
 */
int uffdemu_fdinfo(int fd, char *buf, size_t len);

/*
 * With UFFDEMU_TRACE set in the environment, the emulator writes one line
 * on stderr for each fault taken and each wake-up, timed from this moment
 * (when the first userfaultfd was created), so that other traces can use
 * the same clock.
 */
struct timespec;
void uffdemu_trace_epoch(struct timespec *start);

#ifdef __cplusplus
}
#endif

#endif /* UFFDEMU_UFFDEMU_H */
