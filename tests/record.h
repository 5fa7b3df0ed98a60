/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Records: what a monitor could observe while a scenario ran, as an ordered
 * list of (label, value) lines.
 *
 * A scenario is written once and run on each backend; each run fills one
 * record.  Two records are equal when they have the same lines in the same
 * order, so comparing the kernel's record with the emulator's one finds the
 * first observable difference and names it by its label.  A line may also
 * carry the value the specification promises ("expect"); that is how the
 * emulator is still checked when the kernel's userfaultfd is not available.
 *
 * A line may also be a known difference (known.h): the emulator knowingly
 * gives another value there, which the line carries, so that the emulator is
 * still held to it and a mark that no longer applies is found out.  Such a
 * mark may say that the rest of the run follows from the difference; the
 * records are then compared only up to that line.
 *
 * Values are text so that any observation (a return value, an errno name, a
 * struct field, a message field, a page checksum) fits the same line, and so
 * that a record can cross a pipe from the process that ran the scenario.
 * Records are not thread-safe: only the scenario's main thread adds lines.
 */
#ifndef UFFDEMU_TESTS_RECORD_H
#define UFFDEMU_TESTS_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define REC_LABEL_MAX 96
#define REC_VALUE_MAX 112
#define REC_ID_MAX    32

/* A known difference on a line: what the emulator gives, and which one. */
struct rec_mark {
	char value[REC_VALUE_MAX]; /* "" when the line is not marked */
	char id[REC_ID_MAX];       /* a name from known.h */
	bool rest;                 /* the rest of the run follows from it */
};

struct rec_line {
	char label[REC_LABEL_MAX];
	char value[REC_VALUE_MAX];
	char expect[REC_VALUE_MAX]; /* "" when the spec says nothing */
	struct rec_mark known;
};

struct record {
	struct rec_line *lines;
	size_t n;
	size_t cap;
	int sink;     /* each new line is also written here */
	bool emu;     /* the emulator's run: marked lines expect their mark */
	bool marking; /* the next line takes pending */
	struct rec_mark pending;
};

void rec_init(struct record *r);
void rec_free(struct record *r);

/*
 * The next line added is a known difference: on the emulator it has value
 * instead of the kernel's (see known.h for the ids and their reasons).
 */
void rec_mark_next(struct record *r, const char *id, const char *value,
		   bool rest);

/*
 * The value a line must have in this record: the mark's on the emulator's
 * record, else the spec's ("" for none).
 */
const char *rec_want(const struct record *r, const struct rec_line *l);

/* Also stream every new line to fd (one write per line), or stop: -1. */
void rec_set_sink(struct record *r, int fd);

/*
 * The generic line.  expect may be NULL.  Returns true when there is no
 * expectation or the value meets it (rec_want), so a scenario can stop early.
 */
bool rec_add(struct record *r, const char *label, const char *expect,
	     const char *value);

/*
 * Typed lines.  Each "_is" variant formats the expectation exactly as it
 * formats the value; the plain ones are for what the spec leaves open (and
 * for generated scenarios, which have no expectations).
 *
 * rv: a result in the "count or -errno" convention: "32", "EINVAL".
 * fd: the same, but any descriptor prints as "fd" (numbers may differ).
 */
bool rec_str(struct record *r, const char *label, const char *value);
bool rec_str_is(struct record *r, const char *label, const char *value,
		const char *expect);
bool rec_int(struct record *r, const char *label, long long value);
bool rec_int_is(struct record *r, const char *label, long long value,
		long long expect);
bool rec_hex(struct record *r, const char *label, uint64_t value);
bool rec_hex_is(struct record *r, const char *label, uint64_t value,
		uint64_t expect);
bool rec_rv(struct record *r, const char *label, long value);
bool rec_rv_is(struct record *r, const char *label, long value, long expect);
bool rec_fd(struct record *r, const char *label, long value);
bool rec_fd_is(struct record *r, const char *label, long value, long expect);

/* "uniform 0x00" when every byte is equal, else a checksum. */
bool rec_mem(struct record *r, const char *label, const void *p, size_t len);
void rec_fmt_mem(char *out, size_t n, const void *p, size_t len);

/* "EINVAL" for 22; never NULL. */
const char *rec_errname(int err);
void rec_fmt_rv(char *out, size_t n, long value);

/*
 * Index of the first line whose value misses what it must be (rec_want), or
 * -1.  The explanation goes to msg.
 */
long rec_check(const struct record *r, const char *name, char *msg, size_t n);

enum rec_outcome {
	REC_EQUAL,   /* the same lines */
	REC_KNOWN,   /* the same but for known differences, as marked */
	REC_DIFFERS, /* a difference no mark explains */
	REC_STALE,   /* a marked line where the emulator gives the kernel's */
};

struct rec_diff {
	enum rec_outcome outcome;
	long line;                 /* the first line concerned, or -1 */
	char label[REC_LABEL_MAX]; /* its label */
	char ids[4 * REC_ID_MAX];  /* the known differences met, by id */
	char msg[768];             /* the explanation */
};

/*
 * Compares the kernel's record k with the emulator's record e line by line:
 * labels and values must agree, except on marked lines, where the emulator
 * must give the marked value and the kernel another one.  A mark with rest
 * ends the comparison.  Both records must mark the same lines.
 */
void rec_diff(const struct record *k, const struct record *e,
	      struct rec_diff *d);

/* Lines [from, to) of r, one per row, for failure reports. */
void rec_print(FILE *f, const struct record *r, const char *name, size_t from,
	       size_t to);

/* The value of the first line with this label, or NULL. */
const char *rec_get(const struct record *r, const char *label);

/*
 * Adds the lines a sink wrote (text of len bytes); a cut last line is kept.
 * The stream is "label\tvalue\texpect\tmark value\tmark id\trest\n".
 */
void rec_parse(struct record *r, const char *text, size_t len);

#endif /* UFFDEMU_TESTS_RECORD_H */
