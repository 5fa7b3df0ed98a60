/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What userfaultfd scenarios share: ioctl wrappers, memory areas with names
 * (so that addresses compare across processes as "A+0x1000"), threads that
 * touch memory and are known as T0, T1, ..., messages decoded from their
 * 32 bytes, and reads of pages that might block.
 *
 * Results follow the "value or -errno" convention: errno is captured at the
 * call, and rec_rv() prints "EINVAL" or the value.
 */
#ifndef UFFDEMU_TESTS_HELPERS_H
#define UFFDEMU_TESTS_HELPERS_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "backend.h"
#include "record.h"
#include "scenario.h"

#define PG 4096UL

/* Built with a thread sanitizer (it changes what a few scenarios can do). */
#if defined(__SANITIZE_THREAD__)
#define TESTS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TESTS_TSAN 1
#endif
#endif

/* The top of an ordinary 47-bit x86-64 address space. */
#define TASK_SIZE_47 0x7ffffffff000ULL

/* Output fields are pre-filled with these, as the probes do. */
#define FIELD_UNTOUCHED  0x7777
#define IOCTLS_UNTOUCHED 0xdeadbeef

/* Waits: for what should happen, and for what should not. */
#define WAIT_MS  2000
#define QUIET_MS 100

static inline long rv(long rc)
{
	return rc < 0 ? -(long)errno : rc;
}

