/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The userfaultfd object: contexts, the descriptors that refer to them,
 * their message queues and the threads that wait in faults.
 */
#ifndef UFFDEMU_EMU_H
#define UFFDEMU_EMU_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "uffdemu/userfaultfd.h"

#define UFFD_INTERNAL_INITIALIZED (1ULL << 31)
#define CTX_SLOTS                 65536

/*
 * What this emulator offers: the features it implements, and the range
 * ioctls REGISTER reports.  Features and ioctls it does not implement are
 * not offered, as on a kernel that lacks them.
 */
#define EMU_FEATURES                                                  \
	(UFFD_FEATURE_PAGEFAULT_FLAG_WP | UFFD_FEATURE_SIGBUS |       \
	 UFFD_FEATURE_THREAD_ID | UFFD_FEATURE_EXACT_ADDRESS |        \
	 UFFD_FEATURE_WP_UNPOPULATED | UFFD_FEATURE_POISON |          \
	 UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_MOVE |                  \
	 UFFD_FEATURE_EVENT_REMAP | UFFD_FEATURE_EVENT_REMOVE |       \
	 UFFD_FEATURE_EVENT_UNMAP | UFFD_FEATURE_MISSING_SHMEM |      \
	 UFFD_FEATURE_MINOR_SHMEM | UFFD_FEATURE_WP_HUGETLBFS_SHMEM | \
	 UFFD_FEATURE_EVENT_FORK | UFFD_FEATURE_MISSING_HUGETLBFS |   \
	 UFFD_FEATURE_MINOR_HUGETLBFS)
#define EMU_RANGE_IOCTLS                                             \
	((1ULL << _UFFDIO_WAKE) | (1ULL << _UFFDIO_COPY) |           \
	 (1ULL << _UFFDIO_ZEROPAGE) | (1ULL << _UFFDIO_MOVE) |       \
	 (1ULL << _UFFDIO_WRITEPROTECT) | (1ULL << _UFFDIO_POISON) | \
	 (1ULL << _UFFDIO_CONTINUE))

enum ctx_state { CTX_NEW, CTX_READY, CTX_RELEASED };

/*
 * A thread blocked in a userfault.  Waiters live in a static pool, not on
 * the faulting thread's stack, because a signal handler that runs while
 * the thread waits may jump out of the fault (siglongjmp) and abandon it.
 */
struct waiter {
	struct waiter *next;
	struct waiter *prev;
	struct uffd_ctx *ctx;
	uint64_t address; /* the reported address, for wake matching */
	struct uffd_msg msg;
	bool unread;
	bool event;             /* an event's raiser, not a faulting thread */
	_Atomic uint32_t woken; /* futex word */
	_Atomic uint32_t sleeping; /* in futex_wait: the waker must call */
};

struct waiter_list {
	struct waiter *head;
	struct waiter *tail;
};

struct uffd_ctx {
	/* Descriptors and calls in progress; release when it drops to 0. */
	_Atomic int users;
	/* users > 0 counts once, and each blocked waiter; freed at 0. */
	_Atomic int mem_refs;
	int slot;
	int evfd;  /* level of the epoll descriptor's readiness */
	int flags; /* creation flags */
	pid_t pid; /* the process whose memory this context serves */
	_Atomic int state;
	uint64_t features;
	bool nonblock; /* the file's O_NONBLOCK, as last seen */
	bool foreign;  /* inherited by fork: serves another process */
	struct uffd_ctx *free_next;
	bool ready_level; /* whether evfd currently reads ready */
	/*
	 * For monitors in other processes: an eventfd raised while a message
	 * is unread (-1 until one connects), and its level.
	 */
	int msgfd;
	bool msg_level;

	/* Under the waiter lock. */
	struct waiter_list unread;
	struct waiter_list read;
	struct waiter_list events; /* events not read yet */
	unsigned long pending;     /* unread fault messages */
	unsigned long pending_events;
	/* Non-cooperative events prepared and not yet resumed from. */
	_Atomic int mmap_changing;
	_Atomic uint32_t msg_seq; /* futex for blocked readers */
	_Atomic int readers_waiting;
	/* Where the two ends last ran: spinning helps only across CPUs. */
	_Atomic int reader_cpu;
	_Atomic int fault_cpu;
};

