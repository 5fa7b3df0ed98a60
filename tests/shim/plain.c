/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A program that never uses userfaultfd but makes every call the shim
 * wraps: it must behave exactly the same with and without the shim.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096UL

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

static void show(const char *what, long r)
{
	const char *err = r < 0 ? strerrorname_np(errno) : "";

	say("%s: %ld%s%s\n", what, r, *err ? " " : "", err);
}

static void io(void)
{
	char buf[64] = "", a[4], b[8];
	struct iovec iov[2] = {{a, sizeof(a)}, {b, sizeof(b)}};
	int p[2], s[2], n = -1, dupfd;
	FILE *f;

	show("pipe", pipe(p));
	show("write", write(p[1], "hello, pipe", 11));
	show("FIONREAD", ioctl(p[0], FIONREAD, &n));
	say("available %d\n", n);
	show("readv", readv(p[0], iov, 2));
	say("got \"%.4s\" \"%.7s\"\n", a, b);
	show("writev", writev(p[1], iov, 2));
	show("read", read(p[0], buf, sizeof(buf)));
	show("read from a bad fd", read(-1, buf, 1));
	show("pread on a pipe", pread(p[0], buf, 1, 0));
	dupfd = dup(p[0]);
	show("dup2", dup2(dupfd, 40));
	show("dup3", dup3(dupfd, 41, O_CLOEXEC));
	show("F_DUPFD", fcntl(dupfd, F_DUPFD, 50));
	show("F_GETFD of 41", fcntl(41, F_GETFD));
	show("F_SETFL", fcntl(p[0], F_SETFL, O_NONBLOCK));
	show("F_GETFL", fcntl(p[0], F_GETFL));
	show("read with nothing there", read(p[0], buf, 1));
	show("close", close(dupfd));
	show("close 40", close(40));
	show("close again", close(40));
	show("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, s));
	show("send", send(s[0], "sock", 4, 0));
	show("recv", recv(s[1], buf, sizeof(buf), 0));
	show("sendto", sendto(s[0], "more", 4, 0, NULL, 0));
	show("recvfrom", recvfrom(s[1], buf, sizeof(buf), 0, NULL, NULL));
	show("getrandom", getrandom(buf, 16, 0));
	f = fopen("/proc/self/fdinfo/0", "r");
	show("fopen of fdinfo", f ? 0 : -1);
	if (f && fgets(buf, sizeof(buf), f))
		say("its first line starts \"%.4s\"\n", buf);
	if (f)
		fclose(f);
	show("open of a missing file", open("/nonexistent/x", O_RDONLY));
	show("openat", openat(AT_FDCWD, "/dev/null", O_RDONLY | O_CLOEXEC));
	show("readlink of /proc/self/fd/0 length > 0",
	     readlink("/proc/self/fd/0", buf, sizeof(buf)) > 0);
	show("lseek on a pipe", lseek(p[0], 0, SEEK_SET));
	show("syscall(SYS_getppid) is getppid()",
	     syscall(SYS_getppid) == getppid());
	show("syscall(SYS_write)", syscall(SYS_write, p[1], "x", 1));
	close(p[0]);
	close(p[1]);
}

static void waits(void)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 77}, out;
	struct timeval tv = {0, 1000};
	struct pollfd pf;
	int p[2], ep;
	fd_set r;

	show("pipe", pipe(p));
	pf = (struct pollfd){.fd = p[0], .events = POLLIN};
	show("poll, empty", poll(&pf, 1, 1));
	show("write", write(p[1], "w", 1));
	show("poll, data", poll(&pf, 1, 1));
	say("revents %#x\n", pf.revents);
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	show("select", select(p[0] + 1, &r, NULL, NULL, &tv));
	ep = epoll_create1(0);
	show("epoll_ctl", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
	show("epoll_wait", epoll_wait(ep, &out, 1, 10));
	say("data %llu events %#x\n", (unsigned long long)out.data.u64,
	    out.events);
	close(ep);
	close(p[0]);
	close(p[1]);
}

static sigjmp_buf back;

static void on_segv(int sig)
{
	siglongjmp(back, 1);
}

static void memory(void)
{
	char *p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	sigset_t set, old;
	char *q;

	show("mmap", p == MAP_FAILED ? -1 : 0);
	memset(p, 'm', 4 * PG);
	show("mprotect", mprotect(p + PG, PG, PROT_READ));
	show("madvise DONTNEED", madvise(p + 2 * PG, PG, MADV_DONTNEED));
	say("page 2 now reads %d\n", p[2 * PG]);
	show("mprotect back", mprotect(p + PG, PG, PROT_READ | PROT_WRITE));
	q = mremap(p, 4 * PG, 8 * PG, MREMAP_MAYMOVE);
	show("mremap", q == MAP_FAILED ? -1 : 0);
	if (q == MAP_FAILED)
		exit(1);
	say("moved page 0 reads '%c'\n", q[0]);
	show("mmap MAP_FIXED",
	     mmap(q, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
		  0) == q
		     ? 0
		     : -1);
	show("signal(SIGSEGV)", signal(SIGSEGV, on_segv) == SIG_DFL);
	if (!sigsetjmp(back, 1))
		(void)*(volatile char *)q;
	say("the PROT_NONE page faulted into the handler\n");
	sigemptyset(&set);
	sigaddset(&set, SIGSEGV);
	show("blocking SIGSEGV", sigprocmask(SIG_BLOCK, &set, &old));
	sigprocmask(SIG_SETMASK, NULL, &set);
	say("SIGSEGV is blocked: %d\n", sigismember(&set, SIGSEGV));
	sigprocmask(SIG_SETMASK, &old, NULL);
	show("munmap", munmap(q, 8 * PG));
}

static void processes(void)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", "echo child says hi; exit 5",
		      (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	say("child exited %d\n", WEXITSTATUS(status));
}

static void descriptors(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	say("open descriptors (with the directory's): %d\n", n);
}

int main(void)
{
	descriptors();
	io();
	waits();
	memory();
	processes();
	descriptors();
	return 0;
}
