// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Faults in registered private anonymous memory (MISSING mode): the messages
 * they produce, read() and readiness, waking, signals, the SIGBUS feature,
 * close and UNREGISTER with blocked threads, and faults the emulator must
 * leave to the application (SIGSEGV).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "known.h"
#include "scenario.h"

#define P(n)         ((uint64_t)(n)*PG)
#define WRITE_FL     UFFD_PAGEFAULT_FLAG_WRITE
#define THREAD_ID    UFFD_FEATURE_THREAD_ID
#define EXACT        UFFD_FEATURE_EXACT_ADDRESS
#define MISSING_MODE UFFDIO_REGISTER_MODE_MISSING

static const unsigned char zeros[PG];

/* The usual stage: a userfaultfd, and area A (of mem) registered, named. */
struct stage {
	int fd;
	char *a;   /* registered */
	char *src; /* 4 pages of a pattern, the source of COPYs */
};

static void stage_init(const struct backend *b, struct record *r,
		       struct stage *s, enum mem_type mem, int flags,
		       uint64_t features, size_t pages)
{
	s->fd = setup_uffd(b, r, flags, features);
	s->a = map_mem(mem, pages, PROT_READ | PROT_WRITE);
	s->src = map_pages(4, PROT_READ | PROT_WRITE);
	fill_pattern(s->src, P(4), 0);
	name_area("A", s->a, P(pages));
	name_area("SRC", s->src, P(4));
	setup_register(b, r, s->fd, s->a, P(pages));
}

static long copy_page(const struct backend *b, const struct stage *s,
		      size_t page, uint64_t mode)
{
	int64_t field;

	return u_copy(b, s->fd, u64p(s->a + P(page)), u64p(s->src), PG, mode,
		      &field);
}

static long zero_page(const struct backend *b, const struct stage *s,
		      size_t page)
{
	return u_zeropage(b, s->fd, u64p(s->a + P(page)), PG, 0, NULL);
}

/* "Tk" for a toucher (one label at a time). */
static const char *t_label(const struct toucher *t)
{
	static char l[16];

	snprintf(l, sizeof(l), "T%d", t->index);
	return l;
}

/* poll() must show nothing, and read() must find nothing. */
static void rec_quiet(const struct backend *b, struct record *r, int fd,
		      const char *label)
{
	struct uffd_msg m;
	char l[REC_LABEL_MAX];
	short revents = 0;

	snprintf(l, sizeof(l), "%s.poll", label);
	rec_rv_is(r, l, u_poll(b, fd, POLLIN, 0, &revents), 0);
	snprintf(l, sizeof(l), "%s.read", label);
	rec_rv_is(r, l, read_msgs(b, fd, &m, 1), -EAGAIN);
}

/* --- the message --- */

static const struct msg_case {
	const char *name;
	enum touch_kind kind;
	uint64_t features;
	uint64_t off;
} msg_cases[] = {
	{"read", TOUCH_READ, 0, 0x123},
	{"write", TOUCH_WRITE, 0, 0x123},
	{"read, EXACT_ADDRESS", TOUCH_READ, EXACT, 0x123},
	{"write, EXACT_ADDRESS", TOUCH_WRITE, EXACT, 0x123},
	{"read, THREAD_ID", TOUCH_READ, THREAD_ID, 0x123},
	{"write, THREAD_ID", TOUCH_WRITE, THREAD_ID, 0x123},
	{"read, both", TOUCH_READ, EXACT | THREAD_ID, 0x123},
	{"write, both", TOUCH_WRITE, EXACT | THREAD_ID, 0x123},
	{"read, first byte of a page", TOUCH_READ, 0, 0},
	{"read, last byte of a page", TOUCH_READ, 0, 0xfff},
	{"write, last byte, EXACT_ADDRESS", TOUCH_WRITE, EXACT, 0xfff},
	{"read, first byte, EXACT_ADDRESS", TOUCH_READ, EXACT, 0},
	{"read, third page", TOUCH_READ, 0, P(2) + 0x800},
};

/* One fault: every byte of its message, then COPY and what the thread saw. */
static uint64_t msg_features(int variant, enum mem_type mem)
{
	return msg_cases[variant].features;
}

SCENARIO(msg, CASES(msg_cases), .mems = ALL_MEMS, .case_features = msg_features)
{
	const struct msg_case *c = &msg_cases[variant];
	uint64_t addr, page;
	unsigned char want[PG];
	struct toucher *t;
	struct stage s;

	stage_init(b, r, &s, mem, O_NONBLOCK, c->features, 4);
	addr = u64p(s.a) + c->off;
	page = addr & ~(PG - 1);
	t = touch((void *)(uintptr_t)addr, c->kind, 'W');
	expect_fault(b, r, s.fd, "msg", c->kind == TOUCH_WRITE ? WRITE_FL : 0,
		     (c->features & EXACT) ? addr : page,
		     (c->features & THREAD_ID) ? t->index : -1);
	rec_quiet(b, r, s.fd, "after reading");

	rec_rv_is(r, "COPY", u_copy(b, s.fd, page, u64p(s.src), PG, 0, NULL),
		  0);
	memcpy(want, s.src, PG);
	if (c->kind == TOUCH_WRITE)
		want[addr - page] = 'W';
	rec_touch(r, "T0", t, WAIT_MS, true, want[addr - page]);
	rec_page(r, "page", (void *)(uintptr_t)page, want, WAIT_MS);
	rec_quiet(b, r, s.fd, "at the end");
}

/* --- read() --- */

