/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A monitor that forks and execs while its userfaultfd is live.  The
 * children must not break: /bin/true and a shell run, a forked child sees
 * the parent's registered pages as ordinary memory (as the kernel does
 * without UFFD_FEATURE_EVENT_FORK), children that create their own
 * userfaultfd, after fork and after exec, monitor their own faults, and a
 * forked child can serve the parent's faults with the descriptor it
 * inherited.
 */
#include "mon.h"

#include <pthread.h>
#include <sys/wait.h>

#define PAGES 2

struct mon {
	int uffd;
	char *area;
	const char *who;
	int faults;
};

static void *monitor(void *arg)
{
	struct mon *m = arg;

	for (int i = 0; i < m->faults; i++) {
		struct uffd_msg msg = uffd_next(m->uffd);

		say("%s monitor: %s fault on page %lu\n", m->who,
		    access_name(&msg),
		    (unsigned long)(msg.arg.pagefault.address -
				    (unsigned long)m->area) /
			    PG);
		if (uffd_copy_byte(m->uffd, msg.arg.pagefault.address,
				   'a' + i) != 0)
			die("UFFDIO_COPY");
	}
	return NULL;
}

/* A whole monitored life: its own uffd, thread, faults and output. */
static void own_uffd(const char *who)
{
	struct mon m = {.who = who, .faults = PAGES};
	pthread_t thread;

	m.uffd = uffd_create(O_CLOEXEC | O_NONBLOCK);
	uffd_api(m.uffd, 0);
	m.area = map_pages(PAGES);
	uffd_register(m.uffd, m.area, PAGES * PG);
	if (pthread_create(&thread, NULL, monitor, &m) != 0)
		die("pthread_create");
	for (int i = 0; i < PAGES; i++) {
		char c = m.area[i * PG];

		say("%s: page %d reads '%c'\n", who, i, c);
	}
	pthread_join(thread, NULL);
	close(m.uffd);
}

static void wait_child(const char *what, pid_t pid)
{
	int status;

	if (pid < 0)
		die("fork");
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid");
	if (WIFEXITED(status))
		say("parent: %s exited %d\n", what, WEXITSTATUS(status));
	else
		say("parent: %s died of signal %d\n", what, WTERMSIG(status));
}

int main(int argc, char **argv)
{
	struct mon m = {.who = "parent", .faults = PAGES};
	pthread_t thread;
	pid_t pid;

	if (argc > 1 && strcmp(argv[1], "exec-child") == 0) {
		own_uffd("exec'd child");
		return 0;
	}

	/* Not O_CLOEXEC: the exec'd children inherit it. */
	m.uffd = uffd_create(O_NONBLOCK);
	uffd_api(m.uffd, 0);
	m.area = map_pages(PAGES);
	uffd_register(m.uffd, m.area, PAGES * PG);
	say("parent: registered %d pages\n", PAGES);

	pid = fork();
	if (pid == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	wait_child("/bin/true", pid);

	pid = fork();
	if (pid == 0) {
		say("forked child: the parent's page 0 reads %d\n", m.area[0]);
		m.area[PG] = 'c';
		say("forked child: it wrote page 1 without a fault\n");
		_exit(0);
	}
	wait_child("the forked child", pid);

	pid = fork();
	if (pid == 0) {
		own_uffd("forked child");
		_exit(0);
	}
	wait_child("the forked child with its own uffd", pid);

	pid = fork();
	if (pid == 0) {
		execl("/proc/self/exe", argv[0], "exec-child", (char *)NULL);
		_exit(127);
	}
	wait_child("the exec'd child", pid);

	say("parent: system() gave %d\n",
	    WEXITSTATUS(system("echo 'shell: hello' && exit 3")));

	if (pthread_create(&thread, NULL, monitor, &m) != 0)
		die("pthread_create");
	for (int i = 0; i < PAGES; i++) {
		char c = m.area[i * PG];

		say("parent: page %d reads '%c'\n", i, c);
	}
	pthread_join(thread, NULL);

	/* A forked child serves the parent's faults with the inherited fd. */
	m.area = map_pages(1);
	uffd_register(m.uffd, m.area, PG);
	pid = fork();
	if (pid == 0) {
		struct mon k = {m.uffd, m.area, "forked child, as the parent's",
				1};

		monitor(&k);
		_exit(0);
	}
	say("parent: its new page reads '%c'\n", m.area[0]);
	wait_child("the child serving it", pid);
	close(m.uffd);
	return 0;
}
