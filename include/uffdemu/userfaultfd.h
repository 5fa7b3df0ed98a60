/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uffdemu/userfaultfd.h: the userfaultfd user-space ABI as of Linux 6.18.
 *
 * Written from the uffdemu ABI specification so that the project builds
 * against old kernel headers and on hosts with no <linux/...> headers.
 * The standard kernel names are used throughout.
 *
 * Working together with the system <linux/userfaultfd.h>:
 *  - included after it: only what the system header lacks is added (every
 *    macro is guarded; missing structs are detected by version sentinels).
 *    The "set" macros (UFFD_API_FEATURES, UFFD_API_*IOCTLS,
 *    UFFD_API_REGISTER_MODES) keep the system header's possibly older values,
 *    so the UFFDEMU_API_* variants below always carry the 6.18 values;
 *  - included before it: everything is defined here and _LINUX_USERFAULTFD_H
 *    is set, so a later include of the system header does nothing.
 *
 * Defining UFFDEMU_TEST_NO_LINUX_HEADERS forces the non-Linux code path
 * (no <linux/types.h>, no <sys/ioctl.h>, literal request values).
 */
#ifndef UFFDEMU_USERFAULTFD_H
#define UFFDEMU_USERFAULTFD_H

/* ------------------------------------------------------------------ */
/* Host detection (private helpers, removed again at the end)         */
/* ------------------------------------------------------------------ */

#if defined(__linux__) && !defined(UFFDEMU_TEST_NO_LINUX_HEADERS)
#define UFFDEMU_H_LINUX 1
#endif

/* Is <linux/types.h> usable? */
#if defined(_LINUX_USERFAULTFD_H) || defined(_LINUX_TYPES_H)
#define UFFDEMU_H_LINUX_TYPES 1
#elif defined(UFFDEMU_H_LINUX)
#ifdef __has_include
#if __has_include(<linux/types.h>)
#define UFFDEMU_H_LINUX_TYPES 1
#endif
#else
#define UFFDEMU_H_LINUX_TYPES 1
#endif
#endif

/*
 * Which structs must be defined here: all of them unless the system header
 * came first, in which case only those newer than that header.
 */
#ifdef _LINUX_USERFAULTFD_H
#ifndef UFFD_FEATURE_THREAD_ID
/*
 * Its struct uffd_msg lacks feat.ptid (before 4.14) or the event members
 * (before 4.11) and cannot be completed here.
 */
#error "<linux/userfaultfd.h> older than 4.14: include this header first"
#endif
#ifndef UFFDIO_WRITEPROTECT_MODE_WP
#define UFFDEMU_H_NEED_WRITEPROTECT 1
#endif
#ifndef UFFDIO_CONTINUE_MODE_DONTWAKE
#define UFFDEMU_H_NEED_CONTINUE 1
#endif
#ifndef UFFDIO_POISON_MODE_DONTWAKE
#define UFFDEMU_H_NEED_POISON 1
#endif
#ifndef UFFDIO_MOVE_MODE_DONTWAKE
#define UFFDEMU_H_NEED_MOVE 1
#endif
#else
#define UFFDEMU_H_NEED_BASE         1
#define UFFDEMU_H_NEED_WRITEPROTECT 1
#define UFFDEMU_H_NEED_CONTINUE     1
#define UFFDEMU_H_NEED_POISON       1
#define UFFDEMU_H_NEED_MOVE         1
#endif

/* ------------------------------------------------------------------ */
/* Headers and fixed-width types                                      */
/* ------------------------------------------------------------------ */

#include <fcntl.h> /* O_CLOEXEC, O_NONBLOCK: flags of userfaultfd() */
#include <stddef.h>

/* glibc hides O_CLOEXEC in strict ISO C modes but keeps its inner name. */
#if !defined(O_CLOEXEC) && defined(__O_CLOEXEC)
#define O_CLOEXEC __O_CLOEXEC
#endif

#ifdef UFFDEMU_H_LINUX_TYPES
#include <linux/types.h>
#else
#include <stdint.h>
/* Skip if these names already came from Linux's own type headers. */
#if !defined(UFFDEMU_INT_TYPES_DEFINED) && !defined(_LINUX_TYPES_H) && \
	!defined(_ASM_GENERIC_INT_LL64_H) && !defined(_ASM_GENERIC_INT_L64_H)
#define UFFDEMU_INT_TYPES_DEFINED 1
typedef uint8_t __u8;
typedef uint16_t __u16;
typedef uint32_t __u32;
typedef uint64_t __u64;
typedef int64_t __s64;
#endif
#endif

