// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The range ioctls on private anonymous memory in MISSING mode: REGISTER,
 * UNREGISTER, WAKE, COPY and ZEROPAGE; their argument checks, what they
 * write back, and what they leave registered or in memory.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "helpers.h"
#include "known.h"
#include "scenario.h"

#define P(n)    ((uint64_t)(n)*PG)
#define MISSING UFFDIO_REGISTER_MODE_MISSING
#define MINOR   UFFDIO_REGISTER_MODE_MINOR
#define BIT(k)  (1U << (k))

/* What REGISTER(MISSING) reports for anonymous memory. */
#define MISSING_IOCTLS 0x13cULL

/* Pages of A that the cases probe when they probe them all. */
#define A_ALL (BIT(0) | BIT(3) | BIT(6) | BIT(15))

/* The places a case is written against. */
enum where {
	AT_A,   /* 16 pages; some cases cut a hole at pages 4 and 5 */
	AT_B,   /* 4 pages registered to another userfaultfd */
	AT_C,   /* 4 ordinary pages, never registered */
	AT_R,   /* 2 PROT_READ pages, registered */
	AT_N,   /* 2 PROT_NONE pages, registered */
	AT_SRC, /* 5 pages: 4 readable with a pattern, then a PROT_NONE one */
	AT_GAP, /* nothing mapped */
	AT_ABS, /* the offset is the address */
};

struct layout {
	int fd;       /* the userfaultfd under test */
	int other_fd; /* the one B is registered to */
	char *a, *b, *c, *rd, *none, *src, *gap;
	char *probe; /* what probing COPYs copy */
};

enum a_prot { A_RW, A_READ_ONLY, A_NONE };

static int a_prot(enum a_prot p)
{
	static const int prot[] = {
		[A_RW] = PROT_READ | PROT_WRITE,
		[A_READ_ONLY] = PROT_READ,
		[A_NONE] = PROT_NONE,
	};

	return prot[p];
}

struct layout_opts {
	enum a_prot prot;
	bool hole;            /* unmap pages 4 and 5 of A */
	unsigned int a_pages; /* register A's pages [0, a_pages) */
	unsigned int present; /* A pages written before registering */
};

static void layout_init(const struct backend *b, struct record *r,
			struct layout *L, const struct layout_opts *o)
{
	unsigned int k;

	L->fd = setup_uffd(b, r, O_NONBLOCK, 0);
	L->other_fd = setup_uffd(b, r, O_NONBLOCK, 0);
	/* Far away, so that the hole stays a hole. */
	L->a = map_far(16, PROT_READ | PROT_WRITE);
	L->b = map_pages(4, PROT_READ | PROT_WRITE);
	L->c = map_pages(4, PROT_READ | PROT_WRITE);
	L->rd = map_pages(2, PROT_READ);
	L->none = map_pages(2, PROT_NONE);
	L->src = map_pages(5, PROT_READ | PROT_WRITE);
	L->probe = map_pages(1, PROT_READ | PROT_WRITE);
	L->gap = map_gap(4);
	fill_pattern(L->src, P(4), 1);
	fill_pattern(L->probe, PG, 2);
	mprotect(L->src + P(4), PG, PROT_NONE);
	for (k = 0; k < 16; k++)
		if (o->present & BIT(k))
			fill_pattern(L->a + P(k), PG, 100 + k);
	if (o->hole)
		munmap(L->a + P(4), P(2));
	if (o->prot != A_RW)
		mprotect(L->a, P(16), a_prot(o->prot));

	name_area("A", L->a, P(16));
	name_area("B", L->b, P(4));
	name_area("C", L->c, P(4));
	name_area("R", L->rd, P(2));
	name_area("N", L->none, P(2));
	name_area("SRC", L->src, P(5));
	name_area("GAP", L->gap, P(4));

	setup_register(b, r, L->other_fd, L->b, P(4));
	setup_register(b, r, L->fd, L->rd, P(2));
	setup_register(b, r, L->fd, L->none, P(2));
	if (o->a_pages)
		setup_register(b, r, L->fd, L->a, P(o->a_pages));
}

static uint64_t at(const struct layout *L, enum where w, uint64_t off)
{
	const char *base[] = {
		[AT_A] = L->a,     [AT_B] = L->b,    [AT_C] = L->c,
		[AT_R] = L->rd,    [AT_N] = L->none, [AT_SRC] = L->src,
		[AT_GAP] = L->gap, [AT_ABS] = NULL,
	};

	return u64p(base[w]) + off;
}

/*
 * Whether a page is registered (to any userfaultfd): only then may COPY fill
 * it.  The page must be missing, and is filled afterwards.
 */
static void rec_registered(const struct backend *b, struct record *r,
			   const struct layout *L, const char *label,
			   const char *page, bool expect)
{
	long ret = u_copy(b, L->fd, u64p(page), u64p(L->probe), PG, 0, NULL);
	char v[32];

	if (ret == 0 || ret == -ENOENT)
		snprintf(v, sizeof(v), "%s", ret ? "no" : "yes");
	else
		rec_fmt_rv(v, sizeof(v), ret);
	rec_str_is(r, label, v, expect ? "yes" : "no");
}

static void rec_a_registered(const struct backend *b, struct record *r,
			     const struct layout *L, unsigned int probe,
			     unsigned int registered)
{
	char l[REC_LABEL_MAX];
	int k;

	for (k = 0; k < 16; k++) {
		if (!(probe & BIT(k)))
			continue;
		snprintf(l, sizeof(l), "A page %d registered", k);
		rec_registered(b, r, L, l, L->a + P(k), registered & BIT(k));
	}
}

/* --- REGISTER --- */

