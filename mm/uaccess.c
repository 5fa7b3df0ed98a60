/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reading and writing the caller's memory as the kernel's copy_from_user()
 * and copy_to_user() do: a bad pointer gives EFAULT instead of a crash, and
 * a pointer into registered missing memory takes a userfault (the thread
 * waits for the monitor) before the copy goes on.
 *
 * The copy runs with a recovery point recorded for this thread.  When it
 * faults and the fault is not a userfault, the SIGSEGV handler jumps back
 * to the recovery point, and the copy fails with EFAULT.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <ucontext.h>

#include "mm/mm.h"

struct uaccess_frame {
	sigjmp_buf env;
	uintptr_t start;
	uintptr_t end;
};

static __thread struct uaccess_frame *volatile current_frame
	__attribute__((tls_model("initial-exec")));

#define barrier() __asm__ __volatile__("" ::: "memory")

/*
 * Called by the SIGSEGV handler (every signal blocked) for a fault that is
 * not a userfault.  Never returns when the fault hit the copy in progress.
 */
bool uaccess_fixup(uintptr_t addr, void *ucontext)
{
	struct uaccess_frame *f = current_frame;
	const ucontext_t *uc = ucontext;

	if (!f || addr < (f->start & PAGE_MASK) || addr >= f->end)
		return false;
	current_frame = NULL;
	pthread_sigmask(SIG_SETMASK, &uc->uc_sigmask, NULL);
	siglongjmp(f->env, 1);
}

static void copy_bytes(void *dst, const void *src, size_t len)
{
	volatile unsigned char *d = dst;
	const volatile unsigned char *s = src;

	/* memcpy() may run vector code in libc; a plain loop keeps the
	 * faulting instruction inside this file for the fixup above.  Word
	 * copies when both are aligned. */
	if ((((uintptr_t)dst | (uintptr_t)src | len) & 7) == 0) {
		volatile uint64_t *d8 = dst;
		const volatile uint64_t *s8 = src;

		for (size_t i = 0; i < len / 8; i++)
			d8[i] = s8[i];
		return;
	}
	for (size_t i = 0; i < len; i++)
		d[i] = s[i];
}

/* Copies with [ustart, ustart + len) as the user range that may fault. */
static int guarded_copy(void *dst, const void *src, size_t len,
			uintptr_t ustart)
{
	struct uaccess_frame f;

	if (sigsetjmp(f.env, 0)) {
		barrier();
		return -EFAULT;
	}
	f.start = ustart;
	f.end = ustart + len;
	current_frame = &f;
	barrier();
	copy_bytes(dst, src, len);
	barrier();
	current_frame = NULL;
	return 0;
}

int uaccess_read(void *dst, const void *usrc, size_t len)
{
	return guarded_copy(dst, usrc, len, (uintptr_t)usrc);
}

int uaccess_write(void *udst, const void *src, size_t len)
{
	return guarded_copy(udst, src, len, (uintptr_t)udst);
}

/*
 * Touches one byte of every page of [uaddr, uaddr + len): a read, or a
 * write that does not change it (an atomic add of zero).  The address may
 * be anything: an address sanitizer would stop the access before it can
 * fault, so it does not look at it.
 */
__attribute__((no_sanitize_address)) static int touch(void *uaddr, size_t len,
						      bool write)
{
	struct uaccess_frame f;
	volatile unsigned char *p = uaddr;

	if (len == 0)
		return 0;
	if (sigsetjmp(f.env, 0)) {
		barrier();
		return -EFAULT;
	}
	f.start = (uintptr_t)uaddr;
	f.end = f.start + len;
	current_frame = &f;
	barrier();
	for (uintptr_t a = f.start & PAGE_MASK; a < f.end; a += PAGE_SIZE) {
		volatile unsigned char *b = &p[a < f.start ? 0 : a - f.start];

		if (write)
			__atomic_fetch_add(b, 0, __ATOMIC_RELAXED);
		else
			(void)*b;
	}
	barrier();
	current_frame = NULL;
	return 0;
}

int uaccess_touch_read(const void *usrc, size_t len)
{
	return touch((void *)(uintptr_t)usrc, len, false);
}

int uaccess_touch_write(void *udst, size_t len)
{
	return touch(udst, len, true);
}
