/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Scale: a large registration resolved page by page in random order, the
 * way a lazy restore or a post-copy migration fills memory.  Reported:
 * the time (registration included), how many memory regions the process
 * gained, and the backend's own memory per registered page.
 *
 * The own memory is the growth of the process's anonymous memory
 * (smaps_rollup's Anonymous:) from before the userfaultfd was created to
 * after the last page was resolved, minus the 4 KiB of every page the
 * workload filled.  The kernel's own bookkeeping lives in the kernel (page
 * tables, which both backends need alike) and shows as about zero; the
 * emulator's tables live in the process and show here.
 *
 * SCALE_COPY fills the pages with UFFDIO_COPY from the main thread, no
 * faults involved.  SCALE_FAULTS touches the pages instead and a monitor
 * on the same CPU answers each fault with a COPY.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bench.h"

struct scale {
	const struct backend *b;
	struct result *r;
	char *area;
	size_t pages; /* registered */
	uint32_t *order;
	unsigned long todo; /* pages resolved */
	char *src;
	int uffd;
	long regions;
	long anon;
	unsigned long failed;
	int first_err;
};

/* The first todo entries of a random permutation of the pages. */
static uint32_t *random_order(size_t pages, unsigned long todo)
{
	uint32_t *v = malloc(pages * sizeof(*v));
	uint64_t seed = 0x9e3779b97f4a7c15ULL;

	if (!v)
		return NULL;
	for (size_t i = 0; i < pages; i++)
		v[i] = (uint32_t)i;
	for (size_t i = 0; i < todo && i + 1 < pages; i++) {
		size_t j = i + rand_next(&seed) % (pages - i);
		uint32_t t = v[i];

		v[i] = v[j];
		v[j] = t;
	}
	return v;
}

static int register_all(struct scale *s)
{
	struct uffdio_api api = {.api = UFFD_API};
	struct uffdio_register reg = {
		{(uintptr_t)s->area, s->pages * BENCH_PAGE},
		UFFDIO_REGISTER_MODE_MISSING,
		0};

	s->uffd = s->b->userfaultfd(O_CLOEXEC | O_NONBLOCK);
	if (s->uffd < 0)
		return fail(s->r, "userfaultfd", errno);
	if (s->b->ioctl(s->uffd, UFFDIO_API, &api) != 0)
		return fail(s->r, "UFFDIO_API", errno);
	if (s->b->ioctl(s->uffd, UFFDIO_REGISTER, &reg) != 0)
		return fail(s->r, "UFFDIO_REGISTER", errno);
	return 0;
}

/* Keeps going after a failure, to count how many pages could not be. */
static void copy_pages(struct scale *s)
{
	for (unsigned long i = 0; i < s->todo; i++) {
		uintptr_t dst = (uintptr_t)s->area +
				(uintptr_t)s->order[i] * BENCH_PAGE;
		struct uffdio_copy c = {dst, (uintptr_t)s->src, BENCH_PAGE, 0,
					0};

		if (s->b->ioctl(s->uffd, UFFDIO_COPY, &c) == 0)
			continue;
		if (!s->failed++)
			s->first_err = errno;
	}
}

static void fault_pages(struct scale *s)
{
	struct monitor m = {.b = s->b,
			    .r = s->r,
			    .uffd = s->uffd,
			    .kind = RT_COPY,
			    .cpu = 0,
			    .src = s->src,
			    .expected = s->todo};

	if (monitor_start(&m) != 0)
		return;
	for (unsigned long i = 0; i < s->todo; i++)
		(void)*(volatile char *)(s->area +
					 (size_t)s->order[i] * BENCH_PAGE);
	monitor_stop(&m);
}

static int prepare(struct scale *s)
{
	s->pages = cfg.scale_bytes / BENCH_PAGE;
	if (s->todo > s->pages)
		s->todo = s->pages;
	s->order = random_order(s->pages, s->todo);
	s->src = aligned_alloc(BENCH_PAGE, BENCH_PAGE);
	s->area = mmap(NULL, s->pages * BENCH_PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (!s->order || !s->src || s->area == MAP_FAILED)
		return fail(s->r, "memory", ENOMEM);
	memset(s->src, 's', BENCH_PAGE);
	return 0;
}

static void finish(struct scale *s, double seconds)
{
	long regions = count_regions(), anon = anon_kib();
	double own = (double)(anon - s->anon) * 1024.0 -
		     (double)(s->todo - s->failed) * BENCH_PAGE;

	s->r->metric[0] = seconds;
	s->r->metric[1] = (double)(regions - s->regions);
	s->r->metric[2] = own / (double)s->pages;
	s->r->metric[3] = (double)s->failed;
	/* Not a failure of the run: the count is the figure reported. */
	if (s->failed)
		snprintf(s->r->error, sizeof(s->r->error),
			 "%lu COPYs failed, the first with %s", s->failed,
			 strerror(s->first_err));
}

int run_scale(const struct bench_case *c, const struct backend *b,
	      struct result *r)
{
	struct scale s = {.b = b, .r = r, .uffd = -1};
	double t0;

	s.todo = c->kind == SCALE_COPY ? cfg.scale_pages : cfg.scale_faults;
	pin_to_cpu(0);
	if (prepare(&s) != 0)
		return -1;
	s.regions = count_regions();
	s.anon = anon_kib();
	t0 = now_us();
	if (register_all(&s) != 0)
		return -1;
	if (c->kind == SCALE_COPY)
		copy_pages(&s);
	else
		fault_pages(&s);
	finish(&s, (now_us() - t0) / 1e6);
	return r->failed ? -1 : 0;
}
