/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Userfaultfds used from another process.
 *
 * An emulated context lives in the memory of the process it serves, the
 * faulting process.  Its descriptor, an epoll instance, can still be sent
 * to another process over a Unix socket (SCM_RIGHTS), where a monitor
 * polls it as it would the kernel's: the epoll instance is shared, so its
 * readiness is too.  Everything else goes through the faulting process,
 * which is asked over a connection to its service thread:
 *
 * - The faulting process starts that thread when one of its contexts'
 *   descriptors is first sent away.  It listens on the abstract Unix
 *   socket "uffdemu.<pid>" and answers each request with the context's
 *   own code: an ioctl runs there on a copy of the caller's argument, and a
 *   read takes the unread messages without waiting.
 * - A process that receives a descriptor recognises a context by the data
 *   of the one event in its epoll set (remote_tag(): a mark, the pid, the
 *   slot), read from /proc/self/fdinfo, and connects.  Its first request
 *   carries the descriptor itself, so that only a holder of the context
 *   can act on it, and a memfd through which COPY's source travels.  The
 *   answer carries an eventfd that is raised while a message is unread,
 *   on which a blocking read waits.
 * - Each connection holds a reference to the context, as each descriptor
 *   does, so the context is released, waking every blocked thread, when
 *   the faulting process has closed its descriptors and the last monitor
 *   has closed its own or died.  A descriptor on its way (sent and not yet
 *   received) holds a reference for a while too.
 *
 * A fork child's inherited descriptors are copies on their way too, and
 * become another process's contexts at their first use there.
 *
 * Limitation: both processes must be in one network namespace (the
 * socket's name is abstract), and the monitor must use the emulator for
 * the descriptor (the shim, or uffdemu_recvmsg()).  A descriptor still on
 * its way (sent and not received, or inherited and not used) after
 * REMOTE_INFLIGHT_S seconds no longer keeps its context, where the kernel
 * keeps it until that copy is closed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "emu/emu.h"
#include "mm/mm.h"

#ifndef FIGETBSZ
#define FIGETBSZ _IO(0x00, 2)
#endif

#include "emu/remote.h"

uint64_t remote_tag(const struct uffd_ctx *ctx)
{
	return REMOTE_MARK << 48 | ((uint64_t)(uint32_t)ctx->pid << 16) |
	       (uint64_t)(ctx->slot & 0xffff);
}

static void socket_name(struct sockaddr_un *a, socklen_t *len, pid_t pid)
{
	int n;

	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	n = snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1, "uffdemu.%d",
		     (int)pid);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

/* Sends one packet with up to two descriptors. */
int remote_send(int sock, const void *p, size_t len, const int *fds, int nfds)
{
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {(void *)p, len};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};

	if (nfds) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		m.msg_control = ctl.buf;
		m.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	while (sendmsg(sock, &m, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

/* Receives one packet; fds gets up to two descriptors (-1 where none). */
ssize_t remote_recv(int sock, void *p, size_t len, int *fds)
{
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {p, len};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = ctl.buf,
			   .msg_controllen = sizeof(ctl.buf)};
	ssize_t n;

	fds[0] = fds[1] = -1;
	while ((n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC)) < 0)
		if (errno != EINTR)
			return -errno;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (i < 2)
				fds[i] = fd;
			else
				close(fd);
		}
	}
	return n;
}

/* --- the faulting process: the service thread --- */

struct conn {
	int sock;
	struct uffd_ctx *ctx; /* after HELLO, one reference */
	char *buf;
	size_t buf_len;
	uint64_t wake_start, wake_len; /* due once the answer is out */
};

static pthread_mutex_t service_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t service_pid; /* the process whose thread runs */
static int service_sock = -1;

/* Descriptors on their way, each holding a reference until received. */
static struct {
	struct uffd_ctx *ctx;
	time_t until;
} inflight[REMOTE_INFLIGHT]; /* under service_lock */

static time_t now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec;
}

/* A HELLO for ctx arrived: one descriptor on its way has arrived. */
static bool inflight_claim(struct uffd_ctx *ctx)
{
	bool found = false;

	pthread_mutex_lock(&service_lock);
	for (int i = 0; i < REMOTE_INFLIGHT && !found; i++)
		if (inflight[i].ctx == ctx) {
			inflight[i].ctx = NULL;
			found = true;
		}
	pthread_mutex_unlock(&service_lock);
	return found;
}

/* Drops the references of descriptors that never arrived. */
static void inflight_expire(void)
{
	struct uffd_ctx *expired[REMOTE_INFLIGHT];
	time_t now = now_s();
	int n = 0;

	pthread_mutex_lock(&service_lock);
	for (int i = 0; i < REMOTE_INFLIGHT; i++)
		if (inflight[i].ctx && inflight[i].until <= now) {
			expired[n++] = inflight[i].ctx;
			inflight[i].ctx = NULL;
		}
	pthread_mutex_unlock(&service_lock);
	while (n)
		ctx_put(expired[--n]);
}

