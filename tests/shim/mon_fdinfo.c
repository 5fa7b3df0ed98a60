/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What /proc shows of a userfaultfd from inside the process: the
 * anon_inode link, and fdinfo's pending, total and API lines as a fault is
 * raised, read and resolved, read with open(2) and with fopen(3).
 */
#include "mon.h"

#include <pthread.h>
#include <sys/stat.h>

static int uffd;
static char *area;

/* The fdinfo lines, with the values that differ between files hidden. */
static void show_fdinfo(const char *path, const char *when)
{
	char buf[1024], *line, *save;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		die(path);
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		die("read of fdinfo");
	buf[n] = '\0';
	close(fd);
	say("fdinfo %s:", when);
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "mnt_id:", 7) == 0 ||
		    strncmp(line, "ino:", 4) == 0)
			say(" [%.*s]", (int)strcspn(line, ":"), line);
		else if (strncmp(line, "API:", 4) == 0)
			/* The ioctl mask differs: the emulator offers less. */
			say(" [%.*s]", (int)(strrchr(line, ':') - line), line);
		else
			say(" [%s]", line);
	}
	say("\n");
}

static void *toucher(void *unused)
{
	return (void *)(long)area[0];
}

static void show_link(int fd)
{
	char path[64], link[128];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link));
	say("readlink /proc/self/fd/N: %.*s\n", (int)(n < 0 ? 0 : n), link);
	n = readlink(path, link, 10);
	say("readlink into 10 bytes: %zd \"%.*s\"\n", n, (int)(n < 0 ? 0 : n),
	    link);
}

int main(void)
{
	char path[64], pidpath[64], line[256];
	pthread_t thread;
	struct uffd_msg m;
	struct stat st;
	int plain;
	FILE *f;

	uffd = uffd_create(O_CLOEXEC | O_NONBLOCK);
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", uffd);
	snprintf(pidpath, sizeof(pidpath), "/proc/%d/fdinfo/%d", (int)getpid(),
		 uffd);
	show_link(uffd);
	if (fstat(uffd, &st) != 0)
		die("fstat");
	say("fstat: mode %#o, size %lld, blksize %ld\n", st.st_mode,
	    (long long)st.st_size, (long)st.st_blksize);
	show_fdinfo(path, "before UFFDIO_API");
	uffd_api(uffd, 0);
	show_fdinfo(pidpath, "after UFFDIO_API");

	area = map_pages(1);
	uffd_register(uffd, area, PG);
	if (pthread_create(&thread, NULL, toucher, NULL) != 0)
		die("pthread_create");
	{
		struct pollfd p = {.fd = uffd, .events = POLLIN};

		if (poll(&p, 1, -1) != 1)
			die("poll");
	}
	show_fdinfo(path, "with a fault queued");
	if (read(uffd, &m, sizeof(m)) != sizeof(m))
		die("read");
	show_fdinfo(path, "with the fault read");
	if (uffd_copy_byte(uffd, m.arg.pagefault.address, 'q') != 0)
		die("UFFDIO_COPY");
	pthread_join(thread, NULL);
	show_fdinfo(path, "with the fault resolved");

	f = fopen(path, "re");
	if (!f)
		die("fopen");
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "pending:", 8) == 0 ||
		    strncmp(line, "total:", 6) == 0)
			say("fopen+fgets: %s", line);
	fclose(f);

	plain = uffd_create(0);
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", plain);
	show_fdinfo(path, "of a blocking uffd without O_CLOEXEC");
	show_link(plain);
	close(plain);
	close(uffd);
	return 0;
}
