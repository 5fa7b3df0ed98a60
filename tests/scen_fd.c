// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Creating userfaultfds (the system call and /dev/userfaultfd), what a
 * descriptor does before UFFDIO_API, and UFFDIO_API itself.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "helpers.h"
#include "known.h"
#include "scenario.h"

/* What UFFDIO_API writes into ioctls on success (API, REGISTER, UNREGISTER). */
#define API_IOCTLS 0x8000000000000003ULL

/* Every feature bit Linux 6.18 defines. */
#define DEFINED_FEATURES 0x1ffffULL

/* --- creation --- */

struct create_case {
	const char *name;
	unsigned long flags;
	long expect; /* 0: a descriptor, else -errno */
};

static const struct create_case create_cases[] = {
	{"0", 0, 0},
	{"O_CLOEXEC", O_CLOEXEC, 0},
	{"O_NONBLOCK", O_NONBLOCK, 0},
	{"O_CLOEXEC|O_NONBLOCK", O_CLOEXEC | O_NONBLOCK, 0},
	{"UFFD_USER_MODE_ONLY", UFFD_USER_MODE_ONLY, 0},
	{"all three", O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY, 0},
	{"2", 2, -EINVAL},
	{"O_RDWR", O_RDWR, -EINVAL},
	{"O_APPEND", O_APPEND, -EINVAL},
	{"O_NONBLOCK|O_DIRECT", O_NONBLOCK | O_DIRECT, -EINVAL},
	{"-1", (unsigned long)-1L, -EINVAL},
	{"1<<32 (the upper half is ignored)", 1UL << 32, 0},
	{"1<<63|O_NONBLOCK", (1UL << 63) | O_NONBLOCK, 0},
	{"1<<40|2", (1UL << 40) | 2, -EINVAL},
};

/* The rest of a creation case once the call returned fd (or -errno). */
static void check_new_fd(const struct backend *b, struct record *r, long fd,
			 const struct create_case *c)
{
	unsigned int flags = (unsigned int)c->flags;

	if (!rec_fd_is(r, "new", fd, c->expect) || fd < 0)
		return;
	rec_rv_is(r, "F_GETFD", rv(b->fcntl((int)fd, F_GETFD, 0)),
		  (flags & O_CLOEXEC) ? FD_CLOEXEC : 0);
	rec_rv_is(r, "F_GETFL", rv(b->fcntl((int)fd, F_GETFL, 0)),
		  O_RDONLY | (flags & O_NONBLOCK));
	rec_rv_is(r, "UFFDIO_API", u_api(b, (int)fd, 0, NULL), 0);
	rec_rv_is(r, "close", rv(b->close((int)fd)), 0);
}

SCENARIO(create, CASES(create_cases))
{
	const struct create_case *c = &create_cases[variant];

	check_new_fd(b, r, rv(b->userfaultfd(c->flags)), c);
}

/* A new descriptor takes the lowest free number, as open() does. */
SCENARIO(lowest_fd)
{
	int i;

	for (i = 0; i < 2; i++) {
		int probe = open("/dev/null", O_RDONLY);
		long fd;

		REQUIRE(probe >= 0);
		close(probe);
		fd = rv(b->userfaultfd(O_CLOEXEC));
		rec_str_is(r, "takes the lowest free number",
			   fd == probe ? "yes" : "no", "yes");
	}
}

static const struct create_case dev_cases[] = {
	{"0", 0, 0},
	{"O_CLOEXEC", O_CLOEXEC, 0},
	{"O_NONBLOCK", O_NONBLOCK, 0},
	{"UFFD_USER_MODE_ONLY", UFFD_USER_MODE_ONLY, 0},
	{"all three", O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY, 0},
	{"2", 2, -EINVAL},
	{"O_RDWR", O_RDWR, -EINVAL},
	{"-1", (unsigned long)-1L, -EINVAL},
	{"1<<32|O_CLOEXEC", (1UL << 32) | O_CLOEXEC, 0},
};

