/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Round trips: a thread touches a page, the monitor learns of it through
 * poll() and read(), answers, and the thread goes on.  The time of each
 * touch is one round trip.
 *
 * The faulting threads always run on CPU 0; the monitor runs on CPU 0
 * ("same core", where every hand-off is a context switch) or on CPU 1
 * ("cross core", where every hand-off wakes the other CPU).  The two cost
 * very different things on a virtual machine and are never mixed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

/* Untimed faults first: thread start-up, page tables, caches. */
#define WARMUP_MAX 200

struct rt {
	const struct bench_case *c;
	struct result *r;
	struct monitor m;
	char *area;
	size_t warmup;     /* untimed faults per thread */
	size_t per_thread; /* pages per faulting thread, warm-up included */
	pthread_barrier_t start;
};

struct faulter {
	struct rt *rt;
	int index;
	double begin;
	double end;
};

static void touch(const struct rt *rt, char *p)
{
	if (rt->c->kind == RT_WP)
		*(volatile char *)p = 1;
	else
		(void)*(volatile char *)p;
}

/*
 * Huge pages: the few the machine lends are faulted in turn, and dropped
 * with MADV_DONTNEED (untimed) once all have been, to fault again.
 */
static void *fault_huge_pages(void *arg)
{
	struct faulter *f = arg;
	struct rt *rt = f->rt;
	double *lat = rt->r->samples;

	pin_to_cpu(0);
	for (size_t i = 0; i < rt->per_thread; i++) {
		size_t k = i % BENCH_HUGE_PAGES;
		double t0;

		if (i == rt->warmup) {
			pthread_barrier_wait(&rt->start);
			f->begin = now_us();
		}
		if (k == 0 && i > 0)
			rt->m.b->madvise(rt->area,
					 BENCH_HUGE_PAGES * BENCH_HUGE,
					 MADV_DONTNEED);
		t0 = now_us();
		(void)*(volatile char *)(rt->area + k * BENCH_HUGE);
		if (i >= rt->warmup)
			lat[i - rt->warmup] = now_us() - t0;
	}
	f->end = now_us();
	return NULL;
}

static void *fault_pages(void *arg)
{
	struct faulter *f = arg;
	struct rt *rt = f->rt;
	size_t n = rt->per_thread - rt->warmup;
	char *base = rt->area + f->index * rt->per_thread * BENCH_PAGE;
	double *lat = rt->r->samples + f->index * n;

	if (rt->c->kind == RT_HUGE)
		return fault_huge_pages(arg);
	pin_to_cpu(0);
	for (size_t i = 0; i < rt->warmup; i++)
		touch(rt, base + i * BENCH_PAGE);
	base += rt->warmup * BENCH_PAGE;
	pthread_barrier_wait(&rt->start);
	f->begin = now_us();
	for (size_t i = 0; i < n; i++) {
		double t0 = now_us();

		touch(rt, base + i * BENCH_PAGE);
		lat[i] = now_us() - t0;
	}
	f->end = now_us();
	return NULL;
}

/* Write protection applies to populated pages: fill them first. */
static int protect_all(struct rt *rt, size_t len)
{
	struct uffdio_register reg = {
		{(uintptr_t)rt->area, len}, UFFDIO_REGISTER_MODE_WP, 0};
	struct uffdio_writeprotect wp = {{(uintptr_t)rt->area, len},
					 UFFDIO_WRITEPROTECT_MODE_WP};
	const struct backend *b = rt->m.b;

	for (size_t off = 0; off < len; off += BENCH_PAGE)
		rt->area[off] = 1;
	if (b->ioctl(rt->m.uffd, UFFDIO_REGISTER, &reg) != 0)
		return fail(rt->r, "UFFDIO_REGISTER(WP)", errno);
	if (b->ioctl(rt->m.uffd, UFFDIO_WRITEPROTECT, &wp) != 0)
		return fail(rt->r, "UFFDIO_WRITEPROTECT", errno);
	return 0;
}

static int api_and_register(struct rt *rt, size_t len)
{
	struct uffdio_api api = {.api = UFFD_API};
	struct uffdio_register reg = {
		{(uintptr_t)rt->area, len}, UFFDIO_REGISTER_MODE_MISSING, 0};
	const struct backend *b = rt->m.b;

	if (rt->c->kind == RT_WP)
		api.features = UFFD_FEATURE_PAGEFAULT_FLAG_WP;
	if (rt->c->kind == RT_MINOR) {
		api.features = UFFD_FEATURE_MINOR_SHMEM;
		reg.mode = UFFDIO_REGISTER_MODE_MINOR;
	}
	if (b->ioctl(rt->m.uffd, UFFDIO_API, &api) != 0)
		return fail(rt->r, "UFFDIO_API", errno);
	if (rt->c->kind == RT_WP)
		return protect_all(rt, len);
	if (b->ioctl(rt->m.uffd, UFFDIO_REGISTER, &reg) != 0)
		return fail(rt->r, "UFFDIO_REGISTER", errno);
	return 0;
}