enum before { FIRST_NOTHING, FIRST_SAME, FIRST_PAGES_0_4 };

/* After mode, zero is the usual choice for every field. */
struct reg_case {
	const char *name;
	enum where where;
	uint64_t off;
	uint64_t len;
	uint64_t mode;
	enum a_prot prot;
	enum arg_place arg;
	enum before before;
	long expect;
	unsigned int probe;      /* A pages to probe afterwards */
	unsigned int registered; /* those of them that must be registered */
};

static const struct reg_case reg_cases[] = {
	{"4 pages", AT_A, 0, P(4), MISSING, .probe = BIT(0) | BIT(3) | BIT(6),
	 .registered = BIT(0) | BIT(3)},
	{"mode 0", AT_A, 0, P(4), 0, .expect = -EINVAL, .probe = BIT(0)},
	{"mode 8", AT_A, 0, P(4), 8, .expect = -EINVAL, .probe = BIT(0)},
	{"mode MISSING|8", AT_A, 0, P(4), MISSING | 8, .expect = -EINVAL,
	 .probe = BIT(0)},
	{"mode MISSING|1<<32", AT_A, 0, P(4), MISSING | 1ULL << 32,
	 .expect = -EINVAL, .probe = BIT(0)},
	{"mode MISSING|1<<63", AT_A, 0, P(4), MISSING | 1ULL << 63,
	 .expect = -EINVAL, .probe = BIT(0)},
	{"mode MINOR (not for anonymous memory)", AT_A, 0, P(4), MINOR,
	 .expect = -EINVAL, .probe = BIT(0)},
	{"mode MISSING|MINOR", AT_A, 0, P(4), MISSING | MINOR,
	 .expect = -EINVAL, .probe = BIT(0)},
	{"start unaligned by 1", AT_A, 1, P(4), MISSING, .expect = -EINVAL,
	 .probe = BIT(0)},
	{"start unaligned by 0x800", AT_A, 0x800, P(4), MISSING,
	 .expect = -EINVAL, .probe = BIT(0)},
	{"len 4097", AT_A, 0, PG + 1, MISSING, .expect = -EINVAL,
	 .probe = BIT(0)},
	{"len 1", AT_A, 0, 1, MISSING, .expect = -EINVAL, .probe = BIT(0)},
	{"len 0", AT_A, 0, 0, MISSING, .expect = -EINVAL, .probe = BIT(0)},
	{"len 2^64-4096 (start+len wraps)", AT_A, 0, -PG, MISSING,
	 .expect = -EINVAL, .probe = BIT(0)},
	{"len past the task size", AT_A, 0, 1ULL << 47, MISSING,
	 .expect = -EINVAL, .probe = BIT(0)},
	{"start at the task size", AT_ABS, TASK_SIZE_47, PG, MISSING,
	 .expect = -EINVAL},
	{"start 1<<47", AT_ABS, 1ULL << 47, PG, MISSING, .expect = -EINVAL},
	{"start 2^64-4096", AT_ABS, -PG, PG, MISSING, .expect = -EINVAL},
	{"nothing mapped", AT_GAP, 0, P(4), MISSING, .expect = -EINVAL},
	{"only the hole", AT_A, P(4), P(2), MISSING, .expect = -EINVAL,
	 .probe = BIT(3) | BIT(6)},
	{"across the hole", AT_A, 0, P(16), MISSING, .probe = A_ALL,
	 .registered = A_ALL},
	{"starting in the hole", AT_A, P(4), P(4), MISSING,
	 .probe = BIT(3) | BIT(6) | BIT(7) | BIT(8),
	 .registered = BIT(6) | BIT(7)},
	{"ending in the hole", AT_A, P(2), P(3), MISSING,
	 .probe = BIT(1) | BIT(2) | BIT(3) | BIT(6),
	 .registered = BIT(2) | BIT(3)},
	{"twice (no-op)", AT_A, 0, P(4), MISSING, .before = FIRST_SAME,
	 .probe = BIT(0) | BIT(3) | BIT(6), .registered = BIT(0) | BIT(3)},
	{"overlapping a registered range", AT_A, P(2), P(6), MISSING,
	 .before = FIRST_PAGES_0_4, .probe = BIT(0) | BIT(3) | BIT(7) | BIT(8),
	 .registered = BIT(0) | BIT(3) | BIT(7)},
	{"PROT_NONE memory", AT_A, 0, P(4), MISSING, .prot = A_NONE,
	 .probe = BIT(0), .registered = BIT(0)},
	{"PROT_READ memory", AT_A, 0, P(4), MISSING, .prot = A_READ_ONLY,
	 .probe = BIT(0), .registered = BIT(0)},
	{"struct at (void *)8", AT_A, 0, P(4), MISSING, .arg = ARG_ADDR_8,
	 .expect = -EFAULT, .probe = BIT(0)},
	{"struct in a PROT_NONE page", AT_A, 0, P(4), MISSING,
	 .arg = ARG_PROT_NONE, .expect = -EFAULT, .probe = BIT(0)},
	{"struct read-only (the registration stays)", AT_A, 0, P(4), MISSING,
	 .arg = ARG_READ_ONLY, .expect = -EFAULT, .probe = BIT(0),
	 .registered = BIT(0)},
};