/* USERFAULTFD_IOC_NEW takes the flags by value, not through a pointer. */
SCENARIO(dev_new, CASES(dev_cases), .needs = NEEDS_DEVICE)
{
	const struct create_case *c = &dev_cases[variant];
	long dev, fd;

	dev = rv(b->open(UFFDEMU_DEV_PATH, O_RDWR | O_CLOEXEC, 0));
	REQUIRE(rec_fd_is(r, "open", dev, 0));
	fd = rv(b->ioctl((int)dev, USERFAULTFD_IOC_NEW,
			 (void *)(uintptr_t)c->flags));
	check_new_fd(b, r, fd, c);
	rec_rv_is(r, "close device", rv(b->close((int)dev)), 0);
}

SCENARIO(dev_other, .needs = NEEDS_DEVICE)
{
	struct uffdio_api api = {.api = UFFD_API};
	char buf[64];
	long dev, fd;

	dev = rv(b->open(UFFDEMU_DEV_PATH, O_RDONLY | O_CLOEXEC, 0));
	REQUIRE(rec_fd_is(r, "open O_RDONLY", dev, 0));
	rec_rv_is(r, "ioctl UFFDIO_API",
		  rv(b->ioctl((int)dev, UFFDIO_API, &api)), -EINVAL);
	rec_rv_is(r, "ioctl _IO(0xAA, 1)",
		  rv(b->ioctl((int)dev, _IO(0xAA, 1), NULL)), -EINVAL);
	rec_rv_is(r, "ioctl _IOR(0xAA, 0, int)",
		  rv(b->ioctl((int)dev, _IOR(0xAA, 0, int), NULL)), -EINVAL);
	rec_rv_is(r, "read 32", rv(b->read((int)dev, buf, 32)), -EINVAL);
	rec_rv_is(r, "read 64", rv(b->read((int)dev, buf, 64)), -EINVAL);

	fd = rv(b->ioctl((int)dev, USERFAULTFD_IOC_NEW, (void *)0));
	rec_fd_is(r, "IOC_NEW on an O_RDONLY device", fd, 0);
	rec_rv_is(r, "close device", rv(b->close((int)dev)), 0);
	/* The new descriptor does not depend on the device staying open. */
	rec_rv_is(r, "UFFDIO_API after closing the device",
		  u_api(b, (int)fd, 0, NULL), 0);
}

/* --- generic file ioctls --- */

static const struct fioasync_case {
	const char *name;
	enum arg_place where;
	int value;
	long expect; /* the result of each FIOASYNC */
} fioasync_cases[] = {
	{"0", ARG_WRITABLE, 0, 0},
	{"1", ARG_WRITABLE, 1, -ENOTTY},
	{"-1", ARG_WRITABLE, -1, -ENOTTY},
	{"0 in a read-only page", ARG_READ_ONLY, 0, 0},
	{"1 in a read-only page", ARG_READ_ONLY, 1, -ENOTTY},
	{"NULL", ARG_NULL, 0, -EFAULT},
	{"(void *)8", ARG_ADDR_8, 0, -EFAULT},
	{"in a PROT_NONE page", ARG_PROT_NONE, 0, -EFAULT},
};

/*
 * FIOASYNC is answered before the userfaultfd's own ioctls, in every
 * state: the int is read (EFAULT), a value that leaves O_ASYNC as it is
 * returns 0, and one that would set it fails ENOTTY, as a userfaultfd
 * cannot signal.  O_ASYNC never shows in F_GETFL, even after F_SETFL asks
 * for it.
 */