/* fdtab.c: descriptor number to object, O(1), safe in a signal handler. */
enum fd_kind { FD_NONE, FD_UFFD, FD_DEV, FD_REMOTE };
struct remote;
struct fd_entry {
	enum fd_kind kind;
	struct uffd_ctx *ctx;  /* FD_UFFD */
	struct remote *remote; /* FD_REMOTE: another process's context */
};
bool fdtab_get(int fd, struct fd_entry *out);
int fdtab_set(int fd, enum fd_kind kind, void *obj);
void fdtab_clear(int fd);
void fdtab_for_each(void (*fn)(int fd, struct fd_entry *e, void *arg),
		    void *arg);

/* ctx.c */
int emu_init(void);
struct uffd_ctx *ctx_create(int flags, int *fd_out);
struct uffd_ctx *ctx_by_slot(unsigned int slot);
void ctx_get(struct uffd_ctx *ctx);
void ctx_put(struct uffd_ctx *ctx);
void ctx_mem_put(struct uffd_ctx *ctx);
bool ctx_mm_alive(const struct uffd_ctx *ctx);
long ctx_fork_fd(const struct uffd_ctx *ctx, struct uffd_msg *msg);
void ctx_sync_flags(struct uffd_ctx *ctx, int fd);

/* msgq.c: the waiter lock and what it guards. */
void wq_lock(sigset_t *saved);
void wq_unlock(const sigset_t *saved);
void wq_lock_in_handler(void);
void wq_unlock_in_handler(void);
void msgq_wake_range(struct uffd_ctx *ctx, uint64_t start, uint64_t len);
void msgq_publish(struct uffd_ctx *ctx, uintptr_t start, uintptr_t end,
		  uint32_t set, uint32_t clear, bool wake);
void msgq_wake_all(struct uffd_ctx *ctx);
ssize_t msgq_read(struct uffd_ctx *ctx, int fd, const struct iovec *iov,
		  int iovcnt);
void msgq_update_ready(struct uffd_ctx *ctx);
void msgq_set_nonblock(struct uffd_ctx *ctx, bool nonblock);
bool msgq_initialize(struct uffd_ctx *ctx, uint64_t features);
bool msgq_event(struct uffd_ctx *ctx, const struct uffd_msg *msg);
short msgq_poll_events(struct uffd_ctx *ctx);
bool msgq_spin_until_ready(struct uffd_ctx *ctx);
int msgq_fdinfo(struct uffd_ctx *ctx, char *buf, size_t len);

ssize_t msgq_take(struct uffd_ctx *ctx, struct uffd_msg *out, size_t max);

/* ioctl.c */
int ctx_ioctl(struct uffd_ctx *ctx, int fd, unsigned long request, void *arg);
int ctx_fioasync(int fd, void *arg);

/* events.c */
#define EVENT_BATCH 64
struct event_batch {
	int n;
	struct {
		struct uffd_ctx *ctx;
		struct uffd_msg msg;
	} ev[EVENT_BATCH];
};
int events_owners(uintptr_t start, uintptr_t end, unsigned int *slots, int max);
void events_unmap(struct event_batch *b, const unsigned int *slots, int n,
		  uintptr_t start, uintptr_t end);
void events_remap(struct event_batch *b, const unsigned int *slots, int n,
		  uintptr_t from, uintptr_t to, uint64_t len);
void events_remove(struct event_batch *b, uintptr_t start, uintptr_t end);
void events_deliver(struct event_batch *b);
bool events_keep_on_remap(unsigned int slot);

/* remote.c: userfaultfds used from another process. */
void remote_export(struct uffd_ctx *ctx);
void remote_forward(struct remote *r);
bool remote_adopt(int fd);
bool remote_inherit(int fd, struct fd_entry *e);
void remote_get(struct remote *r);
void remote_put(struct remote *r);
ssize_t remote_read(struct remote *r, int fd, const struct iovec *iov,
		    int iovcnt);
int remote_ioctl(struct remote *r, int fd, unsigned long request, void *arg);
int remote_fdinfo(struct remote *r, char *buf, size_t len);
uint64_t remote_tag(const struct uffd_ctx *ctx);
int remote_send(int sock, const void *p, size_t len, const int *fds, int nfds);
ssize_t remote_recv(int sock, void *p, size_t len, int *fds);

/* trace.c */
void trace_init(void);
bool trace_enabled(void);
void trace_fault(uintptr_t addr, uint64_t flags, int fd_slot);
void trace_wake(uint64_t start, uint64_t len, unsigned int n);

/* Releases every registration of ctx (close, fork child). */
void ctx_unregister_all(struct uffd_ctx *ctx);

#endif /* UFFDEMU_EMU_H */
