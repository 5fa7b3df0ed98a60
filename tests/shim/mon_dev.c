/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A monitor that gets its userfaultfd from /dev/userfaultfd with
 * USERFAULTFD_IOC_NEW, and what the device descriptor itself accepts.
 */
#include "mon.h"

#include <pthread.h>

static int uffd;
static char *area;

static void *monitor(void *unused)
{
	struct uffd_msg m = uffd_next(uffd);

	say("monitor: %s fault on page %lu\n", access_name(&m),
	    (unsigned long)(m.arg.pagefault.address - (unsigned long)area) /
		    PG);
	if (uffd_copy_byte(uffd, m.arg.pagefault.address, 'd') != 0)
		die("UFFDIO_COPY");
	return NULL;
}

static void show_link(const char *what, int fd)
{
	char path[64], link[128];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link));
	say("%s links to %.*s\n", what, (int)(n < 0 ? 0 : n), link);
}

int main(void)
{
	int dev = open("/dev/userfaultfd", O_RDONLY | O_CLOEXEC);
	pthread_t thread;
	char buf[64];

	if (dev < 0)
		skip("/dev/userfaultfd cannot be opened");
	show_link("the device descriptor", dev);
	show("read on the device", read(dev, buf, sizeof(buf)));
	show("UFFDIO_API on the device",
	     ioctl(dev, UFFDIO_API, &(struct uffdio_api){.api = UFFD_API}));
	show("USERFAULTFD_IOC_NEW with bad flags",
	     ioctl(dev, USERFAULTFD_IOC_NEW, O_RDWR));
	uffd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0)
		die("USERFAULTFD_IOC_NEW");
	show_link("the new descriptor", uffd);
	show("its F_GETFL", fcntl(uffd, F_GETFL));
	show("closing the device", close(dev));

	uffd_api(uffd, 0);
	area = map_pages(2);
	uffd_register(uffd, area, 2 * PG);
	if (pthread_create(&thread, NULL, monitor, NULL) != 0)
		die("pthread_create");
	area[PG + 5] = 'w';
	pthread_join(thread, NULL);
	say("main: page 1 reads \"%.6s\"\n", area + PG);
	show("close", close(uffd));
	return 0;
}
