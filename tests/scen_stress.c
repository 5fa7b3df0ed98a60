// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Load: many threads faulting at once against one monitor, and whether a
 * page being installed is ever seen half-written.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "scenario.h"

/* --- many faults --- */

#define STRESS_THREADS 4
#define STRESS_PAGES   10000
#define BATCH          64

/* The word at index w of page k once the monitor has filled it. */
static uint64_t stress_word(size_t k, size_t w)
{
	return (k + 1) * 0x9e3779b97f4a7c15ULL ^ w;
}

/* Threads with an odd index write the last word; the others only read. */
#define MARK 0x5555aaaa5555aaaaULL

struct stress_worker {
	int index;
	uint64_t *area;
	int bad_pages;
	int done;
};

static bool stress_writes(size_t k)
{
	return (k % STRESS_THREADS) % 2;
}

static void *stress_main(void *arg)
{
	struct stress_worker *w = arg;
	const size_t words = PG / 8;
	size_t k, i;

	for (k = (size_t)w->index; k < STRESS_PAGES; k += STRESS_THREADS) {
		volatile uint64_t *p = w->area + k * words;
		bool bad = false;

		if (stress_writes(k))
			p[words - 1] = MARK;
		for (i = 0; i < words; i++) {
			uint64_t want = stress_word(k, i);

			if (stress_writes(k) && i == words - 1)
				want = MARK;
			bad |= p[i] != want;
		}
		w->bad_pages += bad;
	}
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

struct stress_counts {
	long served;
	long copy_errors;
	long bad_messages;
	long stalls;
};

/* Serves one batch of messages with page-specific COPYs. */
static void stress_serve(const struct backend *b, int fd, const char *area,
			 uint64_t *src, struct stress_counts *n)
{
	struct uffd_msg m[BATCH];
	long got = read_msgs(b, fd, m, BATCH), i;
	size_t w;

	for (i = 0; i < got / (long)sizeof(m[0]); i++) {
		size_t k = (m[i].arg.pagefault.address - u64p(area)) / PG;
		uint64_t flags =
			stress_writes(k) ? UFFD_PAGEFAULT_FLAG_WRITE : 0;

		if (m[i].event != UFFD_EVENT_PAGEFAULT || k >= STRESS_PAGES ||
		    m[i].arg.pagefault.flags != flags) {
			n->bad_messages++;
			continue;
		}
		for (w = 0; w < PG / 8; w++)
			src[w] = stress_word(k, w);
		if (u_copy(b, fd, m[i].arg.pagefault.address, u64p(src), PG, 0,
			   NULL))
			n->copy_errors++;
		n->served++;
	}
}

/* Four threads, 10000 faults on distinct pages, one monitor serving all. */
SCENARIO(stress, .watchdog_s = 40)
{
	struct stress_worker w[STRESS_THREADS];
	struct stress_counts n = {0};
	pthread_t th[STRESS_THREADS];
	int i, finished = 0, bad = 0;
	uint64_t *src;
	char *area;
	int fd;

	fd = setup_uffd(b, r, O_NONBLOCK, 0);
	area = mmap(NULL, STRESS_PAGES * PG, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	REQUIRE(area != MAP_FAILED);
	src = (uint64_t *)map_pages(1, PROT_READ | PROT_WRITE);
	setup_register(b, r, fd, area, STRESS_PAGES * PG);

	for (i = 0; i < STRESS_THREADS; i++) {
		w[i] = (struct stress_worker){i, (uint64_t *)area, 0, 0};
		REQUIRE(!pthread_create(&th[i], NULL, stress_main, &w[i]));
	}
	while (n.served < STRESS_PAGES && n.stalls < 3) {
		if (wait_msg(b, fd, WAIT_MS) != POLLIN) {
			n.stalls++;
			continue;
		}
		stress_serve(b, fd, area, src, &n);
	}
	for (i = 0; i < STRESS_THREADS; i++) {
		int k;

		for (k = 0; k < WAIT_MS &&
			    !__atomic_load_n(&w[i].done, __ATOMIC_ACQUIRE);
		     k++)
			msleep(1);
		if (!w[i].done)
			continue;
		pthread_join(th[i], NULL);
		finished++;
		bad += w[i].bad_pages;
	}
	rec_int_is(r, "faults served", n.served, STRESS_PAGES);
	rec_int_is(r, "COPY errors", n.copy_errors, 0);
	rec_int_is(r, "unexpected messages", n.bad_messages, 0);
	rec_int_is(r, "stalls", n.stalls, 0);
	rec_int_is(r, "threads finished", finished, STRESS_THREADS);
	rec_int_is(r, "pages with wrong contents", bad, 0);
}

/* --- atomic install --- */

#define ATOMIC_PAGES 2000

struct atomic_reader {
	volatile unsigned char *area;
	int go;   /* the reader may look at pages [0, go) */
	int done; /* pages it has checked */
	int mixed;
};

static unsigned char atomic_byte(int k)
{
	return (unsigned char)(k % 251 + 1);
}

/* Reads each page from its end, word by word, as soon as it may. */
static void *atomic_main(void *arg)
{
	struct atomic_reader *a = arg;
	int k;

	for (k = 0; k < ATOMIC_PAGES; k++) {
		volatile uint64_t *p = (volatile uint64_t *)(a->area + k * PG);
		uint64_t want = atomic_byte(k) * 0x0101010101010101ULL;
		int i;
		bool mixed = false;

		while (__atomic_load_n(&a->go, __ATOMIC_ACQUIRE) <= k)
			sched_yield();
		for (i = PG / 8 - 1; i >= 0; i--)
			mixed |= p[i] != want;
		a->mixed += mixed;
		__atomic_store_n(&a->done, k + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void spin(unsigned int n)
{
	volatile unsigned int i;

	for (i = 0; i < n; i++)
		;
}

/*
 * A reader touches each registered page while the monitor COPYs into it, in
 * varying order: it must block and then see the whole page, or see the whole
 * page at once, never part of it.
 */
SCENARIO(atomic_install, .watchdog_s = 30)
{
	struct atomic_reader a = {0};
	struct uffd_msg m[8];
	unsigned char *src;
	int k, copy_errors = 0, stalls = 0;
	unsigned int seed = 12345;
	pthread_t th;
	char *area;
	int fd;

	fd = setup_uffd(b, r, O_NONBLOCK, 0);
	area = map_pages(ATOMIC_PAGES, PROT_READ | PROT_WRITE);
	src = (unsigned char *)map_pages(1, PROT_READ | PROT_WRITE);
	setup_register(b, r, fd, area, ATOMIC_PAGES * PG);
	a.area = (unsigned char *)area;
	REQUIRE(!pthread_create(&th, NULL, atomic_main, &a));

	for (k = 0; k < ATOMIC_PAGES && stalls < 3; k++) {
		int order = (int)(rand_r(&seed) % 3), i;
		long ret = 0;

		memset(src, atomic_byte(k), PG);
		if (order == 0) /* installed before the reader may look */
			ret = u_copy(b, fd, u64p(area + k * PG), u64p(src), PG,
				     0, NULL);
		__atomic_store_n(&a.go, k + 1, __ATOMIC_RELEASE);
		if (order == 2) /* most likely after the reader faulted */
			spin(rand_r(&seed) % 20000);
		if (order != 0)
			ret = u_copy(b, fd, u64p(area + k * PG), u64p(src), PG,
				     0, NULL);
		copy_errors += ret != 0;
		while (read_msgs(b, fd, m, 8) > 0)
			;
		for (i = 0; i < WAIT_MS * 10; i++) {
			if (__atomic_load_n(&a.done, __ATOMIC_ACQUIRE) > k)
				break;
			if (i > 1000)
				usleep(100);
		}
		stalls += i == WAIT_MS * 10;
	}
	rec_int_is(r, "pages checked",
		   __atomic_load_n(&a.done, __ATOMIC_ACQUIRE), ATOMIC_PAGES);
	rec_int_is(r, "pages seen half-written", a.mixed, 0);
	rec_int_is(r, "COPY errors", copy_errors, 0);
	if (a.done == ATOMIC_PAGES)
		pthread_join(th, NULL);
}

/* --- asynchronous write protection under load --- */

#define RACE_THREADS 3
#define RACE_PAGES   64

struct race_writer {
	int index;
	volatile uint64_t *area;
	_Atomic int *stop;
	uint64_t counts[RACE_PAGES]; /* writes made to each page */
	pthread_t thread;
};

/* Each writer bumps its own word of random pages until told to stop. */
static void *race_main(void *arg)
{
	struct race_writer *w = arg;
	unsigned int seed = (unsigned int)w->index + 1;

	while (!atomic_load(w->stop)) {
		int p = rand_r(&seed) % RACE_PAGES;

		w->area[(size_t)p * (PG / 8) + (size_t)w->index]++;
		w->counts[p]++;
	}
	return NULL;
}

static long race_scan(const struct backend *b, int pm, char *a, uint64_t flags,
		      struct page_region *vec)
{
	struct pm_scan_arg arg = {
		.size = sizeof(arg),
		.flags = flags,
		.start = u64p(a),
		.end = u64p(a + RACE_PAGES * PG),
		.vec = u64p(vec),
		.vec_len = RACE_PAGES,
		.category_mask = PAGE_IS_WRITTEN,
		.return_mask = PAGE_IS_WRITTEN,
	};

	return rv(b->pagemap_scan(pm, &arg));
}

/*
 * Threads write to random pages of a WP_ASYNC area while the monitor
 * protects it again and again, with WRITEPROTECT and with PAGEMAP_SCAN's
 * PM_SCAN_WP_MATCHING: no write is lost or waits, no message comes, and
 * once they stop the written state is exact.
 */
SCENARIO(wp_async_race, .features = UFFD_FEATURE_WP_ASYNC, .watchdog_s = 20)
{
	struct race_writer w[RACE_THREADS];
	struct page_region vec[RACE_PAGES];
	_Atomic int stop = 0;
	char *a = map_pages(RACE_PAGES, PROT_READ | PROT_WRITE);
	long errors = 0, lost = 0, misplaced = 0, n;
	char buf[sizeof(struct uffd_msg)];
	struct uffdio_writeprotect wp = {{u64p(a), RACE_PAGES * PG},
					 UFFDIO_WRITEPROTECT_MODE_WP};
	struct timespec t0, t;
	int fd, pm;

	fd = setup_uffd(b, r, O_NONBLOCK, UFFD_FEATURE_WP_ASYNC);
	pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	REQUIRE(rec_rv_is(r, "setup.open pagemap", pm < 0 ? -errno : 0, 0));
	REQUIRE(rec_rv_is(r, "setup.register",
			  u_register(b, fd, u64p(a), RACE_PAGES * PG,
				     UFFDIO_REGISTER_MODE_WP, NULL),
			  0));
	for (int i = 0; i < RACE_THREADS; i++) {
		w[i] = (struct race_writer){
			.index = i, .area = (uint64_t *)a, .stop = &stop};
		pthread_create(&w[i].thread, NULL, race_main, &w[i]);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int round = 0;; round++) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 +
			    (t.tv_nsec - t0.tv_nsec) / 1000000 >
		    500)
			break;
		if (round % 2 && b->ioctl(fd, UFFDIO_WRITEPROTECT, &wp))
			errors++;
		if (race_scan(b, pm, a, PM_SCAN_WP_MATCHING, vec) < 0)
			errors++;
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < RACE_THREADS; i++)
		pthread_join(w[i].thread, NULL);
	for (int i = 0; i < RACE_THREADS; i++)
		for (int p = 0; p < RACE_PAGES; p++)
			lost += ((uint64_t *)
					 a)[(size_t)p * (PG / 8) + (size_t)i] !=
				w[i].counts[p];
	rec_int_is(r, "failed calls", errors, 0);
	rec_int_is(r, "lost writes", lost, 0);
	rec_rv_is(r, "read", rv(b->read(fd, buf, sizeof(buf))), -EAGAIN);
	rec_rv_is(r, "protect", rv(b->ioctl(fd, UFFDIO_WRITEPROTECT, &wp)), 0);
	rec_rv_is(r, "written after protecting", race_scan(b, pm, a, 0, vec),
		  0);
	for (int p = 0; p < RACE_PAGES; p += 2)
		a[(size_t)p * PG + 100] = 1;
	n = race_scan(b, pm, a, 0, vec);
	rec_rv_is(r, "written after writing the even pages", n, RACE_PAGES / 2);
	for (long i = 0; i < n; i++)
		if (vec[i].start != u64p(a + (size_t)i * 2 * PG) ||
		    vec[i].end != vec[i].start + PG)
			misplaced++;
	rec_int_is(r, "misplaced regions", misplaced, 0);
	close(pm);
}

const struct scenario_group scenarios_stress = {
	"stress",
	(const struct scenario *const[]){
		&stress,
		&atomic_install,
		&wp_async_race,
		NULL,
	},
};
