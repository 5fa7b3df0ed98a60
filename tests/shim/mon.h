/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the shim's test monitors share.  They are written only against the
 * kernel's <linux/userfaultfd.h> and syscall(), with no uffdemu API: each
 * one is built once and run twice, on the kernel and under `uffdemu run`,
 * and must print the same thing both times.  Addresses are printed as page
 * numbers within the program's own areas, so the output does not depend
 * on where memory was mapped.
 *
 * A monitor exits 77 when the kernel refuses userfaultfd (the comparison
 * then checks the emulator against the expected text alone).
 */
#ifndef UFFDEMU_TESTS_SHIM_MON_H
#define UFFDEMU_TESTS_SHIM_MON_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PG 4096UL

static inline void die(const char *what)
{
	fprintf(stderr, "monitor: %s: %s\n", what, strerror(errno));
	exit(1);
}

static inline void skip(const char *why)
{
	fprintf(stderr, "SKIP: %s\n", why);
	exit(77);
}

/* Lines go out whole and at once, so forks and threads never mix them. */
static inline void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

static inline int uffd_create(int flags)
{
	int fd = (int)syscall(SYS_userfaultfd, flags);

	if (fd < 0 && (errno == EPERM || errno == ENOSYS || errno == EACCES))
		skip("the kernel's userfaultfd is unavailable");
	if (fd < 0)
		die("userfaultfd");
	return fd;
}

static inline void uffd_api(int uffd, unsigned long long features)
{
	struct uffdio_api api = {.api = UFFD_API, .features = features};

	if (ioctl(uffd, UFFDIO_API, &api) != 0)
		die("UFFDIO_API");
}

static inline char *map_pages(unsigned long pages)
{
	char *p = mmap(NULL, pages * PG, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	return p;
}

static inline void uffd_register(int uffd, void *p, unsigned long len)
{
	struct uffdio_register reg = {
		.range = {(unsigned long)p, len},
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};

	if (ioctl(uffd, UFFDIO_REGISTER, &reg) != 0)
		die("UFFDIO_REGISTER");
}

/* Fills the page at dst with c; returns the ioctl's result. */
static inline int uffd_copy_byte(int uffd, unsigned long dst, int c)
{
	static char page[PG] __attribute__((aligned(4096)));
	struct uffdio_copy copy = {
		.dst = dst & ~(PG - 1), .src = (unsigned long)page, .len = PG};

	memset(page, c, PG);
	return ioctl(uffd, UFFDIO_COPY, &copy);
}

/* Waits for one message on a non-blocking uffd and returns it. */
static inline struct uffd_msg uffd_next(int uffd)
{
	struct uffd_msg msg;

	for (;;) {
		struct pollfd p = {.fd = uffd, .events = POLLIN};

		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			die("poll");
		if (read(uffd, &msg, sizeof(msg)) == sizeof(msg))
			return msg;
		if (errno != EAGAIN && errno != EINTR)
			die("read");
	}
}

static inline const char *access_name(const struct uffd_msg *m)
{
	return m->arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE ? "write"
								  : "read";
}

static inline const char *errno_name(int err)
{
	const char *n = strerrorname_np(err);

	return n ? n : "?";
}

/* "what: result" with the errno name on failure, read after the call. */
static inline void show(const char *what, long r)
{
	const char *err = r < 0 ? errno_name(errno) : "";

	say("%s: %ld%s%s\n", what, r, *err ? " " : "", err);
}

/* Passes fd over a Unix socket (SCM_RIGHTS), with one byte. */
static inline void send_fd(int sock, int fd)
{
	char ctl[CMSG_SPACE(sizeof(int))] = {0}, b = 'u';
	struct iovec iov = {&b, 1};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = ctl,
			   .msg_controllen = sizeof(ctl)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(fd));
	if (sendmsg(sock, &m, 0) != 1)
		die("sendmsg");
}

static inline int recv_fd(int sock)
{
	char ctl[CMSG_SPACE(sizeof(int))], b;
	struct iovec iov = {&b, 1};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = ctl,
			   .msg_controllen = sizeof(ctl)};
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &m, 0) != 1)
		die("recvmsg");
	c = CMSG_FIRSTHDR(&m);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		die("no descriptor received");
	memcpy(&fd, CMSG_DATA(c), sizeof(fd));
	return fd;
}

/*
 * Starts a server process running serve() on its end of a new socket
 * pair; *sock gets this end.
 */
static inline pid_t start_server(void (*serve)(int sock), int *sock)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		die("socketpair");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(sv[0]);
		serve(sv[1]);
		_exit(0);
	}
	close(sv[1]);
	*sock = sv[0];
	return pid;
}

#endif /* UFFDEMU_TESTS_SHIM_MON_H */