static void inflight_add(struct uffd_ctx *ctx)
{
	struct uffd_ctx *dropped = NULL;
	int oldest = 0;

	ctx_get(ctx);
	pthread_mutex_lock(&service_lock);
	for (int i = 0; i < REMOTE_INFLIGHT; i++) {
		if (!inflight[i].ctx) {
			oldest = i;
			break;
		}
		if (inflight[i].until < inflight[oldest].until)
			oldest = i;
	}
	dropped = inflight[oldest].ctx;
	inflight[oldest].ctx = ctx;
	inflight[oldest].until = now_s() + REMOTE_INFLIGHT_S;
	pthread_mutex_unlock(&service_lock);
	if (dropped)
		ctx_put(dropped);
}

/* Whether fd, received from a client, is ctx's own descriptor. */
static bool holds(int fd, struct uffd_ctx *ctx)
{
	struct epoll_event ev = {.events = EPOLLIN,
				 .data.u64 = remote_tag(ctx)};

	return fd >= 0 && epoll_ctl(fd, EPOLL_CTL_MOD, ctx->evfd, &ev) == 0;
}

/* The unread-message eventfd of ctx, made on first need. */
static int message_fd(struct uffd_ctx *ctx)
{
	sigset_t saved;
	int fd;

	wq_lock(&saved);
	if (ctx->msgfd < 0) {
		wq_unlock(&saved);
		fd = install_hide_fd(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
		wq_lock(&saved);
		if (ctx->msgfd < 0 && fd >= 0) {
			ctx->msgfd = fd;
			ctx->msg_level = false;
			fd = -1;
		}
		if (fd >= 0)
			install_close_fd(fd);
	}
	fd = ctx->msgfd;
	wq_unlock(&saved);
	msgq_update_ready(ctx);
	return fd;
}

static int64_t serve_hello(struct conn *c, const struct request *q,
			   const int *fds, int *reply_fd)
{
	struct uffd_ctx *ctx = ctx_by_slot(q->slot);
	struct stat st;
	void *buf;

	if (c->ctx)
		return -EINVAL;
	if (!ctx || atomic_load(&ctx->state) == CTX_RELEASED ||
	    !holds(fds[0], ctx))
		return -EBADF;
	/* Sealed, so that no holder can shrink it under this process. */
	if (fds[1] < 0 || fstat(fds[1], &st) != 0 ||
	    (size_t)st.st_size != REMOTE_BUF ||
	    !(fcntl(fds[1], F_GET_SEALS) & F_SEAL_SHRINK))
		return -EINVAL;
	buf = mmap(NULL, REMOTE_BUF, PROT_READ | PROT_WRITE, MAP_SHARED, fds[1],
		   0);
	if (buf == MAP_FAILED)
		return -ENOMEM;
	*reply_fd = message_fd(ctx);
	if (*reply_fd < 0) {
		munmap(buf, REMOTE_BUF);
		return -ENOMEM;
	}
	/* The connection takes over the reference of the arrived send. */
	if (!inflight_claim(ctx))
		ctx_get(ctx);
	c->ctx = ctx;
	c->buf = buf;
	c->buf_len = REMOTE_BUF;
	return 0;
}

/*
 * Where a resolving ioctl keeps its mode, its DONTWAKE bit, and the start
 * of its range, in the argument; false for the others.
 */
static bool wake_parts(unsigned long req, size_t *mode_at, uint64_t *dontwake,
		       size_t *start_at)
{
	*start_at = 0;
	*dontwake = 1;
	switch (req) {
	case UFFDIO_COPY:
	case UFFDIO_MOVE:
		*mode_at = 24;
		return true;
	case UFFDIO_ZEROPAGE:
	case UFFDIO_CONTINUE:
	case UFFDIO_POISON:
		*mode_at = 16;
		return true;
	case UFFDIO_WRITEPROTECT:
		*mode_at = 16;
		*dontwake = UFFDIO_WRITEPROTECT_MODE_DONTWAKE;
		return true;
	}
	return false;
}

/*
 * A resolving ioctl wakes its threads only after its answer is out: a
 * woken thread may end the process at once, and the caller must still
 * learn what the ioctl did, as it would from the kernel.
 */
static void defer_wake(struct conn *c, unsigned long req, unsigned char *arg)
{
	uint64_t mode, dontwake;
	size_t mode_at, start_at;

	c->wake_len = 0;
	if (!wake_parts(req, &mode_at, &dontwake, &start_at))
		return;
	memcpy(&mode, arg + mode_at, sizeof(mode));
	/* WRITEPROTECT wakes only when it unprotects. */
	if ((mode & dontwake) || (req == UFFDIO_WRITEPROTECT &&
				  (mode & UFFDIO_WRITEPROTECT_MODE_WP)))
		return;
	mode |= dontwake;
	memcpy(arg + mode_at, &mode, sizeof(mode));
	memcpy(&c->wake_start, arg + start_at, sizeof(c->wake_start));
	c->wake_len = UINT64_MAX; /* known once the ioctl is done */
}

/* The range the deferred wake covers, from the ioctl's result. */
static void wake_range(struct conn *c, unsigned long req,
		       const unsigned char *arg, int64_t ret)
{
	int64_t done = 0;
	uint64_t len;

	if (!c->wake_len)
		return;
	c->wake_len = 0;
	if (req == UFFDIO_WRITEPROTECT) {
		memcpy(&len, arg + 8, sizeof(len));
		if (ret == 0)
			c->wake_len = len;
		return;
	}
	memcpy(&done,
	       arg + (req == UFFDIO_COPY || req == UFFDIO_MOVE ? 32 : 24),
	       sizeof(done));
	if (done > 0)
		c->wake_len = (uint64_t)done;
}

/*
 * An ioctl on the client's behalf, on a copy of its argument.  COPY reads
 * its source from the connection's buffer, where the pages the client
 * could not read are inaccessible.
 */
static int64_t serve_ioctl(struct conn *c, const struct request *q,
			   struct reply *r)
{
	unsigned long req = q->request;
	size_t hole = 0;
	int64_t ret;

	if (_IOC_TYPE(req) != UFFDIO || _IOC_SIZE(req) > REMOTE_ARG)
		return -EINVAL;
	memcpy(r->arg, q->arg, REMOTE_ARG);
	defer_wake(c, req, r->arg);
	if (req == UFFDIO_COPY) {
		struct uffdio_copy *cp = (struct uffdio_copy *)r->arg;

		if (q->len > c->buf_len || q->readable > q->len)
			return -EINVAL;
		cp->src = (uintptr_t)c->buf;
		hole = (q->readable + PAGE_SIZE - 1) & PAGE_MASK;
		if (hole < c->buf_len)
			mprotect(c->buf + hole, c->buf_len - hole, PROT_NONE);
	}
	ctx_get(c->ctx);
	ret = ctx_ioctl(c->ctx, -1, req, r->arg);
	ctx_put(c->ctx);
	wake_range(c, req, r->arg, ret);
	if (req == UFFDIO_COPY) {
		((struct uffdio_copy *)r->arg)->src =
			((const struct uffdio_copy *)q->arg)->src;
		if (hole < c->buf_len)
			mprotect(c->buf + hole, c->buf_len - hole,
				 PROT_READ | PROT_WRITE);
	}
	return ret;
}

/* A descriptor the emulator kept at a high number for a reader. */
static void drop_hidden(int fd)
{
	struct fd_entry e;

	if (fdtab_get(fd, &e)) {
		fdtab_clear(fd);
		if (e.kind == FD_REMOTE)
			remote_put(e.remote);
		else if (e.kind == FD_UFFD)
			ctx_put(e.ctx);
	}
	install_close_fd(fd);
}

static void conn_close(struct conn *c)
{
	close(c->sock);
	if (c->buf)
		munmap(c->buf, c->buf_len);
	if (c->ctx)
		ctx_put(c->ctx);
	memset(c, 0, sizeof(*c));
	c->sock = -1;
}

/* One request of connection c; false when the connection is done. */
static bool serve_one(struct conn *c)
{
	static struct request q;
	static struct reply r; /* the service thread's own */
	int fds[2], reply_fd = -1, fork_fd = -1;
	ssize_t n = remote_recv(c->sock, &q, sizeof(q), fds);
	bool sent;
	size_t len = offsetof(struct reply, msgs);

	if (n != (ssize_t)sizeof(q)) {
		for (int i = 0; i < 2; i++)
			if (fds[i] >= 0)
				close(fds[i]);
		return false;
	}
	memset(&r, 0, len);
	if (q.op == OP_HELLO)
		r.ret = serve_hello(c, &q, fds, &reply_fd);
	else if (!c->ctx)
		r.ret = -EBADF;
	else if (q.op == OP_READ) {
		r.ret = msgq_take(c->ctx, r.msgs,
				  q.request < REMOTE_MSGS ? q.request
							  : REMOTE_MSGS);
		if (r.ret > 0) {
			r.n = (uint32_t)r.ret;
			r.flags = (uint32_t)c->ctx->flags;
			len += r.n * sizeof(struct uffd_msg);
			/* A FORK message's descriptor goes to the reader. */
			if (r.msgs[r.n - 1].event == UFFD_EVENT_FORK)
				fork_fd = (int)r.msgs[r.n - 1].arg.fork.ufd;
		}
	} else if (q.op == OP_IOCTL) {
		r.ret = serve_ioctl(c, &q, &r);
	} else if (q.op == OP_SENT) {
		inflight_add(c->ctx);
	} else if (q.op == OP_ARRIVED) {
		if (inflight_claim(c->ctx))
			ctx_put(c->ctx);
	} else if (q.op == OP_FDINFO) {
		r.ret = msgq_fdinfo(c->ctx, r.text, sizeof(r.text));
		if (r.ret > 0) {
			r.n = (uint32_t)r.ret;
			len += r.n;
		}
	} else {
		r.ret = -EINVAL;
	}
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (fork_fd >= 0) {
		struct fd_entry e;

		/* On its way, it keeps the child's context. */
		if (fdtab_get(fork_fd, &e) && e.kind == FD_REMOTE)
			remote_forward(e.remote);
		sent = remote_send(c->sock, &r, len, &fork_fd, 1) == 0;
		drop_hidden(fork_fd);
		return sent;
	}
	sent = remote_send(c->sock, &r, len, &reply_fd, reply_fd >= 0) == 0;
	if (c->wake_len) {
		msgq_wake_range(c->ctx, c->wake_start, c->wake_len);
		c->wake_len = 0;
	}
	return sent;
}

static struct conn conns[REMOTE_CONNS]; /* the service thread's */

static void *service(void *arg)
{
	struct pollfd p[REMOTE_CONNS + 1];
	sigset_t faults;

	(void)arg;
	/* Its accesses to a caller's bad buffer are faults it handles. */
	sigemptyset(&faults);
	sigaddset(&faults, SIGSEGV);
	sigaddset(&faults, SIGBUS);
	pthread_sigmask(SIG_UNBLOCK, &faults, NULL);
	for (;;) {
		int n = 0;

		p[n++] = (struct pollfd){.fd = service_sock, .events = POLLIN};
		for (int i = 0; i < REMOTE_CONNS; i++)
			p[n++] = (struct pollfd){.fd = conns[i].sock,
						 .events = POLLIN};
		if (poll(p, (nfds_t)n, 1000) < 0 && errno != EINTR)
			break;
		inflight_expire();
		if (p[0].revents & POLLIN) {
			int s = accept4(service_sock, NULL, NULL, SOCK_CLOEXEC);

			for (int i = 0; s >= 0 && i < REMOTE_CONNS; i++)
				if (conns[i].sock < 0) {
					conns[i].sock = install_hide_fd(s);
					s = -1;
				}
			if (s >= 0)
				close(s);
		}
		for (int i = 0; i < REMOTE_CONNS; i++)
			if (conns[i].sock >= 0 && p[i + 1].revents &&
			    !serve_one(&conns[i]))
				conn_close(&conns[i]);
	}
	return NULL;
}

static void fork_prepare(void);
static void fork_parent(void);
static void fork_child(void);
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void fork_handlers(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/* Starts this process's service thread, once per process. */
static int service_start(void)
{
	struct sockaddr_un a;
	sigset_t all, saved;
	pthread_t t;
	socklen_t len;
	pid_t pid = getpid();
	int s, err = 0;

	pthread_once(&fork_once, fork_handlers);
	pthread_mutex_lock(&service_lock);
	if (service_pid == pid)
		goto out;
	memset(conns, 0, sizeof(conns));
	for (int i = 0; i < REMOTE_CONNS; i++)
		conns[i].sock = -1;
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	socket_name(&a, &len, pid);
	if (s < 0 || bind(s, (struct sockaddr *)&a, len) || listen(s, 16)) {
		err = -errno;
		if (s >= 0)
			close(s);
		goto out;
	}
	service_sock = install_hide_fd(s);
	/* The thread takes none of the program's signals but faults. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &saved);
	err = -pthread_create(&t, NULL, service, NULL);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if (err) {
		install_close_fd(service_sock);
		service_sock = -1;
		goto out;
	}
	pthread_detach(t);
	service_pid = pid;
out:
	pthread_mutex_unlock(&service_lock);
	return err;
}

void remote_export(struct uffd_ctx *ctx)
{
	if (ctx->foreign || service_start() != 0)
		return;
	inflight_add(ctx);
}

/* --- the monitor's side --- */

struct remote {
	_Atomic int refs;
	pid_t pid;
	unsigned int slot;
	int sock;
	int msgfd;
	char *buf;
	pthread_mutex_t lock; /* one request at a time on the connection */
	struct remote *next;
};

static pthread_mutex_t remotes_lock = PTHREAD_MUTEX_INITIALIZER;
static struct remote *remotes;

void remote_get(struct remote *r)
{
	atomic_fetch_add(&r->refs, 1);
}

void remote_put(struct remote *r)
{
	pthread_mutex_lock(&remotes_lock);
	if (atomic_fetch_sub(&r->refs, 1) != 1) {
		pthread_mutex_unlock(&remotes_lock);
		return;
	}
	for (struct remote **p = &remotes; *p; p = &(*p)->next)
		if (*p == r) {
			*p = r->next;
			break;
		}
	pthread_mutex_unlock(&remotes_lock);
	if (r->sock >= 0)
		install_close_fd(r->sock);
	if (r->msgfd >= 0)
		install_close_fd(r->msgfd);
	if (r->buf)
		munmap(r->buf, REMOTE_BUF);
	pthread_mutex_destroy(&r->lock);
	munmap(r, sizeof(*r));
}

static int reconnect(struct remote *r);

/* One request and its answer; -errno when the connection failed. */
static int64_t call(struct remote *r, const struct request *q,
		    struct reply *out, const int *fds, int nfds, int *got_fd)
{
	int rfds[2];
	ssize_t n;
	int err;

	rfds[0] = rfds[1] = -1;
	pthread_mutex_lock(&r->lock);
	err = r->sock < 0 ? reconnect(r) : 0;
	if (!err)
		err = remote_send(r->sock, q, sizeof(*q), fds, nfds);
	n = err ? err : remote_recv(r->sock, out, sizeof(*out), rfds);
	pthread_mutex_unlock(&r->lock);
	if (got_fd)
		*got_fd = rfds[0];
	else if (n >= 0 && rfds[0] >= 0)
		close(rfds[0]);
	if (n >= 0 && rfds[1] >= 0)
		close(rfds[1]);
	if (n < 0)
		return n;
	if (n < (ssize_t)offsetof(struct reply, msgs))
		return -ECONNRESET;
	return out->ret;
}

/* A request without argument or answer. */
static void simple_call(struct remote *r, enum remote_op op)
{
	struct request q = {.op = op, .slot = r->slot};
	struct reply *rep = malloc(sizeof(*rep));

	if (rep)
		call(r, &q, rep, NULL, 0, NULL);
	free(rep);
}

/*
 * The faulting process is gone: what the kernel answers once the
 * context's address space has gone.
 */
static int gone(unsigned long request)
{
	switch (request) {
	case UFFDIO_REGISTER:
	case UFFDIO_UNREGISTER:
		return -ENOMEM;
	case UFFDIO_WAKE:
		return 0;
	case UFFDIO_API:
		return -EINVAL;
	}
	return -ESRCH;
}

/*
 * Connects r to the faulting process, proving with fd that this process
 * holds the context, with a new buffer for COPY's source.  r->lock held,
 * or r not yet shared.
 */
static int hello(struct remote *r, int fd)
{
	struct request q = {.op = OP_HELLO, .slot = r->slot};
	struct reply *rep = malloc(sizeof(*rep));
	struct sockaddr_un a;
	socklen_t len;
	int mfd = -1, fds[2], msgfd = -1, sock, err = -ECONNREFUSED;
	char *buf = MAP_FAILED;

	sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	socket_name(&a, &len, r->pid);
	if (!rep || sock < 0 || connect(sock, (struct sockaddr *)&a, len) != 0)
		goto out;
	mfd = memfd_create("uffdemu-remote", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0 || ftruncate(mfd, REMOTE_BUF) != 0 ||
	    fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL))
		goto out;
	buf = mmap(NULL, REMOTE_BUF, PROT_READ | PROT_WRITE, MAP_SHARED, mfd,
		   0);
	fds[0] = fd;
	fds[1] = mfd;
	if (buf == MAP_FAILED || remote_send(sock, &q, sizeof(q), fds, 2) ||
	    remote_recv(sock, rep, sizeof(*rep), fds) <
		    (ssize_t)offsetof(struct reply, msgs) ||
	    rep->ret != 0 || fds[0] < 0) {
		if (fds[0] >= 0)
			close(fds[0]);
		goto out;
	}
	msgfd = fds[0];
	if (fds[1] >= 0)
		close(fds[1]);
	if (r->msgfd >= 0)
		install_close_fd(r->msgfd);
	if (r->buf)
		munmap(r->buf, REMOTE_BUF);
	r->sock = install_hide_fd(sock);
	r->msgfd = install_hide_fd(msgfd);
	r->buf = buf;
	sock = -1;
	buf = MAP_FAILED;
	err = 0;
out:
	if (buf != MAP_FAILED)
		munmap(buf, REMOTE_BUF);
	if (mfd >= 0)
		close(mfd);
	if (sock >= 0)
		close(sock);
	free(rep);
	return err;
}

static struct remote *connect_to(int fd, pid_t pid, unsigned int slot)
{
	struct remote *r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (r == MAP_FAILED)
		return NULL;
	pthread_once(&fork_once, fork_handlers);
	memset(r, 0, sizeof(*r));
	r->sock = r->msgfd = -1;
	r->pid = pid;
	r->slot = slot;
	pthread_mutex_init(&r->lock, NULL);
	if (hello(r, fd) != 0) {
		pthread_mutex_destroy(&r->lock);
		munmap(r, sizeof(*r));
		return NULL;
	}
	atomic_store(&r->refs, 1);
	return r;
}

struct fd_search {
	struct remote *r;
	int fd;
};

static void match_fd(int fd, struct fd_entry *e, void *arg)
{
	struct fd_search *s = arg;

	if (e->kind == FD_REMOTE && e->remote == s->r && s->fd < 0)
		s->fd = fd;
}

/*
 * A fork child's remotes have no connection of their own: the child is
 * one more holder, and says so with one of its descriptors.  r->lock held.
 */
static int reconnect(struct remote *r)
{
	struct fd_search s = {r, -1};

	fdtab_for_each(match_fd, &s);
	return s.fd < 0 ? -ECONNRESET : hello(r, s.fd);
}

/*
 * The data of the first event in the epoll set of fd, from fdinfo; false
 * for a descriptor that is no epoll instance, asked first in one call.
 */
static bool epoll_tag(int fd, uint64_t *tag)
{
	static const char epoll[] = "anon_inode:[eventpoll]";
	char path[64], buf[1024];
	const char *d;
	ssize_t n;
	int f;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, buf, sizeof(buf));
	if (n != sizeof(epoll) - 1 || memcmp(buf, epoll, (size_t)n))
		return false;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return false;
	n = read(f, buf, sizeof(buf) - 1);
	close(f);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	d = strstr(buf, "tfd:");
	d = d ? strstr(d, "data:") : NULL;
	return d && sscanf(d, "data: %llx", (unsigned long long *)tag) == 1;
}

/*
 * A descriptor arrived: if it is an emulated userfaultfd, it becomes one
 * here too, of this process (sent to itself) or of another.
 */
bool remote_adopt(int fd)
{
	struct fd_entry e;
	struct remote *r;
	uint64_t tag;
	pid_t pid;
	unsigned int slot;

	/* A number the system just handed out: what the table says of it
	 * is left from a descriptor closed behind the emulator's back. */
	if (fdtab_get(fd, &e)) {
		fdtab_clear(fd);
		if (e.kind == FD_UFFD)
			ctx_put(e.ctx);
		else if (e.kind == FD_REMOTE)
			remote_put(e.remote);
	}
	if (!epoll_tag(fd, &tag) || tag >> 48 != REMOTE_MARK || emu_init())
		return false;
	pid = (pid_t)(uint32_t)(tag >> 16);
	slot = (unsigned int)(tag & 0xffff);
	if (pid == getpid()) {
		struct uffd_ctx *ctx = ctx_by_slot(slot);

		if (!ctx || ctx->foreign || !holds(fd, ctx))
			return false;
		ctx_get(ctx);
		fdtab_set(fd, FD_UFFD, ctx);
		if (inflight_claim(ctx))
			ctx_put(ctx);
		return true;
	}
	pthread_mutex_lock(&remotes_lock);
	for (r = remotes; r; r = r->next)
		if (r->pid == pid && r->slot == slot) {
			remote_get(r);
			break;
		}
	pthread_mutex_unlock(&remotes_lock);
	if (r) {
		/* Already connected: the copy's reference on its way goes. */
		simple_call(r, OP_ARRIVED);
		fdtab_set(fd, FD_REMOTE, r);
		return true;
	}
	r = connect_to(fd, pid, slot);
	if (!r)
		return false;
	pthread_mutex_lock(&remotes_lock);
	r->next = remotes;
	remotes = r;
	pthread_mutex_unlock(&remotes_lock);
	fdtab_set(fd, FD_REMOTE, r);
	return true;
}

/*
 * An inherited descriptor of the parent's context, in a fork child: from
 * now on another process's context, connected to on first use.  Returns
 * whether fd's entry (in *e too) is now that.
 */
bool remote_inherit(int fd, struct fd_entry *e)
{
	struct uffd_ctx *parent = e->ctx;
	struct fd_entry now;
	struct remote *r;

	pthread_once(&fork_once, fork_handlers);
	pthread_mutex_lock(&remotes_lock);
	if (!fdtab_get(fd, &now) || now.kind != FD_UFFD || now.ctx != parent) {
		/* Another thread did it meanwhile. */
		pthread_mutex_unlock(&remotes_lock);
		*e = now;
		return now.kind == FD_REMOTE;
	}
	for (r = remotes; r; r = r->next)
		if (r->pid == parent->pid &&
		    r->slot == (unsigned int)parent->slot)
			break;
	if (!r) {
		r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (r == MAP_FAILED) {
			pthread_mutex_unlock(&remotes_lock);
			return false;
		}
		memset(r, 0, sizeof(*r));
		r->sock = r->msgfd = -1;
		r->pid = parent->pid;
		r->slot = (unsigned int)parent->slot;
		pthread_mutex_init(&r->lock, NULL);
		r->next = remotes;
		remotes = r;
	}
	remote_get(r);
	fdtab_set(fd, FD_REMOTE, r);
	pthread_mutex_unlock(&remotes_lock);
	/* The entry held a reference to the copy of the parent's context. */
	ctx_put(parent);
	e->kind = FD_REMOTE;
	e->ctx = NULL;
	e->remote = r;
	return true;
}

void remote_forward(struct remote *r)
{
	simple_call(r, OP_SENT);
}

/* Copies the messages out to iov, as many as fit; -EFAULT if none could. */
static ssize_t put_messages(const struct iovec *iov, int iovcnt,
			    const struct uffd_msg *m, size_t n)
{
	size_t done = 0, vi = 0, off = 0;

	while (done < n * sizeof(*m) && vi < (size_t)iovcnt) {
		size_t room = iov[vi].iov_len - off, k = n * sizeof(*m) - done;

		if (room == 0) {
			vi++;
			off = 0;
			continue;
		}
		k = k < room ? k : room;
		if (uaccess_write((char *)iov[vi].iov_base + off,
				  (const char *)m + done, k))
			break;
		done += k;
		off += k;
	}
	done -= done % sizeof(*m);
	return done ? (ssize_t)done : -EFAULT;
}

/*
 * A FORK message read from another process came with the descriptor of
 * the child's context: it becomes this process's, at the number the
 * system gave it, close-on-exec as the parent context's flags say.
 */
static ssize_t fork_message(struct uffd_msg *m, int fd, uint32_t flags)
{
	if (fd < 0)
		return -EMFILE;
	if (!remote_adopt(fd)) {
		close(fd);
		return -EBADF;
	}
	if (!(flags & O_CLOEXEC))
		fcntl(fd, F_SETFD, 0);
	m->arg.fork.ufd = (uint32_t)fd;
	return 1;
}

/*
 * read() on another process's context: its messages without waiting, and
 * on a blocking descriptor a wait on the unread-message eventfd between
 * tries.
 * Limitation: a signal that interrupts the wait makes read() fail EINTR,
 * where the kernel restarts it after a handler installed with SA_RESTART.
 */
ssize_t remote_read(struct remote *r, int fd, const struct iovec *iov,
		    int iovcnt)
{
	struct request q = {.op = OP_READ, .slot = r->slot};
	struct reply *rep = malloc(sizeof(*rep));
	size_t room = 0;
	int fork_fd = -1;
	ssize_t ret;

	if (!rep)
		return -ENOMEM;
	for (int i = 0; i < iovcnt; i++)
		room += iov[i].iov_len;
	q.request = room / sizeof(struct uffd_msg);
	for (;;) {
		struct pollfd p = {.fd = r->msgfd, .events = POLLIN};

		if (room < sizeof(struct uffd_msg)) {
			/* Before UFFDIO_API the kernel says EINVAL too. */
			ret = -EINVAL;
			break;
		}
		ret = call(r, &q, rep, NULL, 0, &fork_fd);
		if (ret == -ECONNRESET || ret == -EPIPE)
			ret = -EAGAIN; /* gone: no message will come */
		if (ret > 0 && rep->msgs[rep->n - 1].event == UFFD_EVENT_FORK)
			ret = fork_message(&rep->msgs[rep->n - 1], fork_fd,
					   rep->flags);
		else if (fork_fd >= 0)
			close(fork_fd);
		fork_fd = -1;
		if (ret > 0) {
			ret = put_messages(iov, iovcnt, rep->msgs, rep->n);
			break;
		}
		if (ret != -EAGAIN || (fcntl(fd, F_GETFL) & O_NONBLOCK))
			break;
		if (poll(&p, 1, -1) < 0 && errno == EINTR) {
			ret = -EINTR;
			break;
		}
	}
	free(rep);
	return ret;
}

/* The part of each ioctl's argument the kernel reads, and what it writes. */
static void arg_parts(unsigned long request, size_t *in, size_t *out_at,
		      size_t *out_len)
{
	*in = _IOC_SIZE(request);
	*out_at = *in;
	*out_len = 0;
	switch (request) {
	case UFFDIO_API:
		*out_at = 0;
		*out_len = *in;
		break;
	case UFFDIO_REGISTER:
	case UFFDIO_ZEROPAGE:
	case UFFDIO_CONTINUE:
	case UFFDIO_POISON:
		*in = 24;
		*out_at = 24;
		*out_len = 8;
		break;
	case UFFDIO_COPY:
	case UFFDIO_MOVE:
		*in = 32;
		*out_at = 32;
		*out_len = 8;
		break;
	}
}

/*
 * COPY from this process's memory: the source goes through the
 * connection's buffer, in pieces of its size; the pages of a piece that
 * cannot be read here are inaccessible there, so the copy stops at them
 * as it would.
 */
static int64_t remote_copy(struct remote *r, struct request *q,
			   struct reply *rep)
{
	struct uffdio_copy c;
	int64_t total = 0, ret = 0, done;

	memcpy(&c, q->arg, sizeof(c));
	/* Only a copy the kernel would take whole is cut into pieces. */
	if ((c.dst | c.len) & ~PAGE_MASK || !c.len || c.dst >= TASK_SIZE ||
	    c.len > TASK_SIZE - c.dst || c.src >= TASK_SIZE ||
	    c.len > TASK_SIZE - c.src) {
		q->len = q->readable = 0;
		return call(r, q, rep, NULL, 0, NULL);
	}
	do {
		struct uffdio_copy *piece = (struct uffdio_copy *)q->arg;
		uint64_t len = c.len - (uint64_t)total;
		size_t readable = 0;

		if (len > REMOTE_BUF)
			len = REMOTE_BUF;
		*piece = c;
		piece->dst = c.dst + (uint64_t)total;
		piece->src = c.src + (uint64_t)total;
		piece->len = len;
		while (readable < len &&
		       uaccess_read(r->buf + readable,
				    (const char *)(uintptr_t)piece->src +
					    readable,
				    PAGE_SIZE) == 0)
			readable += PAGE_SIZE;
		q->len = len;
		q->readable = readable;
		ret = call(r, q, rep, NULL, 0, NULL);
		if (ret < 0 && ret != -EAGAIN)
			break;
		memcpy(&done, &((struct uffdio_copy *)rep->arg)->copy,
		       sizeof(done));
		if (done <= 0)
			break;
		total += done;
		if (ret != 0 || (uint64_t)done < len)
			break;
	} while ((uint64_t)total < c.len);
	if (total > 0) {
		((struct uffdio_copy *)rep->arg)->copy = total;
		return (uint64_t)total == c.len ? 0 : -EAGAIN;
	}
	return ret;
}

int remote_ioctl(struct remote *r, int fd, unsigned long request, void *arg)
{
	struct request q = {
		.op = OP_IOCTL, .slot = r->slot, .request = request};
	struct reply *rep;
	size_t in, out_at, out_len;
	int64_t ret;
	int bsz = (int)PAGE_SIZE;

	switch (request) {
	case FIOCLEX:
	case FIONCLEX:
	case FIONBIO:
		return ioctl(fd, request, arg) ? -errno : 0;
	case FIOASYNC:
		return ctx_fioasync(fd, arg);
	case FIGETBSZ:
		return uaccess_write(arg, &bsz, sizeof(bsz));
	}
	if (_IOC_TYPE(request) != UFFDIO || _IOC_SIZE(request) > REMOTE_ARG)
		return -EINVAL;
	arg_parts(request, &in, &out_at, &out_len);
	if (uaccess_read(q.arg, arg, in))
		return -EFAULT;
	if (out_len)
		uaccess_read(q.arg + out_at, (char *)arg + out_at, out_len);
	rep = malloc(sizeof(*rep));
	if (!rep)
		return -ENOMEM;
	memcpy(rep->arg, q.arg, sizeof(q.arg));
	if (request == UFFDIO_COPY)
		ret = remote_copy(r, &q, rep);
	else
		ret = call(r, &q, rep, NULL, 0, NULL);
	if (ret == -ECONNRESET || ret == -EPIPE)
		ret = gone(request);
	/* What the faulting process wrote goes back to the caller. */
	else if (out_len &&
		 memcmp(rep->arg + out_at, q.arg + out_at, out_len) &&
		 uaccess_write((char *)arg + out_at, rep->arg + out_at,
			       out_len))
		ret = -EFAULT;
	free(rep);
	return (int)ret;
}

int remote_fdinfo(struct remote *r, char *buf, size_t len)
{
	struct request q = {.op = OP_FDINFO, .slot = r->slot};
	struct reply *rep = malloc(sizeof(*rep));
	int64_t ret;

	if (!rep)
		return -ENOMEM;
	ret = call(r, &q, rep, NULL, 0, NULL);
	if (ret > 0 && len) {
		size_t n = rep->n < len - 1 ? rep->n : len - 1;

		memcpy(buf, rep->text, n);
		buf[n] = '\0';
	}
	free(rep);
	return (int)ret;
}

/*
 * Around fork: the child has no service thread, and shares neither the
 * service's connections nor its own monitors' connections and buffers
 * with the parent; it serves and connects anew when it needs to.  Until
 * it connects, its copies of other processes' contexts count as on their
 * way.
 */
static void fork_prepare(void)
{
	/* The child will hold each context too: a copy on its way. */
	pthread_mutex_lock(&remotes_lock);
	for (struct remote *r = remotes; r; r = r->next)
		simple_call(r, OP_SENT);
	pthread_mutex_unlock(&remotes_lock);
}

static void fork_parent(void)
{
}

static void fork_child(void)
{
	/* The parent's service, not one the child started already. */
	if (service_pid && service_pid != getpid()) {
		install_close_fd(service_sock);
		service_sock = -1;
		for (int i = 0; i < REMOTE_CONNS; i++)
			if (conns[i].sock >= 0) {
				install_close_fd(conns[i].sock);
				if (conns[i].buf)
					munmap(conns[i].buf, conns[i].buf_len);
			}
		memset(conns, 0, sizeof(conns));
		for (int i = 0; i < REMOTE_CONNS; i++)
			conns[i].sock = -1;
		memset(inflight, 0, sizeof(inflight));
		service_pid = 0;
	}
	/* Locks another thread of the parent held are free here. */
	pthread_mutex_init(&service_lock, NULL);
	pthread_mutex_init(&remotes_lock, NULL);
	for (struct remote *r = remotes; r; r = r->next) {
		pthread_mutex_init(&r->lock, NULL);
		if (r->sock >= 0)
			install_close_fd(r->sock);
		r->sock = -1;
		if (r->buf)
			munmap(r->buf, REMOTE_BUF);
		r->buf = NULL;
	}
}