SCENARIO(fioasync, CASES(fioasync_cases))
{
	const struct fioasync_case *c = &fioasync_cases[variant];
	void *arg = place_arg(&c->value, sizeof(c->value), c->where);
	long fd;

	fd = rv(b->userfaultfd(O_CLOEXEC));
	REQUIRE(rec_fd_is(r, "userfaultfd", fd, 0));
	rec_rv_is(r, "FIOASYNC while new", rv(b->ioctl((int)fd, FIOASYNC, arg)),
		  c->expect);
	rec_rv_is(r, "F_GETFL", rv(b->fcntl((int)fd, F_GETFL, 0)), O_RDONLY);
	rec_rv_is(r, "UFFDIO_API", u_api(b, (int)fd, 0, NULL), 0);
	rec_rv_is(r, "FIOASYNC when ready",
		  rv(b->ioctl((int)fd, FIOASYNC, arg)), c->expect);
	rec_rv_is(r, "F_SETFL O_ASYNC|O_NONBLOCK",
		  rv(b->fcntl((int)fd, F_SETFL, O_ASYNC | O_NONBLOCK)), 0);
	rec_rv_is(r, "F_GETFL after F_SETFL", rv(b->fcntl((int)fd, F_GETFL, 0)),
		  O_RDONLY | O_NONBLOCK);
	rec_rv_is(r, "FIOASYNC after F_SETFL",
		  rv(b->ioctl((int)fd, FIOASYNC, arg)), c->expect);
	rec_rv_is(r, "F_GETFL at the end", rv(b->fcntl((int)fd, F_GETFL, 0)),
		  O_RDONLY | O_NONBLOCK);
}

/* The same on /dev/userfaultfd, which cannot signal either. */
SCENARIO(dev_fioasync, CASES(fioasync_cases), .needs = NEEDS_DEVICE)
{
	const struct fioasync_case *c = &fioasync_cases[variant];
	void *arg = place_arg(&c->value, sizeof(c->value), c->where);
	long dev;

	dev = rv(b->open(UFFDEMU_DEV_PATH, O_RDWR | O_CLOEXEC, 0));
	REQUIRE(rec_fd_is(r, "open", dev, 0));
	rec_rv_is(r, "FIOASYNC", rv(b->ioctl((int)dev, FIOASYNC, arg)),
		  c->expect);
	rec_rv_is(r, "IOC_NEW still works",
		  rv(b->ioctl((int)dev, USERFAULTFD_IOC_NEW, (void *)0)) >= 0
			  ? 0
			  : -1,
		  0);
	rec_rv_is(r, "close device", rv(b->close((int)dev)), 0);
}

/* --- before UFFDIO_API --- */

enum arg_shape { RANGE, RANGE_MODE, COPY_LIKE, NO_ARG };

static const struct early_ioctl {
	const char *name;
	unsigned long request;
	enum arg_shape shape;
} early_ioctls[] = {
	{"REGISTER", UFFDIO_REGISTER, RANGE_MODE},
	{"UNREGISTER", UFFDIO_UNREGISTER, RANGE},
	{"WAKE", UFFDIO_WAKE, RANGE},
	{"COPY", UFFDIO_COPY, COPY_LIKE},
	{"ZEROPAGE", UFFDIO_ZEROPAGE, RANGE_MODE},
	{"MOVE", UFFDIO_MOVE, COPY_LIKE},
	{"WRITEPROTECT", UFFDIO_WRITEPROTECT, RANGE_MODE},
	{"CONTINUE", UFFDIO_CONTINUE, RANGE_MODE},
	{"POISON", UFFDIO_POISON, RANGE_MODE},
	{"_IO(0xAA, 0x10)", _IO(0xAA, 0x10), NO_ARG},
	{"FIONREAD", FIONREAD, RANGE},
	{"API encoded with the size of a range",
	 _IOWR(UFFDIO, _UFFDIO_API, struct uffdio_range), RANGE},
	{"API encoded _IOR", _IOR(UFFDIO, _UFFDIO_API, struct uffdio_api),
	 RANGE},
	{"API encoded _IOW", _IOW(UFFDIO, _UFFDIO_API, struct uffdio_api),
	 RANGE},
	{"request 0", 0, NO_ARG},
};

