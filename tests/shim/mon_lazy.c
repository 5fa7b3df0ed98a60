// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A monitor in another process, in the shape of a lazy-restore daemon.
 *
 * The restored process maps and registers 64 MiB, sends its userfaultfd
 * to a page server over a Unix socket (SCM_RIGHTS) and closes its own
 * copy.  The server, another process, answers every fault with the page
 * read from an image file, copying from its own memory, until the
 * restored process has checked every byte.
 *
 * Then the server's death: a thread of the restored process waits in a
 * fault the server has read but will never answer, and the server is
 * killed.  The last reference to the userfaultfd goes with it, so the
 * thread resumes on ordinary memory, as on the kernel.
 *
 * Last, a server that forks a worker and leaves the serving to it.
 */
#include "mon.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#define PAGES (64UL << 20) / PG

static unsigned char image_byte(unsigned long page, unsigned long off)
{
	return (unsigned char)(page * 131 + off * 7 + (off >> 9));
}

static int make_image(void)
{
	static unsigned char page[PG];
	char path[] = "/tmp/uffdemu-image-XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0)
		die("mkstemp");
	unlink(path);
	for (unsigned long p = 0; p < PAGES; p++) {
		for (unsigned long i = 0; i < PG; i++)
			page[i] = image_byte(p, i);
		if (pwrite(fd, page, PG, (off_t)(p * PG)) != (ssize_t)PG)
			die("pwrite");
	}
	return fd;
}

/* The page server: until its peer says stop, serves each fault. */
static void serve(int sock, int image)
{
	static char page[PG] __attribute__((aligned(4096)));
	int uffd = recv_fd(sock);
	unsigned long served = 0;
	uint64_t base;

	if (read(sock, &base, sizeof(base)) != sizeof(base))
		die("read base");
	for (;;) {
		struct pollfd p[2] = {{.fd = uffd, .events = POLLIN},
				      {.fd = sock, .events = POLLIN}};
		struct uffd_msg msg;
		struct uffdio_copy copy;
		unsigned long n;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (p[1].revents)
			break;
		if (read(uffd, &msg, sizeof(msg)) != sizeof(msg)) {
			if (errno == EAGAIN)
				continue;
			die("read");
		}
		if (msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		n = (msg.arg.pagefault.address - base) / PG;
		if (pread(image, page, PG, (off_t)(n * PG)) != (ssize_t)PG)
			die("pread");
		copy = (struct uffdio_copy){.dst = msg.arg.pagefault.address &
						   ~(PG - 1),
					    .src = (unsigned long)page,
					    .len = PG};
		if (ioctl(uffd, UFFDIO_COPY, &copy) != 0 && errno != EEXIST)
			die("UFFDIO_COPY");
		served++;
	}
	say("server: served %lu faults\n", served);
	close(uffd);
}

static int image_fd;

static void serve_image(int sock)
{
	serve(sock, image_fd);
}

static void lazy_restore(void)
{
	int sock, uffd, status;
	unsigned long wrong = 0;
	uint64_t base;
	pid_t pid;
	char *mem;

	image_fd = make_image();
	pid = start_server(serve_image, &sock);
	close(image_fd);
	uffd = uffd_create(O_CLOEXEC | O_NONBLOCK);
	uffd_api(uffd, 0);
	mem = map_pages(PAGES);
	uffd_register(uffd, mem, PAGES * PG);
	say("restored: registered %lu pages\n", PAGES);
	send_fd(sock, uffd);
	close(uffd);
	base = (uintptr_t)mem;
	if (write(sock, &base, sizeof(base)) != sizeof(base))
		die("write base");
	for (unsigned long p = 0; p < PAGES; p++)
		for (unsigned long i = 0; i < PG; i += 61)
			wrong += (unsigned char)mem[p * PG + i] !=
				 image_byte(p, i);
	say("restored: checked every page, %lu wrong bytes\n", wrong);
	if (write(sock, "x", 1) != 1)
		die("write");
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid");
	say("restored: the server exited %d\n", WEXITSTATUS(status));
	close(sock);
	munmap(mem, PAGES * PG);
}

static void *toucher(void *p)
{
	return (void *)(uintptr_t)(unsigned char)*(volatile char *)p;
}

/* A server that reads one fault, says so, and waits to be killed. */
static void serve_once(int sock)
{
	int uffd = recv_fd(sock);
	struct uffd_msg msg = uffd_next(uffd);

	(void)msg;
	if (write(sock, "f", 1) != 1)
		die("write");
	pause();
}

static void server_dies(void)
{
	struct timespec deadline;
	pthread_t t;
	void *seen;
	int sock, uffd, status;
	char *mem, b;
	pid_t pid;

	pid = start_server(serve_once, &sock);
	uffd = uffd_create(O_CLOEXEC | O_NONBLOCK);
	uffd_api(uffd, 0);
	mem = map_pages(2);
	uffd_register(uffd, mem, 2 * PG);
	send_fd(sock, uffd);
	close(uffd);
	pthread_create(&t, NULL, toucher, mem);
	if (read(sock, &b, 1) != 1)
		die("read");
	say("restored: the server has read the fault\n");
	kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid");
	say("restored: the server was killed by signal %d\n", WTERMSIG(status));
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 10;
	if (pthread_timedjoin_np(t, &seen, &deadline) != 0) {
		say("restored: the faulting thread is still blocked\n");
		exit(1);
	}
	say("restored: the faulting thread resumed, page 0 reads %d\n",
	    (int)(uintptr_t)seen);
}

/*
 * A server that hands its descriptor to a worker it forks, and goes: the
 * worker serves the faults.
 */
static void serve_by_worker(int sock)
{
	int uffd = recv_fd(sock);
	pid_t w = fork();

	if (w < 0)
		die("fork");
	if (w == 0) {
		for (int k = 0; k < 4; k++) {
			struct uffd_msg m = uffd_next(uffd);

			if (uffd_copy_byte(uffd, m.arg.pagefault.address,
					   'w') != 0)
				die("UFFDIO_COPY");
		}
		_exit(0);
	}
	close(uffd);
	if (waitpid(w, NULL, 0) != w)
		die("waitpid");
}

static void server_forks(void)
{
	int sock, uffd, status;
	unsigned long sum = 0;
	char *mem;
	pid_t pid;

	pid = start_server(serve_by_worker, &sock);
	uffd = uffd_create(O_CLOEXEC | O_NONBLOCK);
	uffd_api(uffd, 0);
	mem = map_pages(4);
	uffd_register(uffd, mem, 4 * PG);
	send_fd(sock, uffd);
	close(uffd);
	for (int k = 0; k < 4; k++)
		sum += (unsigned char)mem[k * PG + 100];
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid");
	say("restored: a worker the server forked served 4 pages, sum %lu\n",
	    sum);
}

int main(void)
{
	lazy_restore();
	server_dies();
	server_forks();
	return 0;
}
