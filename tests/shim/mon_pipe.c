/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * System calls into registered, missing memory.  On the kernel, read(2)
 * from a pipe into a missing page blocks, the monitor gets a write fault,
 * and the read completes once the page is there; write(2) from a missing
 * page gets a read fault.  With UFFD_USER_MODE_ONLY the same call fails
 * EFAULT and the monitor hears nothing.
 */
#include "mon.h"

#include <pthread.h>
#include <time.h>

static int uffd, pipefd[2];
static char *area;

static void *monitor(void *unused)
{
	for (;;) {
		struct uffd_msg m = uffd_next(uffd);
		unsigned long page =
			(m.arg.pagefault.address - (unsigned long)area) / PG;
		int fill = page == 2 ? 'Z' : '.';

		say("monitor: %s fault on page %lu, serving it with '%c'\n",
		    access_name(&m), page, fill);
		if (uffd_copy_byte(uffd, m.arg.pagefault.address, fill) != 0)
			die("UFFDIO_COPY");
		if (page == 2)
			return NULL;
	}
}

static void *late_writer(void *unused)
{
	struct timespec t = {0, 100 * 1000 * 1000};

	nanosleep(&t, NULL);
	if (write(pipefd[1], "written later", 13) != 13)
		die("write");
	return NULL;
}

static void user_mode_only(void)
{
	int fd = uffd_create(O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	char *p = map_pages(1);

	uffd_api(fd, 0);
	uffd_register(fd, p, PG);
	show("UFFD_USER_MODE_ONLY: write(2) from a missing page",
	     write(pipefd[1], p, 16));
	if (write(pipefd[1], "0123456789abcdef", 16) != 16)
		die("write");
	show("and read(2) into it", read(pipefd[0], p, 16));
	close(fd);
}

int main(void)
{
	pthread_t mon, writer;
	char out[64] = "";
	ssize_t n;

	uffd = uffd_create(O_CLOEXEC | O_NONBLOCK);
	uffd_api(uffd, 0);
	area = map_pages(3);
	uffd_register(uffd, area, 3 * PG);
	if (pipe(pipefd) != 0)
		die("pipe");
	if (pthread_create(&mon, NULL, monitor, NULL) != 0)
		die("pthread_create");

	/* Data already waiting: the read faults, then completes. */
	if (write(pipefd[1], "hello from the pipe", 19) != 19)
		die("write");
	n = read(pipefd[0], area, 64);
	say("main: read(2) into page 0 returned %zd: \"%.19s\", then '%c'\n", n,
	    area, area[19]);

	/* Nothing waiting yet: the read blocks until the writer writes. */
	if (pthread_create(&writer, NULL, late_writer, NULL) != 0)
		die("pthread_create");
	n = read(pipefd[0], area + PG, 64);
	pthread_join(writer, NULL);
	say("main: read(2) into page 1 returned %zd: \"%.13s\", then '%c'\n", n,
	    area + PG, area[PG + 13]);

	/* The kernel reads the buffer of write(2): a read fault. */
	n = write(pipefd[1], area + 2 * PG, 8);
	say("main: write(2) from page 2 returned %zd\n", n);
	n = read(pipefd[0], out, sizeof(out));
	say("main: the pipe gave back %zd bytes: \"%.*s\"\n", n, (int)n, out);
	pthread_join(mon, NULL);

	user_mode_only();
	close(uffd);
	return 0;
}