/* An argument that would be valid for the request once the fd is READY. */
static void *early_arg(uint64_t *arg, enum arg_shape shape, char *area,
		       char *src)
{
	memset(arg, 0, 5 * sizeof(*arg));
	switch (shape) {
	case RANGE:
	case RANGE_MODE:
		arg[0] = u64p(area);
		arg[1] = PG;
		arg[2] = shape == RANGE_MODE ? 1 : 0;
		arg[3] = FIELD_UNTOUCHED;
		return arg;
	case COPY_LIKE:
		arg[0] = u64p(area);
		arg[1] = u64p(src);
		arg[2] = PG;
		arg[4] = FIELD_UNTOUCHED;
		return arg;
	case NO_ARG:
		break;
	}
	return NULL;
}

static const char *const before_api_cases[] = {"blocking", "O_NONBLOCK"};

SCENARIO(before_api, CASES(before_api_cases))
{
	char *area = map_pages(4, PROT_READ | PROT_WRITE);
	char *src = map_pages(1, PROT_READ | PROT_WRITE);
	int flags = variant ? O_NONBLOCK : 0;
	char buf[64], l[REC_LABEL_MAX];
	uint64_t arg[5];
	short revents = 0;
	long fd, ret;
	size_t i;

	fd = rv(b->userfaultfd((unsigned long)flags));
	REQUIRE(rec_fd_is(r, "userfaultfd", fd, 0));

	rec_rv_is(r, "read 64", rv(b->read((int)fd, buf, 64)), -EINVAL);
	rec_rv_is(r, "read 32", rv(b->read((int)fd, buf, 32)), -EINVAL);
	for (i = 0; i < ARRAY_SIZE(early_ioctls); i++) {
		const struct early_ioctl *e = &early_ioctls[i];

		snprintf(l, sizeof(l), "ioctl %s", e->name);
		ret = rv(b->ioctl((int)fd, e->request,
				  early_arg(arg, e->shape, area, src)));
		rec_rv_is(r, l, ret, -EINVAL);
	}
	ret = u_poll(b, (int)fd, POLLIN, 0, &revents);
	rec_rv_is(r, "poll", ret, 1);
	rec_hex_is(r, "poll.revents", (uint16_t)revents, POLLERR);
	ret = u_poll(b, (int)fd, 0, 0, &revents);
	rec_rv_is(r, "poll no events", ret, 1);
	rec_hex_is(r, "poll no events.revents", (uint16_t)revents, POLLERR);

	/* All of that left the descriptor new, and registered nothing. */
	rec_rv_is(r, "UFFDIO_API", u_api(b, (int)fd, 0, NULL), 0);
	rec_rv_is(r, "COPY into the area",
		  u_copy(b, (int)fd, u64p(area), u64p(src), PG, 0, NULL),
		  -ENOENT);
	ret = u_poll(b, (int)fd, POLLIN, 0, &revents);
	rec_rv_is(r, "poll when ready", ret, variant ? 0 : 1);
	rec_hex_is(r, "poll when ready.revents", (uint16_t)revents,
		   variant ? 0 : POLLERR);
}

/* --- UFFDIO_API --- */

/* The result of a successful UFFDIO_API, given the struct it wrote. */
static void rec_api_ok(struct record *r, const char *label,
		       const struct uffdio_api *a, uint64_t requested)
{
	char l[REC_LABEL_MAX];

	snprintf(l, sizeof(l), "%s.api", label);
	rec_hex_is(r, l, a->api, UFFD_API);
	/* The exact offer has a test of its own: api_offer. */
	snprintf(l, sizeof(l), "%s.features are defined bits", label);
	rec_str_is(r, l, (a->features & ~DEFINED_FEATURES) ? "no" : "yes",
		   "yes");
	snprintf(l, sizeof(l), "%s.features include the request", label);
	rec_str_is(r, l, (requested & ~a->features) ? "no" : "yes", "yes");
	snprintf(l, sizeof(l), "%s.ioctls", label);
	rec_hex_is(r, l, a->ioctls, API_IOCTLS);
}

