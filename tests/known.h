/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Known differences: where the emulator knowingly does not follow the
 * kernel, and why.  A scenario marks the line where such a difference shows
 * with the value the emulator gives instead, so the emulator is still held
 * to a value there: if it starts to give the kernel's value the comparison
 * says the mark is stale, and if it gives a third value it is a plain
 * difference.  The same list, with the reasons, is in the conformance
 * report and in tests/README-conformance.md.
 */
#ifndef UFFDEMU_TESTS_KNOWN_H
#define UFFDEMU_TESTS_KNOWN_H

#include <stdbool.h>
#include <stdint.h>

#include "record.h"

/* The ids marks use. */
#define KNOWN_FEATURES       "features"
#define KNOWN_WP_ASYNC_FILES "wp-async-files"
#define KNOWN_PLAIN_POLL     "plain-poll"
#define KNOWN_UNMERGED       "unmerged-mappings"
#define KNOWN_FAULT_AROUND   "fault-around"
#define KNOWN_PRIVATE_FILL   "private-fill"
#define KNOWN_GIGA_PRIVATE   "giga-private"

struct known_difference {
	const char *id;
	const char *reason;
};

/* Every known difference, ending with a NULL id. */
extern const struct known_difference known_differences[];

/* The reason for id, or NULL for an id that is not in the list. */
const char *known_reason(const char *id);

/*
 * What the emulator offers, where that is less than the kernel offers:
 * every feature of Linux 6.18.
 */
#define EMU_FEATURES_OFFERED 0x1ffffULL

/*
 * The next line is a known difference: on the emulator it has the value emu
 * (as the record prints it: "EINVAL", "0x1c").  known_rest() also says that
 * the rest of the run follows from it: the records are compared up to that
 * line, and a scenario usually ends the emulator's run there.
 */
void known(struct record *r, const char *id, const char *emu);
void known_rest(struct record *r, const char *id, const char *emu);

/*
 * The next line, the features UFFDIO_API offered, is the known difference
 * "features" where the running kernel offers other features than the
 * emulator.
 */
void known_features(struct record *r);

/* The same with the value formatted as rec_hex() and rec_rv() do. */
void known_hex(struct record *r, const char *id, uint64_t emu);
void known_rv_rest(struct record *r, const char *id, long emu);

#endif /* UFFDEMU_TESTS_KNOWN_H */
