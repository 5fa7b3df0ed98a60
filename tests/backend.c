// SPDX-License-Identifier: GPL-2.0-or-later
/* The two backends: the kernel's system calls and the emulator's entries. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "backend.h"

enum kernel_route { K_UNKNOWN, K_NONE, K_SYSCALL, K_DEVICE };

static enum kernel_route k_route = K_UNKNOWN;
static bool k_syscall_ok, k_device_ok;
static int k_devfd = -1;
static char k_why[256];

/* UFFDIO_API with no features: the smallest proof that a descriptor works. */
static int api_works(int fd)
{
	struct uffdio_api api = {.api = UFFD_API};
	int err = ioctl(fd, UFFDIO_API, &api) == 0 ? 0 : errno;

	close(fd);
	return err;
}

static const char *errname(int err)
{
	return strerrorname_np(err) ? strerrorname_np(err) : "an unknown error";
}

static const char *syscall_hint(int err)
{
	if (err == EPERM)
		return " (vm.unprivileged_userfaultfd is 0, no CAP_SYS_PTRACE)";
	if (err == ENOSYS)
		return " (no CONFIG_USERFAULTFD, or a seccomp filter)";
	return "";
}

static int try_syscall(void)
{
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	return fd < 0 ? errno : api_works(fd);
}

/* Leaves k_devfd open when the device works. */
static int try_device(void)
{
	int fd, err;

	k_devfd = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
	if (k_devfd < 0)
		return errno;
	fd = ioctl(k_devfd, USERFAULTFD_IOC_NEW, O_CLOEXEC);
	err = fd < 0 ? errno : api_works(fd);
	if (err) {
		close(k_devfd);
		k_devfd = -1;
	}
	return err;
}

static void find_route(void)
{
	int e_sys, e_dev;

	k_route = K_NONE;
	if (getenv("UFFDEMU_TEST_NO_KERNEL")) {
		snprintf(k_why, sizeof(k_why),
			 "disabled by UFFDEMU_TEST_NO_KERNEL");
		return;
	}
	e_sys = try_syscall();
	e_dev = try_device();
	k_syscall_ok = !e_sys;
	k_device_ok = !e_dev;
	if (k_syscall_ok)
		k_route = K_SYSCALL;
	else if (k_device_ok)
		k_route = K_DEVICE;
	else
		snprintf(k_why, sizeof(k_why),
			 "userfaultfd(2) failed with %s%s; /dev/userfaultfd "
			 "failed with %s",
			 errname(e_sys), syscall_hint(e_sys), errname(e_dev));
}

bool backend_kernel_available(char *why, size_t n)
{
	if (k_route == K_UNKNOWN)
		find_route();
	if (why && n)
		snprintf(why, n, "%s", k_route == K_NONE ? k_why : "");
	return k_route != K_NONE;
}

bool backend_kernel_has_device(void)
{
	if (k_route == K_UNKNOWN)
		find_route();
	return k_device_ok;
}

static int k_userfaultfd(unsigned long flags)
{
	if (k_route == K_UNKNOWN)
		find_route();
	if (k_route == K_DEVICE)
		return ioctl(k_devfd, USERFAULTFD_IOC_NEW, flags);
	return (int)syscall(SYS_userfaultfd, flags);
}

static int k_open(const char *path, int flags, mode_t mode)
{
	return open(path, flags, mode);
}

static int k_ioctl(int fd, unsigned long request, void *arg)
{
	return ioctl(fd, request, arg);
}

static int k_fcntl(int fd, int cmd, long arg)
{
	return fcntl(fd, cmd, arg);
}

static void *k_mremap(void *old_addr, size_t old_len, size_t new_len, int flags,
		      void *new_addr)
{
	return mremap(old_addr, old_len, new_len, flags, new_addr);
}

/* The lines of /proc/self/fdinfo/fd that begin with a userfaultfd key. */
static int k_fdinfo(int fd, char *buf, size_t len)
{
	static const char *const keys[] = {"pending:", "total:", "API:"};
	char path[64], line[256];
	size_t used = 0, i;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f) {
		errno = EBADF; /* no such descriptor */
		return -1;
	}
	buf[0] = '\0';
	while (fgets(line, sizeof(line), f))
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (!strncmp(line, keys[i], strlen(keys[i])) &&
			    used + strlen(line) < len) {
				memcpy(buf + used, line, strlen(line) + 1);
				used += strlen(line);
			}
	fclose(f);
	if (!used) {
		errno = EBADF;
		return -1;
	}
	return (int)used;
}

static ssize_t k_pagemap_read(int fd, uint64_t *entries, uint64_t first_page,
			      size_t n)
{
	return pread(fd, entries, n * sizeof(*entries),
		     (off_t)(first_page * sizeof(*entries)));
}

static int k_pagemap_scan(int fd, struct pm_scan_arg *arg)
{
	return ioctl(fd, PAGEMAP_SCAN, arg);
}

const struct backend backend_kernel = {
	.name = "kernel",
	.userfaultfd = k_userfaultfd,
	.open = k_open,
	.ioctl = k_ioctl,
	.read = read,
	.readv = readv,
	.poll = poll,
	.close = close,
	.dup = dup,
	.fcntl = k_fcntl,
	.munmap = munmap,
	.mremap = k_mremap,
	.madvise = madvise,
	.fallocate = fallocate,
	.mprotect = mprotect,
	.fork = fork,
	.fdinfo = k_fdinfo,
	.pagemap_read = k_pagemap_read,
	.pagemap_scan = k_pagemap_scan,
};

/* The C entry takes an int, like the kernel, which truncates the register. */
static int e_userfaultfd(unsigned long flags)
{
	return uffdemu_userfaultfd((int)flags);
}

/* The entries as read, then corrected as uffdemu_pagemap_fixup() says. */
static ssize_t e_pagemap_read(int fd, uint64_t *entries, uint64_t first_page,
			      size_t n)
{
	ssize_t r = k_pagemap_read(fd, entries, first_page, n);

	if (r > 0)
		uffdemu_pagemap_fixup(entries, first_page,
				      (size_t)r / sizeof(*entries));
	return r;
}

const struct backend backend_emu = {
	.name = "emu",
	.userfaultfd = e_userfaultfd,
	.open = uffdemu_open,
	.ioctl = uffdemu_ioctl,
	.read = uffdemu_read,
	.readv = uffdemu_readv,
	.poll = uffdemu_poll,
	.close = uffdemu_close,
	.dup = uffdemu_dup,
	.fcntl = uffdemu_fcntl,
	.munmap = uffdemu_munmap,
	.mremap = uffdemu_mremap,
	.madvise = uffdemu_madvise,
	.fallocate = uffdemu_fallocate,
	.mprotect = uffdemu_mprotect,
	.fork = uffdemu_fork,
	.fdinfo = uffdemu_fdinfo,
	.pagemap_read = e_pagemap_read,
	.pagemap_scan = uffdemu_pagemap_scan,
};
