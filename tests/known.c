// SPDX-License-Identifier: GPL-2.0-or-later
/* The known differences between the emulator and the kernel (see known.h). */
#include <stdio.h>
#include <string.h>

#include "known.h"

const struct known_difference known_differences[] = {
	{KNOWN_FEATURES,
	 "UFFDIO_API offers only the features the emulator implements "
	 "(0x1fdff: all of Linux 6.18's but MINOR_HUGETLBFS; Linux 6.18 on "
	 "x86-64 offers 0x1ffff), and "
	 "requesting another fails EINVAL, as on a kernel without it"},
	{KNOWN_WP_ASYNC_FILES,
	 "REGISTER in a WP_ASYNC context refuses WP mode alone on files on "
	 "disk with EINVAL, where the kernel registers them"},
	{KNOWN_PLAIN_POLL,
	 "plain poll(), epoll and select() on an emulated descriptor report "
	 "it readable (POLLIN) where the kernel reports POLLERR (before "
	 "UFFDIO_API, and on a descriptor without O_NONBLOCK; select() sees "
	 "it readable and writable there): the descriptor is an epoll "
	 "instance, which cannot raise POLLERR; uffdemu_poll() is exact"},
	{KNOWN_FAULT_AROUND,
	 "a read of an unregistered page of shared memory maps the pages the "
	 "file has around it (fault-around) within the whole real mapping, "
	 "registered parts excepted, where the kernel's mapping ends at a "
	 "registration, and so does a read of a registered page of a memfd or "
	 "tmpfs file mapped MAP_PRIVATE: such pages are found mapped (POISON "
	 "and CONTINUE fail EEXIST, ZEROPAGE too in a MAP_PRIVATE mapping) "
	 "once "
	 "registered, where on the kernel they are empty"},
	{KNOWN_UNMERGED,
	 "COPY, ZEROPAGE and POISON fill a range across a place where the "
	 "kernel keeps two mappings apart that agree in registration, "
	 "protection and flags because they got their anonymous-page "
	 "bookkeeping (anon_vma) while apart (a write fault or a fill aimed "
	 "at either, even one that failed), where the kernel fails ENOENT: "
	 "the emulator cannot see that bookkeeping"},
	{KNOWN_PRIVATE_FILL,
	 "COPY and ZEROPAGE into a memfd or tmpfs file mapped MAP_PRIVATE "
	 "leave a page of zeros in the file where it had none, when the file "
	 "is sealed against writes or cannot be opened for writing (without "
	 "CAP_CHECKPOINT_RESTORE), where the kernel leaves the file as it "
	 "was: the private copy is made by the system's copy-on-write fault, "
	 "which reads the file, and the page it adds cannot be punched out"},
	{KNOWN_HUGETLB_SHARED,
	 "REGISTER refuses hugetlb memory mapped MAP_SHARED (MAP_HUGETLB, a "
	 "hugetlb memfd or hugetlbfs file) with EINVAL, where the kernel "
	 "registers it: whether its file has a page this mapping has not "
	 "mapped cannot be learned from user space without adding the page "
	 "(mincore() sees only this mapping's pages, cachestat() refuses "
	 "hugetlbfs)"},
	{NULL, NULL},
};

const char *known_reason(const char *id)
{
	const struct known_difference *k;

	for (k = known_differences; k->id; k++)
		if (!strcmp(k->id, id))
			return k->reason;
	return NULL;
}

void known(struct record *r, const char *id, const char *emu)
{
	rec_mark_next(r, id, emu, false);
}

void known_rest(struct record *r, const char *id, const char *emu)
{
	rec_mark_next(r, id, emu, true);
}

void known_hex(struct record *r, const char *id, uint64_t emu)
{
	char v[32];

	snprintf(v, sizeof(v), "%#llx", (unsigned long long)emu);
	known(r, id, v);
}

void known_rv_rest(struct record *r, const char *id, long emu)
{
	char v[32];

	rec_fmt_rv(v, sizeof(v), emu);
	known_rest(r, id, v);
}
