// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * UFFD_FEATURE_EVENT_FORK: the monitor learns of each fork from a FORK
 * message whose descriptor serves the child's faults.  The child's pages
 * stay registered and missing, the parent's context refuses fills with
 * EAGAIN while the message is unread, and the parent's own faults still
 * come on its own descriptor.  A grandchild forked by the child reaches the
 * monitor through the child's descriptor in turn.
 */
#include "mon.h"

#include <pthread.h>
#include <sys/wait.h>

#define PAGES 4

static char *area;
static int fds[4];
static int nfds = 1;
static int forks_seen;
static int forking; /* 1 from just before the first fork */

static void serve(struct uffd_msg *m, int k)
{
	unsigned long page =
		(m->arg.pagefault.address - (unsigned long)area) / PG;

	say("monitor: %s fault on page %lu, descriptor %d\n", access_name(m),
	    page, k);
	if (uffd_copy_byte(fds[k], m->arg.pagefault.address, 'a' + k) != 0)
		die("UFFDIO_COPY");
}

/* The parent's page 3, which no one touches: EAGAIN while memory changes. */
static void zero_page_3(const char *when)
{
	struct uffdio_zeropage z = {{(unsigned long)area + 3 * PG, PG}, 0, 0};
	long r = ioctl(fds[0], UFFDIO_ZEROPAGE, &z);

	say("monitor: ZEROPAGE %s: %ld%s%s\n", when, r, r ? " " : "",
	    r ? errno_name(errno) : "");
}

static void *monitor(void *arg)
{
	(void)arg;
	for (;;) {
		struct pollfd p[4];
		struct uffd_msg m;

		for (int k = 0; k < nfds; k++)
			p[k] = (struct pollfd){.fd = fds[k], .events = POLLIN};
		if (poll(p, (nfds_t)nfds, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		for (int k = 0; k < nfds; k++) {
			if (k == 0 && p[0].revents &&
			    __atomic_load_n(&forking, __ATOMIC_ACQUIRE) == 1) {
				zero_page_3("while the FORK message is unread");
				__atomic_store_n(&forking, 2, __ATOMIC_RELEASE);
			}
			if (!p[k].revents ||
			    read(fds[k], &m, sizeof(m)) != sizeof(m))
				continue;
			if (m.event == UFFD_EVENT_PAGEFAULT) {
				serve(&m, k);
			} else if (m.event == UFFD_EVENT_FORK) {
				int ufd = (int)m.arg.fork.ufd;

				say("monitor: FORK on descriptor %d: a new "
				    "descriptor, O_NONBLOCK %d, close-on-exec "
				    "%d\n",
				    k, (fcntl(ufd, F_GETFL) & O_NONBLOCK) != 0,
				    (fcntl(ufd, F_GETFD) & FD_CLOEXEC) != 0);
				fds[nfds++] = ufd;
				__atomic_store_n(&forks_seen, nfds - 1,
						 __ATOMIC_RELEASE);
			} else {
				say("monitor: event %x\n", m.event);
			}
		}
	}
	return NULL;
}

static void child(int go)
{
	pid_t g;
	int status;
	char b;

	/* The parent speaks first. */
	if (read(go, &b, 1) != 1)
		die("read");
	say("child: page 0 reads '%c'\n", area[0]);
	area[PG] = 'w';
	say("child: page 1 reads '%c' after its write\n", area[PG]);
	g = fork();
	if (g < 0)
		die("fork");
	if (g == 0) {
		say("grandchild: page 2 reads '%c'\n", area[2 * PG]);
		_exit(0);
	}
	if (waitpid(g, &status, 0) != g)
		die("waitpid");
	say("child: the grandchild exited %d\n", WEXITSTATUS(status));
	_exit(0);
}

int main(void)
{
	pthread_t t;
	int status, go[2];
	pid_t pid;

	fds[0] = uffd_create(O_NONBLOCK);
	uffd_api(fds[0], UFFD_FEATURE_EVENT_FORK);
	area = map_pages(PAGES);
	uffd_register(fds[0], area, PAGES * PG);
	say("parent: registered %d pages\n", PAGES);
	pthread_create(&t, NULL, monitor, NULL);
	if (pipe(go))
		die("pipe");
	__atomic_store_n(&forking, 1, __ATOMIC_RELEASE);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0)
		child(go[0]);
	/* The monitor's line about the fork comes first. */
	while (!__atomic_load_n(&forks_seen, __ATOMIC_ACQUIRE))
		usleep(1000);
	say("parent: fork() returned\n");
	if (write(go[1], "g", 1) != 1)
		die("write");
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid");
	say("parent: the child exited %d\n", WEXITSTATUS(status));
	say("parent: page 0 reads '%c'\n", area[0]);
	return 0;
}
