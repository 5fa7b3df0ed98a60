/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The differential fuzzer's operations: what the driver (fuzz.c) generates,
 * prints and minimizes, and what a child (fuzz_child.c) runs on one backend
 * while the other child runs the same on the other backend.
 *
 * An operation names its descriptor by slot and its memory by area and
 * offset, never by number or address, so that any subsequence of a
 * sequence is a sequence too: that is what lets a divergence be shortened.
 * The areas sit at fixed addresses, the same in every child.
 */
#ifndef UFFDEMU_TESTS_FUZZ_H
#define UFFDEMU_TESTS_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <stdio.h>

#include "backend.h"
#include "record.h"

/* Descriptor slots: userfaultfds, and two descriptors of other kinds. */
#define FZ_UFFD_SLOTS  6
#define FZ_SLOT_CLOSED 6 /* a number with nothing open */
#define FZ_SLOT_OTHER  7 /* /dev/null */
#define FZ_SLOTS       8

/* Threads an episode may start. */
#define FZ_MAX_THREADS 64

enum fz_area {
	AREA_A,   /* 16 pages, read-write */
	AREA_B,   /* 8 pages, read-write, a memfd mapped MAP_SHARED */
	AREA_C,   /* 4 pages, read-write */
	AREA_R,   /* 2 pages, PROT_READ */
	AREA_N,   /* 2 pages, PROT_NONE */
	AREA_SRC, /* 4 pages of a pattern, then a PROT_NONE one; never
		     registered, so that COPY never blocks on its source */
	AREA_GAP, /* nothing mapped */
	AREA_ABS, /* the offset is the address */
	N_AREAS,
};

/* The first address of an area, and its pages (0 for AREA_ABS). */
uint64_t fz_area_base(enum fz_area a);
unsigned int fz_area_pages(enum fz_area a);
const char *fz_area_name(enum fz_area a);

/* Where an ioctl argument or a read buffer lives. */
enum fz_place {
	PLACE_OK,   /* ordinary writable memory */
	PLACE_NULL, /* NULL */
	PLACE_8,    /* (void *)8 */
	PLACE_NONE, /* a PROT_NONE page */
	PLACE_RO,   /* a read-only page: the write-back faults */
	PLACE_TAIL, /* the last 8 bytes in a PROT_NONE page */
	N_PLACES,
};

enum fz_kind {
	FZ_CREATE,       /* slot2 = userfaultfd(mode) */
	FZ_DEV_CREATE,   /* slot2 = ioctl(/dev/userfaultfd, IOC_NEW, mode) */
	FZ_API,          /* UFFDIO_API {x, mode} */
	FZ_REGISTER,     /* range, mode */
	FZ_UNREGISTER,   /* range */
	FZ_WAKE,         /* range */
	FZ_COPY,         /* range (dst), src, mode */
	FZ_ZEROPAGE,     /* range, mode */
	FZ_WRITEPROTECT, /* range, mode */
	FZ_POISON,       /* range, mode */
	FZ_MOVE,         /* range (dst), src, mode */
	FZ_IOCTL,        /* request x, argument an int holding mode */
	FZ_READ,         /* mode bytes into a buffer placed as place */
	FZ_POLL,         /* events mode, timeout 0 */
	FZ_CLOSE,
	FZ_DUP,      /* slot2 = dup(slot) */
	FZ_SETFL,    /* fcntl(F_SETFL, mode) */
	FZ_TOUCH,    /* a new thread touches area+off: mode says how */
	FZ_SIGNAL,   /* SIGUSR1 to the thread that operation x started */
	FZ_MADVISE,  /* range, advice mode */
	FZ_MPROTECT, /* range, prot mode */
	FZ_MUNMAP,   /* range */
	FZ_MMAP,     /* range, fresh private anonymous read-write pages */
	FZ_FDINFO,   /* the userfaultfd lines of fdinfo */
	N_KINDS,
};

/* How a FZ_TOUCH thread touches. */
enum fz_touch { TOUCH_BYTE_READ, TOUCH_BYTE_WRITE, TOUCH_PAGE_READ };

struct fz_op {
	uint32_t id; /* its place in the generated sequence */
	uint8_t kind;
	uint8_t slot;  /* the descriptor used */
	uint8_t slot2; /* the slot a new descriptor goes to */
	uint8_t place; /* where the argument lives */
	uint8_t area;
	uint8_t src_area;
	uint64_t off;
	uint64_t src_off;
	uint64_t len;
	uint64_t mode; /* mode, flags, features, count, events, prot... */
	uint64_t x;    /* api, request, target operation, byte written */
};

/* The address an area and offset name. */
static inline uint64_t fz_addr(enum fz_area a, uint64_t off)
{
	return fz_area_base(a) + off;
}

/* "A+0x1000", "0x7ffffffff000". */
void fz_fmt_addr(char *out, size_t n, uint64_t addr);

/* The operation as a line of C-like code (no newline). */
void fz_fmt_op(char *out, size_t n, const struct fz_op *op);

/* --- the generator (fuzz_gen.c) --- */

/* A random number, and the next state. */
uint64_t fz_splitmix(uint64_t *state);

/* What the generator knows of the children of one episode. */
struct fz_model;

/* A model for an episode seeded with seed (free() it); device: whether
 * the kernel's /dev/userfaultfd works. */
struct fz_model *fz_model_new(uint64_t seed, bool device);

/* The next operation, the id-th of the episode. */
void fz_gen_op(struct fz_model *m, struct fz_op *op, uint32_t id);

/* What the kernel's record of op tells the generator. */
void fz_model_update(struct fz_model *m, const struct fz_op *op,
		     const struct record *kernel);

/*
 * The generator stays clear of the operations that show emulator bugs
 * found and not fixed yet; fz_avoid_all(false) makes them again.
 */
void fz_avoid_all(bool on);
/* The same for the entry called name; false when there is none. */
bool fz_avoid_set(const char *name, bool on);
void fz_avoid_print(FILE *f);

/* --- a child (fuzz_child.c) --- */

/* Area B is its memfd mapped MAP_PRIVATE, not MAP_SHARED (--private-b). */
extern bool fz_b_private;

/*
 * In a child: runs operations read from cmd_fd on b, each followed by its
 * record lines and an end line on out_fd, until cmd_fd closes.
 */
__attribute__((noreturn)) void fz_child(const struct backend *b, int cmd_fd,
					int out_fd);

/* The label of the line that ends each operation's record. */
#define FZ_END_LABEL "~end"

#endif /* UFFDEMU_TESTS_FUZZ_H */