SCENARIO(read_sizes, .mems = ALL_MEMS)
{
	struct uffd_msg m[4];
	struct toucher *t[3];
	struct stage s;
	int k;

	stage_init(b, r, &s, mem, O_NONBLOCK, 0, 4);
	for (k = 0; k < 3; k++) {
		t[k] = touch(s.a + P(k), TOUCH_READ, 0);
		touch_settle(t[k]);
	}
	rec_rv_is(r, "read 0", rv(b->read(s.fd, m, 0)), -EINVAL);
	rec_rv_is(r, "read 1", rv(b->read(s.fd, m, 1)), -EINVAL);
	rec_rv_is(r, "read 31", rv(b->read(s.fd, m, 31)), -EINVAL);
	rec_rv_is(r, "read 33", rv(b->read(s.fd, m, 33)), 32);
	rec_msg_is(r, "first", &m[0], 0, u64p(s.a), -1);
	memset(m, 0, sizeof(m));
	rec_rv_is(r, "read 100", rv(b->read(s.fd, m, 100)), 64);
	rec_msg_is(r, "second", &m[0], 0, u64p(s.a + P(1)), -1);
	rec_msg_is(r, "third", &m[1], 0, u64p(s.a + P(2)), -1);
	rec_rv_is(r, "read 32", rv(b->read(s.fd, m, 32)), -EAGAIN);
	rec_rv_is(r, "read 31 when empty", rv(b->read(s.fd, m, 31)), -EINVAL);

	rec_rv_is(r, "ZEROPAGE", u_zeropage(b, s.fd, u64p(s.a), P(3), 0, NULL),
		  0);
	for (k = 0; k < 3; k++)
		rec_touch(r, t_label(t[k]), t[k], WAIT_MS, true, 0);
}

static int sigusr1_count;

static void on_sigusr1(int sig)
{
	int saved = errno;

	__atomic_add_fetch(&sigusr1_count, 1, __ATOMIC_RELAXED);
	errno = saved;
}

static int sigusr1_calls(void)
{
	return __atomic_load_n(&sigusr1_count, __ATOMIC_RELAXED);
}

static void catch_sigusr1(int flags)
{
	struct sigaction sa = {.sa_handler = on_sigusr1, .sa_flags = flags};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
}

/* A blocking read waits for a fault; a signal interrupts it. */
SCENARIO(read_blocking)
{
	struct uffd_msg m[2];
	struct toucher *t;
	struct stage s;

	stage_init(b, r, &s, mem, 0, 0, 4);
	t = touch_later(s.a + 0x10, TOUCH_READ, 0, 50);
	rec_rv_is(r, "read", rv(b->read(s.fd, m, sizeof(m))), 32);
	rec_msg_is(r, "msg", &m[0], 0, u64p(s.a), -1);
	rec_rv_is(r, "ZEROPAGE", zero_page(b, &s, 0), 0);
	rec_touch(r, "T0", t, WAIT_MS, true, 0);

	catch_sigusr1(0);
	signal_later(pthread_self(), SIGUSR1, 50);
	rec_rv_is(r, "read, interrupted", rv(b->read(s.fd, m, sizeof(m))),
		  -EINTR);

	catch_sigusr1(SA_RESTART);
	signal_later(pthread_self(), SIGUSR1, 30);
	t = touch_later(s.a + P(1), TOUCH_READ, 0, 150);
	rec_rv_is(r, "read, restarted", rv(b->read(s.fd, m, sizeof(m))), 32);
	rec_msg_is(r, "restarted msg", &m[0], 0, u64p(s.a + P(1)), -1);
	rec_int_is(r, "signals handled", sigusr1_calls(), 2);
	rec_rv_is(r, "ZEROPAGE 1", zero_page(b, &s, 1), 0);
	rec_touch(r, "T1", t, WAIT_MS, true, 0);
}

/* Since 6.10 readv() treats its vectors as one buffer. */
SCENARIO(readv_split)
{
	unsigned char x[16], y[16], z[32], first[32];
	struct iovec iov[3] = {{x, 16}, {y, 16}, {z, 32}};
	struct toucher *t[2];
	struct stage s;

	stage_init(b, r, &s, mem, O_NONBLOCK, 0, 4);
	t[0] = touch(s.a, TOUCH_READ, 0);
	touch_settle(t[0]);
	t[1] = touch(s.a + P(1), TOUCH_WRITE, 'W');
	touch_settle(t[1]);
	rec_rv_is(r, "readv 16,16,32", rv(b->readv(s.fd, iov, 3)), 64);
	memcpy(first, x, 16);
	memcpy(first + 16, y, 16);
	rec_msg_is(r, "first", (struct uffd_msg *)first, 0, u64p(s.a), -1);
	rec_msg_is(r, "second", (struct uffd_msg *)z, WRITE_FL,
		   u64p(s.a + P(1)), -1);
	rec_rv_is(r, "readv again", rv(b->readv(s.fd, iov, 3)), -EAGAIN);
	rec_rv_is(r, "ZEROPAGE", u_zeropage(b, s.fd, u64p(s.a), P(2), 0, NULL),
		  0);
	rec_touch(r, "T0", t[0], WAIT_MS, true, 0);
	rec_touch(r, "T1", t[1], WAIT_MS, true, 'W');
}

