/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The opt-in trace: with UFFDEMU_TRACE set, one line on stderr for each
 * fault taken and each wake-up, for teaching and debugging.  Lines come
 * from the fault path, so they are formatted here by hand and written with
 * one write(2): no stdio, no allocation.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "emu/emu.h"
#include "uffdemu/uffdemu.h"

static bool tracing;
static struct timespec epoch;

void trace_init(void)
{
	const char *v = getenv("UFFDEMU_TRACE");

	clock_gettime(CLOCK_MONOTONIC, &epoch);
	tracing = v && *v && strcmp(v, "0") != 0;
}

bool trace_enabled(void)
{
	return tracing;
}

__attribute__((visibility("default"))) void
uffdemu_trace_epoch(struct timespec *start)
{
	*start = epoch;
}

struct line {
	char buf[256];
	size_t n;
};

static void put(struct line *l, const char *s)
{
	while (*s && l->n < sizeof(l->buf) - 1)
		l->buf[l->n++] = *s++;
}

static void put_num(struct line *l, unsigned long long v, unsigned int base,
		    int min_digits)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v || n < min_digits);
	while (n && l->n < sizeof(l->buf) - 1)
		l->buf[l->n++] = tmp[--n];
}

static void put_hex(struct line *l, unsigned long long v)
{
	put(l, "0x");
	put_num(l, v, 16, 1);
}

/* "uffdemu[pid] seconds.micros " as the shim's lines start. */
static void start_line(struct line *l)
{
	struct timespec now;
	long long ns;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (now.tv_sec - epoch.tv_sec) * 1000000000LL +
	     (now.tv_nsec - epoch.tv_nsec);
	l->n = 0;
	put(l, "uffdemu[");
	put_num(l, (unsigned long long)getpid(), 10, 1);
	put(l, "] ");
	put_num(l, (unsigned long long)(ns / 1000000000LL), 10, 1);
	put(l, ".");
	put_num(l, (unsigned long long)(ns % 1000000000LL / 1000), 10, 6);
	put(l, " ");
}

static void end_line(struct line *l)
{
	l->buf[l->n++] = '\n';
	if (write(2, l->buf, l->n) < 0)
		l->n = 0;
}

/* A thread faulted at addr and waits; safe in a signal handler. */
void trace_fault(uintptr_t addr, uint64_t flags, int fd_slot)
{
	struct line l;

	start_line(&l);
	put(&l, "fault address=");
	put_hex(&l, addr);
	put(&l, flags & UFFD_PAGEFAULT_FLAG_WP ? " flags=WP|" : " flags=");
	put(&l, flags & UFFD_PAGEFAULT_FLAG_WRITE ? "WRITE" : "READ");
	put(&l, " tid=");
	put_num(&l, (unsigned long long)syscall(SYS_gettid), 10, 1);
	put(&l, " ctx#");
	put_num(&l, (unsigned long long)fd_slot, 10, 1);
	end_line(&l);
}

/* A wake-up over [start, start + len) released n threads. */
void trace_wake(uint64_t start, uint64_t len, unsigned int n)
{
	struct line l;

	start_line(&l);
	put(&l, "wake start=");
	put_hex(&l, start);
	put(&l, " len=");
	put_num(&l, len, 10, 1);
	put(&l, " woken=");
	put_num(&l, n, 10, 1);
	end_line(&l);
}
