/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Processors without a decoder of their own.
 * Limitation: on these processors every fault is reported as a read
 * (UFFD_PAGEFAULT_FLAG_WRITE is never set), because the signal context is
 * not decoded.
 */
#include "mm/mm.h"

bool arch_fault_is_write(const void *ucontext)
{
	(void)ucontext;
	return false;
}