/* O_NONBLOCK set with F_SETFL changes read() and poll() at once. */
SCENARIO(nonblock_later)
{
	struct uffd_msg m;
	struct toucher *t;
	struct stage s;
	short revents = 0;

	stage_init(b, r, &s, mem, 0, 0, 4);
	rec_rv_is(r, "poll", u_poll(b, s.fd, POLLIN, 0, &revents), 1);
	rec_hex_is(r, "poll.revents", (uint16_t)revents, POLLERR);
	rec_rv_is(r, "F_SETFL O_NONBLOCK",
		  rv(b->fcntl(s.fd, F_SETFL, O_NONBLOCK)), 0);
	rec_rv_is(r, "F_GETFL", rv(b->fcntl(s.fd, F_GETFL, 0)), O_NONBLOCK);
	rec_rv_is(r, "read", read_msgs(b, s.fd, &m, 1), -EAGAIN);
	rec_rv_is(r, "poll nonblocking", u_poll(b, s.fd, POLLIN, 0, &revents),
		  0);

	t = touch(s.a, TOUCH_READ, 0);
	expect_fault(b, r, s.fd, "msg", 0, u64p(s.a), -1);
	rec_rv_is(r, "F_SETFL 0", rv(b->fcntl(s.fd, F_SETFL, 0)), 0);
	rec_rv_is(r, "poll blocking again",
		  u_poll(b, s.fd, POLLIN, 0, &revents), 1);
	rec_hex_is(r, "poll blocking again.revents", (uint16_t)revents,
		   POLLERR);
	rec_rv_is(r, "ZEROPAGE", zero_page(b, &s, 0), 0);
	rec_touch(r, "T0", t, WAIT_MS, true, 0);
}

/* --- readiness --- */

static void rec_poll(const struct backend *b, struct record *r, int fd,
		     const char *label, short events, int timeout, long want,
		     short want_revents)
{
	char l[REC_LABEL_MAX];
	short revents = 0;

	rec_rv_is(r, label, u_poll(b, fd, events, timeout, &revents), want);
	snprintf(l, sizeof(l), "%s.revents", label);
	rec_hex_is(r, l, (uint16_t)revents, (uint16_t)want_revents);
}

/* POLLIN only while a message is unread, and only on O_NONBLOCK. */
SCENARIO(poll_states)
{
	struct toucher *t0, *t1, *t2, *t3;
	struct uffd_msg m;
	struct stage s;
	char *other;
	int fd2;

	stage_init(b, r, &s, mem, O_NONBLOCK, 0, 4);
	rec_poll(b, r, s.fd, "idle", POLLIN, 0, 0, 0);
	t0 = touch(s.a, TOUCH_READ, 0);
	touch_settle(t0);
	rec_poll(b, r, s.fd, "pending", POLLIN, 0, 1, POLLIN);
	rec_poll(b, r, s.fd, "pending, POLLOUT asked", POLLOUT, 0, 0, 0);
	rec_poll(b, r, s.fd, "pending, everything asked",
		 POLLIN | POLLOUT | POLLPRI | POLLRDNORM, 0, 1, POLLIN);
	rec_rv_is(r, "read", read_msgs(b, s.fd, &m, 1), 32);
	rec_poll(b, r, s.fd, "after read", POLLIN, 0, 0, 0);

	t1 = touch(s.a + P(1), TOUCH_READ, 0);
	touch_settle(t1);
	rec_poll(b, r, s.fd, "second pending", POLLIN, 0, 1, POLLIN);
	rec_rv_is(r, "ZEROPAGE 1", zero_page(b, &s, 1), 0);
	rec_touch(r, "T1", t1, WAIT_MS, true, 0);
	rec_quiet(b, r, s.fd, "woken before being read");
	rec_rv_is(r, "ZEROPAGE 0", zero_page(b, &s, 0), 0);
	rec_touch(r, "T0", t0, WAIT_MS, true, 0);

	t2 = touch_later(s.a + P(2), TOUCH_READ, 0, 50);
	rec_poll(b, r, s.fd, "waiting for a fault", POLLIN, WAIT_MS, 1, POLLIN);
	rec_rv_is(r, "read 2", read_msgs(b, s.fd, &m, 1), 32);
	rec_rv_is(r, "ZEROPAGE 2", zero_page(b, &s, 2), 0);
	rec_touch(r, "T2", t2, WAIT_MS, true, 0);

	/* A blocking descriptor always says POLLERR. */
	fd2 = setup_uffd(b, r, 0, 0);
	other = map_pages(1, PROT_READ | PROT_WRITE);
	name_area("B", other, PG);
	setup_register(b, r, fd2, other, PG);
	rec_poll(b, r, fd2, "blocking, idle", POLLIN, 0, 1, POLLERR);
	t3 = touch(other, TOUCH_READ, 0);
	touch_settle(t3);
	rec_poll(b, r, fd2, "blocking, pending", POLLIN, 0, 1, POLLERR);
	rec_rv_is(r, "ZEROPAGE B", u_zeropage(b, fd2, u64p(other), PG, 0, NULL),
		  0);
	rec_touch(r, "T3", t3, WAIT_MS, true, 0);
}

/* What select() says of fd right now: "readable, writable" and so on. */
static const char *select_state(int fd)
{
	struct timeval tv = {0, 0};
	fd_set rd, wr;

	FD_ZERO(&rd);
	FD_ZERO(&wr);
	FD_SET(fd, &rd);
	FD_SET(fd, &wr);
	if (select(fd + 1, &rd, &wr, NULL, &tv) < 0)
		return rec_errname(errno);
	if (FD_ISSET(fd, &rd))
		return FD_ISSET(fd, &wr) ? "readable, writable" : "readable";
	return FD_ISSET(fd, &wr) ? "writable" : "nothing";
}

