/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The monitor thread of the fault-driven workloads: poll() until the
 * descriptor is readable, read() one message, answer it, as most monitors
 * written for the kernel's userfaultfd do.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>

#include "bench.h"

static int answer(struct monitor *m, uint64_t addr)
{
	const struct backend *b = m->b;
	size_t size = m->kind == RT_HUGE ? BENCH_HUGE : BENCH_PAGE;
	uint64_t page = addr & ~(size - 1);
	struct uffdio_copy copy = {page, (uintptr_t)m->src, size, 0, 0};
	struct uffdio_zeropage zero = {{page, BENCH_PAGE}, 0, 0};
	struct uffdio_writeprotect wp = {{page, BENCH_PAGE}, 0};
	struct uffdio_continue cont = {{page, BENCH_PAGE}, 0, 0};

	switch (m->kind) {
	case RT_COPY:
	case RT_HUGE:
		return b->ioctl(m->uffd, UFFDIO_COPY, &copy);
	case RT_ZERO:
		return b->ioctl(m->uffd, UFFDIO_ZEROPAGE, &zero);
	case RT_MINOR:
		return b->ioctl(m->uffd, UFFDIO_CONTINUE, &cont);
	default:
		return b->ioctl(m->uffd, UFFDIO_WRITEPROTECT, &wp);
	}
}

/* Takes one message if there is one: 1 served, 0 nothing, -1 failed. */
static int serve_one(struct monitor *m)
{
	struct pollfd p = {.fd = m->uffd, .events = POLLIN};
	struct uffd_msg msg;
	int n = m->b->poll(&p, 1, -1);

	if (n < 0)
		return errno == EINTR ? 0 : -1;
	if (n == 0)
		return 0;
	if (m->b->read(m->uffd, &msg, sizeof(msg)) != sizeof(msg))
		return errno == EAGAIN ? 0 : -1;
	if (msg.event != UFFD_EVENT_PAGEFAULT)
		return 0;
	if (answer(m, msg.arg.pagefault.address) != 0)
		return -1;
	return 1;
}

static void *monitor_loop(void *arg)
{
	struct monitor *m = arg;

	pin_to_cpu(m->cpu);
	while (atomic_load(&m->served) < m->expected &&
	       !atomic_load(&m->done)) {
		int n = serve_one(m);

		if (n < 0) {
			fail(m->r, "monitor", errno);
			break;
		}
		atomic_fetch_add(&m->served, (unsigned long)n);
	}
	return NULL;
}

int monitor_start(struct monitor *m)
{
	int err;

	atomic_store(&m->served, 0);
	atomic_store(&m->done, false);
	err = pthread_create(&m->tid, NULL, monitor_loop, m);
	return err ? fail(m->r, "pthread_create", err) : 0;
}

/* Waits for the monitor once the faulting threads are through. */
void monitor_stop(struct monitor *m)
{
	atomic_store(&m->done, true);
	pthread_join(m->tid, NULL);
}
