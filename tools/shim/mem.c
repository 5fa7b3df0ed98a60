/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Memory calls.  The emulator keeps its own picture of registered memory,
 * so once a userfaultfd exists in the process, munmap, mremap, madvise,
 * mprotect, mmap(MAP_FIXED) and fallocate() go through it.  Before that, and
 * for calls made from inside the emulator (a malloc() it called that maps
 * memory, a signal handler that interrupted it), they go straight to the real
 * ones.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <sys/mman.h>

#include "tools/shim/shim.h"
#include "uffdemu/uffdemu.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ  22
#define MADV_POPULATE_WRITE 23
#endif

static bool pass_through(void)
{
	return likely(!shim_is_active()) || shim_depth;
}

void *shim_do_mmap(void *addr, size_t len, int prot, int flags, int fd,
		   off_t off)
{
	void *r;

	/* Only a fixed mapping can replace registered memory. */
	if (likely(!(flags & (MAP_FIXED | MAP_FIXED_NOREPLACE))) ||
	    pass_through())
		return real_mmap(addr, len, prot, flags, fd, off);
	shim_depth++;
	r = uffdemu_mmap(addr, len, prot, flags, fd, off);
	shim_depth--;
	return r;
}

int shim_do_munmap(void *addr, size_t len)
{
	int r;

	if (pass_through())
		return real_munmap(addr, len);
	shim_depth++;
	r = uffdemu_munmap(addr, len);
	shim_depth--;
	return r;
}

void *shim_do_mremap(void *old, size_t old_len, size_t new_len, int flags,
		     void *new_addr)
{
	uintptr_t o = (uintptr_t)old;
	void *r;

	if (pass_through())
		return real_mremap(old, old_len, new_len, flags, new_addr);
	shim_depth++;
	r = uffdemu_mremap(old, old_len, new_len, flags, new_addr);
	shim_depth--;
	/* Registered memory that grows in place stays registered. */
	if (r != MAP_FAILED && o < shim_reg_hi && o + old_len > shim_reg_lo)
		shim_note_registered((uintptr_t)r, new_len);
	return r;
}

int shim_do_madvise(void *addr, size_t len, int advice)
{
	int r;

	/* Populating faults pages in, as a system call does. */
	if (advice == MADV_POPULATE_READ || advice == MADV_POPULATE_WRITE)
		shim_prefault(addr, len, advice == MADV_POPULATE_WRITE);
	if (pass_through())
		return real_madvise(addr, len, advice);
	shim_depth++;
	r = uffdemu_madvise(addr, len, advice);
	shim_depth--;
	return r;
}

int shim_do_fallocate(int fd, int mode, off_t offset, off_t len)
{
	int r;

	if (pass_through())
		return real_fallocate(fd, mode, offset, len);
	shim_depth++;
	r = uffdemu_fallocate(fd, mode, offset, len);
	shim_depth--;
	return r;
}

int shim_do_mprotect(void *addr, size_t len, int prot)
{
	int r;

	if (pass_through())
		return real_mprotect(addr, len, prot);
	shim_depth++;
	r = uffdemu_mprotect(addr, len, prot);
	shim_depth--;
	return r;
}

SHIM_API void *mmap(void *addr, size_t len, int prot, int flags, int fd,
		    off_t off)
{
	return shim_do_mmap(addr, len, prot, flags, fd, off);
}

SHIM_API void *mmap64(void *addr, size_t len, int prot, int flags, int fd,
		      off_t off)
{
	return shim_do_mmap(addr, len, prot, flags, fd, off);
}

SHIM_API int munmap(void *addr, size_t len)
{
	return shim_do_munmap(addr, len);
}

SHIM_API void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
	void *new_addr = NULL;

	if (flags & MREMAP_FIXED) {
		va_list ap;

		va_start(ap, flags);
		new_addr = va_arg(ap, void *);
		va_end(ap);
	}
	return shim_do_mremap(old, old_len, new_len, flags, new_addr);
}

SHIM_API int madvise(void *addr, size_t len, int advice)
{
	return shim_do_madvise(addr, len, advice);
}

SHIM_API int mprotect(void *addr, size_t len, int prot)
{
	return shim_do_mprotect(addr, len, prot);
}

SHIM_API int fallocate(int fd, int mode, off_t offset, off_t len)
{
	return shim_do_fallocate(fd, mode, offset, len);
}

SHIM_API int fallocate64(int fd, int mode, off_t offset, off_t len)
{
	return shim_do_fallocate(fd, mode, offset, len);
}