#ifdef UFFDEMU_H_LINUX
#include <sys/ioctl.h>
#if defined(_IOWR) && defined(_IOR) && defined(_IO)
/* Build request values with the host's own encoding (right on every arch). */
#define UFFDEMU_H_HOST_IOC 1
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Creating a userfaultfd                                             */
/* ------------------------------------------------------------------ */

/* userfaultfd() flag: do not report faults taken inside the kernel. */
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

/* ioctl type byte of /dev/userfaultfd. */
#ifndef USERFAULTFD_IOC
#define USERFAULTFD_IOC 0xAA
#endif

/* ------------------------------------------------------------------ */
/* API version and ioctl numbers                                      */
/* ------------------------------------------------------------------ */

/* The only API version; must be passed in uffdio_api.api. */
#ifndef UFFD_API
#define UFFD_API ((__u64)0xAA)
#endif

/* ioctl type byte of a userfaultfd. */
#ifndef UFFDIO
#define UFFDIO 0xAA
#endif

/* Command numbers; also the bit positions in the ioctl masks. */
#ifndef _UFFDIO_REGISTER
#define _UFFDIO_REGISTER (0x00)
#endif
#ifndef _UFFDIO_UNREGISTER
#define _UFFDIO_UNREGISTER (0x01)
#endif
#ifndef _UFFDIO_WAKE
#define _UFFDIO_WAKE (0x02)
#endif
#ifndef _UFFDIO_COPY
#define _UFFDIO_COPY (0x03)
#endif
#ifndef _UFFDIO_ZEROPAGE
#define _UFFDIO_ZEROPAGE (0x04)
#endif
#ifndef _UFFDIO_MOVE
#define _UFFDIO_MOVE (0x05)
#endif
#ifndef _UFFDIO_WRITEPROTECT
#define _UFFDIO_WRITEPROTECT (0x06)
#endif
#ifndef _UFFDIO_CONTINUE
#define _UFFDIO_CONTINUE (0x07)
#endif
#ifndef _UFFDIO_POISON
#define _UFFDIO_POISON (0x08)
#endif
#ifndef _UFFDIO_API
#define _UFFDIO_API (0x3F)
#endif

/* ------------------------------------------------------------------ */
/* Sets of ioctls, features and register modes (6.18 values)          */
/* ------------------------------------------------------------------ */

/* Ioctls usable on the fd itself: API, REGISTER, UNREGISTER. */
#define UFFDEMU_API_IOCTLS                                               \
	((__u64)1 << _UFFDIO_REGISTER | (__u64)1 << _UFFDIO_UNREGISTER | \
	 (__u64)1 << _UFFDIO_API)

/* Ioctls offered on a registered range without hugetlb VMAs (0x1fc). */
#define UFFDEMU_API_RANGE_IOCTLS                                           \
	((__u64)1 << _UFFDIO_WAKE | (__u64)1 << _UFFDIO_COPY |             \
	 (__u64)1 << _UFFDIO_ZEROPAGE | (__u64)1 << _UFFDIO_MOVE |         \
	 (__u64)1 << _UFFDIO_WRITEPROTECT | (__u64)1 << _UFFDIO_CONTINUE | \
	 (__u64)1 << _UFFDIO_POISON)

/* Same for a range containing hugetlb: no ZEROPAGE, no MOVE (0x1cc). */
#define UFFDEMU_API_RANGE_IOCTLS_BASIC                                     \
	((__u64)1 << _UFFDIO_WAKE | (__u64)1 << _UFFDIO_COPY |             \
	 (__u64)1 << _UFFDIO_WRITEPROTECT | (__u64)1 << _UFFDIO_CONTINUE | \
	 (__u64)1 << _UFFDIO_POISON)

/* Every register mode (MISSING, WP, MINOR). */
#define UFFDEMU_API_REGISTER_MODES ((__u64)0x7)

/* Every feature bit defined up to 6.18 (bits 0..16). */
#define UFFDEMU_API_FEATURES ((__u64)0x1ffff)

#ifndef UFFD_API_IOCTLS
#define UFFD_API_IOCTLS UFFDEMU_API_IOCTLS
#endif
#ifndef UFFD_API_RANGE_IOCTLS
#define UFFD_API_RANGE_IOCTLS UFFDEMU_API_RANGE_IOCTLS
#endif
#ifndef UFFD_API_RANGE_IOCTLS_BASIC
#define UFFD_API_RANGE_IOCTLS_BASIC UFFDEMU_API_RANGE_IOCTLS_BASIC
#endif
#ifndef UFFD_API_REGISTER_MODES
#define UFFD_API_REGISTER_MODES                                   \
	(UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP | \
	 UFFDIO_REGISTER_MODE_MINOR)