SCENARIO(reg, CASES(reg_cases))
{
	const struct reg_case *c = &reg_cases[variant];
	struct layout_opts o = {c->prot, true, 0, 0};
	struct uffdio_register arg, *p;
	struct layout L;
	long ret;

	layout_init(b, r, &L, &o);
	if (c->before == FIRST_SAME)
		REQUIRE(rec_rv_is(r, "first",
				  u_register(b, L.fd, at(&L, c->where, c->off),
					     c->len, c->mode, NULL),
				  0));
	if (c->before == FIRST_PAGES_0_4)
		REQUIRE(rec_rv_is(
			r, "first",
			u_register(b, L.fd, u64p(L.a), P(4), MISSING, NULL),
			0));

	arg = (struct uffdio_register){
		.range = {at(&L, c->where, c->off), c->len},
		.mode = c->mode,
		.ioctls = IOCTLS_UNTOUCHED,
	};
	p = place_arg(&arg, sizeof(arg), c->arg);
	ret = rv(b->ioctl(L.fd, UFFDIO_REGISTER, p));
	rec_rv_is(r, "REGISTER", ret, c->expect);
	if (c->arg == ARG_WRITABLE)
		rec_hex_is(r, "ioctls", p->ioctls,
			   ret ? IOCTLS_UNTOUCHED : MISSING_IOCTLS);
	rec_a_registered(b, r, &L, c->probe, c->registered);
}

/* --- REGISTER by memory type and mode --- */

#define WP UFFDIO_REGISTER_MODE_WP

static const struct mode_case {
	const char *name;
	uint64_t mode;
} mode_cases[] = {
	{"MISSING", MISSING},
	{"WP", WP},
	{"MISSING|WP", MISSING | WP},
	{"MINOR", MINOR},
	{"MISSING|MINOR", MISSING | MINOR},
	{"all three", MISSING | WP | MINOR},
};

/* What the kernel must offer for a mode on a memory type. */
static uint64_t mode_features(int variant, enum mem_type mem)
{
	uint64_t mode = mode_cases[variant].mode, f = 0;

	if (mem == MEM_ANON)
		return (mode & WP) ? UFFD_FEATURE_PAGEFAULT_FLAG_WP : 0;
	if (mode & WP)
		f |= UFFD_FEATURE_WP_HUGETLBFS_SHMEM;
	if (mode & MINOR)
		f |= UFFD_FEATURE_MINOR_SHMEM;
	return f;
}

/*
 * The kernel's answer: MINOR is for shared memory only, everything else
 * registers, and the mask has WRITEPROTECT and CONTINUE only when asked.
 */
static long mode_result(uint64_t mode, enum mem_type mem, uint64_t *ioctls)
{
	*ioctls = MISSING_IOCTLS |
		  ((mode & WP) ? 1ULL << _UFFDIO_WRITEPROTECT : 0) |
		  ((mode & MINOR) ? 1ULL << _UFFDIO_CONTINUE : 0);
	return (mem == MEM_ANON && (mode & MINOR)) ? -EINVAL : 0;
}

/*
 * REGISTER on each memory type in each mode, then a read of a page: only
 * MISSING mode makes it wait for the monitor.
 */
SCENARIO(reg_mem, CASES(mode_cases), .mems = ALL_MEMS,
	 .case_features = mode_features)
{
	uint64_t mode = mode_cases[variant].mode, want_ioctls, ioctls = 0;
	long want = mode_result(mode, mem, &want_ioctls), ret;
	struct toucher *t;
	char *a, *src;
	int fd;

	fd = setup_uffd(b, r, O_NONBLOCK, 0);
	a = map_mem(mem, 4, PROT_READ | PROT_WRITE);
	src = map_pages(1, PROT_READ | PROT_WRITE);
	fill_pattern(src, PG, 3);
	name_area("A", a, P(4));

	ret = u_register(b, fd, u64p(a), P(4), mode, &ioctls);
	rec_rv_is(r, "REGISTER", ret, want);
	if (ret)
		return; /* as the kernel */
	rec_hex_is(r, "ioctls", ioctls, want_ioctls);

	t = touch(a + 0x10, TOUCH_READ, 0);
	if (mode & MISSING) {
		expect_fault(b, r, fd, "msg", 0, u64p(a), -1);
		rec_rv_is(r, "COPY",
			  u_copy(b, fd, u64p(a), u64p(src), PG, 0, NULL), 0);
	}
	rec_touch(r, "T0", t, WAIT_MS, true, (mode & MISSING) ? src[0x10] : 0);
	rec_rv_is(r, "UNREGISTER", u_unregister(b, fd, u64p(a), P(4)), 0);
}

/* --- UNREGISTER and WAKE --- */

/* After len, zero is the usual choice for every field. */
struct range_case {
	const char *name;
	unsigned long request;
	enum where where;
	uint64_t off;
	uint64_t len;
	enum arg_place arg;
	long expect;
	unsigned int probe;      /* A pages to probe afterwards */
	unsigned int registered; /* those of them that must be registered */
};

#define UNREG UFFDIO_UNREGISTER
#define WAKE  UFFDIO_WAKE

