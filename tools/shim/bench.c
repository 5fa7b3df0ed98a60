/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the shim adds to calls on ordinary descriptors.
 *
 *   uffdemu run -- uffdemu-shim-bench [--with-uffd] [--cpu N]
 *
 * Each call is timed two ways in the same process, in alternating rounds:
 * through the C library's own function (looked up in libc.so.6) and
 * through the name the program would call (the shim's wrapper when it is
 * preloaded).  The difference of the medians is the shim's cost; run
 * without the shim, both are the C library's and the difference is noise.
 * --with-uffd first creates a userfaultfd and registers a page, so the
 * wrappers also run their registered-memory check.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/*
 * Many short rounds, alternating which side goes first, so that what the
 * rest of the machine does falls on both sides alike; the figure is the
 * median of the per-round differences.
 */
#define ROUNDS 2001
#define CALLS  500

typedef ssize_t (*read_fn)(int, void *, size_t);
typedef int (*ioctl_fn)(int, unsigned long, ...);

static read_fn read_libc, read_named;
static ioctl_fn ioctl_libc, ioctl_named;
static int zero_fd, pipe_fd;
static char buf[64];

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static double time_read(read_fn fn, size_t n)
{
	double t0 = now_ns();

	for (int i = 0; i < CALLS; i++)
		if (fn(zero_fd, buf, n) != (ssize_t)n)
			abort();
	return (now_ns() - t0) / CALLS;
}

static double time_ioctl(ioctl_fn fn)
{
	double t0 = now_ns();
	int avail;

	for (int i = 0; i < CALLS; i++)
		if (fn(pipe_fd, FIONREAD, &avail) != 0)
			abort();
	return (now_ns() - t0) / CALLS;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v)
{
	qsort(v, ROUNDS, sizeof(*v), cmp);
	return v[ROUNDS / 2];
}

/* One side of a round: kind 0 reads 0 bytes, 1 reads 64, 2 is FIONREAD. */
static double side(int kind, bool named)
{
	if (kind == 2)
		return time_ioctl(named ? ioctl_named : ioctl_libc);
	return time_read(named ? read_named : read_libc, kind ? 64 : 0);
}

static void measure(const char *what, int kind)
{
	static double libc[ROUNDS], named[ROUNDS], diff[ROUNDS];

	for (int r = 0; r < ROUNDS; r++) {
		if (r % 2) {
			named[r] = side(kind, true);
			libc[r] = side(kind, false);
		} else {
			libc[r] = side(kind, false);
			named[r] = side(kind, true);
		}
		diff[r] = named[r] - libc[r];
	}
	printf("%-28s libc %6.1f ns  as called %6.1f ns  added %5.1f ns\n",
	       what, median(libc), median(named), median(diff));
}

/* A userfaultfd with one registered page, far from the buffers. */
static int with_uffd(void)
{
	struct uffdio_api api = {.api = UFFD_API};
	struct uffdio_register reg = {.mode = UFFDIO_REGISTER_MODE_MISSING};
	int uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	void *p;

	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api) != 0)
		return -1;
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	reg.range.start = (unsigned long)p;
	reg.range.len = 4096;
	return ioctl(uffd, UFFDIO_REGISTER, &reg);
}

int main(int argc, char **argv)
{
	void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	const char *preload = getenv("LD_PRELOAD");
	int fds[2], cpu = 0;
	bool uffd = false;
	cpu_set_t set;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--with-uffd") == 0)
			uffd = true;
		else if (strcmp(argv[i], "--cpu") == 0 && i + 1 < argc)
			cpu = atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: %s [--with-uffd] [--cpu N]\n",
				argv[0]);
			return 2;
		}
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
	if (!libc) {
		fprintf(stderr, "uffdemu-shim-bench: libc.so.6: %s\n",
			dlerror());
		return 1;
	}
	read_libc = (read_fn)dlsym(libc, "read");
	ioctl_libc = (ioctl_fn)dlsym(libc, "ioctl");
	read_named = (read_fn)dlsym(RTLD_DEFAULT, "read");
	ioctl_named = (ioctl_fn)dlsym(RTLD_DEFAULT, "ioctl");
	zero_fd = open("/dev/zero", O_RDONLY);
	if (zero_fd < 0 || pipe(fds) != 0) {
		perror("uffdemu-shim-bench: /dev/zero or pipe");
		return 1;
	}
	pipe_fd = fds[0];
	if (uffd && with_uffd() != 0) {
		fprintf(stderr, "uffdemu-shim-bench: userfaultfd: %s\n",
			strerror(errno));
		return 1;
	}
	printf("%s, %s, pinned to CPU %d; medians of %d rounds of %d calls\n",
	       read_named == read_libc ? "C library only" : "under the shim",
	       uffd ? "a userfaultfd registered" : "no userfaultfd", cpu,
	       ROUNDS, CALLS);
	if (preload && read_named == read_libc)
		printf("(LD_PRELOAD is set but read() is the C library's)\n");
	measure("read(/dev/zero, 0 bytes)", 0);
	measure("read(/dev/zero, 64 bytes)", 1);
	measure("ioctl(pipe, FIONREAD)", 2);
	return 0;
}