/* Plain poll(), epoll and select() on fd, each taken once, right now. */
static void rec_plain_readiness(struct record *r, int fd, bool err,
				bool pending)
{
	struct pollfd pf = {.fd = fd, .events = POLLIN};
	struct epoll_event ev = {.events = EPOLLIN}, got = {0};
	int ep = epoll_create1(EPOLL_CLOEXEC);

	REQUIRE(ep >= 0 && !epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
	rec_rv_is(r, "poll", rv(poll(&pf, 1, 0)), err || pending);
	if (err)
		known_hex(r, KNOWN_PLAIN_POLL, POLLIN);
	rec_hex_is(r, "poll.revents", (uint16_t)pf.revents,
		   err ? POLLERR : (pending ? POLLIN : 0));

	rec_rv_is(r, "epoll_wait", rv(epoll_wait(ep, &got, 1, 0)),
		  err || pending);
	if (err)
		known_hex(r, KNOWN_PLAIN_POLL, EPOLLIN);
	rec_hex_is(r, "epoll_wait.events", got.events,
		   err ? EPOLLERR : (pending ? EPOLLIN : 0));
	close(ep);

	if (err)
		known(r, KNOWN_PLAIN_POLL, "readable");
	rec_str_is(r, "select", select_state(fd),
		   err ? "readable, writable"
		       : (pending ? "readable" : "nothing"));
}

static const struct plain_case {
	const char *name;
	int flags;
	bool api;     /* UFFDIO_API done */
	bool pending; /* a fault message unread */
} plain_cases[] = {
	{"new, blocking", 0, false, false},
	{"new, O_NONBLOCK", O_NONBLOCK, false, false},
	{"blocking, idle", 0, true, false},
	{"blocking, a fault pending", 0, true, true},
	{"O_NONBLOCK, idle", O_NONBLOCK, true, false},
	{"O_NONBLOCK, a fault pending", O_NONBLOCK, true, true},
};

/*
 * The readiness plain poll(), epoll and select() see, not the backend's
 * poll: POLLERR before UFFDIO_API and on a blocking descriptor.
 */
SCENARIO(poll_plain, CASES(plain_cases))
{
	const struct plain_case *c = &plain_cases[variant];
	bool err = !c->api || !(c->flags & O_NONBLOCK);
	struct toucher *t = NULL;
	char *a = map_pages(4, PROT_READ | PROT_WRITE);
	long fd;

	name_area("A", a, P(4));
	fd = rv(b->userfaultfd((unsigned long)c->flags));
	REQUIRE(rec_fd_is(r, "userfaultfd", fd, 0));
	if (c->api) {
		REQUIRE(rec_rv_is(r, "setup.api", u_api(b, (int)fd, 0, NULL),
				  0));
		setup_register(b, r, (int)fd, a, P(4));
	}
	if (c->pending) {
		t = touch(a, TOUCH_READ, 0);
		touch_settle(t);
	}
	rec_plain_readiness(r, (int)fd, err, c->pending);
	if (!t)
		return;
	rec_rv_is(r, "ZEROPAGE", u_zeropage(b, (int)fd, u64p(a), PG, 0, NULL),
		  0);
	rec_touch(r, "T0", t, WAIT_MS, true, 0);
}

/* Plain select(): whether fd reads as readable right now. */
static void rec_select(struct record *r, int fd, const char *label, bool want)
{
	struct timeval tv = {0, 0};
	fd_set rd;
	int n;

	FD_ZERO(&rd);
	FD_SET(fd, &rd);
	n = select(fd + 1, &rd, NULL, NULL, &tv);
	rec_str_is(r, label,
		   n > 0 && FD_ISSET(fd, &rd) ? "readable"
		   : n == 0                   ? "not readable"
					      : rec_errname(errno),
		   want ? "readable" : "not readable");
}

static void rec_epoll(struct record *r, int ep, const char *label, int timeout,
		      int want, uint32_t want_events)
{
	struct epoll_event ev = {0};
	char l[REC_LABEL_MAX];

	rec_rv_is(r, label, rv(epoll_wait(ep, &ev, 1, timeout)), want);
	snprintf(l, sizeof(l), "%s.events", label);
	rec_hex_is(r, l, ev.events, want_events);
}

/*
 * Plain epoll and select on the descriptor, not the backend's poll.  Only
 * the O_NONBLOCK cases (EPOLLIN or nothing) are compared: a plain poll,
 * select or epoll of an emulated descriptor cannot report POLLERR (the
 * library documents this limitation; the LD_PRELOAD shim covers it), so the
 * blocking and not-yet-initialized states are left to uffdemu_poll
 * (poll_states).
 */
SCENARIO(epoll_plain)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct toucher *t0, *t1;
	struct uffd_msg m;
	struct stage s;
	int ep;

	stage_init(b, r, &s, mem, O_NONBLOCK, 0, 4);
	ep = epoll_create1(EPOLL_CLOEXEC);
	REQUIRE(ep >= 0);
	ev.data.fd = s.fd;
	rec_rv_is(r, "epoll_ctl", rv(epoll_ctl(ep, EPOLL_CTL_ADD, s.fd, &ev)),
		  0);
	rec_epoll(r, ep, "idle", 0, 0, 0);
	rec_select(r, s.fd, "select idle", false);
	t0 = touch_later(s.a, TOUCH_READ, 0, 50);
	rec_epoll(r, ep, "waiting for a fault", WAIT_MS, 1, EPOLLIN);
	rec_epoll(r, ep, "still pending", 0, 1, EPOLLIN);
	rec_select(r, s.fd, "select pending", true);
	rec_rv_is(r, "read", read_msgs(b, s.fd, &m, 1), 32);
	rec_epoll(r, ep, "after read", 0, 0, 0);
	rec_select(r, s.fd, "select after read", false);

	t1 = touch(s.a + P(1), TOUCH_READ, 0);
	touch_settle(t1);
	rec_epoll(r, ep, "second pending", 0, 1, EPOLLIN);
	rec_rv_is(r, "ZEROPAGE 1", zero_page(b, &s, 1), 0);
	rec_touch(r, "T1", t1, WAIT_MS, true, 0);
	rec_epoll(r, ep, "woken before being read", 0, 0, 0);
	rec_rv_is(r, "ZEROPAGE 0", zero_page(b, &s, 0), 0);
	rec_touch(r, "T0", t0, WAIT_MS, true, 0);
	rec_epoll(r, ep, "at the end", 0, 0, 0);
}