#endif
#ifndef UFFD_API_FEATURES
#define UFFD_API_FEATURES                                                \
	(UFFD_FEATURE_PAGEFAULT_FLAG_WP | UFFD_FEATURE_EVENT_FORK |      \
	 UFFD_FEATURE_EVENT_REMAP | UFFD_FEATURE_EVENT_REMOVE |          \
	 UFFD_FEATURE_MISSING_HUGETLBFS | UFFD_FEATURE_MISSING_SHMEM |   \
	 UFFD_FEATURE_EVENT_UNMAP | UFFD_FEATURE_SIGBUS |                \
	 UFFD_FEATURE_THREAD_ID | UFFD_FEATURE_MINOR_HUGETLBFS |         \
	 UFFD_FEATURE_MINOR_SHMEM | UFFD_FEATURE_EXACT_ADDRESS |         \
	 UFFD_FEATURE_WP_HUGETLBFS_SHMEM | UFFD_FEATURE_WP_UNPOPULATED | \
	 UFFD_FEATURE_POISON | UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_MOVE)
#endif

/* ------------------------------------------------------------------ */
/* Messages returned by read()                                        */
/* ------------------------------------------------------------------ */

#ifdef UFFDEMU_H_NEED_BASE
/* One 32-byte message; every byte not meaningful for the event is 0. */
struct uffd_msg {
	__u8 event; /* UFFD_EVENT_* */
	__u8 reserved1;
	__u16 reserved2;
	__u32 reserved3;

	union {
		/* UFFD_EVENT_PAGEFAULT */
		struct {
			__u64 flags;   /* UFFD_PAGEFAULT_FLAG_* */
			__u64 address; /* faulting address */
			union {
				/* thread id, with UFFD_FEATURE_THREAD_ID */
				__u32 ptid;
			} feat;
		} pagefault;

		/* UFFD_EVENT_FORK */
		struct {
			__u32 ufd; /* new userfaultfd for the child */
		} fork;

		/* UFFD_EVENT_REMAP: mremap moved [from, from+len) to to */
		struct {
			__u64 from;
			__u64 to;
			__u64 len;
		} remap;

		/* UFFD_EVENT_REMOVE and UFFD_EVENT_UNMAP: [start, end) */
		struct {
			__u64 start;
			__u64 end;
		} remove;

		/* Raw view of the payload. */
		struct {
			__u64 reserved1;
			__u64 reserved2;
			__u64 reserved3;
		} reserved;
	} arg;
} __attribute__((packed));
#endif

/* Message kinds (start at 0x12 so an all-zero buffer is never valid). */
#ifndef UFFD_EVENT_PAGEFAULT
#define UFFD_EVENT_PAGEFAULT 0x12
#endif
#ifndef UFFD_EVENT_FORK
#define UFFD_EVENT_FORK 0x13
#endif
#ifndef UFFD_EVENT_REMAP
#define UFFD_EVENT_REMAP 0x14
#endif
#ifndef UFFD_EVENT_REMOVE
#define UFFD_EVENT_REMOVE 0x15
#endif
#ifndef UFFD_EVENT_UNMAP
#define UFFD_EVENT_UNMAP 0x16
#endif

/* pagefault.flags; neither WP nor MINOR means a missing page. */
#ifndef UFFD_PAGEFAULT_FLAG_WRITE
#define UFFD_PAGEFAULT_FLAG_WRITE (1 << 0) /* access was a write */
#endif
#ifndef UFFD_PAGEFAULT_FLAG_WP
#define UFFD_PAGEFAULT_FLAG_WP (1 << 1) /* write-protect fault */
#endif
#ifndef UFFD_PAGEFAULT_FLAG_MINOR
#define UFFD_PAGEFAULT_FLAG_MINOR (1 << 2) /* minor fault */
#endif

/* ------------------------------------------------------------------ */
/* UFFDIO_API                                                         */
/* ------------------------------------------------------------------ */

#ifdef UFFDEMU_H_NEED_BASE
struct uffdio_api {
	__u64 api;      /* in: UFFD_API */
	__u64 features; /* in: wanted UFFD_FEATURE_*; out: offered ones */
	__u64 ioctls;   /* out: ioctl bits usable on the fd */
};
#endif

