// SPDX-License-Identifier: GPL-2.0-or-later
/* Shared pieces of the userfaultfd scenarios (see helpers.h). */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "known.h"
#include "scenario.h"

/* --- memory --- */

#define MAX_AREAS 16

static struct {
	const char *name;
	uint64_t base;
	uint64_t len;
} areas[MAX_AREAS];
static int n_areas;

char *map_pages(size_t pages, int prot)
{
	void *p = mmap(NULL, pages * PG, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		       0);

	if (p == MAP_FAILED)
		scenario_abort("mmap of fresh pages failed");
	return p;
}

#define MAX_MEM_AREAS 16

static struct {
	uint64_t base;
	uint64_t len;
	enum mem_type mem;
	int fd; /* the memfd of a MEM_SHMEM_PRIVATE area */
} mem_areas[MAX_MEM_AREAS];
static int n_mem_areas;

char *map_mem(enum mem_type m, size_t pages, int prot)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS, fd = -1;
	void *p;

	if (m == MEM_SHARED_ANON)
		flags = MAP_SHARED | MAP_ANONYMOUS;
	if (m == MEM_SHMEM || m == MEM_SHMEM_PRIVATE) {
		fd = memfd_create("uffdemu-test", MFD_CLOEXEC);
		if (fd < 0 || ftruncate(fd, (off_t)(pages * PG)))
			scenario_abort("memfd_create failed");
		flags = m == MEM_SHMEM ? MAP_SHARED : MAP_PRIVATE;
	}
	p = mmap(NULL, pages * PG, prot, flags, fd, 0);
	if (fd >= 0 && m != MEM_SHMEM_PRIVATE) {
		close(fd);
		fd = -1;
	}
	if (p == MAP_FAILED)
		scenario_abort("mmap of fresh pages failed");
	if (n_mem_areas == MAX_MEM_AREAS)
		scenario_abort("too many memory areas");
	mem_areas[n_mem_areas].base = u64p(p);
	mem_areas[n_mem_areas].len = pages * PG;
	mem_areas[n_mem_areas].mem = m;
	mem_areas[n_mem_areas].fd = fd;
	n_mem_areas++;
	return p;
}

char *map_mem_view(const void *area, size_t pages)
{
	void *p;

	for (int i = 0; i < n_mem_areas; i++) {
		if (mem_areas[i].base != u64p(area) || mem_areas[i].fd < 0)
			continue;
		p = mmap(NULL, pages * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
			 mem_areas[i].fd, 0);
		if (p == MAP_FAILED)
			scenario_abort("mmap of a shared view failed");
		return p;
	}
	p = mremap((void *)(uintptr_t)area, 0, pages * PG, MREMAP_MAYMOVE);
	if (p == MAP_FAILED)
		scenario_abort("mremap of a second view failed");
	return p;
}

bool in_file(const void *addr)
{
	unsigned char vec = 0;

	if (mincore((void *)(u64p(addr) & ~(uint64_t)(PG - 1)), PG, &vec))
		scenario_abort("mincore of a view failed");
	return vec & 1;
}

enum mem_type mem_of(const void *addr)
{
	int i;

	for (i = 0; i < n_mem_areas; i++)
		if (u64p(addr) - mem_areas[i].base < mem_areas[i].len)
			return mem_areas[i].mem;
	return MEM_ANON;
}

/*
 * Each call takes the next 4 GiB slot from FAR_BASE up.  A thread sanitizer
 * allows fixed mappings only below 512 GiB, where an address sanitizer
 * keeps its shadow, so the base depends on the build.
 */
#ifdef TESTS_TSAN
#define FAR_BASE 0x004000000000ULL
#else
#define FAR_BASE 0x300000000000ULL
#endif

