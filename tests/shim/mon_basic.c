/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A basic MISSING monitor: a thread serves even pages with UFFDIO_COPY and
 * odd pages with UFFDIO_ZEROPAGE while the main thread reads and writes
 * them; then the errors a monitor meets (EEXIST, EINVAL, EBADF) and what
 * UNREGISTER leaves behind.
 */
#include "mon.h"

#include <pthread.h>

#define PAGES 8

static int uffd;
static char *area;
static pid_t main_tid;

static void *monitor(void *unused)
{
	for (int served = 0; served < PAGES; served++) {
		struct uffd_msg m = uffd_next(uffd);
		unsigned long page =
			(m.arg.pagefault.address - (unsigned long)area) / PG;

		if (m.event != UFFD_EVENT_PAGEFAULT)
			die("unexpected event");
		say("monitor: %s fault on page %lu, tid %s\n", access_name(&m),
		    page,
		    m.arg.pagefault.feat.ptid == (unsigned int)main_tid
			    ? "of the main thread"
			    : "wrong");
		if (page % 2 == 0) {
			if (uffd_copy_byte(uffd, m.arg.pagefault.address,
					   'a' + (int)page) != 0)
				die("UFFDIO_COPY");
		} else {
			struct uffdio_zeropage z = {
				.range = {m.arg.pagefault.address & ~(PG - 1),
					  PG}};

			if (ioctl(uffd, UFFDIO_ZEROPAGE, &z) != 0 ||
			    z.zeropage != (long long)PG)
				die("UFFDIO_ZEROPAGE");
		}
	}
	return NULL;
}

static void before_api(void)
{
	struct uffd_msg m;
	struct pollfd p;
	int fd = uffd_create(O_CLOEXEC);

	p = (struct pollfd){.fd = fd, .events = POLLIN};
	show("before UFFDIO_API: poll", poll(&p, 1, 0));
	say("revents %#x\n", p.revents);
	show("before UFFDIO_API: read", read(fd, &m, sizeof(m)));
	show("F_GETFL", fcntl(fd, F_GETFL));
	show("F_GETFD", fcntl(fd, F_GETFD));
	close(fd);
}

static void errors(void)
{
	struct uffdio_zeropage z = {.range = {(unsigned long)area, PG}};
	struct uffdio_copy c = {.dst = (unsigned long)area + 1,
				.src = (unsigned long)area + PG,
				.len = PG};
	struct uffdio_api again = {.api = UFFD_API};
	char buf[64];

	show("COPY onto a present page",
	     uffd_copy_byte(uffd, (unsigned long)area, 'x'));
	show("ZEROPAGE onto it", ioctl(uffd, UFFDIO_ZEROPAGE, &z));
	say("zeropage field %lld\n", z.zeropage);
	show("COPY to an unaligned dst", ioctl(uffd, UFFDIO_COPY, &c));
	show("UFFDIO_API twice", ioctl(uffd, UFFDIO_API, &again));
	show("read of 16 bytes", read(uffd, buf, 16));
	show("read with nothing queued", read(uffd, buf, 32));
	show("write to the uffd", write(uffd, "x", 1));
	show("lseek", lseek(uffd, 100, SEEK_SET));
	show("unknown ioctl", ioctl(uffd, _IO(0xAA, 0x30), 0));
}

int main(void)
{
	struct uffdio_api api = {.api = UFFD_API,
				 .features = UFFD_FEATURE_THREAD_ID};
	struct uffdio_range range;
	pthread_t thread;
	long sum = 0;

	main_tid = gettid();
	before_api();
	uffd = uffd_create(O_CLOEXEC | O_NONBLOCK);
	if (ioctl(uffd, UFFDIO_API, &api) != 0)
		die("UFFDIO_API");
	say("UFFDIO_API: api %#llx, THREAD_ID offered: %s\n", api.api,
	    api.features & UFFD_FEATURE_THREAD_ID ? "yes" : "no");
	show("F_GETFL", fcntl(uffd, F_GETFL));
	area = map_pages(PAGES + 2);
	uffd_register(uffd, area, PAGES * PG);
	say("registered %d pages\n", PAGES);
	if (pthread_create(&thread, NULL, monitor, NULL) != 0)
		die("pthread_create");
	for (int i = 0; i < PAGES; i++) {
		char *p = area + i * PG;

		if (i % 4 == 1)
			p[7] = 'W';
		say("main: page %d starts '%c', byte 7 is %d\n", i,
		    p[0] ? p[0] : '0', p[7]);
	}
	pthread_join(thread, NULL);
	errors();

	range = (struct uffdio_range){(unsigned long)area, PAGES * PG};
	show("UFFDIO_WAKE with no one waiting",
	     ioctl(uffd, UFFDIO_WAKE, &range));
	show("UFFDIO_UNREGISTER", ioctl(uffd, UFFDIO_UNREGISTER, &range));
	if (madvise(area, PAGES * PG, MADV_DONTNEED) != 0)
		die("madvise");
	for (int i = 0; i < PAGES; i++)
		sum += area[i * PG];
	say("after UNREGISTER and MADV_DONTNEED the pages read %ld\n", sum);
	show("close", close(uffd));
	return 0;
}