/* Feature bits for uffdio_api.features. */
#ifndef UFFD_FEATURE_PAGEFAULT_FLAG_WP
#define UFFD_FEATURE_PAGEFAULT_FLAG_WP (1 << 0) /* WP mode on anon memory */
#endif
#ifndef UFFD_FEATURE_EVENT_FORK
#define UFFD_FEATURE_EVENT_FORK (1 << 1) /* report fork, copy the ctx */
#endif
#ifndef UFFD_FEATURE_EVENT_REMAP
#define UFFD_FEATURE_EVENT_REMAP (1 << 2) /* report mremap moves */
#endif
#ifndef UFFD_FEATURE_EVENT_REMOVE
#define UFFD_FEATURE_EVENT_REMOVE (1 << 3) /* report madvise removals */
#endif
#ifndef UFFD_FEATURE_MISSING_HUGETLBFS
#define UFFD_FEATURE_MISSING_HUGETLBFS (1 << 4) /* MISSING on hugetlbfs */
#endif
#ifndef UFFD_FEATURE_MISSING_SHMEM
#define UFFD_FEATURE_MISSING_SHMEM (1 << 5) /* MISSING on shmem */
#endif
#ifndef UFFD_FEATURE_EVENT_UNMAP
#define UFFD_FEATURE_EVENT_UNMAP (1 << 6) /* report munmap */
#endif
#ifndef UFFD_FEATURE_SIGBUS
#define UFFD_FEATURE_SIGBUS (1 << 7) /* SIGBUS instead of a message */
#endif
#ifndef UFFD_FEATURE_THREAD_ID
#define UFFD_FEATURE_THREAD_ID (1 << 8) /* fill pagefault.feat.ptid */
#endif
#ifndef UFFD_FEATURE_MINOR_HUGETLBFS
#define UFFD_FEATURE_MINOR_HUGETLBFS (1 << 9) /* MINOR on hugetlbfs */
#endif
#ifndef UFFD_FEATURE_MINOR_SHMEM
#define UFFD_FEATURE_MINOR_SHMEM (1 << 10) /* MINOR on shmem */
#endif
#ifndef UFFD_FEATURE_EXACT_ADDRESS
#define UFFD_FEATURE_EXACT_ADDRESS (1 << 11) /* unmasked fault address */
#endif
#ifndef UFFD_FEATURE_WP_HUGETLBFS_SHMEM
#define UFFD_FEATURE_WP_HUGETLBFS_SHMEM (1 << 12) /* WP on shmem/hugetlb */
#endif
#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED (1 << 13) /* WP covers empty entries */
#endif
#ifndef UFFD_FEATURE_POISON
#define UFFD_FEATURE_POISON (1 << 14) /* UFFDIO_POISON exists */
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15) /* WP faults resolved silently */
#endif
#ifndef UFFD_FEATURE_MOVE
#define UFFD_FEATURE_MOVE (1 << 16) /* UFFDIO_MOVE exists */
#endif

/* ------------------------------------------------------------------ */
/* UFFDIO_REGISTER, UFFDIO_UNREGISTER, UFFDIO_WAKE                    */
/* ------------------------------------------------------------------ */

#ifdef UFFDEMU_H_NEED_BASE
/* The address range [start, start + len). */
struct uffdio_range {
	__u64 start;
	__u64 len;
};

struct uffdio_register {
	struct uffdio_range range;
	__u64 mode;   /* in: UFFDIO_REGISTER_MODE_* */
	__u64 ioctls; /* out: ioctl bits usable on the range */
};
#endif

/* Which faults to trap in a registered range. */
#ifndef UFFDIO_REGISTER_MODE_MISSING
#define UFFDIO_REGISTER_MODE_MISSING ((__u64)1 << 0) /* page absent */
#endif
#ifndef UFFDIO_REGISTER_MODE_WP
#define UFFDIO_REGISTER_MODE_WP ((__u64)1 << 1) /* write to protected */
#endif
#ifndef UFFDIO_REGISTER_MODE_MINOR
#define UFFDIO_REGISTER_MODE_MINOR ((__u64)1 << 2) /* in cache, unmapped */
#endif

/* ------------------------------------------------------------------ */
/* UFFDIO_COPY, UFFDIO_ZEROPAGE                                       */
/* ------------------------------------------------------------------ */

#ifdef UFFDEMU_H_NEED_BASE
struct uffdio_copy {
	__u64 dst; /* page-aligned destination */
	__u64 src; /* source in the caller's memory */
	__u64 len;
	__u64 mode; /* UFFDIO_COPY_MODE_* */
	__s64 copy; /* out: bytes copied, or -errno */
};

struct uffdio_zeropage {
	struct uffdio_range range;
	__u64 mode;     /* UFFDIO_ZEROPAGE_MODE_* */
	__s64 zeropage; /* out: bytes zero-filled, or -errno */
};
#endif

