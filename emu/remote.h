/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a monitor in another process and the faulting process's service
 * thread say to each other (remote.c): one request, one reply, each a
 * packet of a SOCK_SEQPACKET connection, descriptors passed alongside.
 */
#ifndef UFFDEMU_EMU_REMOTE_H
#define UFFDEMU_EMU_REMOTE_H

#include <stdint.h>

#include "uffdemu/userfaultfd.h"

#define REMOTE_MARK       0x75feULL
#define REMOTE_MSGS       64
#define REMOTE_ARG        64
#define REMOTE_BUF        (4UL << 20) /* COPY's source, per connection */
#define REMOTE_CONNS      64
#define REMOTE_INFLIGHT   256
#define REMOTE_INFLIGHT_S 60

enum remote_op {
	OP_HELLO = 1, /* a new holder: its descriptor and buffer */
	OP_READ,
	OP_IOCTL,
	OP_SENT,    /* the holder sends a copy of its descriptor away */
	OP_ARRIVED, /* a copy arrived where a connection exists already */
	OP_FDINFO,
};

struct request {
	uint32_t op;
	uint32_t slot;
	uint64_t request;  /* the ioctl, or the messages wanted */
	uint64_t len;      /* COPY: the bytes in the buffer */
	uint64_t readable; /* COPY: of those, how many the caller could read */
	unsigned char arg[REMOTE_ARG];
};

struct reply {
	int64_t ret;
	uint32_t n;     /* messages, or bytes of fdinfo text */
	uint32_t flags; /* READ: the context's creation flags */
	unsigned char arg[REMOTE_ARG];
	union {
		struct uffd_msg msgs[REMOTE_MSGS];
		char text[512];
	};
};

#endif /* UFFDEMU_EMU_REMOTE_H */
