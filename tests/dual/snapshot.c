/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A snapshot in the manner of a background-snapshot monitor: four threads
 * keep writing to 64 MiB while the monitor write-protects all of it, then
 * copies each page and unprotects it, serving first the pages writers are
 * blocked on.  The copy must be the memory as it was when the protection
 * took effect:
 * - no word holds a value written after WRITEPROTECT returned;
 * - no word misses a write that was complete before WRITEPROTECT began.
 * Each word has one writer, whose values only grow, so both can be told
 * from the values themselves.
 */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "dual.h"

#define PAGE     4096UL
#define AREA     (64UL << 20)
#define PAGES    (AREA / PAGE)
#define WORDS    (AREA / sizeof(uint64_t))
#define WRITERS  4
#define PER_PAGE (PAGE / sizeof(uint64_t))

static uint64_t *area;
static uint64_t *shadow; /* last value each word got, stored after it */
static _Atomic uint64_t seq = 1;
static atomic_bool stop;
static int uffd;

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void *writer(void *arg)
{
	uint64_t id = (uint64_t)(uintptr_t)arg,
		 state = 0x9e3779b97f4a7c15ULL * (id + 1);

	while (!atomic_load(&stop)) {
		uint64_t page = rnd(&state) % PAGES;
		uint64_t word = page * PER_PAGE +
				(rnd(&state) % (PER_PAGE / WRITERS)) * WRITERS +
				id;
		uint64_t v = atomic_fetch_add(&seq, 1);

		/* A single writer per word: values in a word only grow. */
		__atomic_store_n(&area[word], v, __ATOMIC_RELAXED);
		__atomic_store_n(&shadow[word], v, __ATOMIC_RELEASE);
	}
	return NULL;
}

static int writeprotect(uint64_t start, uint64_t len, uint64_t mode)
{
	struct uffdio_writeprotect w = {{start, len}, mode};

	return u_ioctl(uffd, UFFDIO_WRITEPROTECT, &w);
}

static void die(const char *what)
{
	printf("FAIL: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void save_page(uint64_t page, uint64_t *snap, unsigned char *saved)
{
	if (saved[page])
		return;
	memcpy(snap + page * PER_PAGE, area + page * PER_PAGE, PAGE);
	saved[page] = 1;
	if (writeprotect((uint64_t)(uintptr_t)area + page * PAGE, PAGE, 0))
		die("WRITEPROTECT (unprotect)");
}

/* Pages that writers are blocked on go first. */
static unsigned long serve_faults(uint64_t *snap, unsigned char *saved)
{
	struct uffd_msg msg[16];
	unsigned long n = 0;
	ssize_t got;

	while ((got = u_read(uffd, msg, sizeof(msg))) > 0) {
		for (ssize_t i = 0; i < got / (ssize_t)sizeof(msg[0]); i++) {
			uint64_t a = msg[i].arg.pagefault.address;

			if (msg[i].event != UFFD_EVENT_PAGEFAULT ||
			    msg[i].arg.pagefault.flags !=
				    (UFFD_PAGEFAULT_FLAG_WP |
				     UFFD_PAGEFAULT_FLAG_WRITE)) {
				printf("FAIL: unexpected message %#x flags "
				       "%#llx\n",
				       msg[i].event,
				       (unsigned long long)msg[i]
					       .arg.pagefault.flags);
				exit(1);
			}
			save_page((a - (uint64_t)(uintptr_t)area) / PAGE, snap,
				  saved);
			n++;
		}
	}
	if (errno != EAGAIN)
		die("read");
	return n;
}

int main(void)
{
	struct uffdio_api api = {.api = UFFD_API,
				 .features = UFFD_FEATURE_PAGEFAULT_FLAG_WP};
	struct uffdio_register reg;
	uint64_t *snap, *before, s0, s1, late = 0, lost = 0;
	unsigned long faults = 0;
	unsigned char *saved;
	pthread_t t[WRITERS];

	uffd = dual_create(O_CLOEXEC | O_NONBLOCK);
	if (u_ioctl(uffd, UFFDIO_API, &api))
		die("UFFDIO_API");
	area = mmap(NULL, AREA, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	shadow = calloc(WORDS, sizeof(*shadow));
	snap = malloc(AREA);
	before = malloc(AREA);
	saved = calloc(PAGES, 1);
	if (area == MAP_FAILED || !shadow || !snap || !before || !saved)
		die("memory");
	memset(area, 0, AREA); /* populated: protection applies to all */
	reg.range.start = (uint64_t)(uintptr_t)area;
	reg.range.len = AREA;
	reg.mode = UFFDIO_REGISTER_MODE_WP;
	if (u_ioctl(uffd, UFFDIO_REGISTER, &reg))
		die("UFFDIO_REGISTER");

	for (uintptr_t i = 0; i < WRITERS; i++)
		pthread_create(&t[i], NULL, writer, (void *)i);
	usleep(50000);

	for (size_t w = 0; w < WORDS; w++)
		before[w] = __atomic_load_n(&shadow[w], __ATOMIC_ACQUIRE);
	s0 = atomic_load(&seq);
	if (writeprotect(reg.range.start, AREA, UFFDIO_WRITEPROTECT_MODE_WP))
		die("WRITEPROTECT");
	s1 = atomic_load(&seq);

	for (uint64_t page = 0; page < PAGES; page++) {
		if (page % 64 == 0)
			faults += serve_faults(snap, saved);
		save_page(page, snap, saved);
	}
	atomic_store(&stop, true);
	for (int i = 0; i < WRITERS; i++)
		pthread_join(t[i], NULL);

	for (size_t w = 0; w < WORDS; w++) {
		late += snap[w] >= s1;
		lost += snap[w] < before[w];
	}
	printf("%s: %lu pages, snapshot taken while %d threads wrote\n",
	       BACKEND_NAME, PAGES, WRITERS);
	printf("writes started before protection: %llu, during: %llu\n",
	       (unsigned long long)s0, (unsigned long long)(s1 - s0));
	printf("write faults served first: %lu\n", faults);
	printf("words written after the protection: %llu, writes lost: "
	       "%llu\n",
	       (unsigned long long)late, (unsigned long long)lost);
	if (late || lost || faults == 0) {
		printf("FAIL\n");
		return 1;
	}
	printf("PASS\n");
	return 0;
}
