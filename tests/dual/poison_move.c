/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * UFFDIO_POISON and UFFDIO_MOVE, printed line by line so that the
 * kernel's run and the emulator's can be compared: argument errors and the
 * output field, EEXIST and partial progress, SIGBUS on poisoned pages and
 * what survives UNREGISTER, fork and MADV_DONTNEED; MOVE's mapping checks,
 * holes, the zero page and pages shared with a fork child.
 */
#include <setjmp.h>
#include <signal.h>
#include <sys/wait.h>

#include "dual.h"

#define PS 4096UL

static sigjmp_buf jump;
static volatile int sig, code;
static void *volatile sig_addr;
static char *area;
static int fd;

static void on_sigbus(int s, siginfo_t *si, void *uc)
{
	(void)uc;
	sig = s;
	code = si->si_code;
	sig_addr = si->si_addr;
	siglongjmp(jump, 1);
}

/* The signal an access raised, 0 if none. */
static int touch(char *p, int write)
{
	sig = 0;
	if (sigsetjmp(jump, 1) == 0) {
		if (write)
			*(volatile char *)p = 1;
		else
			(void)*(volatile char *)p;
	}
	return sig;
}

static void poison(const char *label, unsigned long page, unsigned long pages,
		   unsigned long long mode)
{
	struct uffdio_poison p = {
		{(uintptr_t)area + page * PS, pages * PS}, mode, 0x7777};
	int rc = u_ioctl(fd, UFFDIO_POISON, &p);

	show(label, rc, p.updated);
}

static void move(const char *label, char *dst, char *src, unsigned long len,
		 unsigned long long mode)
{
	struct uffdio_move m = {(uintptr_t)dst, (uintptr_t)src, len, mode,
				0x7777};
	int rc = u_ioctl(fd, UFFDIO_MOVE, &m);

	show(label, rc, m.move);
}

static void copy_page(const char *label, unsigned long page, char c)
{
	static char src[PS];
	struct uffdio_copy m = {(uintptr_t)area + page * PS, (uintptr_t)src, PS,
				0, 0x7777};
	int rc;

	memset(src, c, PS);
	rc = u_ioctl(fd, UFFDIO_COPY, &m);
	show(label, rc, m.copy);
}

/* A child's access to p: how it ended. */
static void child_touch(const char *label, char *p)
{
	pid_t c = fork();
	int st;

	if (c == 0)
		_exit(touch(p, 0));
	waitpid(c, &st, 0);
	printf("%s: exit=%d signal=%d\n", label,
	       WIFEXITED(st) ? WEXITSTATUS(st) : -1,
	       WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

int main(void)
{
	struct sigaction sa = {0};
	struct uffdio_api api = {UFFD_API, 0, 0};
	struct uffdio_register reg;
	struct uffdio_range range;
	struct uffdio_zeropage z;
	char *src, *dst;
	int s, rc;
	pid_t c;

	setvbuf(stdout, NULL, _IOLBF, 0);
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGBUS, &sa, NULL);
	fd = dual_create(O_CLOEXEC | O_NONBLOCK);
	u_ioctl(fd, UFFDIO_API, &api);
	area = mmap(NULL, 32 * PS, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	area[0] = 1;
	area[4 * PS] = 1;
	reg = (struct uffdio_register){
		{(uintptr_t)area, 16 * PS}, UFFDIO_REGISTER_MODE_MISSING, 0};
	rc = u_ioctl(fd, UFFDIO_REGISTER, &reg);
	show("REGISTER", rc, (long long)reg.ioctls);

	poison("POISON populated page 0", 0, 1, 0);
	poison("POISON pages 1-2", 1, 2, 0);
	poison("POISON mode 2", 1, 1, 2);
	poison("POISON page 20 (unregistered)", 20, 1, 0);
	poison("POISON page 1 again", 1, 1, 0);
	poison("POISON pages 3-5 (4 populated)", 3, 3, 0);
	s = touch(area + PS + 5, 0);
	printf("read of poisoned page: signal=%d code=%d exact=%d\n", s, code,
	       sig_addr == area + PS + 5);
	s = touch(area + 2 * PS + 9, 1);
	printf("write to poisoned page: signal=%d code=%d exact=%d\n", s, code,
	       sig_addr == area + 2 * PS + 9);
	z = (struct uffdio_zeropage){{(uintptr_t)area + PS, PS}, 0, 0x7777};
	rc = u_ioctl(fd, UFFDIO_ZEROPAGE, &z);
	show("ZEROPAGE over poison", rc, z.zeropage);
	copy_page("COPY over poison, page 1", 1, 'c');
	printf("page 1 now: %c\n", area[PS]);
	child_touch("fork child reads poisoned page 2", area + 2 * PS);
	range = (struct uffdio_range){(uintptr_t)area, 16 * PS};
	show("UNREGISTER", u_ioctl(fd, UFFDIO_UNREGISTER, &range), 0);
	printf("poisoned page 2 after UNREGISTER: signal=%d\n",
	       touch(area + 2 * PS, 0));
	show("MADV_DONTNEED page 2",
	     u_madvise(area + 2 * PS, PS, MADV_DONTNEED), 0);
	s = touch(area + 2 * PS, 0);
	printf("page 2 after MADV_DONTNEED: signal=%d value=%d\n", s,
	       area[2 * PS]);

	rc = u_ioctl(fd, UFFDIO_REGISTER, &reg);
	show("REGISTER again", rc, (long long)reg.ioctls);
	/* A source of its own, with a hole after it. */
	src = mmap(NULL, 10 * PS, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(src + 8 * PS, 2 * PS);
	memset(src, 's', 2 * PS);
	memset(src + 4 * PS, 't', PS);
	dst = area + 8 * PS;
	move("MOVE mode 4", dst, src, PS, 4);
	move("MOVE unaligned src", dst, src + 1, PS, 0);
	move("MOVE 2 pages", dst, src, 2 * PS, 0);
	printf("dst: %c%c, src page 0 now %d\n", dst[0], dst[PS], src[0]);
	move("MOVE onto a populated page", dst, src + 4 * PS, PS, 0);
	move("MOVE from a hole", dst + 2 * PS, src + 3 * PS, PS, 0);
	move("MOVE hole then page, holes allowed", dst + 2 * PS, src + 3 * PS,
	     2 * PS, UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES);
	printf("dst page 3: %c\n", dst[3 * PS]);
	move("MOVE into unregistered memory", area + 20 * PS, src + 4 * PS, PS,
	     0);
	move("MOVE from past the source mapping", dst + 4 * PS, src + 7 * PS,
	     2 * PS, 0);
	memset(src + 5 * PS, 'u', PS);
	mprotect(src + 5 * PS, PS, PROT_READ);
	move("MOVE from a read-only page", dst + 4 * PS, src + 5 * PS, PS, 0);
	(void)*(volatile char *)(src + 6 * PS);
	move("MOVE the zero page", dst + 4 * PS, src + 6 * PS, PS, 0);
	memset(src + 7 * PS, 'w', PS);
	c = fork();
	if (c == 0) {
		sleep(1);
		_exit(0);
	}
	move("MOVE a page shared with a child", dst + 5 * PS, src + 7 * PS, PS,
	     0);
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);
	return 0;
}
