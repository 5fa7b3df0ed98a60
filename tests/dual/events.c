/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Events REMOVE, UNMAP and REMAP, printed line by line so that the
 * kernel's run and the emulator's can be compared: which events each
 * operation raises for the features asked for, their fields, the calling
 * thread waiting for the read, COPY failing EAGAIN meanwhile, and the
 * registration afterwards.  The argument is the feature set.
 */
#include <poll.h>
#include <pthread.h>

#include "dual.h"

#define PS 4096UL

enum kind { MUNMAP, DONTNEED, MREMAP };

struct op {
	enum kind kind;
	char *addr;
	size_t len;
	size_t new_len;
	int flags;
	void *new_addr;
	void *result;
	int done;
};

static int fd;
static char *area;

static void *run(void *arg)
{
	struct op *o = arg;

	if (o->kind == MUNMAP)
		o->result = (void *)(long)u_munmap(o->addr, o->len);
	else if (o->kind == DONTNEED)
		o->result =
			(void *)(long)u_madvise(o->addr, o->len, MADV_DONTNEED);
	else
		o->result = u_mremap(o->addr, o->len, o->new_len, o->flags,
				     o->new_addr);
	__atomic_store_n(&o->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static unsigned long off(unsigned long long a)
{
	return a ? (unsigned long)(a - (uintptr_t)area) : 0;
}

static void print_event(const struct uffd_msg *m, const struct op *o)
{
	switch (m->event) {
	case UFFD_EVENT_REMAP:
		printf("  REMAP from=+%lx to=%s len=%#llx\n",
		       off(m->arg.remap.from),
		       m->arg.remap.to == (uintptr_t)o->new_addr ? "new" : "?",
		       (unsigned long long)m->arg.remap.len);
		break;
	case UFFD_EVENT_REMOVE:
	case UFFD_EVENT_UNMAP:
		printf("  %s +%lx..+%lx\n",
		       m->event == UFFD_EVENT_UNMAP ? "UNMAP" : "REMOVE",
		       off(m->arg.remove.start), off(m->arg.remove.end));
		break;
	default:
		printf("  event %#x\n", m->event);
	}
}

/* Reads what the operation raises until it has returned. */
static void drain(struct op *o)
{
	struct uffd_msg m;
	int got = 0;

	for (int t = 0; t < 100; t++) {
		struct pollfd p = {fd, POLLIN, 0};

		if (u_poll(&p, 1, 20) <= 0 && got)
			break;
		if (u_read(fd, &m, sizeof(m)) != sizeof(m)) {
			if (__atomic_load_n(&o->done, __ATOMIC_SEQ_CST))
				break;
			continue;
		}
		got++;
		print_event(&m, o);
		if (!__atomic_load_n(&o->done, __ATOMIC_SEQ_CST))
			usleep(20000);
	}
	printf("  %d events, operation returned: %d\n", got, o->done);
}

static void test(const char *label, struct op o)
{
	static char src[PS];
	pthread_t t;

	pthread_create(&t, NULL, run, &o);
	usleep(50000);
	printf("%s: caller waits: %d\n", label,
	       !__atomic_load_n(&o.done, __ATOMIC_SEQ_CST));
	if (!__atomic_load_n(&o.done, __ATOMIC_SEQ_CST)) {
		struct uffdio_copy c = {(uintptr_t)area + 15 * PS,
					(uintptr_t)src, PS, 0, 0x7777};
		int rc = u_ioctl(fd, UFFDIO_COPY, &c);

		show("  COPY while the event is pending", rc, c.copy);
	}
	drain(&o);
	pthread_join(t, NULL);
	printf("  result: %s\n", o.result == MAP_FAILED ? "failed" : "ok");
}

int main(int argc, char **argv)
{
	unsigned long long feat = argc > 1 ? strtoull(argv[1], NULL, 0) : 0;
	struct uffdio_api api = {UFFD_API, feat, 0};
	struct uffdio_register reg;
	struct uffdio_zeropage z;
	struct uffdio_range range;
	char *moved;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	fd = dual_create(O_CLOEXEC | O_NONBLOCK);
	rc = u_ioctl(fd, UFFDIO_API, &api);
	show("UFFDIO_API", rc, 0);
	area = mmap(NULL, 64 * PS, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(area, 'x', 8 * PS);
	reg = (struct uffdio_register){
		{(uintptr_t)area, 16 * PS}, UFFDIO_REGISTER_MODE_MISSING, 0};
	show("REGISTER", u_ioctl(fd, UFFDIO_REGISTER, &reg), 0);

	test("MADV_DONTNEED pages 2-4",
	     (struct op){DONTNEED, area + 2 * PS, 3 * PS, 0, 0, NULL, NULL, 0});
	z = (struct uffdio_zeropage){{(uintptr_t)area + 2 * PS, PS}, 0, 0};
	rc = u_ioctl(fd, UFFDIO_ZEROPAGE, &z);
	show("ZEROPAGE page 2 (missing again)", rc, z.zeropage);
	test("munmap page 6 and a byte",
	     (struct op){MUNMAP, area + 6 * PS, PS + 1, 0, 0, NULL, NULL, 0});
	test("mremap shrink 16 -> 12 pages",
	     (struct op){MREMAP, area, 16 * PS, 12 * PS, 0, NULL, NULL, 0});
	moved = area + 40 * PS;
	test("mremap move pages 8-11 to page 40",
	     (struct op){MREMAP, area + 8 * PS, 4 * PS, 4 * PS,
			 MREMAP_MAYMOVE | MREMAP_FIXED, moved, NULL, 0});
	range = (struct uffdio_range){(uintptr_t)moved, 4 * PS};
	show("UNREGISTER the moved pages",
	     u_ioctl(fd, UFFDIO_UNREGISTER, &range), 0);
	return 0;
}
