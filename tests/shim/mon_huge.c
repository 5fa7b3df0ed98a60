// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Post-copy into huge pages: a monitor thread serves the MISSING faults of
 * private hugetlb memory (MAP_HUGETLB, 2 MiB pages) with 2 MiB COPYs, as
 * a VM's memory is restored on the destination of a migration.  Pages the
 * program discards with MADV_DONTNEED fault again.  It exits 77 when no
 * huge page can be had.
 */
#include "mon.h"

#include <pthread.h>
#include <stdint.h>

#define HUGE  (2UL << 20)
#define PAGES 4

static char *area, *src;
static int uffd;
static int served;

static void *monitor(void *arg)
{
	(void)arg;
	for (;;) {
		struct pollfd p = {uffd, POLLIN, 0};
		struct uffd_msg m;
		struct uffdio_copy c;
		unsigned long page, off;

		if (poll(&p, 1, -1) < 0)
			die("poll");
		if (read(uffd, &m, sizeof(m)) != sizeof(m))
			die("read");
		if (m.event != UFFD_EVENT_PAGEFAULT)
			die("an event that is not a page fault");
		page = (unsigned long)(m.arg.pagefault.address -
				       (uintptr_t)area) /
		       HUGE;
		off = (unsigned long)(m.arg.pagefault.address -
				      (uintptr_t)area) %
		      HUGE;
		say("monitor: %s fault on huge page %lu, %lu bytes into it\n",
		    m.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE ? "write"
								      : "read",
		    page, off);
		memset(src, 'A' + (int)page, HUGE);
		c = (struct uffdio_copy){m.arg.pagefault.address,
					 (uintptr_t)src, HUGE, 0, 0};
		/* Counted first: the COPY lets the faulting thread go on. */
		__atomic_add_fetch(&served, 1, __ATOMIC_SEQ_CST);
		if (ioctl(uffd, UFFDIO_COPY, &c) != 0)
			die("UFFDIO_COPY");
	}
	return NULL;
}

static void show_page(const char *what, unsigned long page)
{
	char *p = area + page * HUGE;

	say("main: %s huge page %lu: first byte %c, last byte %c\n", what, page,
	    p[0], p[HUGE - 1]);
}

static void try(const char *what, unsigned long req, void *arg)
{
	if (ioctl(uffd, req, arg) != 0)
		say("%s: -1 %s\n", what, strerrorname_np(errno));
	else
		say("%s: 0\n", what);
}

int main(void)
{
	struct uffdio_register reg;
	struct uffdio_zeropage zero;
	struct uffdio_copy small;
	struct uffdio_range range;
	pthread_t t;

	area = mmap(NULL, PAGES * HUGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (area == MAP_FAILED)
		skip("no 2 MiB huge pages to map");
	src = map_pages(HUGE / PG);
	uffd = uffd_create(O_CLOEXEC | O_NONBLOCK);
	uffd_api(uffd, 0);
	reg = (struct uffdio_register){{(uintptr_t)area, PAGES * HUGE},
				       UFFDIO_REGISTER_MODE_MISSING,
				       0};
	if (ioctl(uffd, UFFDIO_REGISTER, &reg) != 0)
		die("UFFDIO_REGISTER");
	say("registered %d huge pages, ioctls 0x%llx\n", PAGES,
	    (unsigned long long)reg.ioctls);

	zero = (struct uffdio_zeropage){{(uintptr_t)area, HUGE}, 0, 0};
	try("ZEROPAGE", UFFDIO_ZEROPAGE, &zero);
	small = (struct uffdio_copy){(uintptr_t)area, (uintptr_t)src, PG, 0, 0};
	try("COPY of 4 KiB", UFFDIO_COPY, &small);

	pthread_create(&t, NULL, monitor, NULL);
	show_page("read", 2);
	area[0 * HUGE + 12345] = 'w';
	show_page("wrote into", 0);
	show_page("read", 3);
	show_page("read", 1);
	say("main: byte 12345 of huge page 0 is %c\n", area[12345]);

	say("MADV_DONTNEED of 4 KiB: %d\n", madvise(area, PG, MADV_DONTNEED));
	show_page("read", 0);
	say("MADV_DONTNEED of huge page 0: %d\n",
	    madvise(area, HUGE, MADV_DONTNEED));
	show_page("read", 0);
	say("main: byte 12345 of huge page 0 is %c\n", area[12345]);

	range = (struct uffdio_range){(uintptr_t)area, PAGES * HUGE};
	try("UNREGISTER", UFFDIO_UNREGISTER, &range);
	say("faults served: %d\n", __atomic_load_n(&served, __ATOMIC_SEQ_CST));
	return 0;
}
