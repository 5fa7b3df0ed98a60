// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A fuzzer child: runs the operations it is sent on one backend and
 * records, for each, what a monitor can observe: return values and errno,
 * the fields written back, the messages read (thread ids as "Tk"), poll
 * readiness, page contents, and how each touching thread ended.
 *
 * Thread timing must not make a record vary, so after each operation the
 * child waits until every thread it started has either finished or sleeps
 * (blocked in a userfault), all of them at one instant, and only then
 * reports the threads that finished.  A blocking read() is ended by a
 * signal once the reader sleeps, on both backends alike.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"
#include "helpers.h"
#include "known.h"

#define OTHER_FD  900 /* /dev/null, FZ_SLOT_OTHER */
#define CLOSED_FD 901 /* never open, FZ_SLOT_CLOSED */
/*
 * Long: a thread the emulator makes retry a fault (up to 100,000 yields)
 * takes seconds to settle on a loaded machine, and that must not show.
 * The driver's watchdog waits longer still.
 */
#define SETTLE_MS 20000
#define READ_MAX  320

enum { TH_NEW, TH_STARTED, TH_DONE };

/* A thread's state and run count, from files kept open for speed. */
struct task_files {
	int stat;
	int schedstat;
};

/* In the thread itself. */
static void task_files_open(struct task_files *f)
{
	f->stat = open("/proc/thread-self/stat", O_RDONLY | O_CLOEXEC);
	f->schedstat =
		open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
}

static void task_files_close(struct task_files *f)
{
	if (f->stat >= 0)
		close(f->stat);
	if (f->schedstat >= 0)
		close(f->schedstat);
	f->stat = f->schedstat = -1;
}

bool fz_b_private;