static const struct range_case range_cases[] = {
	{"UNREGISTER everything", UNREG, AT_A, 0, P(16), .probe = A_ALL},
	{"UNREGISTER a part", UNREG, AT_A, P(8), P(4),
	 .probe = BIT(0) | BIT(7) | BIT(8) | BIT(11) | BIT(12),
	 .registered = BIT(0) | BIT(7) | BIT(12)},
	{"UNREGISTER starting in the hole", UNREG, AT_A, P(4), P(4),
	 .probe = BIT(3) | BIT(6) | BIT(7) | BIT(8),
	 .registered = BIT(3) | BIT(8)},
	{"UNREGISTER only the hole", UNREG, AT_A, P(4), P(2), .expect = -EINVAL,
	 .probe = BIT(3) | BIT(6), .registered = BIT(3) | BIT(6)},
	{"UNREGISTER memory never registered", UNREG, AT_C, 0, P(4),
	 .probe = A_ALL, .registered = A_ALL},
	{"UNREGISTER another userfaultfd's range", UNREG, AT_B, 0, P(4),
	 .expect = -EINVAL, .probe = A_ALL, .registered = A_ALL},
	{"UNREGISTER unaligned", UNREG, AT_A, 1, P(4), .expect = -EINVAL,
	 .probe = A_ALL, .registered = A_ALL},
	{"UNREGISTER len 0", UNREG, AT_A, 0, 0, .expect = -EINVAL,
	 .probe = A_ALL, .registered = A_ALL},
	{"UNREGISTER len 4097", UNREG, AT_A, 0, PG + 1, .expect = -EINVAL,
	 .probe = A_ALL, .registered = A_ALL},
	{"UNREGISTER len wraps", UNREG, AT_A, 0, -PG, .expect = -EINVAL,
	 .probe = A_ALL, .registered = A_ALL},
	{"UNREGISTER at the task size", UNREG, AT_ABS, TASK_SIZE_47, PG,
	 .expect = -EINVAL, .probe = A_ALL, .registered = A_ALL},
	{"UNREGISTER nothing mapped", UNREG, AT_GAP, 0, P(4), .expect = -EINVAL,
	 .probe = A_ALL, .registered = A_ALL},
	{"UNREGISTER struct at (void *)8", UNREG, AT_A, 0, P(16),
	 .arg = ARG_ADDR_8, .expect = -EFAULT, .probe = A_ALL,
	 .registered = A_ALL},
	{"UNREGISTER struct in a PROT_NONE page", UNREG, AT_A, 0, P(16),
	 .arg = ARG_PROT_NONE, .expect = -EFAULT, .probe = A_ALL,
	 .registered = A_ALL},
	{"UNREGISTER struct read-only", UNREG, AT_A, 0, P(16),
	 .arg = ARG_READ_ONLY, .probe = A_ALL},

	{"WAKE nothing mapped", WAKE, AT_GAP, 0, P(4), .probe = A_ALL,
	 .registered = A_ALL},
	{"WAKE registered, nobody waiting", WAKE, AT_A, 0, P(16),
	 .probe = A_ALL, .registered = A_ALL},
	{"WAKE never registered", WAKE, AT_C, 0, P(4), .probe = A_ALL,
	 .registered = A_ALL},
	{"WAKE only the hole", WAKE, AT_A, P(4), P(2), .probe = A_ALL,
	 .registered = A_ALL},
	{"WAKE unaligned", WAKE, AT_A, 1, P(4), .expect = -EINVAL,
	 .probe = A_ALL, .registered = A_ALL},
	{"WAKE len 0", WAKE, AT_A, 0, 0, .expect = -EINVAL, .probe = A_ALL,
	 .registered = A_ALL},
	{"WAKE len 4097", WAKE, AT_A, 0, PG + 1, .expect = -EINVAL,
	 .probe = A_ALL, .registered = A_ALL},
	{"WAKE len wraps", WAKE, AT_A, 0, -PG, .expect = -EINVAL,
	 .probe = A_ALL, .registered = A_ALL},
	{"WAKE at the task size", WAKE, AT_ABS, TASK_SIZE_47, PG,
	 .expect = -EINVAL, .probe = A_ALL, .registered = A_ALL},
	{"WAKE at 2^64-4096", WAKE, AT_ABS, -PG, PG, .expect = -EINVAL,
	 .probe = A_ALL, .registered = A_ALL},
	{"WAKE len past the task size", WAKE, AT_A, 0, 1ULL << 47,
	 .expect = -EINVAL, .probe = A_ALL, .registered = A_ALL},
	{"WAKE struct at (void *)8", WAKE, AT_A, 0, P(4), .arg = ARG_ADDR_8,
	 .expect = -EFAULT, .probe = A_ALL, .registered = A_ALL},
};

/* A is registered across its hole; B belongs to another userfaultfd. */
SCENARIO(range, CASES(range_cases))
{
	const struct range_case *c = &range_cases[variant];
	struct layout_opts o = {A_RW, true, 16, 0};
	struct uffdio_range arg;
	struct layout L;
	void *p;

	layout_init(b, r, &L, &o);
	arg = (struct uffdio_range){at(&L, c->where, c->off), c->len};
	p = place_arg(&arg, sizeof(arg), c->arg);
	rec_rv_is(r, c->request == WAKE ? "WAKE" : "UNREGISTER",
		  rv(b->ioctl(L.fd, c->request, p)), c->expect);
	rec_a_registered(b, r, &L, c->probe, c->registered);
	rec_registered(b, r, &L, "B registered", L.b, true);
}

/* UNREGISTER twice, and UNREGISTER then REGISTER again. */
SCENARIO(unregister_again)
{
	struct layout_opts o = {A_RW, true, 16, 0};
	struct layout L;

	layout_init(b, r, &L, &o);
	rec_rv_is(r, "UNREGISTER", u_unregister(b, L.fd, u64p(L.a), P(4)), 0);
	rec_rv_is(r, "UNREGISTER again", u_unregister(b, L.fd, u64p(L.a), P(4)),
		  0);
	rec_a_registered(b, r, &L, BIT(0) | BIT(6), BIT(6));
	rec_rv_is(r, "REGISTER again",
		  u_register(b, L.fd, u64p(L.a), P(4), MISSING, NULL), 0);
	rec_a_registered(b, r, &L, BIT(1), BIT(1));
}

/* --- COPY and ZEROPAGE --- */

/* After len, zero is the usual choice for every field but field. */
struct fill_case {
	const char *name;
	unsigned long request; /* UFFDIO_COPY or UFFDIO_ZEROPAGE */
	enum where dst;
	uint64_t dst_off;
	enum where src; /* COPY only */
	uint64_t src_off;
	uint64_t len;
	uint64_t mode;
	unsigned int present; /* A pages populated before registering */
	enum arg_place arg;
	long expect;
	int64_t field;
	unsigned int filled; /* pages filled from dst on */
	unsigned int check;  /* A pages whose state is recorded after */
};