char *map_far(size_t pages, int prot)
{
	static uint64_t next = FAR_BASE;
	void *want = (void *)(uintptr_t)next;
	void *p =
		mmap(want, pages * PG, prot,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (p != want)
		scenario_abort("the far address range is in use");
	next += 0x100000000ULL;
	return p;
}

char *map_gap(size_t pages)
{
	char *p = map_far(pages, PROT_NONE);

	munmap(p, pages * PG);
	return p;
}

void *place_arg(const void *arg, size_t size, enum arg_place where)
{
	char *p, *dst;

	if (where == ARG_ADDR_8)
		return (void *)8;
	if (where == ARG_NULL)
		return NULL;
	p = map_pages(2, PROT_READ | PROT_WRITE);
	dst = where == ARG_LAST_8_UNMAPPED ? p + PG - (size - 8) : p;
	memcpy(dst, arg, size);
	if (where == ARG_LAST_8_UNMAPPED)
		mprotect(p + PG, PG, PROT_NONE);
	if (where == ARG_PROT_NONE)
		mprotect(p, PG, PROT_NONE);
	if (where == ARG_READ_ONLY)
		mprotect(p, PG, PROT_READ);
	return dst;
}

void name_area(const char *name, const void *base, size_t len)
{
	if (n_areas == MAX_AREAS)
		scenario_abort("too many named areas");
	areas[n_areas].name = name;
	areas[n_areas].base = u64p(base);
	areas[n_areas].len = len;
	n_areas++;
}

void fmt_addr(char *out, size_t n, uint64_t addr)
{
	int i;

	for (i = 0; i < n_areas; i++) {
		if (addr - areas[i].base < areas[i].len) {
			snprintf(out, n, "%s+%#llx", areas[i].name,
				 (unsigned long long)(addr - areas[i].base));
			return;
		}
	}
	snprintf(out, n, "%#llx", (unsigned long long)addr);
}

bool rec_addr(struct record *r, const char *label, uint64_t addr)
{
	char v[64];

	fmt_addr(v, sizeof(v), addr);
	return rec_str(r, label, v);
}

bool rec_addr_is(struct record *r, const char *label, uint64_t addr,
		 uint64_t expect)
{
	char v[64], e[64];

	fmt_addr(v, sizeof(v), addr);
	fmt_addr(e, sizeof(e), expect);
	return rec_str_is(r, label, v, e);
}

void fill_pattern(void *p, size_t len, unsigned int seed)
{
	unsigned char *c = p;
	uint32_t x = seed * 2654435761U + 1;
	size_t i;

	for (i = 0; i < len; i++) {
		x = x * 1103515245U + 12345U;
		c[i] = (unsigned char)(x >> 16);
	}
}

/* --- the ioctls --- */

long u_api(const struct backend *b, int fd, uint64_t features,
	   struct uffdio_api *out)
{
	struct uffdio_api a = {.api = UFFD_API, .features = features};
	long ret = rv(b->ioctl(fd, UFFDIO_API, &a));

	if (out)
		*out = a;
	return ret;
}

long u_register(const struct backend *b, int fd, uint64_t start, uint64_t len,
		uint64_t mode, uint64_t *ioctls)
{
	struct uffdio_register reg = {
		.range = {.start = start, .len = len},
		.mode = mode,
		.ioctls = IOCTLS_UNTOUCHED,
	};
	long ret = rv(b->ioctl(fd, UFFDIO_REGISTER, &reg));

	if (ioctls)
		*ioctls = reg.ioctls;
	return ret;
}

long u_unregister(const struct backend *b, int fd, uint64_t start, uint64_t len)
{
	struct uffdio_range range = {.start = start, .len = len};

	return rv(b->ioctl(fd, UFFDIO_UNREGISTER, &range));
}

long u_wake(const struct backend *b, int fd, uint64_t start, uint64_t len)
{
	struct uffdio_range range = {.start = start, .len = len};

	return rv(b->ioctl(fd, UFFDIO_WAKE, &range));
}

long u_copy(const struct backend *b, int fd, uint64_t dst, uint64_t src,
	    uint64_t len, uint64_t mode, int64_t *field)
{
	struct uffdio_copy c = {
		.dst = dst,
		.src = src,
		.len = len,
		.mode = mode,
		.copy = FIELD_UNTOUCHED,
	};
	long ret = rv(b->ioctl(fd, UFFDIO_COPY, &c));

	if (field)
		*field = c.copy;
	return ret;
}

long u_zeropage(const struct backend *b, int fd, uint64_t start, uint64_t len,
		uint64_t mode, int64_t *field)
{
	struct uffdio_zeropage z = {
		.range = {.start = start, .len = len},
		.mode = mode,
		.zeropage = FIELD_UNTOUCHED,
	};
	long ret = rv(b->ioctl(fd, UFFDIO_ZEROPAGE, &z));

	if (field)
		*field = z.zeropage;
	return ret;
}

long u_writeprotect(const struct backend *b, int fd, uint64_t start,
		    uint64_t len, uint64_t mode)
{
	struct uffdio_writeprotect wp = {{start, len}, mode};

	return rv(b->ioctl(fd, UFFDIO_WRITEPROTECT, &wp));
}

long u_poison(const struct backend *b, int fd, uint64_t start, uint64_t len,
	      int64_t *field)
{
	struct uffdio_poison p = {{start, len}, 0, FIELD_UNTOUCHED};
	long ret = rv(b->ioctl(fd, UFFDIO_POISON, &p));

	if (field)
		*field = p.updated;
	return ret;
}

long u_continue(const struct backend *b, int fd, uint64_t start, uint64_t len,
		uint64_t mode, int64_t *field)
{
	struct uffdio_continue c = {{start, len}, mode, FIELD_UNTOUCHED};
	long ret = rv(b->ioctl(fd, UFFDIO_CONTINUE, &c));

	if (field)
		*field = c.mapped;
	return ret;
}

long u_poll(const struct backend *b, int fd, short events, int timeout,
	    short *revents)
{
	struct pollfd pf = {.fd = fd, .events = events};
	long ret = rv(b->poll(&pf, 1, timeout));

	if (revents)
		*revents = pf.revents;
	return ret;
}

int setup_uffd(const struct backend *b, struct record *r, int flags,
	       uint64_t features)
{
	long fd = rv(b->userfaultfd((unsigned long)flags)), ret;

	REQUIRE(rec_fd_is(r, "setup.userfaultfd", fd, 0));
	if (features & ~EMU_FEATURES_OFFERED)
		known_rv_rest(r, KNOWN_FEATURES, -EINVAL);
	ret = u_api(b, (int)fd, features, NULL);
	REQUIRE(rec_rv_is(r, "setup.api", ret, 0));
	if (ret)
		scenario_stop(); /* the emulator, as marked */
	return (int)fd;
}

void setup_register(const struct backend *b, struct record *r, int fd,
		    const void *start, size_t len)
{
	long ret;

	ret = u_register(b, fd, u64p(start), len, UFFDIO_REGISTER_MODE_MISSING,
			 NULL);
	REQUIRE(rec_rv_is(r, "setup.register", ret, 0));
	if (ret)
		scenario_stop(); /* the emulator, as marked */
}

/* --- messages --- */

long wait_msg(const struct backend *b, int fd, int ms)
{
	short revents = 0;
	long ret = u_poll(b, fd, POLLIN, ms, &revents);

	return ret < 0 ? ret : revents;
}

long read_msgs(const struct backend *b, int fd, struct uffd_msg *m, size_t max)
{
	return rv(b->read(fd, m, max * sizeof(*m)));
}

struct msg_fields {
	uint64_t flags;
	uint64_t addr;
	int thread;
};

static void rec_field(struct record *r, const char *label, const char *field,
		      const char *expect, const char *value)
{
	char l[REC_LABEL_MAX];

	snprintf(l, sizeof(l), "%s.%s", label, field);
	rec_add(r, l, expect, value);
}

/* Field by field from the raw bytes, at the offsets the ABI fixes. */
static void rec_msg_fields(struct record *r, const char *label,
			   const struct uffd_msg *m,
			   const struct msg_fields *want)
{
	const unsigned char *p = (const unsigned char *)m;
	uint16_t r2;
	uint32_t r3, ptid, tail;
	uint64_t flags, addr;
	char v[64], e[64];

	memcpy(&r2, p + 2, 2);
	memcpy(&r3, p + 4, 4);
	memcpy(&flags, p + 8, 8);
	memcpy(&addr, p + 16, 8);
	memcpy(&ptid, p + 24, 4);
	memcpy(&tail, p + 28, 4);

	snprintf(v, sizeof(v), "%#x", p[0]);
	snprintf(e, sizeof(e), "%#x", UFFD_EVENT_PAGEFAULT);
	rec_field(r, label, "event", want ? e : NULL, v);
	snprintf(v, sizeof(v), "%u %u %u", p[1], r2, r3);
	rec_field(r, label, "reserved", want ? "0 0 0" : NULL, v);

	snprintf(v, sizeof(v), "%#llx", (unsigned long long)flags);
	if (want)
		snprintf(e, sizeof(e), "%#llx",
			 (unsigned long long)want->flags);
	rec_field(r, label, "flags", want ? e : NULL, v);
	fmt_addr(v, sizeof(v), addr);
	if (want)
		fmt_addr(e, sizeof(e), want->addr);
	rec_field(r, label, "address", want ? e : NULL, v);

	fmt_tid(v, sizeof(v), ptid);
	snprintf(e, sizeof(e), "T%d", want ? want->thread : -1);
	rec_field(r, label, "ptid",
		  !want              ? NULL
		  : want->thread < 0 ? "0"
				     : e,
		  v);
	snprintf(v, sizeof(v), "%#x", tail);
	rec_field(r, label, "tail", want ? "0" : NULL, v);
}

void rec_msg(struct record *r, const char *label, const struct uffd_msg *m)
{
	rec_msg_fields(r, label, m, NULL);
}

void rec_msg_is(struct record *r, const char *label, const struct uffd_msg *m,
		uint64_t flags, uint64_t addr, int thread)
{
	struct msg_fields want = {flags, addr, thread};

	rec_msg_fields(r, label, m, &want);
}

void expect_fault(const struct backend *b, struct record *r, int fd,
		  const char *label, uint64_t flags, uint64_t addr, int thread)
{
	struct uffd_msg m;
	char l[REC_LABEL_MAX];
	long n;

	snprintf(l, sizeof(l), "%s.poll", label);
	rec_hex_is(r, l, (uint64_t)wait_msg(b, fd, WAIT_MS), POLLIN);
	memset(&m, 0, sizeof(m));
	n = read_msgs(b, fd, &m, 1);
	snprintf(l, sizeof(l), "%s.read", label);
	rec_rv_is(r, l, n, sizeof(m));
	rec_msg_is(r, label, &m, flags, addr, thread);
}

/* --- threads that touch memory --- */

#define MAX_TOUCHERS 32

static struct toucher touchers[MAX_TOUCHERS];
static int n_touchers;

static int load_state(struct toucher *t)
{
	return __atomic_load_n(&t->state, __ATOMIC_ACQUIRE);
}

static void *touch_main(void *arg)
{
	struct toucher *t = arg;

	if (t->delay_ms)
		msleep(t->delay_ms);
	__atomic_store_n(&t->tid, gettid(), __ATOMIC_RELAXED);
	__atomic_store_n(&t->state, TS_STARTED, __ATOMIC_RELEASE);
	if (t->kind == TOUCH_WRITE)
		*t->addr = t->val;
	t->seen = *t->addr;
	__atomic_store_n(&t->state, TS_DONE, __ATOMIC_RELEASE);
	return NULL;
}

struct toucher *touch(void *addr, enum touch_kind kind, unsigned char val)
{
	return touch_later(addr, kind, val, 0);
}

struct toucher *touch_later(void *addr, enum touch_kind kind, unsigned char val,
			    int ms)
{
	struct toucher *t;

	if (n_touchers == MAX_TOUCHERS)
		scenario_abort("too many touching threads");
	t = &touchers[n_touchers];
	t->index = n_touchers++;
	t->kind = kind;
	t->addr = addr;
	t->val = val;
	t->delay_ms = ms;
	t->state = TS_NEW;
	if (pthread_create(&t->thread, NULL, touch_main, t))
		scenario_abort("pthread_create failed");
	pthread_detach(t->thread);
	return t;
}

void msleep(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

struct delayed_signal {
	pthread_t target;
	int sig;
	int ms;
};

static void *signal_later_main(void *arg)
{
	struct delayed_signal d = *(struct delayed_signal *)arg;

	free(arg);
	msleep(d.ms);
	pthread_kill(d.target, d.sig);
	return NULL;
}

void signal_later(pthread_t target, int sig, int ms)
{
	struct delayed_signal *d = malloc(sizeof(*d));
	pthread_t th;

	if (!d)
		scenario_abort("out of memory");
	*d = (struct delayed_signal){target, sig, ms};
	if (pthread_create(&th, NULL, signal_later_main, d))
		scenario_abort("pthread_create failed");
	pthread_detach(th);
}

char thread_state(pid_t tid)
{
	char path[64], buf[512], *close_paren;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return '?';
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = '\0';
	close_paren = strrchr(buf, ')');
	return close_paren && close_paren[1] && close_paren[2] ? close_paren[2]
							       : '?';
}

/*
 * A thread blocked in a fault sleeps, on either backend; a short grace
 * period covers whatever the sleeping thread still had to do first.
 */
void touch_settle(struct toucher *t)
{
	int i;

	for (i = 0; i < WAIT_MS && load_state(t) == TS_NEW; i++)
		msleep(1);
	for (i = 0; i < 300 && load_state(t) != TS_DONE; i++) {
		char c = thread_state(
			__atomic_load_n(&t->tid, __ATOMIC_RELAXED));

		if (c == 'S' || c == 'D')
			break;
		msleep(1);
	}
	msleep(10);
}

bool touch_wait(struct toucher *t, int ms)
{
	int i;

	for (i = 0; load_state(t) != TS_DONE; i++) {
		if (i >= ms * 4)
			return false;
		usleep(250);
	}
	return true;
}

bool rec_touch(struct record *r, const char *label, struct toucher *t, int ms,
	       bool expect_done, int expect_seen)
{
	bool done = touch_wait(t, ms);
	bool ok = rec_str_is(r, label, done ? "done" : "blocked",
			     expect_done ? "done" : "blocked");
	char l[REC_LABEL_MAX];

	if (!done)
		return ok;
	snprintf(l, sizeof(l), "%s.seen", label);
	if (expect_seen >= 0)
		return rec_hex_is(r, l, t->seen, (uint64_t)expect_seen) && ok;
	return rec_hex(r, l, t->seen) && ok;
}

void fmt_tid(char *out, size_t n, uint32_t tid)
{
	int i;

	if (!tid) {
		snprintf(out, n, "0");
		return;
	}
	for (i = 0; i < n_touchers; i++) {
		if ((uint32_t)__atomic_load_n(&touchers[i].tid,
					      __ATOMIC_RELAXED) == tid) {
			snprintf(out, n, "T%d", i);
			return;
		}
	}
	snprintf(out, n, "%s",
		 (pid_t)tid == getpid() ? "main thread" : "another thread");
}

struct page_read {
	const void *src;
	int done;
	unsigned char buf[PG];
};

static void *page_read_main(void *arg)
{
	struct page_read *pr = arg;

	memcpy(pr->buf, pr->src, PG);
	__atomic_store_n(&pr->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

void fmt_page(char *out, size_t n, const void *page, int ms)
{
	struct page_read *pr = calloc(1, sizeof(*pr));
	pthread_t th;
	int i;

	if (!pr)
		scenario_abort("out of memory");
	pr->src = page;
	if (pthread_create(&th, NULL, page_read_main, pr))
		scenario_abort("pthread_create failed");
	for (i = 0; !__atomic_load_n(&pr->done, __ATOMIC_ACQUIRE); i++) {
		if (i >= ms * 4) {
			/* Abandoned with its buffer: it may still finish. */
			pthread_detach(th);
			snprintf(out, n, "blocked");
			return;
		}
		usleep(250);
	}
	pthread_join(th, NULL);
	rec_fmt_mem(out, n, pr->buf, PG);
	free(pr);
}

bool rec_page(struct record *r, const char *label, const void *page,
	      const void *expect, int ms)
{
	char v[REC_VALUE_MAX], e[REC_VALUE_MAX];

	fmt_page(v, sizeof(v), page, ms);
	if (expect)
		rec_fmt_mem(e, sizeof(e), expect, PG);
	return rec_add(r, label, expect ? e : NULL, v);
}

static sigjmp_buf bus_jump;
static volatile int bus_code;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	bus_code = si->si_code;
	siglongjmp(bus_jump, 1);
}

void rec_read_byte(struct record *r, const char *label, const void *addr,
		   const char *expect)
{
	struct sigaction sa = {.sa_sigaction = on_sigbus,
			       .sa_flags = SA_SIGINFO},
			 old;
	volatile int seen = -1;
	char v[32];

	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &old);
	bus_code = 0;
	if (!sigsetjmp(bus_jump, 1))
		seen = *(const volatile unsigned char *)addr;
	sigaction(SIGBUS, &old, NULL);
	if (seen < 0)
		snprintf(v, sizeof(v), "SIGBUS %d", bus_code);
	else
		snprintf(v, sizeof(v), "%d", seen);
	rec_str_is(r, label, v, expect);
}