/*
 * Minor faults need a file whose pages are all there: a memfd filled
 * through the descriptor, then mapped shared, so that no page is mapped
 * in the area yet.
 */
static void *map_filled_memfd(size_t len)
{
	static char page[BENCH_PAGE];
	int fd = memfd_create("uffdemu-bench", MFD_CLOEXEC);
	void *p = MAP_FAILED;

	memset(page, 'm', sizeof(page));
	if (fd < 0)
		return MAP_FAILED;
	for (size_t off = 0; off < len; off += BENCH_PAGE)
		if (pwrite(fd, page, BENCH_PAGE, (off_t)off) != BENCH_PAGE)
			goto out;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
out:
	close(fd);
	return p;
}

static int setup(struct rt *rt)
{
	size_t len = rt->per_thread * (size_t)rt->c->threads * BENCH_PAGE;
	size_t src_len = rt->c->kind == RT_HUGE ? BENCH_HUGE : BENCH_PAGE;
	char *src = aligned_alloc(BENCH_PAGE, src_len);

	if (rt->c->kind == RT_HUGE) {
		len = BENCH_HUGE_PAGES * BENCH_HUGE;
		rt->area =
			mmap(NULL, len, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
		if (rt->area == MAP_FAILED)
			return fail(rt->r,
				    "huge pages (vm.nr_hugepages: "
				    "tools/setup.sh bench reserves them as "
				    "root)",
				    errno);
	} else if (rt->c->kind == RT_MINOR) {
		rt->area = map_filled_memfd(len);
	} else {
		rt->area = mmap(NULL, len, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	}
	if (rt->area == MAP_FAILED || !src)
		return fail(rt->r, "memory", ENOMEM);
	memset(src, 'x', src_len);
	rt->m.src = src;
	rt->m.uffd = rt->m.b->userfaultfd(O_CLOEXEC | O_NONBLOCK);
	if (rt->m.uffd < 0)
		return fail(rt->r, "userfaultfd", errno);
	return api_and_register(rt, len);
}

/* Faults per second over the timed part, from the first to the last. */
static double throughput(const struct faulter *f, int threads, size_t n)
{
	double begin = f[0].begin, end = f[0].end;

	for (int i = 1; i < threads; i++) {
		begin = f[i].begin < begin ? f[i].begin : begin;
		end = f[i].end > end ? f[i].end : end;
	}
	return (double)n * threads / ((end - begin) / 1e6);
}

static void run_faulters(struct rt *rt, struct faulter *f)
{
	pthread_t tid[2];
	int threads = rt->c->threads;

	pthread_barrier_init(&rt->start, NULL, (unsigned int)threads);
	for (int i = 0; i < threads; i++)
		f[i] = (struct faulter){.rt = rt, .index = i};
	for (int i = 1; i < threads; i++)
		pthread_create(&tid[i], NULL, fault_pages, &f[i]);
	fault_pages(&f[0]);
	for (int i = 1; i < threads; i++)
		pthread_join(tid[i], NULL);
}

int run_roundtrip(const struct bench_case *c, const struct backend *b,
		  struct result *r)
{
	struct rt rt = {.c = c, .r = r};
	size_t n = cfg.faults;
	struct faulter f[2];

	if (c->threads < 1 || c->threads > 2 || n * (size_t)c->threads > r->cap)
		return fail(r, "sample buffer too small", 0);
	rt.warmup = n / 10 < WARMUP_MAX ? n / 10 : WARMUP_MAX;
	rt.per_thread = n + rt.warmup;
	rt.m = (struct monitor){.b = b,
				.r = r,
				.uffd = -1,
				.kind = c->kind,
				.cpu = c->monitor_cpu};
	rt.m.expected = rt.per_thread * (unsigned long)c->threads;
	pin_to_cpu(0);
	if (setup(&rt) != 0 || monitor_start(&rt.m) != 0)
		return -1;
	run_faulters(&rt, f);
	monitor_stop(&rt.m);
	r->nsamples = n * (size_t)c->threads;
	if (c->threads == 1)
		r->metric[0] = median_of(r->samples, r->nsamples);
	else
		r->metric[0] = throughput(f, c->threads, n);
	return 0;
}