/* In check: also record the first page at dst. */
#define DST_PAGE BIT(31)

#define COPY    UFFDIO_COPY
#define ZERO    UFFDIO_ZEROPAGE
#define UNTOUCH FIELD_UNTOUCHED

static const struct fill_case fill_cases[] = {
	{"COPY one page", COPY, AT_A, 0, AT_SRC, 0, PG, .field = 4096,
	 .filled = 1, .check = BIT(0) | BIT(1)},
	{"COPY four pages", COPY, AT_A, 0, AT_SRC, 0, P(4), .field = 16384,
	 .filled = 4, .check = 0x1f},
	{"COPY from an unaligned src", COPY, AT_A, 0, AT_SRC, 1, PG,
	 .field = 4096, .filled = 1, .check = BIT(0)},
	{"COPY dst unaligned", COPY, AT_A, 1, AT_SRC, 0, PG, .expect = -EINVAL,
	 .field = UNTOUCH, .check = BIT(0)},
	{"COPY len 0", COPY, AT_A, 0, AT_SRC, 0, 0, .expect = -EINVAL,
	 .field = UNTOUCH, .check = BIT(0)},
	{"COPY len 1", COPY, AT_A, 0, AT_SRC, 0, 1, .expect = -EINVAL,
	 .field = UNTOUCH, .check = BIT(0)},
	{"COPY len 4097", COPY, AT_A, 0, AT_SRC, 0, PG + 1, .expect = -EINVAL,
	 .field = UNTOUCH, .check = BIT(0)},
	{"COPY len wraps", COPY, AT_A, 0, AT_SRC, 0, -PG, .expect = -EINVAL,
	 .field = UNTOUCH, .check = BIT(0)},
	{"COPY dst at the task size", COPY, AT_ABS, TASK_SIZE_47, AT_SRC, 0, PG,
	 .expect = -EINVAL, .field = UNTOUCH},
	{"COPY dst 2^64-4096", COPY, AT_ABS, -PG, AT_SRC, 0, PG,
	 .expect = -EINVAL, .field = UNTOUCH},
	{"COPY src 1<<47", COPY, AT_A, 0, AT_ABS, 1ULL << 47, PG,
	 .expect = -EINVAL, .field = UNTOUCH, .check = BIT(0)},
	{"COPY src 2^64-4096", COPY, AT_A, 0, AT_ABS, -PG, PG,
	 .expect = -EINVAL, .field = UNTOUCH, .check = BIT(0)},
	{"COPY mode 4", COPY, AT_A, 0, AT_SRC, 0, PG, .mode = 4,
	 .expect = -EINVAL, .field = UNTOUCH, .check = BIT(0)},
	{"COPY mode 1<<63", COPY, AT_A, 0, AT_SRC, 0, PG, .mode = 1ULL << 63,
	 .expect = -EINVAL, .field = UNTOUCH, .check = BIT(0)},
	{"COPY mode WP on a MISSING-only range", COPY, AT_A, 0, AT_SRC, 0, PG,
	 .mode = UFFDIO_COPY_MODE_WP, .expect = -EINVAL, .field = -EINVAL,
	 .check = BIT(0)},
	{"COPY mode WP past the registered range", COPY, AT_A, P(6), AT_SRC, 0,
	 P(4), .mode = UFFDIO_COPY_MODE_WP, .expect = -ENOENT, .field = -ENOENT,
	 .check = BIT(6) | BIT(7)},
	{"COPY mode WP into unregistered memory", COPY, AT_A, P(8), AT_SRC, 0,
	 PG, .mode = UFFDIO_COPY_MODE_WP, .expect = -ENOENT, .field = -ENOENT,
	 .check = BIT(8)},
	{"COPY mode DONTWAKE", COPY, AT_A, 0, AT_SRC, 0, PG,
	 .mode = UFFDIO_COPY_MODE_DONTWAKE, .field = 4096, .filled = 1,
	 .check = BIT(0)},
	{"COPY from a PROT_NONE src", COPY, AT_A, 0, AT_SRC, P(4), PG,
	 .expect = -EFAULT, .field = -EFAULT, .check = BIT(0)},
	{"COPY from an unmapped src", COPY, AT_A, 0, AT_GAP, 0, PG,
	 .expect = -EFAULT, .field = -EFAULT, .check = BIT(0)},
	{"COPY src readable for 1 page of 2", COPY, AT_A, 0, AT_SRC, P(3), P(2),
	 .expect = -EAGAIN, .field = 4096, .filled = 1,
	 .check = BIT(0) | BIT(1)},
	{"COPY from NULL", COPY, AT_A, 0, AT_ABS, 0, PG, .expect = -EFAULT,
	 .field = -EFAULT, .check = BIT(0)},
	{"COPY onto a present page from a PROT_NONE src", COPY, AT_A, 0, AT_SRC,
	 P(4), PG, .present = BIT(0), .expect = -EFAULT, .field = -EFAULT,
	 .check = BIT(0)},
	{"COPY onto a present page, src partly unreadable", COPY, AT_A, 0,
	 AT_SRC, P(3) + 0x10, PG, .present = BIT(0), .expect = -EFAULT,
	 .field = -EFAULT, .check = BIT(0)},
	{"COPY onto a present page from NULL", COPY, AT_A, 0, AT_ABS, 0, PG,
	 .present = BIT(0), .expect = -EFAULT, .field = -EFAULT,
	 .check = BIT(0)},
	{"COPY 2 pages, the second present, its src unreadable", COPY, AT_A, 0,
	 AT_SRC, P(3), P(2), .present = BIT(1), .expect = -EAGAIN,
	 .field = 4096, .filled = 1, .check = BIT(0) | BIT(1)},
	{"COPY 2 pages, the second present, src readable", COPY, AT_A, 0,
	 AT_SRC, P(2), P(2), .present = BIT(1), .expect = -EAGAIN,
	 .field = 4096, .filled = 1, .check = BIT(0) | BIT(1)},
	{"COPY onto a present page", COPY, AT_A, 0, AT_SRC, 0, PG,
	 .present = BIT(0), .expect = -EEXIST, .field = -EEXIST,
	 .check = BIT(0)},
	{"COPY 2 pages, the second present", COPY, AT_A, 0, AT_SRC, 0, P(2),
	 .present = BIT(1), .expect = -EAGAIN, .field = 4096, .filled = 1,
	 .check = BIT(0) | BIT(1)},
	{"COPY 2 pages, the first present", COPY, AT_A, 0, AT_SRC, 0, P(2),
	 .present = BIT(0), .expect = -EEXIST, .field = -EEXIST,
	 .check = BIT(0) | BIT(1)},
	{"COPY 3 pages, the middle present", COPY, AT_A, 0, AT_SRC, 0, P(3),
	 .present = BIT(1), .expect = -EAGAIN, .field = 4096, .filled = 1,
	 .check = BIT(0) | BIT(1) | BIT(2)},
	{"COPY into unregistered memory", COPY, AT_A, P(8), AT_SRC, 0, PG,
	 .expect = -ENOENT, .field = -ENOENT, .check = BIT(8)},
	{"COPY past the registered range", COPY, AT_A, P(6), AT_SRC, 0, P(4),
	 .expect = -ENOENT, .field = -ENOENT, .check = BIT(6) | BIT(7)},
	{"COPY where nothing is mapped", COPY, AT_GAP, 0, AT_SRC, 0, PG,
	 .expect = -ENOENT, .field = -ENOENT},
	{"COPY into another userfaultfd's range", COPY, AT_B, 0, AT_SRC, 0, PG,
	 .field = 4096, .filled = 1, .check = DST_PAGE},
	{"COPY into registered PROT_READ memory", COPY, AT_R, 0, AT_SRC, 0, PG,
	 .field = 4096, .filled = 1, .check = DST_PAGE},
	{"COPY into registered PROT_NONE memory", COPY, AT_N, 0, AT_SRC, 0, PG,
	 .field = 4096, .filled = 1},
	{"COPY struct at (void *)8", COPY, AT_A, 0, AT_SRC, 0, PG,
	 .arg = ARG_ADDR_8, .expect = -EFAULT, .check = BIT(0)},
	{"COPY struct in a PROT_NONE page", COPY, AT_A, 0, AT_SRC, 0, PG,
	 .arg = ARG_PROT_NONE, .expect = -EFAULT, .check = BIT(0)},
	{"COPY struct read-only (the page is filled)", COPY, AT_A, 0, AT_SRC, 0,
	 PG, .arg = ARG_READ_ONLY, .expect = -EFAULT, .filled = 1,
	 .check = BIT(0)},

	{"ZEROPAGE one page", ZERO, AT_A, 0, .len = PG, .field = 4096,
	 .filled = 1, .check = BIT(0) | BIT(1)},
	{"ZEROPAGE three pages", ZERO, AT_A, 0, .len = P(3), .field = 12288,
	 .filled = 3, .check = 0xf},
	{"ZEROPAGE unaligned", ZERO, AT_A, 1, .len = PG, .expect = -EINVAL,
	 .field = UNTOUCH, .check = BIT(0)},
	{"ZEROPAGE len 0", ZERO, AT_A, 0, .len = 0, .expect = -EINVAL,
	 .field = UNTOUCH, .check = BIT(0)},
	{"ZEROPAGE len 1", ZERO, AT_A, 0, .len = 1, .expect = -EINVAL,
	 .field = UNTOUCH, .check = BIT(0)},
	{"ZEROPAGE len 4097", ZERO, AT_A, 0, .len = PG + 1, .expect = -EINVAL,
	 .field = UNTOUCH, .check = BIT(0)},
	{"ZEROPAGE len wraps", ZERO, AT_A, 0, .len = -PG, .expect = -EINVAL,
	 .field = UNTOUCH, .check = BIT(0)},
	{"ZEROPAGE at the task size", ZERO, AT_ABS, TASK_SIZE_47, .len = PG,
	 .expect = -EINVAL, .field = UNTOUCH},
	{"ZEROPAGE mode 2", ZERO, AT_A, 0, .len = PG, .mode = 2,
	 .expect = -EINVAL, .field = UNTOUCH, .check = BIT(0)},
	{"ZEROPAGE mode 4", ZERO, AT_A, 0, .len = PG, .mode = 4,
	 .expect = -EINVAL, .field = UNTOUCH, .check = BIT(0)},
	{"ZEROPAGE mode DONTWAKE", ZERO, AT_A, 0, .len = PG,
	 .mode = UFFDIO_ZEROPAGE_MODE_DONTWAKE, .field = 4096, .filled = 1,
	 .check = BIT(0)},
	{"ZEROPAGE onto a present page", ZERO, AT_A, 0, .len = PG,
	 .present = BIT(0), .expect = -EEXIST, .field = -EEXIST,
	 .check = BIT(0)},
	{"ZEROPAGE 2 pages, the second present", ZERO, AT_A, 0, .len = P(2),
	 .present = BIT(1), .expect = -EAGAIN, .field = 4096, .filled = 1,
	 .check = BIT(0) | BIT(1)},
	{"ZEROPAGE 2 pages, the first present", ZERO, AT_A, 0, .len = P(2),
	 .present = BIT(0), .expect = -EEXIST, .field = -EEXIST,
	 .check = BIT(0) | BIT(1)},
	{"ZEROPAGE into unregistered memory", ZERO, AT_A, P(8), .len = PG,
	 .expect = -ENOENT, .field = -ENOENT, .check = BIT(8)},
	{"ZEROPAGE past the registered range", ZERO, AT_A, P(6), .len = P(4),
	 .expect = -ENOENT, .field = -ENOENT, .check = BIT(6) | BIT(7)},
	{"ZEROPAGE where nothing is mapped", ZERO, AT_GAP, 0, .len = PG,
	 .expect = -ENOENT, .field = -ENOENT},
	{"ZEROPAGE into another userfaultfd's range", ZERO, AT_B, 0, .len = PG,
	 .field = 4096, .filled = 1, .check = DST_PAGE},
	{"ZEROPAGE into registered PROT_READ memory", ZERO, AT_R, 0, .len = PG,
	 .field = 4096, .filled = 1, .check = DST_PAGE},
	{"ZEROPAGE into registered PROT_NONE memory", ZERO, AT_N, 0, .len = PG,
	 .field = 4096, .filled = 1},
	{"ZEROPAGE struct at (void *)8", ZERO, AT_A, 0, .len = PG,
	 .arg = ARG_ADDR_8, .expect = -EFAULT, .check = BIT(0)},
	{"ZEROPAGE struct read-only (the page is filled)", ZERO, AT_A, 0,
	 .len = PG, .arg = ARG_READ_ONLY, .expect = -EFAULT, .filled = 1,
	 .check = BIT(0)},
};

