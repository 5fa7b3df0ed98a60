/* SPDX-License-Identifier: GPL-2.0-or-later */
/* x86-64: the page-fault error code that the kernel saves in the context. */
#define _GNU_SOURCE
#include <ucontext.h>

#include "mm/mm.h"

#define PF_WRITE 0x2 /* bit 1 of the error code: the access was a write */

bool arch_fault_is_write(const void *ucontext)
{
	const ucontext_t *uc = ucontext;

	return (uc->uc_mcontext.gregs[REG_ERR] & PF_WRITE) != 0;
}