static inline uint64_t u64p(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/* --- memory --- */

/* Fresh private anonymous pages; the run aborts if mmap fails. */
char *map_pages(size_t pages, int prot);

/* Fresh pages of memory type m (a new memfd for the shmem types). */
char *map_mem(enum mem_type m, size_t pages, int prot);

/*
 * A second mapping of the same pages of shared memory (a MEM_SHMEM or
 * MEM_SHARED_ANON area from map_mem()), made before anything registers
 * the area: what the monitor of a shared-memory range writes through.
 * For a MEM_SHMEM_PRIVATE area it is a MAP_SHARED mapping of its file.
 */
char *map_mem_view(const void *area, size_t pages);

/* Whether the file behind a shared view (above) has the page at addr. */
bool in_file(const void *addr);

/* The memory type of the map_mem() area holding addr; MEM_ANON otherwise. */
enum mem_type mem_of(const void *addr);

/*
 * Pages far below where mmap places things (it works top-down from near
 * 128 TiB), so that a hole made in them stays a hole: nothing mapped later
 * in the run lands there.  Only for a few small areas per run.
 */
char *map_far(size_t pages, int prot);

/* An address range with nothing mapped in it, far away as above. */
char *map_gap(size_t pages);

/* Where an ioctl argument lives, for the EFAULT cases. */
enum arg_place {
	ARG_WRITABLE,        /* an ordinary writable copy */
	ARG_ADDR_8,          /* (void *)8 */
	ARG_NULL,            /* NULL */
	ARG_PROT_NONE,       /* in a PROT_NONE page */
	ARG_READ_ONLY,       /* readable, but the write-back faults */
	ARG_LAST_8_UNMAPPED, /* its last 8 bytes in a PROT_NONE page */
};

/* A copy of the size bytes at arg, placed as asked. */
void *place_arg(const void *arg, size_t size, enum arg_place where);

/* Addresses inside [base, base+len) print as "name+0x...". */
void name_area(const char *name, const void *base, size_t len);
void fmt_addr(char *out, size_t n, uint64_t addr);
bool rec_addr(struct record *r, const char *label, uint64_t addr);
bool rec_addr_is(struct record *r, const char *label, uint64_t addr,
		 uint64_t expect);

/* A page whose bytes depend on seed, so that pages can be told apart. */
void fill_pattern(void *p, size_t len, unsigned int seed);

/* --- the ioctls --- */

long u_api(const struct backend *b, int fd, uint64_t features,
	   struct uffdio_api *out);
long u_register(const struct backend *b, int fd, uint64_t start, uint64_t len,
		uint64_t mode, uint64_t *ioctls);
long u_unregister(const struct backend *b, int fd, uint64_t start,
		  uint64_t len);
long u_wake(const struct backend *b, int fd, uint64_t start, uint64_t len);
long u_copy(const struct backend *b, int fd, uint64_t dst, uint64_t src,
	    uint64_t len, uint64_t mode, int64_t *field);
long u_zeropage(const struct backend *b, int fd, uint64_t start, uint64_t len,
		uint64_t mode, int64_t *field);
long u_writeprotect(const struct backend *b, int fd, uint64_t start,
		    uint64_t len, uint64_t mode);
long u_poison(const struct backend *b, int fd, uint64_t start, uint64_t len,
	      int64_t *field);
long u_continue(const struct backend *b, int fd, uint64_t start, uint64_t len,
		uint64_t mode, int64_t *field);
long u_poll(const struct backend *b, int fd, short events, int timeout,
	    short *revents);

/*
 * Setup that the scenario depends on: each step is recorded with the value
 * it must have, and the run aborts if it does not.  Where the emulator
 * knowingly refuses the step (features it does not offer, memory it does
 * not register) the step is marked so (known.h) and the emulator's run
 * ends there.
 */
int setup_uffd(const struct backend *b, struct record *r, int flags,
	       uint64_t features);
void setup_register(const struct backend *b, struct record *r, int fd,
		    const void *start, size_t len);

/* --- messages --- */

/*
 * Waits until a non-blocking descriptor reports POLLIN (at most ms);
 * returns the revents seen, 0 on timeout, or -errno.
 */
long wait_msg(const struct backend *b, int fd, int ms);

/* Reads up to max messages; the count of bytes or -errno. */
long read_msgs(const struct backend *b, int fd, struct uffd_msg *m, size_t max);

/*
 * Records every byte of a message as fields: event, the reserved bytes,
 * flags, address (named), ptid (as "T<k>"), and the last 4 bytes.
 */
void rec_msg(struct record *r, const char *label, const struct uffd_msg *m);

/* The same, with what a page-fault message must contain; thread -1: 0. */
void rec_msg_is(struct record *r, const char *label, const struct uffd_msg *m,
		uint64_t flags, uint64_t addr, int thread);

/* Reads one message (waiting for it first) and records it as above. */
void expect_fault(const struct backend *b, struct record *r, int fd,
		  const char *label, uint64_t flags, uint64_t addr, int thread);

/* --- threads that touch memory --- */

enum touch_kind { TOUCH_READ, TOUCH_WRITE };

struct toucher {
	int index; /* k in "Tk" */
	enum touch_kind kind;
	volatile unsigned char *addr;
	unsigned char val;  /* written by TOUCH_WRITE */
	unsigned char seen; /* read, or read back after the write */
	int delay_ms;       /* before touching */
	pid_t tid;
	int state; /* TS_*, atomic */
	pthread_t thread;
};

enum { TS_NEW, TS_STARTED, TS_DONE };

/* A new thread Tk (k counts up from 0 in each run) touching addr once. */
struct toucher *touch(void *addr, enum touch_kind kind, unsigned char val);

/* The same, touching only after ms milliseconds. */
struct toucher *touch_later(void *addr, enum touch_kind kind, unsigned char val,
			    int ms);

/* Until it has started, is asleep, and a little more; done is fine too. */
void touch_settle(struct toucher *t);

/* Whether it finished within ms. */
bool touch_wait(struct toucher *t, int ms);

/*
 * Records "done" (and the byte seen) or "blocked" after waiting ms for the
 * thread; expect_done says which the spec wants, expect_seen the byte
 * (-1: no expectation).
 */
bool rec_touch(struct record *r, const char *label, struct toucher *t, int ms,
	       bool expect_done, int expect_seen);

/* "Tk" for the thread ids of touchers, "0" for 0. */
void fmt_tid(char *out, size_t n, uint32_t tid);

/*
 * Reads a page from another thread and describes its contents as rec_mem()
 * does, or says "blocked" if the read does not finish within ms (the thread
 * is then abandoned).
 */
void fmt_page(char *out, size_t n, const void *page, int ms);

/* fmt_page() as a line; expect (the bytes the page should hold) may be NULL. */
bool rec_page(struct record *r, const char *label, const void *page,
	      const void *expect, int ms);

/* The thread state letter of /proc/self/task/<tid>/stat, or '?'. */
char thread_state(pid_t tid);

/* Sleeps ms milliseconds. */
void msleep(int ms);

/*
 * Reads a byte of a page from this thread and records "SIGBUS <code>" or
 * the byte.  For pages that are not missing (a read of one would block).
 */
void rec_read_byte(struct record *r, const char *label, const void *addr,
		   const char *expect);

/* Sends sig to a thread of this process from another one, ms from now. */
void signal_later(pthread_t target, int sig, int ms);

#endif /* UFFDEMU_TESTS_HELPERS_H */