/*
 * What a page must hold after the case: NULL for "still missing", else
 * the bytes, written to buf when they have to be computed.
 */
static const void *fill_expect(const struct fill_case *c,
			       const struct layout *L, uint64_t page,
			       uint64_t dst, uint64_t src, void *buf)
{
	int k = (int)((page - u64p(L->a)) / PG);
	bool in_a = page - u64p(L->a) < P(16);

	if (in_a && (c->present & BIT(k))) {
		fill_pattern(buf, PG, 100 + k);
		return buf;
	}
	if (page - dst < P(c->filled)) {
		if (c->request == ZERO)
			memset(buf, 0, PG);
		else
			memcpy(buf, (void *)(uintptr_t)(src + page - dst), PG);
		return buf;
	}
	if (in_a && k >= 8) {
		memset(buf, 0, PG); /* ordinary memory, never written */
		return buf;
	}
	return NULL;
}

/*
 * "missing" if a COPY can still fill the page, else what it holds.  The
 * COPY fills a missing page, so each page is looked at once.
 */
static void rec_page_state(const struct backend *b, struct record *r,
			   const struct layout *L, const char *label,
			   uint64_t page, const void *expect)
{
	long ret = u_copy(b, L->fd, page, u64p(L->probe), PG, 0, NULL);
	char v[REC_VALUE_MAX], e[REC_VALUE_MAX];

	if (ret == 0)
		snprintf(v, sizeof(v), "missing");
	else if (ret == -EEXIST || ret == -ENOENT)
		fmt_page(v, sizeof(v), (void *)(uintptr_t)page, WAIT_MS);
	else
		rec_fmt_rv(v, sizeof(v), ret);
	if (expect)
		rec_fmt_mem(e, sizeof(e), expect, PG);
	else
		snprintf(e, sizeof(e), "missing");
	rec_add(r, label, e, v);
}

