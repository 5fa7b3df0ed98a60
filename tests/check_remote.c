// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The service a faulting process offers to monitors in other processes,
 * against a client that does not play by the rules: short packets,
 * requests before the greeting, a greeting with somebody else's
 * descriptor, without a buffer or with one it could shrink, unknown
 * requests, a COPY that claims more than its buffer holds.  Each gets an error
 * (or the connection is dropped), and the faulting process's userfaultfd goes
 * on working.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "emu/remote.h"
#include "uffdemu/uffdemu.h"

#define PG 4096UL

static int connect_service(pid_t pid)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	int n = snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1, "uffdemu.%d",
			 (int)pid);

	if (s < 0 ||
	    connect(s, (struct sockaddr *)&a,
		    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
				n)) != 0)
		return -1;
	return s;
}

/* Sends q with up to two descriptors; the reply's ret, or 1 on EOF. */
static int64_t ask(int s, const struct request *q, size_t len, int fd0, int fd1)
{
	char ctl[CMSG_SPACE(2 * sizeof(int))] = {0};
	int fds[2] = {fd0, fd1}, n = (fd0 >= 0) + (fd1 >= 0);
	struct iovec iov = {(void *)q, len};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	struct reply r;
	ssize_t got;

	if (n) {
		struct cmsghdr *c;

		m.msg_control = ctl;
		m.msg_controllen = CMSG_SPACE(n * sizeof(int));
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(n * sizeof(int));
		memcpy(CMSG_DATA(c), fds, n * sizeof(int));
	}
	if (sendmsg(s, &m, MSG_NOSIGNAL) < 0)
		return 1;
	got = recv(s, &r, sizeof(r), 0);
	if (got <= 0)
		return 1;
	return r.ret;
}

/* The hostile client, in a child process: its findings as exit codes. */
static int hostile(int sock, pid_t victim, unsigned int slot)
{
	struct request q = {.slot = slot};
	char ctl[CMSG_SPACE(sizeof(int))], b;
	struct iovec iov = {&b, 1};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = ctl,
			   .msg_controllen = sizeof(ctl)};
	int uffd, s, mfd, own;

	/* The real descriptor arrives with a plain recvmsg(). */
	if (recvmsg(sock, &m, 0) != 1 || !CMSG_FIRSTHDR(&m))
		return 10;
	memcpy(&uffd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(uffd));

	s = connect_service(victim);
	if (s < 0 || ask(s, &q, 5, -1, -1) != 1)
		return 11; /* a short packet ends the connection */
	close(s);

	s = connect_service(victim);
	q.op = OP_READ;
	if (ask(s, &q, sizeof(q), -1, -1) != -EBADF)
		return 12; /* no reading before the greeting */
	q.op = OP_IOCTL;
	q.request = UFFDIO_WAKE;
	if (ask(s, &q, sizeof(q), -1, -1) != -EBADF)
		return 13;
	own = epoll_create1(EPOLL_CLOEXEC);
	mfd = memfd_create("hostile", MFD_CLOEXEC);
	if (ftruncate(mfd, REMOTE_BUF))
		return 14;
	q.op = OP_HELLO;
	if (ask(s, &q, sizeof(q), own, mfd) != -EBADF)
		return 15; /* another epoll is no proof */
	if (ask(s, &q, sizeof(q), -1, -1) != -EBADF)
		return 16;
	if (ask(s, &q, sizeof(q), uffd, -1) != -EINVAL)
		return 17; /* no buffer */
	q.slot = slot + 1;
	if (ask(s, &q, sizeof(q), uffd, mfd) != -EBADF)
		return 18; /* the descriptor of another slot */
	q.slot = slot;
	if (ask(s, &q, sizeof(q), uffd, mfd) != -EINVAL)
		return 25; /* a buffer it could shrink */
	close(mfd);
	mfd = memfd_create("hostile", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (ftruncate(mfd, REMOTE_BUF) ||
	    fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW))
		return 26;
	if (ask(s, &q, sizeof(q), uffd, mfd) != 0)
		return 19;
	if (ask(s, &q, sizeof(q), uffd, mfd) != -EINVAL)
		return 20; /* one greeting per connection */
	q.op = OP_IOCTL;
	q.request = 0x1234;
	if (ask(s, &q, sizeof(q), -1, -1) != -EINVAL)
		return 21;
	q.request = UFFDIO_COPY;
	q.len = REMOTE_BUF + PG;
	if (ask(s, &q, sizeof(q), -1, -1) != -EINVAL)
		return 22; /* more than the buffer */
	q.len = PG;
	q.readable = 2 * PG;
	if (ask(s, &q, sizeof(q), -1, -1) != -EINVAL)
		return 23;
	q.op = 99;
	if (ask(s, &q, sizeof(q), -1, -1) != -EINVAL)
		return 24;
	close(s);
	return 0;
}

static int uffd;
static char *area;

static void *serve_one(void *arg)
{
	static char page[PG] __attribute__((aligned(4096)));
	struct pollfd p = {.fd = uffd, .events = POLLIN};
	struct uffd_msg msg;
	struct uffdio_copy c;

	(void)arg;
	memset(page, 'k', sizeof(page));
	while (uffdemu_poll(&p, 1, 5000) == 1) {
		if (uffdemu_read(uffd, &msg, sizeof(msg)) != sizeof(msg))
			continue;
		c = (struct uffdio_copy){msg.arg.pagefault.address & ~(PG - 1),
					 (uintptr_t)page, PG, 0, 0};
		uffdemu_ioctl(uffd, UFFDIO_COPY, &c);
		break;
	}
	return NULL;
}

START_TEST(hostile_client)
{
	struct uffdio_api api = {.api = UFFD_API};
	struct uffdio_register reg;
	char ctl[CMSG_SPACE(sizeof(int))] = {0}, b = 'u';
	struct iovec iov = {&b, 1};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = ctl,
			   .msg_controllen = sizeof(ctl)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	char fdinfo[4096];
	int sv[2], status, slot = 0;
	pthread_t t;
	pid_t pid;

	uffd = uffdemu_userfaultfd(O_CLOEXEC | O_NONBLOCK);
	ck_assert_int_ge(uffd, 0);
	ck_assert_int_eq(uffdemu_ioctl(uffd, UFFDIO_API, &api), 0);
	area = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	reg = (struct uffdio_register){{(uintptr_t)area, 2 * PG}, 1, 0};
	ck_assert_int_eq(uffdemu_ioctl(uffd, UFFDIO_REGISTER, &reg), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);

	/* The slot is the low 16 bits of the epoll event's data. */
	snprintf(fdinfo, sizeof(fdinfo), "/proc/self/fdinfo/%d", uffd);
	{
		FILE *f = fopen(fdinfo, "r");
		unsigned long long data = 0;
		char line[256];

		ck_assert_ptr_nonnull(f);
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "tfd: %*d events: %*x data: %llx",
				   &data) == 1)
				slot = (int)(data & 0xffff);
		fclose(f);
	}
	ck_assert_int_gt(slot, 0);

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(hostile(sv[1], getppid(), (unsigned int)slot));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &uffd, sizeof(uffd));
	ck_assert_int_eq(uffdemu_sendmsg(sv[0], &m, 0), 1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "the hostile client's check %d failed",
		      WEXITSTATUS(status));

	/* The faulting process's own userfaultfd still works. */
	pthread_create(&t, NULL, serve_one, NULL);
	ck_assert_int_eq(area[5], 'k');
	pthread_join(t, NULL);
	uffdemu_close(uffd);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("remote");
	TCase *tc = tcase_create("hostile");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, hostile_client);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