/* --- several threads, waking --- */

/* Two threads on one page: two messages, and one COPY releases both. */
SCENARIO(same_page, .mems = ALL_MEMS, .features = THREAD_ID)
{
	struct toucher *t0, *t1;
	struct uffd_msg m[3];
	struct stage s;

	stage_init(b, r, &s, mem, O_NONBLOCK, THREAD_ID, 4);
	t0 = touch(s.a, TOUCH_READ, 0);
	touch_settle(t0);
	t1 = touch(s.a + 8, TOUCH_WRITE, 'W');
	touch_settle(t1);
	rec_rv_is(r, "read", read_msgs(b, s.fd, m, 3), 64);
	rec_msg_is(r, "first", &m[0], 0, u64p(s.a), 0);
	rec_msg_is(r, "second", &m[1], WRITE_FL, u64p(s.a), 1);
	rec_rv_is(r, "COPY", copy_page(b, &s, 0, 0), 0);
	rec_touch(r, "T0", t0, WAIT_MS, true, ((unsigned char *)s.src)[0]);
	rec_touch(r, "T1", t1, WAIT_MS, true, 'W');
	rec_quiet(b, r, s.fd, "at the end");
}

/* One COPY of several pages wakes the threads of those pages only. */
SCENARIO(copy_wakes_range, .mems = ALL_MEMS)
{
	unsigned char *src;
	struct toucher *t[4];
	struct uffd_msg m[4];
	struct stage s;
	int64_t field = 0;
	int k;

	stage_init(b, r, &s, mem, O_NONBLOCK, 0, 8);
	src = (unsigned char *)s.src;
	for (k = 0; k < 3; k++) {
		t[k] = touch(s.a + P(k) + 5, TOUCH_READ, 0);
		touch_settle(t[k]);
	}
	t[3] = touch(s.a + P(5), TOUCH_READ, 0);
	touch_settle(t[3]);
	rec_rv_is(r, "read", read_msgs(b, s.fd, m, 4), 128);
	rec_rv_is(r, "COPY 3 pages",
		  u_copy(b, s.fd, u64p(s.a), u64p(s.src), P(3), 0, &field), 0);
	rec_int_is(r, "COPY.field", field, P(3));
	for (k = 0; k < 3; k++)
		rec_touch(r, t_label(t[k]), t[k], WAIT_MS, true, src[P(k) + 5]);
	rec_touch(r, "T3", t[3], QUIET_MS, false, -1);
	rec_rv_is(r, "ZEROPAGE 5", zero_page(b, &s, 5), 0);
	rec_touch(r, "T3 at last", t[3], WAIT_MS, true, 0);
}

/* DONTWAKE resolves the page but leaves the thread asleep until WAKE. */
static const char *const dontwake_cases[] = {"COPY", "ZEROPAGE"};

SCENARIO(dontwake, CASES(dontwake_cases), .mems = ALL_MEMS)
{
	bool copy = variant == 0;
	struct toucher *t;
	struct stage s;
	long ret;

	stage_init(b, r, &s, mem, O_NONBLOCK, 0, 4);
	t = touch(s.a + 3, TOUCH_READ, 0);
	expect_fault(b, r, s.fd, "msg", 0, u64p(s.a), -1);
	ret = copy ? copy_page(b, &s, 0, UFFDIO_COPY_MODE_DONTWAKE)
		   : u_zeropage(b, s.fd, u64p(s.a), PG,
				UFFDIO_ZEROPAGE_MODE_DONTWAKE, NULL);
	rec_rv_is(r, "resolve with DONTWAKE", ret, 0);
	rec_touch(r, "T0 after DONTWAKE", t, QUIET_MS, false, -1);
	rec_quiet(b, r, s.fd, "after DONTWAKE");
	rec_rv_is(r, "WAKE another page",
		  u_wake(b, s.fd, u64p(s.a + P(1)), P(3)), 0);
	rec_touch(r, "T0 after the other WAKE", t, QUIET_MS, false, -1);
	rec_rv_is(r, "WAKE", u_wake(b, s.fd, u64p(s.a), PG), 0);
	rec_touch(r, "T0 after WAKE", t, WAIT_MS, true,
		  copy ? ((unsigned char *)s.src)[3] : 0);
	rec_rv_is(r, "resolve again", copy_page(b, &s, 0, 0), -EEXIST);
}

/*
 * WAKE on a page that is still missing: the thread faults again with a new
 * message.  Variant 1 does not read the first message, which the wake-up
 * withdraws, so only the new one is there.
 */
static const char *const unread_cases[] = {"message read", "message unread"};