/* Whether the thread sleeps: S, or D (uninterruptible). */
static bool task_sleeps(const struct task_files *f)
{
	char buf[512], *paren;
	ssize_t n = pread(f->stat, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return false;
	buf[n] = '\0';
	paren = strrchr(buf, ')');
	return paren && paren[1] == ' ' && (paren[2] == 'S' || paren[2] == 'D');
}

/* How many times the thread was put on a CPU (schedstat's third field). */
static unsigned long long task_runs(const struct task_files *f)
{
	char buf[128];
	unsigned long long run_ns, wait_ns, runs;
	ssize_t n = pread(f->schedstat, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return ~0ULL;
	buf[n] = '\0';
	if (sscanf(buf, "%llu %llu %llu", &run_ns, &wait_ns, &runs) != 3)
		return ~0ULL;
	return runs;
}

struct fz_thread {
	uint32_t op_id; /* the FZ_TOUCH that started it */
	unsigned int how;
	volatile unsigned char *addr;
	unsigned char val;
	pthread_t th;
	pid_t tid;
	struct task_files files; /* its /proc files, open while it runs */
	int state;
	int signo; /* the signal that ended the touch, or 0 */
	unsigned char seen;
	char page[REC_VALUE_MAX];
	bool reported;
};

static struct fz_thread threads[FZ_MAX_THREADS];
static int n_threads;
static int slots[FZ_UFFD_SLOTS];
static char *scratch; /* pages: read-write, read-write, none, read-only */
static const struct backend *be;
static struct record rec;

static __thread sigjmp_buf touch_env;
static __thread volatile sig_atomic_t touching;

/* --- signals --- */

/* SIGSEGV and SIGBUS: the end of a touch, else the end of the child. */
static void on_fault(int sig, siginfo_t *si, void *uc)
{
	if (touching)
		siglongjmp(touch_env, sig);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* SIGUSR1 (sent to a faulting thread), SIGUSR2 (ends a blocking read). */
static void on_user_signal(int sig)
{
}

static void install_handlers(void)
{
	struct sigaction fault = {.sa_sigaction = on_fault,
				  .sa_flags = SA_SIGINFO | SA_NODEFER};
	struct sigaction user = {.sa_handler = on_user_signal};

	sigemptyset(&fault.sa_mask);
	sigemptyset(&user.sa_mask);
	/* Before any userfaultfd: the emulator keeps this one behind its own.
	 */
	sigaction(SIGSEGV, &fault, NULL);
	sigaction(SIGBUS, &fault, NULL);
	/* No SA_RESTART: a signal ends a blocking read() with EINTR. */
	sigaction(SIGUSR1, &user, NULL);
	sigaction(SIGUSR2, &user, NULL);
}

/* --- threads that touch memory --- */

static void *touch_main(void *arg)
{
	struct fz_thread *t = arg;
	unsigned char buf[PG];
	int sig;

	task_files_open(&t->files);
	__atomic_store_n(&t->tid, gettid(), __ATOMIC_RELAXED);
	__atomic_store_n(&t->state, TH_STARTED, __ATOMIC_RELEASE);
	touching = 1;
	sig = sigsetjmp(touch_env, 1);
	if (!sig) {
		if (t->how == TOUCH_BYTE_WRITE)
			*t->addr = t->val;
		if (t->how == TOUCH_PAGE_READ) {
			memcpy(buf, (const void *)t->addr, PG);
			rec_fmt_mem(t->page, sizeof(t->page), buf, PG);
		} else {
			t->seen = *t->addr;
		}
	}
	touching = 0;
	t->signo = sig;
	__atomic_store_n(&t->state, TH_DONE, __ATOMIC_RELEASE);
	return NULL;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Short waits: a yield first, then sleeps of a few microseconds. */
static void back_off(int round)
{
	if (round < 4)
		sched_yield();
	else
		nanosleep(&(struct timespec){0, round < 64 ? 5000 : 50000},
			  NULL);
}

/*
 * One look at every thread that has not finished: whether all of them
 * sleep, and how many times each has been put on a CPU so far.  first:
 * the count is read before the state, else after it (see settle()).
 */
static bool look(bool first, unsigned long long *runs)
{
	int k;

	for (k = 0; k < n_threads; k++) {
		struct fz_thread *t = &threads[k];
		int state = __atomic_load_n(&t->state, __ATOMIC_ACQUIRE);

		if (state == TH_DONE) {
			task_files_close(&t->files);
			continue;
		}
		if (state != TH_STARTED)
			return false;
		if (first)
			runs[k] = task_runs(&t->files);
		if (!task_sleeps(&t->files))
			return false;
		if (!first && task_runs(&t->files) != runs[k])
			return false;
	}
	return true;
}

/*
 * Until every thread has finished or sleeps, all at one instant: the
 * kernel's userfaultfd and the emulator both put a thread blocked in a
 * userfault to sleep, and nothing else does while the main thread waits
 * here.  Two looks prove it: in the first each thread's run count is read
 * before its state, in the second after it.  A thread seen asleep in both
 * with the same count slept all the time between, so there is an instant
 * when all slept; with the main thread idle nobody was left to wake them,
 * and no thread will run again until the next operation.  (A single look
 * would not do: a thread woken by another may still be asleep when looked
 * at, and its waker asleep by the time it is looked at.)
 */
static void settle(void)
{
	static unsigned long long runs[FZ_MAX_THREADS];
	long deadline = 0;
	int round;

	for (round = 0;; round++) {
		if (look(true, runs) && look(false, runs))
			return;
		if (!deadline)
			deadline = now_ms() + SETTLE_MS;
		else if (now_ms() > deadline)
			break;
		back_off(round);
	}
	rec_str(&rec, "settle", "a thread never settles");
}

static void fmt_outcome(char *out, size_t n, const struct fz_thread *t)
{
	if (t->signo)
		snprintf(out, n, "%s",
			 t->signo == SIGBUS ? "SIGBUS" : "SIGSEGV");
	else if (t->how == TOUCH_PAGE_READ)
		snprintf(out, n, "done, page %s", t->page);
	else
		snprintf(out, n, "done, seen %#04x", t->seen);
}

/* The threads that finished and were not reported yet, in order. */
static void report_threads(void)
{
	char l[16], v[REC_VALUE_MAX];
	int k;

	for (k = 0; k < n_threads; k++) {
		struct fz_thread *t = &threads[k];

		if (t->reported ||
		    __atomic_load_n(&t->state, __ATOMIC_ACQUIRE) != TH_DONE)
			continue;
		snprintf(l, sizeof(l), "T%d", k);
		fmt_outcome(v, sizeof(v), t);
		rec_str(&rec, l, v);
		t->reported = true;
	}
}

static void op_touch(const struct fz_op *op)
{
	struct fz_thread *t = &threads[n_threads];
	char l[16];

	if (n_threads == FZ_MAX_THREADS) {
		rec_str(&rec, "touch", "too many threads");
		return;
	}
	*t = (struct fz_thread){
		.op_id = op->id,
		.how = (unsigned int)op->mode,
		.addr = (unsigned char *)(uintptr_t)fz_addr(op->area, op->off),
		.val = (unsigned char)op->x,
		.files = {-1, -1},
	};
	if (pthread_create(&t->th, NULL, touch_main, t)) {
		rec_str(&rec, "touch", "pthread_create failed");
		return;
	}
	snprintf(l, sizeof(l), "T%d", n_threads++);
	settle();
	if (__atomic_load_n(&t->state, __ATOMIC_ACQUIRE) != TH_DONE)
		rec_str(&rec, l, "blocked");
}

static void op_signal(const struct fz_op *op)
{
	int k;

	for (k = 0; k < n_threads; k++) {
		if (threads[k].op_id != op->x)
			continue;
		if (__atomic_load_n(&threads[k].state, __ATOMIC_ACQUIRE) ==
		    TH_DONE) {
			rec_str(&rec, "signal", "the thread has finished");
			return;
		}
		rec_rv(&rec, "signal", -pthread_kill(threads[k].th, SIGUSR1));
		return;
	}
	rec_str(&rec, "signal", "no such thread");
}

/* "T3" for a thread of ours, "0" for none. */
static void fmt_ptid(char *out, size_t n, uint32_t tid)
{
	int k;

	for (k = 0; tid && k < n_threads; k++) {
		if ((uint32_t)__atomic_load_n(&threads[k].tid,
					      __ATOMIC_RELAXED) == tid) {
			snprintf(out, n, "T%d", k);
			return;
		}
	}
	snprintf(out, n, "%s",
		 !tid                     ? "0"
		 : (pid_t)tid == getpid() ? "the main thread"
					  : "another thread");
}

/* --- descriptors and arguments --- */

static int fd_of(unsigned int slot)
{
	if (slot == FZ_SLOT_OTHER)
		return OTHER_FD;
	if (slot >= FZ_UFFD_SLOTS || slots[slot] < 0)
		return CLOSED_FD;
	return slots[slot];
}

/* Copies size bytes of arg to where place says; returns that address. */
static void *place_at(const void *arg, size_t size, unsigned int where)
{
	char *p = scratch;

	if (where == PLACE_TAIL && size <= 8)
		where = PLACE_NONE;
	switch (where) {
	case PLACE_NULL:
		return NULL;
	case PLACE_8:
		return (void *)8;
	case PLACE_NONE:
		return scratch + 2 * PG;
	case PLACE_TAIL:
		p = scratch + 2 * PG - (size - 8);
		memcpy(p, arg, size - 8);
		return p;
	case PLACE_RO:
		p = scratch + 3 * PG;
		mprotect(p, PG, PROT_READ | PROT_WRITE);
		memcpy(p, arg, size);
		mprotect(p, PG, PROT_READ);
		return p;
	}
	memcpy(p, arg, size);
	return p;
}

/* Whether what the call wrote back can be read (and so is recorded). */
static bool readable(unsigned int where)
{
	return where == PLACE_OK || where == PLACE_RO;
}

/* --- the operations --- */

static void op_create(const struct fz_op *op)
{
	long fd, dev = -1;

	if (op->kind == FZ_DEV_CREATE) {
		dev = rv(be->open(UFFDEMU_DEV_PATH, O_RDWR | O_CLOEXEC, 0));
		rec_fd(&rec, "open", dev);
		if (dev < 0)
			return;
		fd = rv(be->ioctl((int)dev, USERFAULTFD_IOC_NEW,
				  (void *)(uintptr_t)op->mode));
		be->close((int)dev);
	} else {
		fd = rv(be->userfaultfd(op->mode));
	}
	rec_fd(&rec, "new", fd);
	if (fd >= 0 && op->slot2 < FZ_UFFD_SLOTS)
		slots[op->slot2] = (int)fd;
}

static void op_api(const struct fz_op *op, int fd)
{
	struct uffdio_api a = {op->x, op->mode, 0x1234}, *p;
	long ret;

	p = place_at(&a, sizeof(a), op->place);
	ret = rv(be->ioctl(fd, UFFDIO_API, p));
	rec_rv(&rec, "rv", ret);
	if (!readable(op->place))
		return;
	rec_hex(&rec, "api", p->api);
	if (!ret)
		known_features(&rec);
	rec_hex(&rec, "features", p->features);
	rec_hex(&rec, "ioctls", p->ioctls);
}

static void op_register(const struct fz_op *op, int fd)
{
	struct uffdio_register reg = {
		.range = {fz_addr(op->area, op->off), op->len},
		.mode = op->mode,
		.ioctls = IOCTLS_UNTOUCHED,
	};
	struct uffdio_register *p = place_at(&reg, sizeof(reg), op->place);
	long ret = rv(be->ioctl(fd, UFFDIO_REGISTER, p));

	rec_rv(&rec, "rv", ret);
	if (!readable(op->place))
		return;
	rec_hex(&rec, "ioctls", p->ioctls);
}

/* UNREGISTER, WAKE and WRITEPROTECT: nothing is written back. */
static void op_range(const struct fz_op *op, int fd)
{
	struct uffdio_writeprotect wp = {
		.range = {fz_addr(op->area, op->off), op->len},
		.mode = op->mode,
	};
	unsigned long request = op->kind == FZ_WAKE ? UFFDIO_WAKE
				: op->kind == FZ_UNREGISTER
					? UFFDIO_UNREGISTER
					: UFFDIO_WRITEPROTECT;
	size_t size =
		request == UFFDIO_WRITEPROTECT ? sizeof(wp) : sizeof(wp.range);

	rec_rv(&rec, "rv",
	       rv(be->ioctl(fd, request, place_at(&wp, size, op->place))));
}

/*
 * COPY and MOVE (dst, src, len, mode, then the field), ZEROPAGE and
 * POISON (range, mode, then the field).
 */
static void op_fill(const struct fz_op *op, int fd)
{
	struct uffdio_copy c = {
		.dst = fz_addr(op->area, op->off),
		.src = fz_addr(op->src_area, op->src_off),
		.len = op->len,
		.mode = op->mode,
		.copy = FIELD_UNTOUCHED,
	};
	struct uffdio_zeropage z = {
		.range = {fz_addr(op->area, op->off), op->len},
		.mode = op->mode,
		.zeropage = FIELD_UNTOUCHED,
	};
	bool two = op->kind == FZ_COPY || op->kind == FZ_MOVE;
	unsigned long request = op->kind == FZ_COPY     ? UFFDIO_COPY
				: op->kind == FZ_MOVE   ? UFFDIO_MOVE
				: op->kind == FZ_POISON ? UFFDIO_POISON
							: UFFDIO_ZEROPAGE;
	void *p = two ? place_at(&c, sizeof(c), op->place)
		      : place_at(&z, sizeof(z), op->place);

	rec_rv(&rec, "rv", rv(be->ioctl(fd, request, p)));
	if (readable(op->place))
		rec_int(&rec, "field",
			two ? ((struct uffdio_copy *)p)->copy
			    : ((struct uffdio_zeropage *)p)->zeropage);
}

static void op_ioctl(const struct fz_op *op, int fd)
{
	int arg = (int)op->mode, *p = place_at(&arg, sizeof(arg), op->place);

	rec_rv(&rec, "rv", rv(be->ioctl(fd, op->x, p)));
	if (readable(op->place))
		rec_int(&rec, "arg", *p);
}

/* A message as one line: every field, the reserved bytes included. */
static void rec_message(const unsigned char *m, int i)
{
	uint64_t flags, addr;
	uint32_t r3, ptid, tail;
	uint16_t r2;
	char l[16], v[REC_VALUE_MAX + 64], a[48], t[24];

	memcpy(&r2, m + 2, 2);
	memcpy(&r3, m + 4, 4);
	memcpy(&flags, m + 8, 8);
	memcpy(&addr, m + 16, 8);
	memcpy(&ptid, m + 24, 4);
	memcpy(&tail, m + 28, 4);
	fz_fmt_addr(a, sizeof(a), addr);
	fmt_ptid(t, sizeof(t), ptid);
	snprintf(l, sizeof(l), "msg%d", i);
	snprintf(v, sizeof(v),
		 "event %#x flags %#llx at %s from %s (reserved %u %u %u, "
		 "tail %#x)",
		 m[0], (unsigned long long)flags, a, t, m[1], r2, r3, tail);
	rec_str(&rec, l, v);
}

struct read_watch {
	pthread_t reader;
	struct task_files *files;
	pthread_mutex_t lock;
	bool reading;
	bool never_slept;
};

/*
 * Ends the read with SIGUSR2 once the reader sleeps in it.  Both backends
 * check for a message before they sleep, and every thread has settled, so
 * a read that sleeps would sleep for ever.
 */
static void *read_watch_main(void *arg)
{
	struct read_watch *w = arg;
	long deadline = now_ms() + SETTLE_MS;
	unsigned long long runs;
	int round;

	for (round = 0;; round++) {
		pthread_mutex_lock(&w->lock);
		if (!w->reading)
			break;
		runs = task_runs(w->files);
		if (task_sleeps(w->files) && task_runs(w->files) == runs) {
			pthread_kill(w->reader, SIGUSR2);
			break;
		}
		if (now_ms() > deadline) {
			w->never_slept = true;
			pthread_kill(w->reader, SIGUSR2);
			break;
		}
		pthread_mutex_unlock(&w->lock);
		back_off(round);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static struct task_files main_files;

/* read(), ended by SIGUSR2 if it blocks. */
static long watched_read(int fd, void *buf, size_t count)
{
	struct read_watch w = {pthread_self(), &main_files,
			       PTHREAD_MUTEX_INITIALIZER, true, false};
	long fl = be->fcntl(fd, F_GETFL, 0), ret;
	pthread_t th;

	if (fl < 0 || (fl & O_NONBLOCK) ||
	    pthread_create(&th, NULL, read_watch_main, &w))
		return rv(be->read(fd, buf, count));
	ret = rv(be->read(fd, buf, count));
	pthread_mutex_lock(&w.lock);
	w.reading = false;
	pthread_mutex_unlock(&w.lock);
	pthread_join(th, NULL);
	if (w.never_slept)
		rec_str(&rec, "read", "neither returned nor slept");
	return ret;
}

static void op_read(const struct fz_op *op, int fd)
{
	static unsigned char none[READ_MAX];
	unsigned char *buf = (unsigned char *)scratch;
	size_t count = op->mode < READ_MAX ? op->mode : READ_MAX;
	long ret, i;

	if (op->place == PLACE_NULL)
		buf = NULL;
	else if (op->place == PLACE_8)
		buf = (unsigned char *)8;
	else if (op->place == PLACE_NONE)
		buf = (unsigned char *)scratch + 2 * PG;
	else if (op->place == PLACE_RO)
		buf = (unsigned char *)scratch + 3 * PG;
	else if (op->place == PLACE_TAIL)
		buf = (unsigned char *)scratch + 2 * PG - 40;
	ret = watched_read(fd, buf, count);
	rec_rv(&rec, "rv", ret);
	if (op->place == PLACE_RO && ret > 0)
		rec_str(&rec, "read-only buffer",
			memcmp(buf, none, (size_t)ret) ? "written"
						       : "unchanged");
	if (op->place != PLACE_OK && op->place != PLACE_TAIL)
		return;
	for (i = 0; i + 32 <= ret; i += 32)
		rec_message(buf + i, (int)(i / 32));
}

static void op_poll(const struct fz_op *op, int fd)
{
	struct pollfd pf = {.fd = fd, .events = (short)op->mode};

	rec_rv(&rec, "rv", rv(be->poll(&pf, 1, 0)));
	rec_hex(&rec, "revents", (uint16_t)pf.revents);
}

static void op_fd(const struct fz_op *op, int fd)
{
	long ret;

	switch (op->kind) {
	case FZ_CLOSE:
		rec_rv(&rec, "rv", rv(be->close(fd)));
		if (op->slot < FZ_UFFD_SLOTS)
			slots[op->slot] = -1;
		break;
	case FZ_DUP:
		ret = rv(be->dup(fd));
		rec_fd(&rec, "new", ret);
		if (ret >= 0 && op->slot2 < FZ_UFFD_SLOTS)
			slots[op->slot2] = (int)ret;
		break;
	case FZ_SETFL:
		rec_rv(&rec, "rv", rv(be->fcntl(fd, F_SETFL, (long)op->mode)));
		rec_rv(&rec, "F_GETFL", rv(be->fcntl(fd, F_GETFL, 0)));
		break;
	}
}

/* pending, total and API; the API line's mask is a known difference. */
static void op_fdinfo(int fd)
{
	char buf[512], *api;
	unsigned long long ver, features, ioctls;
	unsigned long pending, total;

	if (be->fdinfo(fd, buf, sizeof(buf)) < 0) {
		rec_rv(&rec, "fdinfo", -errno);
		return;
	}
	api = strstr(buf, "API:");
	if (sscanf(buf, "pending:\t%lu\ntotal:\t%lu", &pending, &total) != 2 ||
	    !api ||
	    sscanf(api, "API:\t%llx:%llx:%llx", &ver, &features, &ioctls) !=
		    3) {
		rec_str(&rec, "fdinfo", buf);
		return;
	}
	rec_int(&rec, "pending", (long long)pending);
	rec_int(&rec, "total", (long long)total);
	rec_hex(&rec, "API.version", ver);
	rec_hex(&rec, "API.features", features);
	rec_hex(&rec, "API.ioctls", ioctls);
}

static void op_memory(const struct fz_op *op)
{
	void *addr = (void *)(uintptr_t)fz_addr(op->area, op->off);
	void *p;

	switch (op->kind) {
	case FZ_MADVISE:
		rec_rv(&rec, "rv",
		       rv(be->madvise(addr, op->len, (int)op->mode)));
		break;
	case FZ_MPROTECT:
		rec_rv(&rec, "rv",
		       rv(be->mprotect(addr, op->len, (int)op->mode)));
		break;
	case FZ_MUNMAP:
		rec_rv(&rec, "rv", rv(be->munmap(addr, op->len)));
		break;
	case FZ_MMAP:
		p = mmap(addr, op->len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1,
			 0);
		if (p != MAP_FAILED && p != addr)
			munmap(p, op->len);
		rec_rv(&rec, "rv",
		       p == MAP_FAILED ? -errno
		       : p == addr     ? 0
				       : -EEXIST);
		break;
	}
}

static void run_op(const struct fz_op *op)
{
	int fd = fd_of(op->slot);

	switch (op->kind) {
	case FZ_CREATE:
	case FZ_DEV_CREATE:
		op_create(op);
		break;
	case FZ_API:
		op_api(op, fd);
		break;
	case FZ_REGISTER:
		op_register(op, fd);
		break;
	case FZ_UNREGISTER:
	case FZ_WAKE:
	case FZ_WRITEPROTECT:
		op_range(op, fd);
		break;
	case FZ_COPY:
	case FZ_ZEROPAGE:
	case FZ_POISON:
	case FZ_MOVE:
		op_fill(op, fd);
		break;
	case FZ_IOCTL:
		op_ioctl(op, fd);
		break;
	case FZ_READ:
		op_read(op, fd);
		break;
	case FZ_POLL:
		op_poll(op, fd);
		break;
	case FZ_CLOSE:
	case FZ_DUP:
	case FZ_SETFL:
		op_fd(op, fd);
		break;
	case FZ_TOUCH:
		op_touch(op);
		return;
	case FZ_SIGNAL:
		op_signal(op);
		break;
	case FZ_FDINFO:
		op_fdinfo(fd);
		break;
	default:
		op_memory(op);
		break;
	}
	if (n_threads)
		settle();
}

/* --- the child --- */

static void map_areas(void)
{
	static const int prot[N_AREAS] = {
		[AREA_A] = PROT_READ | PROT_WRITE,
		[AREA_B] = PROT_READ | PROT_WRITE,
		[AREA_C] = PROT_READ | PROT_WRITE,
		[AREA_R] = PROT_READ,
		[AREA_N] = PROT_NONE,
		[AREA_SRC] = PROT_READ | PROT_WRITE,
	};
	int a;

	for (a = 0; a < N_AREAS; a++) {
		void *want = (void *)(uintptr_t)fz_area_base((enum fz_area)a);

		size_t len = fz_area_pages((enum fz_area)a) * PG;
		int fd = -1, flags = MAP_PRIVATE | MAP_ANONYMOUS;

		if (a == AREA_GAP || a == AREA_ABS)
			continue;
		if (a == AREA_B) {
			/* Shared memory, whose missing pages are the file's. */
			fd = memfd_create("uffdemu-fuzz", MFD_CLOEXEC);
			if (fd < 0 || ftruncate(fd, (off_t)len) != 0)
				_exit(3);
			flags = fz_b_private ? MAP_PRIVATE : MAP_SHARED;
		}
		if (mmap(want, len, prot[a], flags | MAP_FIXED_NOREPLACE, fd,
			 0) != want)
			_exit(3);
		if (fd >= 0)
			close(fd);
	}
	fill_pattern((void *)(uintptr_t)fz_area_base(AREA_SRC), 4 * PG, 7);
	mprotect((void *)(uintptr_t)(fz_area_base(AREA_SRC) + 4 * PG), PG,
		 PROT_NONE);
	scratch = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (scratch == MAP_FAILED)
		_exit(3);
	mprotect(scratch + 2 * PG, PG, PROT_NONE);
	mprotect(scratch + 3 * PG, PG, PROT_READ);
}

static bool read_op(int fd, struct fz_op *op)
{
	size_t got = 0;
	ssize_t k;

	while (got < sizeof(*op)) {
		k = read(fd, (char *)op + got, sizeof(*op) - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		got += (size_t)k;
	}
	return true;
}

static void new_record(int out_fd)
{
	rec_free(&rec);
	rec_set_sink(&rec, out_fd);
	rec.emu = be == &backend_emu;
}

void fz_child(const struct backend *b, int cmd_fd, int out_fd)
{
	struct fz_op op;
	int k, null_fd;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Sleeps of a few microseconds while settling, not of 50. */
	prctl(PR_SET_TIMERSLACK, 1UL);
	be = b;
	task_files_open(&main_files);
	install_handlers();
	map_areas();
	null_fd = open("/dev/null", O_RDWR);
	if (null_fd < 0 || dup2(null_fd, OTHER_FD) != OTHER_FD)
		_exit(3);
	close(null_fd);
	close(CLOSED_FD);
	for (k = 0; k < FZ_UFFD_SLOTS; k++)
		slots[k] = -1;
	rec_init(&rec);
	new_record(out_fd);
	while (read_op(cmd_fd, &op)) {
		run_op(&op);
		report_threads();
		rec_str(&rec, FZ_END_LABEL, "");
		new_record(out_fd);
	}
	_exit(0);
}
