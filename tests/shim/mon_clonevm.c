// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Tasks made with clone(CLONE_VM), as stress-ng makes its workers: they
 * share the address space, so their faults on registered memory, shared
 * or private, reach the monitor thread of the process that registered it.
 */
#include "mon.h"

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <sys/wait.h>

#define PAGES 4
#define STACK (256 << 10)

static int uffd;
static char *shared, *private_;

static void *monitor(void *arg)
{
	(void)arg;
	for (int n = 0; n < 2 * PAGES; n++) {
		struct uffd_msg m = uffd_next(uffd);
		unsigned long a = (unsigned long)m.arg.pagefault.address;
		bool sh = a - (unsigned long)shared < PAGES * PG;
		unsigned long page =
			(a - (unsigned long)(sh ? shared : private_)) / PG;

		say("monitor: %s fault on %s page %lu\n", access_name(&m),
		    sh ? "shared" : "private", page);
		if (uffd_copy_byte(uffd, a, (sh ? 'S' : 'P') + (int)page) != 0)
			die("UFFDIO_COPY");
	}
	return NULL;
}

/* The clone(CLONE_VM) task: reads each page once, in order. */
static int task(void *arg)
{
	int sum = 0;

	(void)arg;
	for (int k = 0; k < PAGES; k++)
		sum += shared[k * PG] + private_[k * PG];
	return sum & 0xff;
}

int main(void)
{
	char *stack = map_pages(STACK / PG);
	pthread_t t;
	int status;
	pid_t pid;

	uffd = uffd_create(O_NONBLOCK);
	uffd_api(uffd, 0);
	shared = mmap(NULL, PAGES * PG, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		die("mmap");
	private_ = map_pages(PAGES);
	uffd_register(uffd, shared, PAGES * PG);
	uffd_register(uffd, private_, PAGES * PG);
	pthread_create(&t, NULL, monitor, NULL);
	pid = clone(task, stack + STACK, CLONE_VM | SIGCHLD, NULL);
	if (pid < 0)
		die("clone");
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid");
	pthread_join(t, NULL);
	say("parent: the CLONE_VM task exited %d\n", WEXITSTATUS(status));
	say("parent: shared page 3 reads '%c', private page 3 '%c'\n",
	    shared[3 * PG], private_[3 * PG]);
	return 0;
}
