/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Waiting: poll, ppoll, select, pselect and epoll on emulated descriptors.
 *
 * The emulated descriptor is an epoll instance that reads ready exactly
 * while the kernel's userfaultfd would report something, so the real
 * calls already wait and wake at the right moments.  What they cannot say
 * is what the kernel says: POLLERR (not POLLIN) before UFFDIO_API and on a
 * descriptor without O_NONBLOCK.  These wrappers ask the emulator for the
 * events of each emulated descriptor that the real call reported, and put
 * the kernel's answer in its place.  A process that never created a
 * userfaultfd goes straight to the real calls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tools/shim/shim.h"
#include "uffdemu/uffdemu.h"

extern void __chk_fail(void) __attribute__((noreturn));

#define POLLIN_SET  (POLLIN | POLLRDNORM | POLLRDBAND | POLLHUP | POLLERR)
#define POLLOUT_SET (POLLOUT | POLLWRNORM | POLLWRBAND | POLLERR)
#define POLLEX_SET  POLLPRI

/* The kernel's answer for one emulated descriptor, asked for events. */
static short uffd_revents(int fd, short events)
{
	struct pollfd p = {fd, events, 0};
	int saved = errno;

	if (uffdemu_poll(&p, 1, 0) < 0)
		p.revents = 0;
	errno = saved;
	return p.revents;
}

static struct timespec mono_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t;
}

static struct timespec ts_add(struct timespec a, struct timespec b)
{
	a.tv_sec += b.tv_sec;
	a.tv_nsec += b.tv_nsec;
	if (a.tv_nsec >= 1000000000L) {
		a.tv_sec++;
		a.tv_nsec -= 1000000000L;
	}
	return a;
}

/* a - b, or zero when b is later. */
static struct timespec ts_left(struct timespec a, struct timespec b)
{
	struct timespec d = {a.tv_sec - b.tv_sec, a.tv_nsec - b.tv_nsec};

	if (d.tv_nsec < 0) {
		d.tv_sec--;
		d.tv_nsec += 1000000000L;
	}
	if (d.tv_sec < 0)
		d.tv_sec = d.tv_nsec = 0;
	return d;
}

static bool any_emulated(const struct pollfd *fds, nfds_t n)
{
	for (nfds_t i = 0; i < n; i++)
		if (unlikely(shim_emulated(fds[i].fd)))
			return true;
	return false;
}

/*
 * ppoll() with the kernel's events for emulated descriptors.  A descriptor
 * the kernel would report at once (POLLERR) makes the call return at
 * once; a wake-up whose only cause turns out to be stale waits again for
 * the rest of the time.
 */
static int emu_ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts,
		     const sigset_t *mask)
{
	static const struct timespec zero;
	struct timespec deadline, left;
	bool now = false;
	int r;

	for (nfds_t i = 0; i < n; i++)
		if (shim_emulated(fds[i].fd) &&
		    uffd_revents(fds[i].fd, fds[i].events))
			now = true;
	if (ts) {
		left = *ts;
		deadline = ts_add(mono_now(), *ts);
	}
	for (;;) {
		r = real_ppoll(fds, n, now ? &zero : ts ? &left : NULL, mask);
		if (r <= 0)
			return r;
		r = 0;
		for (nfds_t i = 0; i < n; i++) {
			if (shim_emulated(fds[i].fd))
				fds[i].revents =
					uffd_revents(fds[i].fd, fds[i].events);
			r += fds[i].revents != 0;
		}
		if (r > 0 || now)
			return r;
		if (ts) {
			left = ts_left(deadline, mono_now());
			if (!left.tv_sec && !left.tv_nsec)
				return 0;
		}
	}
}

int shim_do_poll(struct pollfd *fds, nfds_t n, int timeout)
{
	if (likely(!shim_is_active()) || !any_emulated(fds, n))
		return real_poll(fds, n, timeout);
	return uffdemu_poll(fds, n, timeout);
}

SHIM_API int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	return shim_do_poll(fds, n, timeout);
}

SHIM_API int __poll_chk(struct pollfd *fds, nfds_t n, int timeout,
			size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		__chk_fail();
	return shim_do_poll(fds, n, timeout);
}

