/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A monitor whose program installs its own SIGSEGV handlers after creating
 * the userfaultfd, with sigaction(2) and signal(2), and blocks SIGSEGV:
 * userfaults must still reach the monitor, and real faults the handlers.
 */
#include "mon.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>

#define PAGES 3

static int uffd;
static char *area, *forbidden;
static sigjmp_buf back;
static volatile sig_atomic_t caught;

static void *monitor(void *unused)
{
	for (int i = 0; i < PAGES; i++) {
		struct uffd_msg m = uffd_next(uffd);

		say("monitor: %s fault on page %lu\n", access_name(&m),
		    (unsigned long)(m.arg.pagefault.address -
				    (unsigned long)area) /
			    PG);
		if (uffd_copy_byte(uffd, m.arg.pagefault.address, 'A' + i) != 0)
			die("UFFDIO_COPY");
	}
	return NULL;
}

static void on_segv_info(int sig, siginfo_t *si, void *uc)
{
	caught = si->si_addr == forbidden ? 1 : -1;
	siglongjmp(back, 1);
}

static void on_segv_plain(int sig)
{
	caught = 2;
	siglongjmp(back, 1);
}

static void touch_forbidden(const char *with)
{
	caught = 0;
	if (!sigsetjmp(back, 1))
		(void)*(volatile char *)forbidden;
	say("a real fault went to %s: %s\n", with,
	    caught == 1   ? "yes, with the right address"
	    : caught == 2 ? "yes"
			  : "no");
}

int main(void)
{
	struct sigaction act = {.sa_sigaction = on_segv_info,
				.sa_flags = SA_SIGINFO};
	struct sigaction old;
	pthread_t thread;
	sigset_t segv;

	uffd = uffd_create(O_CLOEXEC | O_NONBLOCK);
	uffd_api(uffd, 0);
	area = map_pages(PAGES);
	forbidden =
		mmap(NULL, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (forbidden == MAP_FAILED)
		die("mmap");
	uffd_register(uffd, area, PAGES * PG);
	if (pthread_create(&thread, NULL, monitor, NULL) != 0)
		die("pthread_create");

	sigemptyset(&act.sa_mask);
	show("sigaction(SIGSEGV)", sigaction(SIGSEGV, &act, &old));
	say("the previous handler was %s\n",
	    old.sa_handler == SIG_DFL ? "SIG_DFL" : "something else");
	say("main: page 0 reads '%c'\n", area[0]);
	touch_forbidden("the sigaction handler");

	say("signal(SIGSEGV) returned %s\n",
	    (void *)signal(SIGSEGV, on_segv_plain) == (void *)on_segv_info
		    ? "the sigaction handler"
		    : "something else");
	area[PG] = 'w';
	say("main: page 1 reads '%c%c'\n", area[PG], area[PG + 1]);
	touch_forbidden("the signal handler");
	show("sigaction(SIGSEGV) read back", sigaction(SIGSEGV, NULL, &old));
	say("it reports %s\n", old.sa_handler == on_segv_plain
				       ? "the signal handler"
				       : "something else");

	sigemptyset(&segv);
	sigaddset(&segv, SIGSEGV);
	show("blocking SIGSEGV", sigprocmask(SIG_BLOCK, &segv, NULL));
	say("main: page 2 reads '%c'\n", area[2 * PG]);
	pthread_join(thread, NULL);
	close(uffd);
	return 0;
}
