/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A monitor that asks for the REMOVE, UNMAP and REMAP events while the
 * program changes registered memory with plain madvise(2), mremap(2),
 * munmap(2) and mmap(MAP_FIXED): each change reaches the monitor as on
 * the kernel, and memory discarded by MADV_DONTNEED faults again.
 */
#include "mon.h"

#include <pthread.h>

#define PAGES 8

static int uffd;
static char *area, *moved;
static volatile int done;
static int events_seen;

/*
 * The changing thread is released as soon as its event is read, before
 * the monitor prints it: it waits for the print, so the lines keep one
 * order.
 */
static void await_events(int n)
{
	while (__atomic_load_n(&events_seen, __ATOMIC_ACQUIRE) < n)
		usleep(1000);
}

static unsigned long page_of(unsigned long long addr)
{
	unsigned long a = (unsigned long)addr;

	if (a >= (unsigned long)area && a <= (unsigned long)area + PAGES * PG)
		return (a - (unsigned long)area) / PG;
	if (moved && a >= (unsigned long)moved &&
	    a <= (unsigned long)moved + PAGES * PG)
		return 100 + (a - (unsigned long)moved) / PG;
	return 999;
}

static void *monitor(void *unused)
{
	while (!done) {
		struct pollfd p = {.fd = uffd, .events = POLLIN};
		struct uffd_msg m;

		if (poll(&p, 1, 100) <= 0)
			continue;
		if (read(uffd, &m, sizeof(m)) != sizeof(m)) {
			if (errno == EAGAIN)
				continue;
			die("read");
		}
		switch (m.event) {
		case UFFD_EVENT_PAGEFAULT:
			say("monitor: %s fault on page %lu\n", access_name(&m),
			    page_of(m.arg.pagefault.address));
			if (uffd_copy_byte(uffd, m.arg.pagefault.address,
					   'p') != 0)
				die("UFFDIO_COPY");
			break;
		case UFFD_EVENT_REMOVE:
		case UFFD_EVENT_UNMAP:
			say("monitor: %s pages %lu to %lu\n",
			    m.event == UFFD_EVENT_REMOVE ? "REMOVE" : "UNMAP",
			    page_of(m.arg.remove.start),
			    page_of(m.arg.remove.end));
			break;
		case UFFD_EVENT_REMAP:
			say("monitor: REMAP of %llu pages, from page %lu\n",
			    m.arg.remap.len / PG, page_of(m.arg.remap.from));
			break;
		default:
			say("monitor: event %#x\n", m.event);
		}
		if (m.event != UFFD_EVENT_PAGEFAULT)
			__atomic_add_fetch(&events_seen, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

int main(void)
{
	pthread_t thread;
	void *fixed;
	int r;

	uffd = uffd_create(O_CLOEXEC | O_NONBLOCK);
	uffd_api(uffd, UFFD_FEATURE_EVENT_REMOVE | UFFD_FEATURE_EVENT_UNMAP |
			       UFFD_FEATURE_EVENT_REMAP);
	area = map_pages(PAGES);
	uffd_register(uffd, area, PAGES * PG);
	if (pthread_create(&thread, NULL, monitor, NULL) != 0)
		die("pthread_create");

	say("main: page 0 reads '%c'\n", area[0]);
	r = madvise(area, 2 * PG, MADV_DONTNEED);
	await_events(1);
	show("main: MADV_DONTNEED of pages 0 and 1", r);
	say("main: page 0 reads '%c' again\n", area[0]);
	r = munmap(area + 6 * PG, 2 * PG);
	await_events(2);
	show("main: munmap of pages 6 and 7", r);
	fixed = mmap(area + 4 * PG, PG, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	await_events(3);
	show("main: mmap(MAP_FIXED) over page 4", fixed == MAP_FAILED ? -1 : 0);
	say("main: the new page 4 reads %d, without a fault\n", area[4 * PG]);
	moved = mmap(NULL, PAGES * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		     -1, 0);
	if (moved == MAP_FAILED)
		die("mmap");
	moved = mremap(area, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED,
		       moved);
	await_events(5);
	show("main: mremap of pages 0 and 1", moved == MAP_FAILED ? -1 : 0);
	say("main: the moved page 0 reads '%c'\n", moved[0]);
	done = 1;
	pthread_join(thread, NULL);
	close(uffd);
	return 0;
}
