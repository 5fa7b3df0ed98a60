/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Bulk COPY: a monitor that fills registered memory ahead of the faults
 * (prefetching, restoring a snapshot) copies large amounts in pieces of
 * one size.  No thread waits, so this is the cost of filling alone.
 *
 * The source is a staging buffer of 2 MiB that is used over and over, as
 * a monitor reading from a file or a socket would do; it is prefaulted so
 * that neither backend pays for it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bench.h"

#define STAGING (2UL << 20)

static int copy_all(const struct backend *b, int uffd, char *dst,
		    const char *src, size_t total, size_t chunk)
{
	for (size_t off = 0; off < total; off += chunk) {
		struct uffdio_copy c = {(uintptr_t)(dst + off),
					(uintptr_t)(src + off % STAGING), chunk,
					0, 0};

		if (b->ioctl(uffd, UFFDIO_COPY, &c) != 0)
			return -1;
	}
	return 0;
}

static int prepare(const struct backend *b, int *uffd, char *dst, size_t total,
		   struct result *r)
{
	struct uffdio_api api = {.api = UFFD_API};
	struct uffdio_register reg = {
		{(uintptr_t)dst, total}, UFFDIO_REGISTER_MODE_MISSING, 0};

	*uffd = b->userfaultfd(O_CLOEXEC | O_NONBLOCK);
	if (*uffd < 0)
		return fail(r, "userfaultfd", errno);
	if (b->ioctl(*uffd, UFFDIO_API, &api) != 0)
		return fail(r, "UFFDIO_API", errno);
	if (b->ioctl(*uffd, UFFDIO_REGISTER, &reg) != 0)
		return fail(r, "UFFDIO_REGISTER", errno);
	return 0;
}

int run_bulk(const struct bench_case *c, const struct backend *b,
	     struct result *r)
{
	size_t total = cfg.bulk_bytes, chunk = c->size;
	char *src = aligned_alloc(BENCH_PAGE, STAGING);
	char *dst = mmap(NULL, total, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	double t0, t1;
	int uffd;

	if (!src || dst == MAP_FAILED)
		return fail(r, "memory", ENOMEM);
	if (total % chunk || chunk > STAGING)
		return fail(r, "bulk size is not a multiple of the chunk", 0);
	memset(src, 'b', STAGING);
	pin_to_cpu(0);
	if (prepare(b, &uffd, dst, total, r) != 0)
		return -1;
	t0 = now_us();
	if (copy_all(b, uffd, dst, src, total, chunk) != 0)
		return fail(r, "UFFDIO_COPY", errno);
	t1 = now_us();
	if (dst[total - 1] != 'b')
		return fail(r, "the copied memory reads wrong", 0);
	r->metric[0] = (double)total / (double)(1UL << 30) / ((t1 - t0) / 1e6);
	return 0;
}