SCENARIO(spurious_wake, CASES(unread_cases), .mems = ALL_MEMS,
	 .features = THREAD_ID)
{
	bool read_first = variant == 0;
	struct uffd_msg m[3];
	struct toucher *t;
	struct stage s;

	stage_init(b, r, &s, mem, O_NONBLOCK, THREAD_ID, 4);
	t = touch(s.a + P(1) + 1, TOUCH_WRITE, 'W');
	touch_settle(t);
	if (read_first)
		expect_fault(b, r, s.fd, "msg", WRITE_FL, u64p(s.a + P(1)), 0);
	rec_rv_is(r, "WAKE", u_wake(b, s.fd, u64p(s.a + P(1)), PG), 0);
	rec_hex_is(r, "poll for the new fault",
		   (uint64_t)wait_msg(b, s.fd, WAIT_MS), POLLIN);
	rec_rv_is(r, "read", read_msgs(b, s.fd, m, 3), 32);
	rec_msg_is(r, "new msg", &m[0], WRITE_FL, u64p(s.a + P(1)), 0);
	rec_touch(r, "T0 after WAKE", t, QUIET_MS, false, -1);
	rec_rv_is(r, "ZEROPAGE", zero_page(b, &s, 1), 0);
	rec_touch(r, "T0", t, WAIT_MS, true, 'W');
	rec_quiet(b, r, s.fd, "at the end");
}

enum release { BY_ZEROPAGE, BY_COPY, BY_UNREGISTER };

static const struct release_case {
	const char *name;
	enum release how;
	bool read_first;
} release_cases[] = {
	{"ZEROPAGE, message unread", BY_ZEROPAGE, false},
	{"COPY, message unread", BY_COPY, false},
	{"COPY, message read", BY_COPY, true},
	{"UNREGISTER, message unread", BY_UNREGISTER, false},
	{"UNREGISTER, message read", BY_UNREGISTER, true},
};

/*
 * Whatever wakes a thread also withdraws its unread message; after
 * UNREGISTER the page is ordinary memory and reads as zeros.
 */
SCENARIO(release, CASES(release_cases), .mems = ALL_MEMS)
{
	const struct release_case *c = &release_cases[variant];
	struct toucher *t;
	struct stage s;
	long ret = 0;
	int seen = 0;

	stage_init(b, r, &s, mem, O_NONBLOCK, 0, 4);
	t = touch(s.a + 7, TOUCH_READ, 0);
	touch_settle(t);
	if (c->read_first)
		expect_fault(b, r, s.fd, "msg", 0, u64p(s.a), -1);
	else
		rec_poll(b, r, s.fd, "pending", POLLIN, 0, 1, POLLIN);
	switch (c->how) {
	case BY_ZEROPAGE:
		ret = zero_page(b, &s, 0);
		break;
	case BY_COPY:
		ret = copy_page(b, &s, 0, 0);
		seen = ((unsigned char *)s.src)[7];
		break;
	case BY_UNREGISTER:
		ret = u_unregister(b, s.fd, u64p(s.a), P(4));
		break;
	}
	rec_rv_is(r, "release", ret, 0);
	rec_touch(r, "T0", t, WAIT_MS, true, seen);
	rec_quiet(b, r, s.fd, "after");
	if (c->how == BY_UNREGISTER)
		rec_page(r, "another page", s.a + P(2), zeros, WAIT_MS);
}

/* --- signals --- */

/*
 * A signal delivered to a blocked faulter runs its handler, and the access
 * faults again: a fresh message for the same address.  Variant 1 leaves the
 * first message unread; it goes away when the thread leaves the fault.
 */
SCENARIO(signal_refault, CASES(unread_cases), .features = THREAD_ID)
{
	bool read_first = variant == 0;
	struct uffd_msg m[3];
	struct toucher *t;
	struct stage s;
	int i;

#ifdef TESTS_TSAN
	/* It runs handlers at its own safe points, never inside a fault. */
	rec_str(r, "skipped", "a thread sanitizer defers signal handlers");
	return;
#endif
	catch_sigusr1(0);
	stage_init(b, r, &s, mem, O_NONBLOCK, THREAD_ID, 4);
	t = touch(s.a + P(2) + 9, TOUCH_READ, 0);
	touch_settle(t);
	if (read_first)
		expect_fault(b, r, s.fd, "msg", 0, u64p(s.a + P(2)), 0);
	pthread_kill(t->thread, SIGUSR1);
	for (i = 0; i < WAIT_MS && !sigusr1_calls(); i++)
		msleep(1);
	rec_int_is(r, "handler calls", sigusr1_calls(), 1);
	rec_hex_is(r, "poll for the new fault",
		   (uint64_t)wait_msg(b, s.fd, WAIT_MS), POLLIN);
	rec_rv_is(r, "read", read_msgs(b, s.fd, m, 3), 32);
	rec_msg_is(r, "new msg", &m[0], 0, u64p(s.a + P(2)), 0);
	rec_touch(r, "T0 after the signal", t, QUIET_MS, false, -1);
	rec_rv_is(r, "ZEROPAGE", zero_page(b, &s, 2), 0);
	rec_touch(r, "T0", t, WAIT_MS, true, 0);
	rec_quiet(b, r, s.fd, "at the end");
}

static sigjmp_buf fault_jump;
static struct {
	int signo;
	int code;
	uint64_t addr;
	int calls;
} caught;

static void on_fault_signal(int sig, siginfo_t *si, void *uc)
{
	caught.signo = si->si_signo;
	caught.code = si->si_code;
	caught.addr = u64p(si->si_addr);
	caught.calls++;
	siglongjmp(fault_jump, 1);
}