#ifndef UFFDIO_COPY_MODE_DONTWAKE
#define UFFDIO_COPY_MODE_DONTWAKE ((__u64)1 << 0) /* leave waiters blocked */
#endif
#ifndef UFFDIO_COPY_MODE_WP
#define UFFDIO_COPY_MODE_WP ((__u64)1 << 1) /* map write-protected */
#endif
#ifndef UFFDIO_ZEROPAGE_MODE_DONTWAKE
#define UFFDIO_ZEROPAGE_MODE_DONTWAKE ((__u64)1 << 0) /* leave waiters */
#endif

/* ------------------------------------------------------------------ */
/* UFFDIO_WRITEPROTECT (5.7)                                          */
/* ------------------------------------------------------------------ */

#ifdef UFFDEMU_H_NEED_WRITEPROTECT
struct uffdio_writeprotect {
	struct uffdio_range range;
	__u64 mode; /* UFFDIO_WRITEPROTECT_MODE_* */
};
#endif

/* Note: WP is bit 0 here, unlike the other ioctls' mode bits. */
#ifndef UFFDIO_WRITEPROTECT_MODE_WP
#define UFFDIO_WRITEPROTECT_MODE_WP ((__u64)1 << 0) /* set, else clear */
#endif
#ifndef UFFDIO_WRITEPROTECT_MODE_DONTWAKE
#define UFFDIO_WRITEPROTECT_MODE_DONTWAKE ((__u64)1 << 1) /* no wake-up */
#endif

/* ------------------------------------------------------------------ */
/* UFFDIO_CONTINUE (5.13)                                             */
/* ------------------------------------------------------------------ */

#ifdef UFFDEMU_H_NEED_CONTINUE
struct uffdio_continue {
	struct uffdio_range range;
	__u64 mode;   /* UFFDIO_CONTINUE_MODE_* */
	__s64 mapped; /* out: bytes mapped, or -errno */
};
#endif

#ifndef UFFDIO_CONTINUE_MODE_DONTWAKE
#define UFFDIO_CONTINUE_MODE_DONTWAKE ((__u64)1 << 0) /* leave waiters */
#endif
#ifndef UFFDIO_CONTINUE_MODE_WP
#define UFFDIO_CONTINUE_MODE_WP ((__u64)1 << 1) /* map write-protected */
#endif

/* ------------------------------------------------------------------ */
/* UFFDIO_POISON (6.6)                                                */
/* ------------------------------------------------------------------ */

#ifdef UFFDEMU_H_NEED_POISON
struct uffdio_poison {
	struct uffdio_range range;
	__u64 mode;    /* UFFDIO_POISON_MODE_* */
	__s64 updated; /* out: bytes poisoned, or -errno */
};
#endif

#ifndef UFFDIO_POISON_MODE_DONTWAKE
#define UFFDIO_POISON_MODE_DONTWAKE ((__u64)1 << 0) /* leave waiters */
#endif

/* ------------------------------------------------------------------ */
/* UFFDIO_MOVE (6.8)                                                  */
/* ------------------------------------------------------------------ */

#ifdef UFFDEMU_H_NEED_MOVE
struct uffdio_move {
	__u64 dst; /* page-aligned destination */
	__u64 src; /* page-aligned source in the same address space */
	__u64 len;
	__u64 mode; /* UFFDIO_MOVE_MODE_* */
	__s64 move; /* out: bytes moved, or -errno */
};
#endif

#ifndef UFFDIO_MOVE_MODE_DONTWAKE
#define UFFDIO_MOVE_MODE_DONTWAKE ((__u64)1 << 0) /* leave waiters */
#endif
#ifndef UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES
#define UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES ((__u64)1 << 1) /* skip src holes */
#endif

/* ------------------------------------------------------------------ */
/* ioctl request values                                               */
/* ------------------------------------------------------------------ */

/*
 * UNREGISTER and WAKE are encoded as "read" although the kernel only reads
 * their argument; that encoding is part of the ABI.
 */
