/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small userfaultfd monitor: it registers a few pages of fresh memory,
 * touches them from the main thread, and a monitor thread answers every
 * fault with a page filled with a letter, printing what it saw.
 *
 * Built twice: uffdemu-demo runs on the emulator, uffdemu-demo-kernel on
 * the kernel's own userfaultfd; their outputs are the same.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef DEMO_KERNEL
#include <linux/userfaultfd.h>
#define uffd_create(f) ((int)syscall(SYS_userfaultfd, (f)))
#define uffd_ioctl     ioctl
#define uffd_read      read
#define uffd_poll      poll
#define uffd_close     close
#define BACKEND        "the kernel's userfaultfd"
#else
#include "uffdemu/uffdemu.h"
#define uffd_create(f) uffdemu_userfaultfd(f)
#define uffd_ioctl     uffdemu_ioctl
#define uffd_read      uffdemu_read
#define uffd_poll      uffdemu_poll
#define uffd_close     uffdemu_close
#define BACKEND        "uffdemu"
#endif

static void die(const char *what)
{
	fprintf(stderr, "uffdemu-demo: %s: %s\n", what, strerror(errno));
	exit(1);
}

struct monitor {
	int uffd;
	char *base;
	long page_size;
	int faults;
	int expected;
};

static void *monitor(void *arg)
{
	struct monitor *m = arg;
	char *page = malloc((size_t)m->page_size);

	if (!page)
		die("malloc");
	while (m->faults < m->expected) {
		struct pollfd p = {.fd = m->uffd, .events = POLLIN};
		struct uffdio_copy copy;
		struct uffd_msg msg;
		unsigned long offset;

		if (uffd_poll(&p, 1, -1) < 0)
			die("poll");
		if (uffd_read(m->uffd, &msg, sizeof(msg)) != sizeof(msg)) {
			if (errno == EAGAIN)
				continue;
			die("read");
		}
		if (msg.event != UFFD_EVENT_PAGEFAULT) {
			fprintf(stderr, "uffdemu-demo: unexpected event %#x\n",
				msg.event);
			exit(1);
		}
		offset = (unsigned long)(msg.arg.pagefault.address -
					 (unsigned long)m->base);
		printf("  fault %d: %s at page %lu (offset %#lx)\n",
		       m->faults + 1,
		       msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE
			       ? "write"
			       : "read",
		       offset / (unsigned long)m->page_size, offset);
		memset(page, 'A' + m->faults % 26, (size_t)m->page_size);
		printf("  serving page %lu with '%c'\n",
		       offset / (unsigned long)m->page_size,
		       'A' + m->faults % 26);
		copy.dst = msg.arg.pagefault.address &
			   ~(unsigned long long)(m->page_size - 1);
		copy.src = (unsigned long)page;
		copy.len = (unsigned long long)m->page_size;
		copy.mode = 0;
		if (uffd_ioctl(m->uffd, UFFDIO_COPY, &copy) != 0 ||
		    copy.copy != m->page_size)
			die("UFFDIO_COPY");
		fflush(stdout);
		m->faults++;
	}
	free(page);
	return NULL;
}

int main(int argc, char **argv)
{
	int pages = argc > 1 ? atoi(argv[1]) : 4;
	struct uffdio_api api = {.api = UFFD_API, .features = 0};
	struct uffdio_register reg;
	struct monitor m = {0};
	pthread_t thread;
	size_t len;

	if (pages < 1 || pages > 1024) {
		fprintf(stderr, "usage: %s [pages (1..1024)]\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	m.page_size = sysconf(_SC_PAGESIZE);
	m.expected = pages;
	len = (size_t)pages * (size_t)m.page_size;
	printf("uffdemu-demo on %s: %d pages of %ld bytes\n", BACKEND, pages,
	       m.page_size);

	m.uffd = uffd_create(O_CLOEXEC | O_NONBLOCK);
	if (m.uffd < 0)
		die("userfaultfd");
	if (uffd_ioctl(m.uffd, UFFDIO_API, &api) != 0)
		die("UFFDIO_API");
	m.base = mmap(NULL, len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m.base == MAP_FAILED)
		die("mmap");
	reg.range.start = (unsigned long)m.base;
	reg.range.len = len;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	if (uffd_ioctl(m.uffd, UFFDIO_REGISTER, &reg) != 0)
		die("UFFDIO_REGISTER");
	printf("registered %zu bytes\n", len);
	if (pthread_create(&thread, NULL, monitor, &m) != 0)
		die("pthread_create");

	/*
	 * Touch every page: odd pages are written, even pages are read.  The
	 * access comes first and the printing after, so that the monitor's
	 * own printf() never waits for a stdout lock held by a faulting
	 * printf() here.
	 */
	for (int i = 0; i < pages; i++) {
		char *p = m.base + (size_t)i * (size_t)m.page_size;
		char seen[5];

		if (i % 2)
			p[1] = '*';
		memcpy(seen, p, 4);
		seen[4] = '\0';
		printf("main: %s page %d, it starts \"%s\"\n",
		       i % 2 ? "wrote" : "read", i, seen);
	}
	pthread_join(thread, NULL);
	uffd_close(m.uffd);
	printf("done: %d faults served\n", m.faults);
	return 0;
}