static void catch_fault_signal(int sig)
{
	struct sigaction sa = {.sa_sigaction = on_fault_signal,
			       .sa_flags = SA_SIGINFO};

	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/*
 * Touches addr once from this thread and records the signal it raised
 * (name, si_code, si_addr), or "no signal" and the byte it saw.  want_sig 0
 * means no signal is expected, and want is then the byte.
 */
static void rec_access(struct record *r, const char *label, void *addr,
		       bool write, int want_sig, int want_code, int want)
{
	volatile unsigned char *p = addr;
	volatile int seen = -1;
	char l[REC_LABEL_MAX], v[32], e[32];

	caught.signo = 0;
	if (!sigsetjmp(fault_jump, 1)) {
		if (write)
			*p = 'W';
		seen = *p;
	}
	snprintf(v, sizeof(v), "SIG%s",
		 caught.signo ? sigabbrev_np(caught.signo) : "(none)");
	snprintf(e, sizeof(e), "SIG%s",
		 want_sig ? sigabbrev_np(want_sig) : "(none)");
	rec_str_is(r, label, v, e);
	if (!caught.signo) {
		snprintf(l, sizeof(l), "%s.seen", label);
		rec_int_is(r, l, seen, want);
		return;
	}
	snprintf(l, sizeof(l), "%s.si_code", label);
	rec_int_is(r, l, caught.code, want_code);
	snprintf(l, sizeof(l), "%s.si_addr", label);
	rec_addr_is(r, l, caught.addr, u64p(addr));
}

/* With FEATURE_SIGBUS a fault raises SIGBUS at once and queues nothing. */
SCENARIO(sigbus, .mems = ALL_MEMS, .features = UFFD_FEATURE_SIGBUS)
{
	unsigned char *src;
	struct stage s;

	catch_fault_signal(SIGBUS);
	stage_init(b, r, &s, mem, O_NONBLOCK, UFFD_FEATURE_SIGBUS, 4);
	src = (unsigned char *)s.src;
	rec_access(r, "read", s.a + P(1) + 3, false, SIGBUS, BUS_ADRERR, 0);
	rec_access(r, "write", s.a + P(2) + 0x10, true, SIGBUS, BUS_ADRERR, 0);
	rec_quiet(b, r, s.fd, "no message");
	rec_rv_is(r, "COPY", copy_page(b, &s, 1, 0), 0);
	rec_access(r, "read after COPY", s.a + P(1) + 3, false, 0, 0, src[3]);
	rec_rv_is(r, "ZEROPAGE", zero_page(b, &s, 2), 0);
	rec_access(r, "write after ZEROPAGE", s.a + P(2) + 0x10, true, 0, 0,
		   'W');
	rec_access(r, "read another page", s.a + P(3) + 0xfff, false, SIGBUS,
		   BUS_ADRERR, 0);
	rec_quiet(b, r, s.fd, "at the end");
}

/* --- the end of a userfaultfd --- */

/*
 * close() releases blocked threads, read or unread; the memory is ordinary
 * again.  Variant 1 closes a duplicate first, which releases nothing.
 */
static const char *const close_cases[] = {"one descriptor", "a duplicate open"};

SCENARIO(close_blocked, CASES(close_cases), .mems = ALL_MEMS)
{
	bool dup_first = variant == 1;
	struct toucher *t0, *t1, *t2;
	struct uffd_msg m;
	struct stage s;
	int fd;

	stage_init(b, r, &s, mem, O_NONBLOCK, 0, 4);
	fd = s.fd;
	t0 = touch(s.a, TOUCH_READ, 0);
	touch_settle(t0);
	t1 = touch(s.a + P(1) + 1, TOUCH_READ, 0);
	touch_settle(t1);
	rec_rv_is(r, "read one", read_msgs(b, fd, &m, 1), 32);
	if (dup_first) {
		long fd2 = rv(b->dup(fd));

		REQUIRE(rec_fd_is(r, "dup", fd2, 0));
		rec_rv_is(r, "close the first", rv(b->close(fd)), 0);
		rec_touch(r, "T0 after closing one", t0, QUIET_MS, false, -1);
		rec_poll(b, r, (int)fd2, "poll the duplicate", POLLIN, 0, 1,
			 POLLIN);
		fd = (int)fd2;
	}
	rec_rv_is(r, "close", rv(b->close(fd)), 0);
	rec_touch(r, "T0", t0, WAIT_MS, true, 0);
	rec_touch(r, "T1", t1, WAIT_MS, true, 0);
	rec_page(r, "page 2", s.a + P(2), zeros, WAIT_MS);
	t2 = touch(s.a + P(3), TOUCH_WRITE, 'W');
	rec_touch(r, "T2 writes", t2, WAIT_MS, true, 'W');
}

/* A freshly zero-filled page takes a write with no message. */
SCENARIO(zeropage_cow, .mems = ALL_MEMS)
{
	unsigned char want[PG] = {0};
	struct toucher *t;
	struct stage s;

	stage_init(b, r, &s, mem, O_NONBLOCK, 0, 4);
	rec_rv_is(r, "ZEROPAGE", zero_page(b, &s, 0), 0);
	rec_page(r, "page", s.a, zeros, WAIT_MS);
	t = touch(s.a + 5, TOUCH_WRITE, 'W');
	rec_touch(r, "T0", t, WAIT_MS, true, 'W');
	rec_quiet(b, r, s.fd, "no message");
	want[5] = 'W';
	rec_page(r, "page after the write", s.a, want, WAIT_MS);
}

/* --- faults that are not the emulator's --- */

enum target {
	PROT_NONE_PAGE,
	PROT_READ_PAGE,
	UNMAPPED,
	REGISTERED_PROT_NONE,
	REGISTERED_PROT_READ,
	ORDINARY_PAGE,
	N_TARGETS,
};

static const struct segv_case {
	const char *name;
	enum target target;
	bool write;
	const char *want;
} segv_cases[] = {
	{"read a PROT_NONE page", PROT_NONE_PAGE, false, "killed by SEGV"},
	{"write a PROT_READ page", PROT_READ_PAGE, true, "killed by SEGV"},
	{"read an unmapped address", UNMAPPED, false, "killed by SEGV"},
	{"read registered PROT_NONE memory", REGISTERED_PROT_NONE, false,
	 "killed by SEGV"},
	{"write registered PROT_READ memory", REGISTERED_PROT_READ, true,
	 "killed by SEGV"},
	{"read an ordinary page (control)", ORDINARY_PAGE, false, "0"},
	{"write an ordinary page (control)", ORDINARY_PAGE, true, "0"},
};

/* In the child: a userfaultfd with registered ranges, then the access. */
__attribute__((noreturn)) static void segv_child_main(const struct backend *b,
						      char *const *maps,
						      char *reg,
						      const struct segv_case *c)
{
	struct rlimit no_core = {0, 0};
	volatile unsigned char *p = (unsigned char *)maps[c->target] + 0x10;
	int fd;

	close(scenario_sink());
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	setrlimit(RLIMIT_CORE, &no_core);
	signal(SIGSEGV,
	       SIG_DFL); /* no handler of its own (nor a sanitizer's) */
	fd = b->userfaultfd(O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || u_api(b, fd, 0, NULL))
		_exit(2);
	if (u_register(b, fd, u64p(reg), P(4), MISSING_MODE, NULL) ||
	    u_register(b, fd, u64p(maps[REGISTERED_PROT_NONE]), PG,
		       MISSING_MODE, NULL) ||
	    u_register(b, fd, u64p(maps[REGISTERED_PROT_READ]), PG,
		       MISSING_MODE, NULL))
		_exit(3);
	if (c->write)
		*p = 1;
	else
		(void)*p;
	_exit(0);
}

/*
 * With a userfaultfd active, a fault outside every registered range, or one
 * that the memory's protection forbids, still kills with SIGSEGV.
 */
SCENARIO(segv_child, CASES(segv_cases))
{
	const struct segv_case *c = &segv_cases[variant];
	char *maps[N_TARGETS], *reg;
	char v[64];
	int status = 0, i;
	pid_t pid;

	reg = map_pages(4, PROT_READ | PROT_WRITE);
	maps[PROT_NONE_PAGE] = map_pages(1, PROT_NONE);
	maps[PROT_READ_PAGE] = map_pages(1, PROT_READ);
	maps[UNMAPPED] = map_gap(1);
	maps[REGISTERED_PROT_NONE] = map_pages(1, PROT_NONE);
	maps[REGISTERED_PROT_READ] = map_pages(1, PROT_READ);
	maps[ORDINARY_PAGE] = map_pages(1, PROT_READ | PROT_WRITE);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0)
		segv_child_main(b, maps, reg, c);
	for (i = 0; i < WAIT_MS && waitpid(pid, &status, WNOHANG) == 0; i++)
		msleep(1);
	if (i == WAIT_MS) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		snprintf(v, sizeof(v), "hung");
	} else {
		scenario_fmt_status(v, sizeof(v), status);
	}
	rec_str_is(r, "child", v, c->want);
}