#ifdef UFFDEMU_H_HOST_IOC
#ifndef USERFAULTFD_IOC_NEW
#define USERFAULTFD_IOC_NEW _IO(USERFAULTFD_IOC, 0x00)
#endif
#ifndef UFFDIO_API
#define UFFDIO_API _IOWR(UFFDIO, _UFFDIO_API, struct uffdio_api)
#endif
#ifndef UFFDIO_REGISTER
#define UFFDIO_REGISTER _IOWR(UFFDIO, _UFFDIO_REGISTER, struct uffdio_register)
#endif
#ifndef UFFDIO_UNREGISTER
#define UFFDIO_UNREGISTER _IOR(UFFDIO, _UFFDIO_UNREGISTER, struct uffdio_range)
#endif
#ifndef UFFDIO_WAKE
#define UFFDIO_WAKE _IOR(UFFDIO, _UFFDIO_WAKE, struct uffdio_range)
#endif
#ifndef UFFDIO_COPY
#define UFFDIO_COPY _IOWR(UFFDIO, _UFFDIO_COPY, struct uffdio_copy)
#endif
#ifndef UFFDIO_ZEROPAGE
#define UFFDIO_ZEROPAGE _IOWR(UFFDIO, _UFFDIO_ZEROPAGE, struct uffdio_zeropage)
#endif
#ifndef UFFDIO_MOVE
#define UFFDIO_MOVE _IOWR(UFFDIO, _UFFDIO_MOVE, struct uffdio_move)
#endif
#ifndef UFFDIO_WRITEPROTECT
#define UFFDIO_WRITEPROTECT \
	_IOWR(UFFDIO, _UFFDIO_WRITEPROTECT, struct uffdio_writeprotect)
#endif
#ifndef UFFDIO_CONTINUE
#define UFFDIO_CONTINUE _IOWR(UFFDIO, _UFFDIO_CONTINUE, struct uffdio_continue)
#endif
#ifndef UFFDIO_POISON
#define UFFDIO_POISON _IOWR(UFFDIO, _UFFDIO_POISON, struct uffdio_poison)
#endif
#else /* !UFFDEMU_H_HOST_IOC */
/*
 * No Linux ioctl macros: use the generic Linux encoding
 * dir << 30 | size << 16 | type << 8 | nr, with dir 3 = read/write,
 * 2 = read, 0 = none.  (Host macros of BSD-style systems encode the
 * direction differently, so they are deliberately not used.)
 */
#ifndef USERFAULTFD_IOC_NEW
#define USERFAULTFD_IOC_NEW 0x0000AA00U
#endif
#ifndef UFFDIO_API
#define UFFDIO_API 0xC018AA3FU
#endif
#ifndef UFFDIO_REGISTER
#define UFFDIO_REGISTER 0xC020AA00U
#endif
#ifndef UFFDIO_UNREGISTER
#define UFFDIO_UNREGISTER 0x8010AA01U
#endif
#ifndef UFFDIO_WAKE
#define UFFDIO_WAKE 0x8010AA02U
#endif
#ifndef UFFDIO_COPY
#define UFFDIO_COPY 0xC028AA03U
#endif
#ifndef UFFDIO_ZEROPAGE
#define UFFDIO_ZEROPAGE 0xC020AA04U
#endif
#ifndef UFFDIO_MOVE
#define UFFDIO_MOVE 0xC028AA05U
#endif
#ifndef UFFDIO_WRITEPROTECT
#define UFFDIO_WRITEPROTECT 0xC018AA06U
#endif
#ifndef UFFDIO_CONTINUE
#define UFFDIO_CONTINUE 0xC020AA07U
#endif
#ifndef UFFDIO_POISON
#define UFFDIO_POISON 0xC020AA08U
#endif
#endif /* UFFDEMU_H_HOST_IOC */

#ifdef __cplusplus
}
#endif

/* ------------------------------------------------------------------ */
/* Compile-time checks of the layout and the numbers                  */
/* ------------------------------------------------------------------ */

#if defined(__cplusplus) && __cplusplus >= 201103L
#define UFFDEMU_H_ASSERT(e, m) static_assert(e, m)
#define UFFDEMU_H_ALIGNOF(t)   alignof(t)
#elif !defined(__cplusplus) && defined(__STDC_VERSION__) && \
	__STDC_VERSION__ >= 201112L
#define UFFDEMU_H_ASSERT(e, m) _Static_assert(e, m)
#define UFFDEMU_H_ALIGNOF(t)   _Alignof(t)
#endif

#ifdef UFFDEMU_H_ASSERT
UFFDEMU_H_ASSERT(sizeof(struct uffd_msg) == 32, "uffd_msg size");
UFFDEMU_H_ASSERT(UFFDEMU_H_ALIGNOF(struct uffd_msg) == 1, "uffd_msg packed");
UFFDEMU_H_ASSERT(offsetof(struct uffd_msg, arg) == 8, "uffd_msg.arg");
UFFDEMU_H_ASSERT(offsetof(struct uffd_msg, arg.pagefault.address) == 16,
		 "uffd_msg.arg.pagefault.address");
UFFDEMU_H_ASSERT(offsetof(struct uffd_msg, arg.pagefault.feat.ptid) == 24,
		 "uffd_msg.arg.pagefault.feat.ptid");