SHIM_API int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts,
		   const sigset_t *mask)
{
	if (likely(!shim_is_active()) || !any_emulated(fds, n))
		return real_ppoll(fds, n, ts, mask);
	return emu_ppoll(fds, n, ts, mask);
}

SHIM_API int __ppoll_chk(struct pollfd *fds, nfds_t n,
			 const struct timespec *ts, const sigset_t *mask,
			 size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		__chk_fail();
	return ppoll(fds, n, ts, mask);
}

/* --- select --- */

/* The sets are bit arrays of n bits, which may be more than FD_SETSIZE. */
#define WORD_BITS (8 * (int)sizeof(unsigned long))

static bool in_set(const fd_set *s, int fd)
{
	const unsigned long *w = (const unsigned long *)s;

	return s && (w[fd / WORD_BITS] >> (fd % WORD_BITS)) & 1;
}

static void clear_fd(fd_set *s, int fd)
{
	unsigned long *w = (unsigned long *)s;

	w[fd / WORD_BITS] &= ~(1UL << (fd % WORD_BITS));
}

static unsigned long set_word(const fd_set *s, int i)
{
	return s ? ((const unsigned long *)s)[i] : 0;
}

/* A word of the sets at a time, against the shim's mask. */
static bool sets_have_emulated(int n, const fd_set *r, const fd_set *w,
			       const fd_set *e)
{
	for (int i = 0; i * WORD_BITS < n; i++) {
		unsigned long any =
			set_word(r, i) | set_word(w, i) | set_word(e, i);

		if (n - i * WORD_BITS < WORD_BITS)
			any &= (1UL << (n - i * WORD_BITS)) - 1;
		for (int b = 0; any; b++, any >>= 1)
			if ((any & 1) && shim_emulated(i * WORD_BITS + b))
				return true;
	}
	return false;
}

/*
 * select() as poll() of the same descriptors, with the kernel's mapping of
 * events to the three sets.  Used only when an emulated descriptor is in
 * one of them.
 */
static int emu_select(int n, fd_set *r, fd_set *w, fd_set *e,
		      const struct timespec *ts, const sigset_t *mask)
{
	struct pollfd small[64], *fds = small;
	nfds_t cnt = 0;
	int ready = 0, res;

	for (int fd = 0; fd < n; fd++)
		cnt += in_set(r, fd) || in_set(w, fd) || in_set(e, fd);
	if (cnt > 64 && !(fds = calloc(cnt, sizeof(*fds))))
		return errno = ENOMEM, -1;
	cnt = 0;
	for (int fd = 0; fd < n; fd++) {
		short ev = (in_set(r, fd) ? POLLIN : 0) |
			   (in_set(w, fd) ? POLLOUT : 0) |
			   (in_set(e, fd) ? POLLPRI : 0);

		if (ev)
			fds[cnt++] = (struct pollfd){fd, ev, 0};
	}
	res = emu_ppoll(fds, cnt, ts, mask);
	for (nfds_t i = 0; res >= 0 && i < cnt; i++)
		if (fds[i].revents & POLLNVAL)
			res = -1, errno = EBADF;
	if (res >= 0) {
		for (nfds_t i = 0; i < cnt; i++) {
			int fd = fds[i].fd;
			short re = fds[i].revents;

			if (in_set(r, fd) && !(re & POLLIN_SET))
				clear_fd(r, fd);
			if (in_set(w, fd) && !(re & POLLOUT_SET))
				clear_fd(w, fd);
			if (in_set(e, fd) && !(re & POLLEX_SET))
				clear_fd(e, fd);
			ready += in_set(r, fd) + in_set(w, fd) + in_set(e, fd);
		}
		res = ready;
	}
	if (fds != small)
		free(fds);
	return res;
}

SHIM_API int select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	struct timespec ts, deadline;
	int res;

	if (likely(!shim_is_active()) || !sets_have_emulated(n, r, w, e))
		return real_select(n, r, w, e, tv);
	if (tv) {
		ts.tv_sec = tv->tv_sec;
		ts.tv_nsec = tv->tv_usec * 1000L;
		deadline = ts_add(mono_now(), ts);
	}
	res = emu_select(n, r, w, e, tv ? &ts : NULL, NULL);
	if (tv) {
		/* Linux leaves the time not slept in the timeout. */
		ts = ts_left(deadline, mono_now());
		tv->tv_sec = ts.tv_sec;
		tv->tv_usec = ts.tv_nsec / 1000;
	}
	return res;
}