static long fill_call(const struct backend *b, int fd,
		      const struct fill_case *c, uint64_t dst, uint64_t src,
		      int64_t *field)
{
	struct uffdio_copy cp = {dst, src, c->len, c->mode, UNTOUCH};
	struct uffdio_zeropage z = {{dst, c->len}, c->mode, UNTOUCH};
	bool copy = c->request == COPY;
	void *p = copy ? place_arg(&cp, sizeof(cp), c->arg)
		       : place_arg(&z, sizeof(z), c->arg);
	long ret = rv(b->ioctl(fd, c->request, p));

	if (c->arg == ARG_WRITABLE)
		*field = copy ? ((struct uffdio_copy *)p)->copy
			      : ((struct uffdio_zeropage *)p)->zeropage;
	return ret;
}

/* A's pages [0, 8) are registered, [8, 16) are not. */
SCENARIO(fill, CASES(fill_cases))
{
	const struct fill_case *c = &fill_cases[variant];
	struct layout_opts o = {A_RW, false, 8, c->present};
	uint64_t dst, src;
	unsigned char buf[PG];
	char l[REC_LABEL_MAX];
	int64_t field = UNTOUCH;
	struct layout L;
	long ret;
	int k;

	layout_init(b, r, &L, &o);
	dst = at(&L, c->dst, c->dst_off);
	src = at(&L, c->src, c->src_off);
	ret = fill_call(b, L.fd, c, dst, src, &field);
	rec_rv_is(r, c->request == COPY ? "COPY" : "ZEROPAGE", ret, c->expect);
	if (c->arg == ARG_WRITABLE)
		rec_int_is(r, "field", field, c->field);
	for (k = 0; k < 16; k++) {
		uint64_t page = u64p(L.a + P(k));

		if (!(c->check & BIT(k)))
			continue;
		snprintf(l, sizeof(l), "A page %d", k);
		rec_page_state(b, r, &L, l, page,
			       fill_expect(c, &L, page, dst, src, buf));
	}
	if (c->check & DST_PAGE)
		rec_page(r, "dst page", (void *)(uintptr_t)dst,
			 fill_expect(c, &L, dst, dst, src, buf), WAIT_MS);
}

