/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The two backends.  The kernel's userfaultfd is reached through the
 * system call, or through /dev/userfaultfd where the call is refused (for
 * instance with vm.unprivileged_userfaultfd=0); the emulator through the
 * library linked in.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"

#ifndef USERFAULTFD_IOC_NEW
#define USERFAULTFD_IOC_NEW _IO(USERFAULTFD_IOC, 0x00)
#endif

static int kernel_userfaultfd(int flags)
{
	int fd = (int)syscall(SYS_userfaultfd, flags);
	int dev, saved;

	if (fd >= 0 || (errno != EPERM && errno != ENOSYS))
		return fd;
	saved = errno;
	dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		errno = saved;
		return -1;
	}
	fd = ioctl(dev, USERFAULTFD_IOC_NEW, flags);
	saved = errno;
	close(dev);
	errno = saved;
	return fd;
}

static int kernel_ioctl(int fd, unsigned long request, void *arg)
{
	return ioctl(fd, request, arg);
}

const struct backend backend_kernel = {
	.name = "kernel",
	.userfaultfd = kernel_userfaultfd,
	.ioctl = kernel_ioctl,
	.read = read,
	.poll = poll,
	.close = close,
	.madvise = madvise,
};

const struct backend backend_emu = {
	.name = "emulator",
	.userfaultfd = uffdemu_userfaultfd,
	.ioctl = uffdemu_ioctl,
	.read = uffdemu_read,
	.poll = uffdemu_poll,
	.close = uffdemu_close,
	.madvise = uffdemu_madvise,
};

/*
 * Tried in the parent, which never creates an emulated descriptor, so the
 * emulator's fault handler is installed only in the children that use it.
 */
bool kernel_available(char *why, size_t n)
{
	struct uffdio_api api = {.api = UFFD_API};
	int fd = kernel_userfaultfd(O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		snprintf(why, n, "userfaultfd: %s", strerror(errno));
		return false;
	}
	if (ioctl(fd, UFFDIO_API, &api) != 0) {
		snprintf(why, n, "UFFDIO_API: %s", strerror(errno));
		close(fd);
		return false;
	}
	close(fd);
	return true;
}