/* UFFDIO_API on a struct the caller prepared; EINVAL must zero it. */
static void api_call(const struct backend *b, struct record *r, int fd,
		     const char *label, uint64_t api, uint64_t features,
		     long expect)
{
	struct uffdio_api a = {api, features, 0x1234};
	char l[REC_LABEL_MAX];

	rec_rv_is(r, label, rv(b->ioctl(fd, UFFDIO_API, &a)), expect);
	if (!expect) {
		rec_api_ok(r, label, &a, features);
		return;
	}
	snprintf(l, sizeof(l), "%s.struct", label);
	rec_str_is(r, l,
		   (a.api || a.features || a.ioctls) ? "not zeroed" : "zeroed",
		   "zeroed");
}

struct api_case {
	const char *name;
	uint64_t api;
	uint64_t features;
};

static const struct api_case api_bad_cases[] = {
	{"api 0xAB", 0xAB, 0},
	{"api 0", 0, 0},
	{"api 0xAA|1<<32", 0xAA | 1ULL << 32, 0},
	{"api 0xAB with THREAD_ID", 0xAB, UFFD_FEATURE_THREAD_ID},
	{"feature bit 17", UFFD_API, 1ULL << 17},
	{"feature bit 20", UFFD_API, 1ULL << 20},
	{"feature bit 31 (kernel-internal)", UFFD_API, 1ULL << 31},
	{"feature bit 32", UFFD_API, 1ULL << 32},
	{"feature bit 63", UFFD_API, 1ULL << 63},
	{"THREAD_ID and bit 31", UFFD_API, UFFD_FEATURE_THREAD_ID | 1ULL << 31},
	{"every bit", UFFD_API, ~0ULL},
};

/* A refused UFFDIO_API leaves the descriptor new: it can be retried. */
SCENARIO(api_bad, CASES(api_bad_cases))
{
	const struct api_case *c = &api_bad_cases[variant];
	char buf[32];
	short revents = 0;
	long fd;

	fd = rv(b->userfaultfd(O_NONBLOCK));
	REQUIRE(rec_fd_is(r, "userfaultfd", fd, 0));
	api_call(b, r, (int)fd, "API", c->api, c->features, -EINVAL);

	rec_rv_is(r, "read while new", rv(b->read((int)fd, buf, 32)), -EINVAL);
	rec_rv_is(r, "poll while new", u_poll(b, (int)fd, POLLIN, 0, &revents),
		  1);
	rec_hex_is(r, "poll while new.revents", (uint16_t)revents, POLLERR);
	api_call(b, r, (int)fd, "retry", UFFD_API, 0, 0);
	api_call(b, r, (int)fd, "second", UFFD_API, 0, -EINVAL);
	rec_rv_is(r, "read when ready", rv(b->read((int)fd, buf, 32)), -EAGAIN);
}

static const struct api_case api_good_cases[] = {
	{"no features", UFFD_API, 0},
	{"THREAD_ID", UFFD_API, UFFD_FEATURE_THREAD_ID},
	{"SIGBUS", UFFD_API, UFFD_FEATURE_SIGBUS},
	{"EXACT_ADDRESS", UFFD_API, UFFD_FEATURE_EXACT_ADDRESS},
	{"THREAD_ID|EXACT_ADDRESS", UFFD_API,
	 UFFD_FEATURE_THREAD_ID | UFFD_FEATURE_EXACT_ADDRESS},
	{"SIGBUS|THREAD_ID", UFFD_API,
	 UFFD_FEATURE_SIGBUS | UFFD_FEATURE_THREAD_ID},
	{"everything offered", UFFD_API, ~0ULL},
};

/* Features the backend offers, asked on a throw-away descriptor. */
static uint64_t offered_features(const struct backend *b)
{
	struct uffdio_api a = {0};
	int fd = b->userfaultfd(O_CLOEXEC);

	if (fd < 0)
		return 0;
	u_api(b, fd, 0, &a);
	b->close(fd);
	return a.features;
}