UFFDEMU_H_ASSERT(offsetof(struct uffd_msg, arg.remap.len) == 24,
		 "uffd_msg.arg.remap.len");
UFFDEMU_H_ASSERT(offsetof(struct uffd_msg, arg.remove.end) == 16,
		 "uffd_msg.arg.remove.end");
UFFDEMU_H_ASSERT(sizeof(struct uffdio_api) == 24, "uffdio_api size");
UFFDEMU_H_ASSERT(sizeof(struct uffdio_range) == 16, "uffdio_range size");
UFFDEMU_H_ASSERT(sizeof(struct uffdio_register) == 32, "uffdio_register size");
UFFDEMU_H_ASSERT(offsetof(struct uffdio_register, ioctls) == 24,
		 "uffdio_register.ioctls");
UFFDEMU_H_ASSERT(sizeof(struct uffdio_copy) == 40, "uffdio_copy size");
UFFDEMU_H_ASSERT(offsetof(struct uffdio_copy, copy) == 32, "uffdio_copy.copy");
UFFDEMU_H_ASSERT(sizeof(struct uffdio_zeropage) == 32, "uffdio_zeropage size");
UFFDEMU_H_ASSERT(sizeof(struct uffdio_writeprotect) == 24,
		 "uffdio_writeprotect size");
UFFDEMU_H_ASSERT(sizeof(struct uffdio_continue) == 32, "uffdio_continue size");
UFFDEMU_H_ASSERT(sizeof(struct uffdio_poison) == 32, "uffdio_poison size");
UFFDEMU_H_ASSERT(sizeof(struct uffdio_move) == 40, "uffdio_move size");
UFFDEMU_H_ASSERT(offsetof(struct uffdio_move, move) == 32, "uffdio_move.move");

UFFDEMU_H_ASSERT(
	UFFDEMU_API_FEATURES ==
		((__u64)UFFD_FEATURE_PAGEFAULT_FLAG_WP |
		 UFFD_FEATURE_EVENT_FORK | UFFD_FEATURE_EVENT_REMAP |
		 UFFD_FEATURE_EVENT_REMOVE | UFFD_FEATURE_MISSING_HUGETLBFS |
		 UFFD_FEATURE_MISSING_SHMEM | UFFD_FEATURE_EVENT_UNMAP |
		 UFFD_FEATURE_SIGBUS | UFFD_FEATURE_THREAD_ID |
		 UFFD_FEATURE_MINOR_HUGETLBFS | UFFD_FEATURE_MINOR_SHMEM |
		 UFFD_FEATURE_EXACT_ADDRESS | UFFD_FEATURE_WP_HUGETLBFS_SHMEM |
		 UFFD_FEATURE_WP_UNPOPULATED | UFFD_FEATURE_POISON |
		 UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_MOVE),
	"UFFDEMU_API_FEATURES");
UFFDEMU_H_ASSERT(UFFDEMU_API_REGISTER_MODES ==
			 (UFFDIO_REGISTER_MODE_MISSING |
			  UFFDIO_REGISTER_MODE_WP | UFFDIO_REGISTER_MODE_MINOR),
		 "UFFDEMU_API_REGISTER_MODES");
UFFDEMU_H_ASSERT(UFFDEMU_API_IOCTLS == 0x8000000000000003ULL,
		 "UFFDEMU_API_IOCTLS");
UFFDEMU_H_ASSERT(UFFDEMU_API_RANGE_IOCTLS == 0x1fc, "UFFDEMU_API_RANGE_IOCTLS");
UFFDEMU_H_ASSERT(UFFDEMU_API_RANGE_IOCTLS_BASIC == 0x1cc,
		 "UFFDEMU_API_RANGE_IOCTLS_BASIC");

#ifndef UFFDEMU_H_HOST_IOC
/* The literal request values must match the generic encoding. */
#define UFFDEMU_H_IOC(dir, nr, size)                              \
	((unsigned int)(dir) << 30 | (unsigned int)(size) << 16 | \
	 (unsigned int)UFFDIO << 8 | (unsigned int)(nr))
UFFDEMU_H_ASSERT(USERFAULTFD_IOC_NEW == UFFDEMU_H_IOC(0, 0x00, 0),
		 "USERFAULTFD_IOC_NEW");
UFFDEMU_H_ASSERT(UFFDIO_API == UFFDEMU_H_IOC(3, _UFFDIO_API,
					     sizeof(struct uffdio_api)),
		 "UFFDIO_API");