SHIM_API int pselect(int n, fd_set *r, fd_set *w, fd_set *e,
		     const struct timespec *ts, const sigset_t *mask)
{
	if (likely(!shim_is_active()) || !sets_have_emulated(n, r, w, e))
		return real_pselect(n, r, w, e, ts, mask);
	return emu_select(n, r, w, e, ts, mask);
}

/* --- epoll --- */

/*
 * An emulated descriptor added to an epoll set is registered with a tag
 * of ours as its data: the address of a record holding the program's
 * data.  epoll_wait() recognises the tag, asks the emulator for the events
 * and gives the program its own data back.  No program data can equal a
 * tag, which points into this library.
 */
struct ep_rec {
	bool used;
	int epfd;
	int fd;
	uint32_t events;
	epoll_data_t data;
};

#define EP_RECS 1024

static struct ep_rec ep_recs[EP_RECS];
static int ep_used; /* records in use, read without the lock */
static pthread_mutex_t ep_lock = PTHREAD_MUTEX_INITIALIZER;

/* A fork child must not inherit the lock held by another thread. */
static void ep_lock_all(void)
{
	pthread_mutex_lock(&ep_lock);
}

static void ep_unlock_all(void)
{
	pthread_mutex_unlock(&ep_lock);
}

__attribute__((constructor)) static void ep_init(void)
{
	pthread_atfork(ep_lock_all, ep_unlock_all, ep_unlock_all);
}

static struct ep_rec *ep_find(int epfd, int fd)
{
	for (int i = 0; i < EP_RECS; i++)
		if (ep_recs[i].used && ep_recs[i].epfd == epfd &&
		    ep_recs[i].fd == fd)
			return &ep_recs[i];
	return NULL;
}

static struct ep_rec *ep_alloc(int epfd, int fd)
{
	for (int i = 0; i < EP_RECS; i++) {
		struct ep_rec *rec = &ep_recs[i];

		if (!rec->used) {
			*rec = (struct ep_rec){true, epfd, fd, 0, {0}};
			__atomic_add_fetch(&ep_used, 1, __ATOMIC_RELAXED);
			return rec;
		}
	}
	return NULL;
}

static void ep_free(struct ep_rec *rec)
{
	rec->used = false;
	__atomic_sub_fetch(&ep_used, 1, __ATOMIC_RELAXED);
}

static struct ep_rec *ep_tagged(uint64_t data)
{
	uintptr_t p = (uintptr_t)data, base = (uintptr_t)ep_recs;

	if (p < base || p >= base + sizeof(ep_recs) ||
	    (p - base) % sizeof(struct ep_rec))
		return NULL;
	return (struct ep_rec *)p;
}

/* Registers fd in epfd with a tag instead of the program's data. */
static int ep_add_tagged(int epfd, int op, int fd, struct epoll_event *ev)
{
	struct ep_rec *rec = ep_find(epfd, fd);
	bool fresh = false;
	struct epoll_event ours;
	int r;

	if (!rec && op == EPOLL_CTL_ADD) {
		rec = ep_alloc(epfd, fd);
		fresh = true;
	}
	if (!rec)
		return real_epoll_ctl(epfd, op, fd, ev);
	/* The emulated descriptor only ever reads ready: always ask for
	 * that, and filter by what the program asked for afterwards. */
	ours.events = ev->events | EPOLLIN;
	ours.data.ptr = rec;
	r = real_epoll_ctl(epfd, op, fd, &ours);
	if (r == 0) {
		rec->events = ev->events;
		rec->data = ev->data;
	} else if (fresh) {
		ep_free(rec);
	}
	return r;
}