/*
 * The features offered, exactly as the kernel offers them: the emulator may
 * offer less only where it documents it, and this test shows the difference.
 */
SCENARIO(api_offer)
{
	struct uffdio_api a;
	long fd = rv(b->userfaultfd(O_NONBLOCK));

	REQUIRE(rec_fd_is(r, "userfaultfd", fd, 0));
	rec_rv_is(r, "API", u_api(b, (int)fd, 0, &a), 0);
	known_features(r);
	rec_hex(r, "features offered", a.features);
	rec_hex_is(r, "ioctls", a.ioctls, API_IOCTLS);
}

/* What the kernel must offer for a case: what it asks for. */
static uint64_t api_good_features(int variant, enum mem_type mem)
{
	uint64_t f = api_good_cases[variant].features;

	return f == ~0ULL ? 0 : f;
}

/* A descriptor is initialized once; later calls fail and zero the struct. */
SCENARIO(api_good, CASES(api_good_cases), .case_features = api_good_features)
{
	const struct api_case *c = &api_good_cases[variant];
	uint64_t features = c->features;
	char *area = map_pages(1, PROT_READ | PROT_WRITE);
	long fd;

	if (features == ~0ULL)
		features = offered_features(b);
	fd = rv(b->userfaultfd(O_NONBLOCK));
	REQUIRE(rec_fd_is(r, "userfaultfd", fd, 0));
	api_call(b, r, (int)fd, "API", c->api, features, 0);
	api_call(b, r, (int)fd, "same again", c->api, features, -EINVAL);
	api_call(b, r, (int)fd, "again with 0", UFFD_API, 0, -EINVAL);
	api_call(b, r, (int)fd, "again with a bad api", 0xAB, 0, -EINVAL);
	rec_rv_is(r, "REGISTER",
		  u_register(b, (int)fd, u64p(area), PG,
			     UFFDIO_REGISTER_MODE_MISSING, NULL),
		  0);
}

static const struct api_fault_case {
	const char *name;
	enum arg_place where;
	uint64_t api;
	uint64_t features;
} api_fault_cases[] = {
	{"(void *)8", ARG_ADDR_8, UFFD_API, 0},
	{"NULL", ARG_NULL, UFFD_API, 0},
	{"in a PROT_NONE page", ARG_PROT_NONE, UFFD_API, 0},
	{"the last 8 bytes unreadable", ARG_LAST_8_UNMAPPED, UFFD_API, 0},
	{"read-only, valid request (the write-back faults)", ARG_READ_ONLY,
	 UFFD_API, 0},
	{"read-only, bad api (the zeroing faults)", ARG_READ_ONLY, 0xAB, 0},
	{"read-only, unknown feature", ARG_READ_ONLY, UFFD_API, 1ULL << 40},
};

/* EFAULT leaves the descriptor new, whichever access failed. */
SCENARIO(api_fault, CASES(api_fault_cases))
{
	const struct api_fault_case *c = &api_fault_cases[variant];
	struct uffdio_api api = {c->api, c->features, 0x1234};
	char *area = map_pages(1, PROT_READ | PROT_WRITE);
	void *arg = place_arg(&api, sizeof(api), c->where);
	char buf[32];
	long fd;

	fd = rv(b->userfaultfd(O_NONBLOCK));
	REQUIRE(rec_fd_is(r, "userfaultfd", fd, 0));
	rec_rv_is(r, "API", rv(b->ioctl((int)fd, UFFDIO_API, arg)), -EFAULT);
	rec_rv_is(r, "read while new", rv(b->read((int)fd, buf, 32)), -EINVAL);
	rec_rv_is(r, "REGISTER while new",
		  u_register(b, (int)fd, u64p(area), PG,
			     UFFDIO_REGISTER_MODE_MISSING, NULL),
		  -EINVAL);
	api_call(b, r, (int)fd, "retry", UFFD_API, 0, 0);
	rec_rv_is(r, "REGISTER",
		  u_register(b, (int)fd, u64p(area), PG,
			     UFFDIO_REGISTER_MODE_MISSING, NULL),
		  0);
}

