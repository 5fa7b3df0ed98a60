/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One source, two programs: built with UFFD_KERNEL it calls the kernel's
 * userfaultfd, otherwise the emulator.  The outputs must be the same.
 */
#ifndef UFFDEMU_TESTS_DUAL_H
#define UFFDEMU_TESTS_DUAL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "uffdemu/uffdemu.h"

#define SKIP_CODE 77

#ifdef UFFD_KERNEL
#define u_create(f)  ((int)syscall(SYS_userfaultfd, (f)))
#define u_ioctl      ioctl
#define u_read       read
#define u_madvise    madvise
#define u_close      close
#define u_munmap     munmap
#define u_mremap     mremap
#define u_poll       poll
#define BACKEND_NAME "kernel"
#else
#define u_create(f)  uffdemu_userfaultfd(f)
#define u_ioctl      uffdemu_ioctl
#define u_read       uffdemu_read
#define u_madvise    uffdemu_madvise
#define u_close      uffdemu_close
#define u_munmap     uffdemu_munmap
#define u_mremap     uffdemu_mremap
#define u_poll       uffdemu_poll
#define BACKEND_NAME "uffdemu"
#endif

/* One result line: the call's return, its errno, and an output field. */
static inline void show(const char *label, int rc, long long field)
{
	printf("%-44s -> %d %s field=%lld\n", label, rc,
	       rc < 0 ? strerror(errno) : "", field);
}

/* The kernel's userfaultfd, or a clean skip where this machine has none. */
static inline int dual_create(int flags)
{
	int fd = u_create(flags);

	if (fd < 0) {
#ifdef UFFD_KERNEL
		printf("SKIP: the kernel's userfaultfd is not available: %s\n",
		       strerror(errno));
		exit(SKIP_CODE);
#else
		perror("uffdemu_userfaultfd");
		exit(1);
#endif
	}
	return fd;
}

#endif /* UFFDEMU_TESTS_DUAL_H */