/*
 * A SIGSEGV handler installed before the userfaultfd existed still gets the
 * faults that are not userfaults, before and after a real userfault.
 */
SCENARIO(segv_handler)
{
	char *none, *ro, *gap, *reg_none, *reg_ro;
	struct toucher *t;
	struct stage s;

	catch_fault_signal(SIGSEGV);
	none = map_pages(1, PROT_NONE);
	ro = map_pages(1, PROT_READ);
	gap = map_gap(1);
	reg_none = map_pages(1, PROT_NONE);
	reg_ro = map_pages(1, PROT_READ);
	name_area("NONE", none, PG);
	name_area("RO", ro, PG);
	name_area("GAP", gap, PG);
	name_area("REG_NONE", reg_none, PG);
	name_area("REG_RO", reg_ro, PG);
	stage_init(b, r, &s, mem, O_NONBLOCK, 0, 4);
	setup_register(b, r, s.fd, reg_none, PG);
	setup_register(b, r, s.fd, reg_ro, PG);

	rec_access(r, "read PROT_NONE", none + 0x10, false, SIGSEGV,
		   SEGV_ACCERR, 0);
	rec_access(r, "write PROT_READ", ro + 0x20, true, SIGSEGV, SEGV_ACCERR,
		   0);
	rec_access(r, "read unmapped", gap + 0x30, false, SIGSEGV, SEGV_MAPERR,
		   0);
	rec_access(r, "read registered PROT_NONE", reg_none + 0x40, false,
		   SIGSEGV, SEGV_ACCERR, 0);
	rec_access(r, "write registered PROT_READ", reg_ro + 0x50, true,
		   SIGSEGV, SEGV_ACCERR, 0);

	t = touch(s.a + 1, TOUCH_READ, 0);
	expect_fault(b, r, s.fd, "userfault", 0, u64p(s.a), -1);
	rec_rv_is(r, "COPY", copy_page(b, &s, 0, 0), 0);
	rec_touch(r, "T0", t, WAIT_MS, true, ((unsigned char *)s.src)[1]);
	rec_int_is(r, "handler calls", caught.calls, 5);
	rec_access(r, "read PROT_NONE again", none + 0x60, false, SIGSEGV,
		   SEGV_ACCERR, 0);
}

const struct scenario_group scenarios_faults = {
	"faults",
	(const struct scenario *const[]){
		&msg,
		&read_sizes,
		&read_blocking,
		&readv_split,
		&nonblock_later,
		&poll_states,
		&poll_plain,
		&epoll_plain,
		&same_page,
		&copy_wakes_range,
		&dontwake,
		&spurious_wake,
		&release,
		&zeropage_cow,
		&signal_refault,
		&sigbus,
		&segv_child,
		&segv_handler,
		&close_blocked,
		NULL,
	},
};