#define RACE_ROUNDS 50

struct api_racer {
	const struct backend *b;
	int fd;
	int *gate;
	long ret;
};

static void *api_racer_main(void *arg)
{
	struct api_racer *a = arg;

	__atomic_add_fetch(a->gate, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(a->gate, __ATOMIC_ACQUIRE) < 2)
		;
	a->ret = u_api(a->b, a->fd, 0, NULL);
	return NULL;
}

/* Two threads racing UFFDIO_API: exactly one wins, the other gets EINVAL. */
SCENARIO(api_race)
{
	int i, one_winner = 0, loser_einval = 0;

	for (i = 0; i < RACE_ROUNDS; i++) {
		int gate = 0, fd = b->userfaultfd(O_CLOEXEC);
		struct api_racer x = {b, fd, &gate, 1}, y = x;
		pthread_t tx, ty;

		REQUIRE(fd >= 0);
		pthread_create(&tx, NULL, api_racer_main, &x);
		pthread_create(&ty, NULL, api_racer_main, &y);
		pthread_join(tx, NULL);
		pthread_join(ty, NULL);
		one_winner += ((x.ret == 0) + (y.ret == 0)) == 1;
		loser_einval += x.ret == -EINVAL || y.ret == -EINVAL;
		b->close(fd);
	}
	rec_int_is(r, "rounds with one winner", one_winner, RACE_ROUNDS);
	rec_int_is(r, "rounds where the loser got EINVAL", loser_einval,
		   RACE_ROUNDS);
}

/*
 * A call that succeeds leaves errno as it was, the first userfaultfd of a
 * process included.
 */
SCENARIO(errno_kept)
{
	const int mark = EHWPOISON;
	size_t len = 2 * PG;
	char *area = mmap(NULL, len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	static char src[PG];
	struct uffdio_api api = {.api = UFFD_API};
	struct uffdio_register reg = {.range = {(uintptr_t)area, len},
				      .mode = UFFDIO_REGISTER_MODE_MISSING};
	struct uffdio_copy copy = {(uintptr_t)area, (uintptr_t)src, PG, 0, 0};
	struct uffdio_range range = {(uintptr_t)area, len};
	int fd;

	REQUIRE(area != MAP_FAILED);
	errno = mark;
	fd = b->userfaultfd(O_CLOEXEC | O_NONBLOCK);
	rec_int_is(r, "errno after userfaultfd", errno, mark);
	REQUIRE(fd >= 0);
	errno = mark;
	rec_rv_is(r, "UFFDIO_API", rv(b->ioctl(fd, UFFDIO_API, &api)), 0);
	errno = mark;
	b->ioctl(fd, UFFDIO_REGISTER, &reg);
	rec_int_is(r, "errno after UFFDIO_REGISTER", errno, mark);
	errno = mark;
	b->ioctl(fd, UFFDIO_COPY, &copy);
	rec_int_is(r, "errno after UFFDIO_COPY", errno, mark);
	errno = mark;
	b->ioctl(fd, UFFDIO_UNREGISTER, &range);
	rec_int_is(r, "errno after UFFDIO_UNREGISTER", errno, mark);
	errno = mark;
	b->close(fd);
	rec_int_is(r, "errno after close", errno, mark);
	munmap(area, len);
}

const struct scenario_group scenarios_fd = {
	"fd",
	(const struct scenario *const[]){
		&create,
		&lowest_fd,
		&dev_new,
		&dev_other,
		&fioasync,
		&dev_fioasync,
		&before_api,
		&api_offer,
		&api_bad,
		&api_good,
		&api_fault,
		&api_race,
		&errno_kept,
		NULL,
	},
};
