/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A monitor that waits with epoll, and what epoll, poll and select report
 * for a userfaultfd: EPOLLERR before UFFDIO_API and while the descriptor
 * blocks, EPOLLIN for each message once it is non-blocking.
 */
#include "mon.h"

#include <pthread.h>
#include <sys/epoll.h>
#include <sys/select.h>

#define PAGES 3
#define TAG   0x5eedULL

static int uffd, epfd;
static char *area;

static const char *events_str(unsigned int ev)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "%s%s%s%s", ev & EPOLLIN ? " IN" : "",
		 ev & EPOLLOUT ? " OUT" : "", ev & EPOLLERR ? " ERR" : "",
		 ev & EPOLLHUP ? " HUP" : "");
	return ev ? buf : " none";
}

static void epoll_now(const char *when)
{
	struct epoll_event ev[4];
	int n = epoll_wait(epfd, ev, 4, 0);

	say("%s: epoll_wait %d", when, n);
	for (int i = 0; i < n; i++)
		say(",%s data %s", events_str(ev[i].events),
		    ev[i].data.u64 == TAG ? "ours" : "wrong");
	say("\n");
}

static void poll_and_select(const char *when)
{
	struct pollfd p = {.fd = uffd, .events = POLLIN};
	struct timeval tv = {0, 0};
	fd_set r, w, e;
	int n;

	n = poll(&p, 1, 0);
	say("%s: poll %d revents%s", when, n, events_str(p.revents));
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_ZERO(&e);
	FD_SET(uffd, &r);
	FD_SET(uffd, &w);
	FD_SET(uffd, &e);
	n = select(uffd + 1, &r, &w, &e, &tv);
	say(", select %d%s%s%s\n", n, FD_ISSET(uffd, &r) ? " read" : "",
	    FD_ISSET(uffd, &w) ? " write" : "",
	    FD_ISSET(uffd, &e) ? " except" : "");
}

static void *monitor(void *unused)
{
	for (int served = 0; served < PAGES;) {
		struct epoll_event ev;
		struct uffd_msg m;
		int n = epoll_wait(epfd, &ev, 1, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n != 1)
			die("epoll_wait");
		if (read(uffd, &m, sizeof(m)) != sizeof(m)) {
			if (errno == EAGAIN)
				continue;
			die("read");
		}
		say("monitor: epoll said%s, data %s; %s fault on page %lu\n",
		    events_str(ev.events),
		    ev.data.u64 == TAG ? "ours" : "wrong", access_name(&m),
		    (unsigned long)(m.arg.pagefault.address -
				    (unsigned long)area) /
			    PG);
		if (uffd_copy_byte(uffd, m.arg.pagefault.address,
				   '1' + served) != 0)
			die("UFFDIO_COPY");
		served++;
	}
	return NULL;
}

int main(void)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG};
	pthread_t thread;

	uffd = uffd_create(O_CLOEXEC);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		die("epoll_create1");
	show("EPOLL_CTL_ADD", epoll_ctl(epfd, EPOLL_CTL_ADD, uffd, &ev));
	show("EPOLL_CTL_ADD again", epoll_ctl(epfd, EPOLL_CTL_ADD, uffd, &ev));
	epoll_now("before UFFDIO_API");
	poll_and_select("before UFFDIO_API");
	uffd_api(uffd, 0);
	epoll_now("blocking");
	poll_and_select("blocking");
	if (fcntl(uffd, F_SETFL, O_NONBLOCK) != 0)
		die("F_SETFL");
	epoll_now("non-blocking");
	poll_and_select("non-blocking");

	area = map_pages(PAGES);
	uffd_register(uffd, area, PAGES * PG);
	if (pthread_create(&thread, NULL, monitor, NULL) != 0)
		die("pthread_create");
	for (int i = 0; i < PAGES; i++) {
		char c = area[i * PG];

		say("main: page %d reads '%c'\n", i, c);
	}
	pthread_join(thread, NULL);
	epoll_now("all served");

	ev.events = EPOLLOUT;
	show("EPOLL_CTL_MOD to EPOLLOUT",
	     epoll_ctl(epfd, EPOLL_CTL_MOD, uffd, &ev));
	epoll_now("EPOLLOUT only");
	show("EPOLL_CTL_DEL", epoll_ctl(epfd, EPOLL_CTL_DEL, uffd, NULL));
	epoll_now("removed");
	close(uffd);
	close(epfd);
	return 0;
}
