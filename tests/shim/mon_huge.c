// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Post-copy into huge pages: a monitor thread serves the MISSING faults of
 * private hugetlb memory (MAP_HUGETLB, 2 MiB pages) with 2 MiB COPYs, as
 * a VM's memory is restored on the destination of a migration.  Pages the
 * program discards with MADV_DONTNEED fault again.  Then minor faults on a
 * hugetlb memfd mapped twice: the monitor writes each page through the
 * second mapping and maps it with CONTINUE.  Last, a monitor in another
 * process, which got the descriptor over a socket, serves the faults.  It
 * exits 77 when no huge page can be had.
 */
#include "mon.h"

#include <pthread.h>
#include <stdint.h>
#include <sys/wait.h>

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

/* The minor faults of a shared hugetlb memfd, served through its alias. */
static char *shared, *alias;
static int minor_uffd;

static void *minor_monitor(void *arg)
{
	(void)arg;
	for (int n = 0; n < 2; n++) {
		struct pollfd p = {minor_uffd, POLLIN, 0};
		struct uffdio_continue c;
		struct uffd_msg m;
		unsigned long page;

		if (poll(&p, 1, -1) < 0)
			die("poll");
		if (read(minor_uffd, &m, sizeof(m)) != sizeof(m))
			die("read");
		page = (unsigned long)(m.arg.pagefault.address -
				       (uintptr_t)shared) /
		       HUGE;
		say("monitor: minor fault %s on huge page %lu\n",
		    m.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_MINOR
			    ? "flagged"
			    : "not flagged",
		    page);
		alias[page * HUGE + 1] = 'u';
		c = (struct uffdio_continue){
			{m.arg.pagefault.address, HUGE}, 0, 0};
		if (ioctl(minor_uffd, UFFDIO_CONTINUE, &c) != 0)
			die("UFFDIO_CONTINUE");
	}
	return NULL;
}

static void minor_phase(void)
{
	struct uffdio_register reg;
	int mfd = memfd_create("mon-huge", MFD_CLOEXEC | MFD_HUGETLB);
	pthread_t t;

	if (mfd < 0)
		die("memfd_create");
	shared = mmap(NULL, 2 * HUGE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd,
		      0);
	alias = mmap(NULL, 2 * HUGE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd,
		     0);
	if (shared == MAP_FAILED || alias == MAP_FAILED)
		skip("no 2 MiB huge pages to map");
	alias[0] = 'a';
	alias[HUGE] = 'b';
	minor_uffd = uffd_create(O_CLOEXEC | O_NONBLOCK);
	uffd_api(minor_uffd, UFFD_FEATURE_MINOR_HUGETLBFS);
	reg = (struct uffdio_register){
		{(uintptr_t)shared, 2 * HUGE}, UFFDIO_REGISTER_MODE_MINOR, 0};
	if (ioctl(minor_uffd, UFFDIO_REGISTER, &reg) != 0)
		die("UFFDIO_REGISTER(MINOR)");
	say("registered a shared hugetlb memfd for minor faults, ioctls "
	    "0x%llx\n",
	    (unsigned long long)reg.ioctls);
	pthread_create(&t, NULL, minor_monitor, NULL);
	say("main: huge page 1 reads %c%c\n", shared[HUGE], shared[HUGE + 1]);
	shared[2] = 'w';
	say("main: huge page 0 reads %c%c%c, the alias %c\n", shared[0],
	    shared[1], shared[2], alias[2]);
	pthread_join(t, NULL);
	close(mfd);
	munmap(shared, 2 * HUGE);
	munmap(alias, 2 * HUGE);
}

/* A monitor in another process, which got the descriptor over a socket. */
static void serve_huge(int sock)
{
	int fd = recv_fd(sock);
	char *buf = map_pages(HUGE / PG);

	for (int n = 0; n < 2; n++) {
		struct pollfd p = {fd, POLLIN, 0};
		struct uffdio_copy c;
		struct uffd_msg m;

		if (poll(&p, 1, -1) < 0)
			die("poll");
		if (read(fd, &m, sizeof(m)) != sizeof(m))
			die("read");
		memset(buf, 'R' + n, HUGE);
		c = (struct uffdio_copy){m.arg.pagefault.address,
					 (uintptr_t)buf, HUGE, 0, 0};
		if (ioctl(fd, UFFDIO_COPY, &c) != 0 || c.copy != (long)HUGE)
			die("UFFDIO_COPY in the server");
	}
}

static void remote_phase(void)
{
	struct uffdio_register reg;
	int sock, fd, status;
	pid_t server = start_server(serve_huge, &sock);
	char *p = mmap(NULL, 2 * HUGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);

	if (p == MAP_FAILED)
		skip("no 2 MiB huge pages to map");
	fd = uffd_create(O_CLOEXEC | O_NONBLOCK);
	uffd_api(fd, 0);
	reg = (struct uffdio_register){
		{(uintptr_t)p, 2 * HUGE}, UFFDIO_REGISTER_MODE_MISSING, 0};
	if (ioctl(fd, UFFDIO_REGISTER, &reg) != 0)
		die("UFFDIO_REGISTER");
	send_fd(sock, fd);
	say("main: huge page 1 of the served area starts %c, ends %c\n",
	    p[HUGE], p[2 * HUGE - 1]);
	say("main: huge page 0 of the served area starts %c\n", p[0]);
	if (waitpid(server, &status, 0) != server)
		die("waitpid");
	say("the server served two faults and exited %d\n",
	    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	close(fd);
	close(sock);
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
	munmap(area, PAGES * HUGE);
	minor_phase();
	remote_phase();
	return 0;
}
