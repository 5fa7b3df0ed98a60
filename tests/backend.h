/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Backends: the calls a userfaultfd monitor makes, behind one table, so a
 * scenario is written once and run on the kernel's userfaultfd and on the
 * emulator.
 *
 * Every entry has the system call's own signature and convention (-1 and
 * errno).  The memory entries (munmap, mremap, madvise, mprotect, fork) are
 * the ones the emulator must see for registered memory; mmap of fresh memory
 * is not among them and scenarios call it directly.
 */
#ifndef UFFDEMU_TESTS_BACKEND_H
#define UFFDEMU_TESTS_BACKEND_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <uffdemu/uffdemu.h>

struct backend {
	const char *name; /* "kernel" or "emu" */

	/*
	 * userfaultfd(2).  The argument is as wide as the syscall register so
	 * that a scenario can show that the upper 32 bits are ignored.
	 */
	int (*userfaultfd)(unsigned long flags);
	int (*open)(const char *path, int flags, mode_t mode);
	int (*ioctl)(int fd, unsigned long request, void *arg);
	ssize_t (*read)(int fd, void *buf, size_t count);
	ssize_t (*readv)(int fd, const struct iovec *iov, int iovcnt);
	int (*poll)(struct pollfd *fds, nfds_t nfds, int timeout);
	int (*close)(int fd);
	int (*dup)(int fd);
	int (*fcntl)(int fd, int cmd, long arg);

	int (*munmap)(void *addr, size_t len);
	void *(*mremap)(void *old_addr, size_t old_len, size_t new_len,
			int flags, void *new_addr);
	int (*madvise)(void *addr, size_t len, int advice);
	int (*mprotect)(void *addr, size_t len, int prot);
	int (*fallocate)(int fd, int mode, off_t offset, off_t len);
	pid_t (*fork)(void);

	/*
	 * The userfaultfd lines of /proc/self/fdinfo/fd ("pending:", "total:",
	 * "API:") into buf; their length, or -1 and errno (EBADF when fd is
	 * not a userfaultfd).
	 */
	int (*fdinfo)(int fd, char *buf, size_t len);

	/*
	 * pread(2) of /proc/self/pagemap (fd open on it): n entries from
	 * virtual page number first_page, as a monitor reads them.
	 */
	ssize_t (*pagemap_read)(int fd, uint64_t *entries, uint64_t first_page,
				size_t n);
	/* ioctl(fd, PAGEMAP_SCAN, arg) on /proc/self/pagemap. */
	int (*pagemap_scan)(int fd, struct pm_scan_arg *arg);
};

extern const struct backend backend_kernel;
extern const struct backend backend_emu;

/*
 * Whether the kernel's userfaultfd works for this process.  Tries the
 * system call, then /dev/userfaultfd (which needs no privilege beyond the
 * device's file mode); when the system call is refused but the device works,
 * backend_kernel.userfaultfd creates its descriptors through the device,
 * which validates the flags the same way.  On failure, why says what was
 * tried and what each attempt answered.  The answer is computed once; setting
 * UFFDEMU_TEST_NO_KERNEL in the environment makes it "unavailable".
 */
bool backend_kernel_available(char *why, size_t n);

/* Whether the kernel's /dev/userfaultfd can be opened and used. */
bool backend_kernel_has_device(void);

#endif /* UFFDEMU_TESTS_BACKEND_H */
