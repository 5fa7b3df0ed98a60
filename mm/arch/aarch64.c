/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * aarch64: the kernel appends an ESR record to the signal frame's reserved
 * area for a data abort; its WnR bit says whether the access was a write.
 * Cache maintenance instructions set WnR too but read, as the kernel treats
 * them.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <ucontext.h>

#include "mm/mm.h"

#define ESR_RECORD_MAGIC 0x45535201U
#define ESR_EC_SHIFT     26
#define ESR_EC_DABT_LOW  0x24U
#define ESR_EC_DABT_CUR  0x25U
#define ESR_WNR          (1ULL << 6)
#define ESR_CM           (1ULL << 8)

struct record_head {
	uint32_t magic;
	uint32_t size;
};

bool arch_fault_is_write(const void *ucontext)
{
	const ucontext_t *uc = ucontext;
	const unsigned char *p =
		(const unsigned char *)uc->uc_mcontext.__reserved;
	const unsigned char *end = p + sizeof(uc->uc_mcontext.__reserved);

	while (p + sizeof(struct record_head) <= end) {
		const struct record_head *h = (const void *)p;
		uint64_t esr, ec;

		if (h->magic == 0 || h->size < sizeof(*h))
			break;
		if (h->magic != ESR_RECORD_MAGIC) {
			p += h->size;
			continue;
		}
		esr = *(const uint64_t *)(p + sizeof(*h));
		ec = (esr >> ESR_EC_SHIFT) & 0x3f;
		if (ec != ESR_EC_DABT_LOW && ec != ESR_EC_DABT_CUR)
			return false;
		return (esr & ESR_WNR) && !(esr & ESR_CM);
	}
	return false;
}