UFFDEMU_H_ASSERT(UFFDIO_REGISTER ==
			 UFFDEMU_H_IOC(3, _UFFDIO_REGISTER,
				       sizeof(struct uffdio_register)),
		 "UFFDIO_REGISTER");
UFFDEMU_H_ASSERT(UFFDIO_UNREGISTER ==
			 UFFDEMU_H_IOC(2, _UFFDIO_UNREGISTER,
				       sizeof(struct uffdio_range)),
		 "UFFDIO_UNREGISTER");
UFFDEMU_H_ASSERT(UFFDIO_WAKE == UFFDEMU_H_IOC(2, _UFFDIO_WAKE,
					      sizeof(struct uffdio_range)),
		 "UFFDIO_WAKE");
UFFDEMU_H_ASSERT(UFFDIO_COPY == UFFDEMU_H_IOC(3, _UFFDIO_COPY,
					      sizeof(struct uffdio_copy)),
		 "UFFDIO_COPY");
UFFDEMU_H_ASSERT(UFFDIO_ZEROPAGE ==
			 UFFDEMU_H_IOC(3, _UFFDIO_ZEROPAGE,
				       sizeof(struct uffdio_zeropage)),
		 "UFFDIO_ZEROPAGE");
UFFDEMU_H_ASSERT(UFFDIO_MOVE == UFFDEMU_H_IOC(3, _UFFDIO_MOVE,
					      sizeof(struct uffdio_move)),
		 "UFFDIO_MOVE");
UFFDEMU_H_ASSERT(UFFDIO_WRITEPROTECT ==
			 UFFDEMU_H_IOC(3, _UFFDIO_WRITEPROTECT,
				       sizeof(struct uffdio_writeprotect)),
		 "UFFDIO_WRITEPROTECT");
UFFDEMU_H_ASSERT(UFFDIO_CONTINUE ==
			 UFFDEMU_H_IOC(3, _UFFDIO_CONTINUE,
				       sizeof(struct uffdio_continue)),
		 "UFFDIO_CONTINUE");
UFFDEMU_H_ASSERT(UFFDIO_POISON == UFFDEMU_H_IOC(3, _UFFDIO_POISON,
						sizeof(struct uffdio_poison)),
		 "UFFDIO_POISON");
#undef UFFDEMU_H_IOC
#endif

#if defined(__x86_64__) || defined(__aarch64__)
UFFDEMU_H_ASSERT(USERFAULTFD_IOC_NEW == 0xAA00, "USERFAULTFD_IOC_NEW");
UFFDEMU_H_ASSERT(UFFDIO_API == 0xC018AA3F, "UFFDIO_API");
UFFDEMU_H_ASSERT(UFFDIO_REGISTER == 0xC020AA00, "UFFDIO_REGISTER");
UFFDEMU_H_ASSERT(UFFDIO_UNREGISTER == 0x8010AA01, "UFFDIO_UNREGISTER");
UFFDEMU_H_ASSERT(UFFDIO_WAKE == 0x8010AA02, "UFFDIO_WAKE");
UFFDEMU_H_ASSERT(UFFDIO_COPY == 0xC028AA03, "UFFDIO_COPY");
UFFDEMU_H_ASSERT(UFFDIO_ZEROPAGE == 0xC020AA04, "UFFDIO_ZEROPAGE");
UFFDEMU_H_ASSERT(UFFDIO_MOVE == 0xC028AA05, "UFFDIO_MOVE");
UFFDEMU_H_ASSERT(UFFDIO_WRITEPROTECT == 0xC018AA06, "UFFDIO_WRITEPROTECT");
UFFDEMU_H_ASSERT(UFFDIO_CONTINUE == 0xC020AA07, "UFFDIO_CONTINUE");
UFFDEMU_H_ASSERT(UFFDIO_POISON == 0xC020AA08, "UFFDIO_POISON");
#endif

#undef UFFDEMU_H_ASSERT
#undef UFFDEMU_H_ALIGNOF
#endif /* UFFDEMU_H_ASSERT */

/* Make a later #include <linux/userfaultfd.h> a no-op. */
#ifndef _LINUX_USERFAULTFD_H
#define _LINUX_USERFAULTFD_H
#endif

#undef UFFDEMU_H_LINUX
#undef UFFDEMU_H_LINUX_TYPES
#undef UFFDEMU_H_HOST_IOC
#undef UFFDEMU_H_NEED_BASE
#undef UFFDEMU_H_NEED_WRITEPROTECT
#undef UFFDEMU_H_NEED_CONTINUE
#undef UFFDEMU_H_NEED_POISON
#undef UFFDEMU_H_NEED_MOVE

#endif /* UFFDEMU_USERFAULTFD_H */