/* --- fills across the places where mappings meet --- */

enum across_setup {
	ACROSS_MERGED,     /* two REGISTERs of one context, side by side */
	ACROSS_PROTECTED,  /* mprotect() of a part, and back */
	ACROSS_OTHER_CTX,  /* the halves registered to two contexts */
	ACROSS_DONTFORK,   /* MADV_DONTFORK on a part */
	ACROSS_DOFORK,     /* MADV_DONTFORK on a part, and MADV_DOFORK */
	ACROSS_SEPARATELY, /* the halves given bookkeeping while apart */
};

static const struct across_case {
	const char *name;
	enum across_setup setup;
	unsigned long request;
	long expect;
	int64_t field;
} across_cases[] = {
	{"COPY across two registrations merged", ACROSS_MERGED, COPY, 0, P(4)},
	{"ZEROPAGE across two registrations merged", ACROSS_MERGED, ZERO, 0,
	 P(4)},
	{"COPY across a protection changed and back", ACROSS_PROTECTED, COPY, 0,
	 P(4)},
	{"COPY across two contexts' ranges", ACROSS_OTHER_CTX, COPY, -ENOENT,
	 -ENOENT},
	{"ZEROPAGE across two contexts' ranges", ACROSS_OTHER_CTX, ZERO,
	 -ENOENT, -ENOENT},
	{"COPY across MADV_DONTFORK", ACROSS_DONTFORK, COPY, -ENOENT, -ENOENT},
	{"ZEROPAGE across MADV_DONTFORK", ACROSS_DONTFORK, ZERO, -ENOENT,
	 -ENOENT},
	{"COPY across MADV_DONTFORK undone", ACROSS_DOFORK, COPY, 0, P(4)},
	{"COPY across halves with their own bookkeeping", ACROSS_SEPARATELY,
	 COPY, -ENOENT, -ENOENT},
	{"ZEROPAGE across halves with their own bookkeeping", ACROSS_SEPARATELY,
	 ZERO, -ENOENT, -ENOENT},
};

/*
 * The fill loop looks up the one kernel mapping (VMA) that holds dst: the
 * whole range must lie in it, else ENOENT.  Registrations that agree merge
 * into one mapping; a change of context, of an madvise() flag or of the
 * anonymous-page bookkeeping keeps two mappings apart.  The range is the
 * pages [2, 6) of eight; [0, 4) and [4, 8) are set up apart.
 */
SCENARIO(across, CASES(across_cases))
{
	const struct across_case *c = &across_cases[variant];
	char *a = map_pages(8, PROT_READ | PROT_WRITE);
	char *src = map_pages(4, PROT_READ | PROT_WRITE);
	int64_t field = UNTOUCH;
	int fd = setup_uffd(b, r, O_NONBLOCK, 0), fd2;
	long ret;

	fill_pattern(src, P(4), 3);
	name_area("A", a, P(8));
	switch (c->setup) {
	case ACROSS_MERGED:
		setup_register(b, r, fd, a, P(4));
		setup_register(b, r, fd, a + P(4), P(4));
		break;
	case ACROSS_PROTECTED:
		setup_register(b, r, fd, a, P(8));
		rec_rv_is(r, "mprotect PROT_READ",
			  rv(b->mprotect(a + P(3), P(2), PROT_READ)), 0);
		rec_rv_is(
			r, "mprotect back",
			rv(b->mprotect(a + P(3), P(2), PROT_READ | PROT_WRITE)),
			0);
		break;
	case ACROSS_OTHER_CTX:
		fd2 = setup_uffd(b, r, O_NONBLOCK, 0);
		setup_register(b, r, fd, a, P(4));
		setup_register(b, r, fd2, a + P(4), P(4));
		break;
	case ACROSS_DONTFORK:
	case ACROSS_DOFORK:
		setup_register(b, r, fd, a, P(8));
		rec_rv_is(r, "MADV_DONTFORK",
			  rv(b->madvise(a + P(4), P(4), MADV_DONTFORK)), 0);
		if (c->setup == ACROSS_DOFORK)
			rec_rv_is(r, "MADV_DOFORK",
				  rv(b->madvise(a + P(4), P(4), MADV_DOFORK)),
				  0);
		break;
	case ACROSS_SEPARATELY:
		/* A fill aimed at a mapping gives it bookkeeping, even one
		 * that fails: here ENOENT for unregistered memory. */
		setup_register(b, r, fd, a + P(4), P(4));
		rec_rv_is(r, "ZEROPAGE A+7",
			  u_zeropage(b, fd, u64p(a + P(7)), PG, 0, NULL), 0);
		rec_rv_is(r, "COPY into unregistered A+0",
			  u_copy(b, fd, u64p(a), u64p(src), PG, 0, NULL),
			  -ENOENT);
		setup_register(b, r, fd, a, P(8));
		break;
	}
	/* The emulator fills the four pages. */
	if (c->setup == ACROSS_SEPARATELY)
		known_rest(r, KNOWN_UNMERGED, "0");
	if (c->request == COPY)
		ret = u_copy(b, fd, u64p(a + P(2)), u64p(src), P(4), 0, &field);
	else
		ret = u_zeropage(b, fd, u64p(a + P(2)), P(4), 0, &field);
	rec_rv_is(r, c->request == COPY ? "COPY" : "ZEROPAGE", ret, c->expect);
	rec_int(r, "field", field);
}

const struct scenario_group scenarios_ranges = {
	"ranges",
	(const struct scenario *const[]){
		&reg,
		&reg_mem,
		&range,
		&unregister_again,
		&fill,
		&across,
		NULL,
	},
};
