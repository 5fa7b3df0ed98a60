/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the shim knows about the process: whether it uses the emulator at
 * all, where memory was registered, and the kernel's faults on behalf of
 * system calls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tools/shim/shim.h"
#include "uffdemu/uffdemu.h"

bool shim_active;
bool shim_trace_on;
bool shim_auto;
uintptr_t shim_reg_lo = UINTPTR_MAX;
uintptr_t shim_reg_hi;
__thread int shim_depth __attribute__((tls_model("initial-exec")));

/* Linux's MAX_RW_COUNT: no read or write moves more in one call. */
#define MAX_RW_COUNT 0x7ffff000UL

static bool env_set(const char *name)
{
	const char *v = getenv(name);

	return v && *v && strcmp(v, "0") != 0;
}

__attribute__((constructor(101))) static void shim_init(void)
{
	shim_resolve_all();
	shim_trace_on = env_set("UFFDEMU_TRACE");
	shim_auto = env_set("UFFDEMU_AUTO");
}

void shim_activate(void)
{
	__atomic_store_n(&shim_active, true, __ATOMIC_RELAXED);
}

/*
 * The hull only grows: a stale part costs a few page-table lookups in
 * uffdemu_prefault(), never a wrong answer.
 */
void shim_note_registered(uintptr_t start, uint64_t len)
{
	uintptr_t end = start + (uintptr_t)len;
	uintptr_t cur;

	if (end < start)
		end = UINTPTR_MAX;
	cur = __atomic_load_n(&shim_reg_lo, __ATOMIC_RELAXED);
	while (start < cur &&
	       !__atomic_compare_exchange_n(&shim_reg_lo, &cur, start, true,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	cur = __atomic_load_n(&shim_reg_hi, __ATOMIC_RELAXED);
	while (end > cur &&
	       !__atomic_compare_exchange_n(&shim_reg_hi, &cur, end, true,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

uint64_t shim_fdmask[SHIM_FDMASK_BITS / 64];
bool shim_fds_high;
bool shim_fds_any;

void shim_note_fd(int fd)
{
	unsigned int u = (unsigned int)fd;

	if (fd < 0)
		return;
	__atomic_store_n(&shim_fds_any, true, __ATOMIC_RELAXED);
	if (u < SHIM_FDMASK_BITS)
		__atomic_or_fetch(&shim_fdmask[u / 64], 1ULL << (u % 64),
				  __ATOMIC_RELAXED);
	else
		__atomic_store_n(&shim_fds_high, true, __ATOMIC_RELAXED);
}

int shim_fd_kind(int fd)
{
	int saved = errno;
	char one[1];
	int kind;

	if (!uffdemu_is_emulated(fd))
		return 0;
	kind = uffdemu_fdinfo(fd, one, sizeof(one)) >= 0 ? 1 : 2;
	errno = saved;
	return kind;
}

/*
 * Touches, from user space, the registered missing pages of the buffer
 * that the system call is about to access, so the monitor is asked for
 * them as the kernel would ask it, and the call then finds them present.
 * Runs with no emulator lock held: the touch may wait for the monitor.
 * Limitation: every missing page of the buffer is asked for, where the
 * kernel asks only for those the call reaches (a short read asks fewer).
 */
void shim_prefault_slow(uintptr_t start, size_t len, int write)
{
	uintptr_t end, lo, hi;
	int saved;

	if (shim_depth)
		return;
	if (len > MAX_RW_COUNT)
		len = MAX_RW_COUNT;
	end = start + len < start ? UINTPTR_MAX : start + len;
	lo = __atomic_load_n(&shim_reg_lo, __ATOMIC_RELAXED);
	hi = __atomic_load_n(&shim_reg_hi, __ATOMIC_RELAXED);
	if (start < lo)
		start = lo;
	if (end > hi)
		end = hi;
	if (start >= end)
		return;
	saved = errno;
	uffdemu_prefault((const void *)start, end - start, write);
	errno = saved;
}

void shim_prefault_iov(const struct iovec *iov, int cnt, int write)
{
	if (__atomic_load_n(&shim_reg_hi, __ATOMIC_RELAXED) == 0 || !iov)
		return;
	for (int i = 0; i < cnt; i++)
		shim_prefault(iov[i].iov_base, iov[i].iov_len, write);
}

void shim_prefault_msg(const struct msghdr *msg, int write)
{
	if (__atomic_load_n(&shim_reg_hi, __ATOMIC_RELAXED) == 0 || !msg)
		return;
	shim_prefault_iov(msg->msg_iov, (int)msg->msg_iovlen, write);
	shim_prefault(msg->msg_name, msg->msg_namelen, write);
	shim_prefault(msg->msg_control, msg->msg_controllen, write);
}
