// SPDX-License-Identifier: GPL-2.0-or-later
/* The known differences between the emulator and the kernel (see known.h). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "backend.h"
#include "known.h"

const struct known_difference known_differences[] = {
	{KNOWN_FEATURES,
	 "UFFDIO_API offers the features the emulator implements (0x1ffff: "
	 "all of Linux 6.18's on x86-64), where the running kernel offers "
	 "others, and "
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
	{KNOWN_GIGA_PRIVATE,
	 "REGISTER refuses hugetlb memory with 1 GiB pages mapped MAP_PRIVATE "
	 "with EINVAL, where the kernel registers it: a private install writes "
	 "through /proc/self/mem, and such a write into a 1 GiB page never "
	 "completes on Linux 6.18"},
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

/* What the running kernel offers; 0 where it has no userfaultfd. */
static uint64_t kernel_offer(void)
{
	static uint64_t offer;
	static bool probed;
	struct uffdio_api api = {.api = UFFD_API};
	int fd;

	if (probed)
		return offer;
	probed = true;
#ifdef SYS_userfaultfd
	fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
#else
	fd = -1;
#endif
	if (fd < 0)
		return 0;
	if (ioctl(fd, UFFDIO_API, &api) == 0)
		offer = api.features;
	close(fd);
	return offer;
}

void known_features(struct record *r)
{
	if (kernel_offer() != EMU_FEATURES_OFFERED)
		known_hex(r, KNOWN_FEATURES, EMU_FEATURES_OFFERED);
}

void known_rv_rest(struct record *r, const char *id, long emu)
{
	char v[32];

	rec_fmt_rv(v, sizeof(v), emu);
	known_rest(r, id, v);
}