SHIM_API int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	int r, err;

	if (likely(!shim_emulated(fd)) || shim_fd_kind(fd) != 1)
		return real_epoll_ctl(epfd, op, fd, ev);
	pthread_mutex_lock(&ep_lock);
	if (op == EPOLL_CTL_DEL || !ev) {
		struct ep_rec *rec = ep_find(epfd, fd);

		r = real_epoll_ctl(epfd, op, fd, ev);
		if (r == 0 && rec && op == EPOLL_CTL_DEL)
			ep_free(rec);
	} else {
		r = ep_add_tagged(epfd, op, fd, ev);
	}
	err = errno;
	pthread_mutex_unlock(&ep_lock);
	errno = err;
	return r;
}

/*
 * Puts the kernel's events and the program's data in place of tagged
 * results; drops those with nothing to report.  Returns how many remain.
 */
static int ep_fix(struct epoll_event *ev, int n)
{
	int out = 0;

	for (int i = 0; i < n; i++) {
		struct ep_rec *rec = ep_tagged(ev[i].data.u64);

		if (rec) {
			struct ep_rec copy;
			short re;

			pthread_mutex_lock(&ep_lock);
			copy = *rec;
			pthread_mutex_unlock(&ep_lock);
			re = uffd_revents(copy.fd, (short)copy.events);
			if (!re)
				continue;
			ev[out].events = (uint32_t)(unsigned short)re &
					 (copy.events | EPOLLERR | EPOLLHUP);
			ev[out].data = copy.data;
		} else if (out != i) {
			ev[out] = ev[i];
		}
		out++;
	}
	return out;
}

/* Which real call to make: epoll_wait, epoll_pwait or epoll_pwait2. */
enum ep_call { EP_WAIT, EP_PWAIT, EP_PWAIT2 };

static int ep_real(enum ep_call call, int epfd, struct epoll_event *ev, int max,
		   int timeout, const struct timespec *ts, const sigset_t *mask)
{
	if (call == EP_WAIT)
		return real_epoll_wait(epfd, ev, max, timeout);
	if (call == EP_PWAIT)
		return real_epoll_pwait(epfd, ev, max, timeout, mask);
	return real_epoll_pwait2(epfd, ev, max, ts, mask);
}

static int ep_wait(enum ep_call call, int epfd, struct epoll_event *ev, int max,
		   int timeout, const struct timespec *ts, const sigset_t *mask)
{
	struct timespec deadline, left;
	bool timed = call == EP_PWAIT2 ? ts != NULL : timeout >= 0;
	int r;

	if (timed) {
		if (call != EP_PWAIT2) {
			left.tv_sec = timeout / 1000;
			left.tv_nsec = (timeout % 1000) * 1000000L;
		} else {
			left = *ts;
		}
		deadline = ts_add(mono_now(), left);
	}
	for (;;) {
		r = ep_real(call, epfd, ev, max, timeout, timed ? &left : NULL,
			    mask);
		if (r <= 0)
			return r;
		r = ep_fix(ev, r);
		if (r > 0)
			return r;
		/* Only stale events: wait again for the rest of the time. */
		if (timed) {
			left = ts_left(deadline, mono_now());
			if (!left.tv_sec && !left.tv_nsec)
				return 0;
			timeout = (int)(left.tv_sec * 1000 +
					(left.tv_nsec + 999999) / 1000000);
		}
	}
}

static bool ep_any(void)
{
	return __atomic_load_n(&ep_used, __ATOMIC_RELAXED) != 0;
}

SHIM_API int epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
{
	if (likely(!ep_any()))
		return real_epoll_wait(epfd, ev, max, timeout);
	return ep_wait(EP_WAIT, epfd, ev, max, timeout, NULL, NULL);
}

SHIM_API int epoll_pwait(int epfd, struct epoll_event *ev, int max, int timeout,
			 const sigset_t *mask)
{
	if (likely(!ep_any()))
		return real_epoll_pwait(epfd, ev, max, timeout, mask);
	return ep_wait(EP_PWAIT, epfd, ev, max, timeout, NULL, mask);
}

SHIM_API int epoll_pwait2(int epfd, struct epoll_event *ev, int max,
			  const struct timespec *ts, const sigset_t *mask)
{
	if (likely(!ep_any()))
		return real_epoll_pwait2(epfd, ev, max, ts, mask);
	return ep_wait(EP_PWAIT2, epfd, ev, max, 0, ts, mask);
}
