/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The trace: with UFFDEMU_TRACE set (uffdemu run --trace), one line on
 * stderr for each userfaultfd created, each ioctl on one, each message
 * read and each close, with the time since the first line:
 *
 *   uffdemu[4242] 0.000512 ioctl(3, UFFDIO_COPY, dst=0x7f..., ...) = 0
 *
 * Lines are written whole with one write(2), never from the fault path.
 * The program's memory is read with process_vm_readv(), so a bad pointer
 * costs a missing field instead of a crash, and a missing page is never
 * faulted in by the trace itself.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "tools/shim/shim.h"
#include "uffdemu/uffdemu.h"

static struct timespec start;
static bool started;

/* Copies len bytes of the program's memory; false if any is unreadable. */
static bool peek(void *dst, const void *src, size_t len)
{
	struct iovec local = {dst, len};
	struct iovec remote = {(void *)src, len};

	return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) ==
	       (ssize_t)len;
}

void shim_trace(const char *fmt, ...)
{
	struct timespec now;
	char line[512];
	va_list ap;
	int n, saved = errno;
	double t;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!started) {
		/* The emulator's own fault and wake lines use its clock. */
		uffdemu_trace_epoch(&start);
		started = true;
	}
	t = (double)(now.tv_sec - start.tv_sec) +
	    (double)(now.tv_nsec - start.tv_nsec) / 1e9;
	n = snprintf(line, sizeof(line), "uffdemu[%d] %.6f ", (int)getpid(), t);
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (real_write(2, line, (size_t)n) < 0)
		n = 0;
	errno = saved;
}

const char *shim_flags_str(int flags, char *buf, size_t len)
{
	int rest = flags & ~(O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);

	snprintf(buf, len, "%s%s%s%s", flags & O_CLOEXEC ? "|O_CLOEXEC" : "",
		 flags & O_NONBLOCK ? "|O_NONBLOCK" : "",
		 flags & UFFD_USER_MODE_ONLY ? "|UFFD_USER_MODE_ONLY" : "",
		 flags ? "" : "|0");
	if (rest)
		snprintf(buf + strlen(buf), len - strlen(buf), "|%#x", rest);
	/* Drop the leading '|'. */
	memmove(buf, buf + 1, strlen(buf));
	return buf;
}

const char *shim_result(long r, int err, char *buf, size_t len)
{
	const char *name = strerrorname_np(err);

	if (r >= 0)
		snprintf(buf, len, "%ld", r);
	else
		snprintf(buf, len, "-1 %s", name ? name : "?");
	return buf;
}

static const char *ioctl_name(unsigned long req)
{
	switch (req) {
	case UFFDIO_API:
		return "UFFDIO_API";
	case UFFDIO_REGISTER:
		return "UFFDIO_REGISTER";
	case UFFDIO_UNREGISTER:
		return "UFFDIO_UNREGISTER";
	case UFFDIO_WAKE:
		return "UFFDIO_WAKE";
	case UFFDIO_COPY:
		return "UFFDIO_COPY";
	case UFFDIO_ZEROPAGE:
		return "UFFDIO_ZEROPAGE";
	case UFFDIO_MOVE:
		return "UFFDIO_MOVE";
	case UFFDIO_WRITEPROTECT:
		return "UFFDIO_WRITEPROTECT";
	case UFFDIO_CONTINUE:
		return "UFFDIO_CONTINUE";
	case UFFDIO_POISON:
		return "UFFDIO_POISON";
	case USERFAULTFD_IOC_NEW:
		return "USERFAULTFD_IOC_NEW";
	case FIONBIO:
		return "FIONBIO";
	case FIONREAD:
		return "FIONREAD";
	}
	return NULL;
}

/* The argument as it was before the call: byte 0 says it was readable. */
void shim_trace_ioctl_before(unsigned long req, const void *arg, void *save)
{
	unsigned char *s = save;
	size_t size = _IOC_SIZE(req);

	s[0] = 0;
	if (req == USERFAULTFD_IOC_NEW || !ioctl_name(req) || size == 0 ||
	    size > SHIM_TRACE_SAVE - 8)
		return;
	s[0] = peek(s + 8, arg, size);
}

typedef unsigned long long ull;

/* The fields going in, from the saved copy. */
static int args_in(unsigned long req, const unsigned char *s, char *buf,
		   size_t len)
{
	const ull *f = (const ull *)(s + 8);

	if (!s[0])
		return snprintf(buf, len, ", ?");
	switch (req) {
	case UFFDIO_API:
		return snprintf(buf, len, ", api=%#llx, features=%#llx", f[0],
				f[1]);
	case UFFDIO_REGISTER:
	case UFFDIO_ZEROPAGE:
	case UFFDIO_WRITEPROTECT:
	case UFFDIO_CONTINUE:
	case UFFDIO_POISON:
		return snprintf(buf, len, ", start=%#llx, len=%llu, mode=%#llx",
				f[0], f[1], f[2]);
	case UFFDIO_UNREGISTER:
	case UFFDIO_WAKE:
		return snprintf(buf, len, ", start=%#llx, len=%llu", f[0],
				f[1]);
	case UFFDIO_COPY:
	case UFFDIO_MOVE:
		return snprintf(buf, len,
				", dst=%#llx, src=%#llx, len=%llu, mode=%#llx",
				f[0], f[1], f[2], f[3]);
	}
	return 0;
}

/* The fields the kernel writes back, read after the call. */
static void args_out(unsigned long req, const void *arg, char *buf, size_t len)
{
	ull f[5];
	long long v;

	buf[0] = '\0';
	switch (req) {
	case UFFDIO_API:
		if (peek(f, arg, 3 * sizeof(ull)))
			snprintf(buf, len, " (features=%#llx, ioctls=%#llx)",
				 f[1], f[2]);
		return;
	case UFFDIO_REGISTER:
		if (peek(f, arg, 4 * sizeof(ull)))
			snprintf(buf, len, " (ioctls=%#llx)", f[3]);
		return;
	case UFFDIO_COPY:
	case UFFDIO_MOVE:
		if (peek(&v, (const ull *)arg + 4, sizeof(v)))
			snprintf(buf, len, " (%s=%lld)",
				 req == UFFDIO_COPY ? "copy" : "move", v);
		return;
	case UFFDIO_ZEROPAGE:
	case UFFDIO_CONTINUE:
	case UFFDIO_POISON:
		if (peek(&v, (const ull *)arg + 3, sizeof(v)))
			snprintf(buf, len, " (%s=%lld)",
				 req == UFFDIO_ZEROPAGE   ? "zeropage"
				 : req == UFFDIO_CONTINUE ? "mapped"
							  : "updated",
				 v);
		return;
	}
}

void shim_trace_ioctl(int fd, unsigned long req, const void *arg,
		      const void *save, int r, int err)
{
	const char *name = ioctl_name(req);
	char in[160] = "", out[96] = "", res[32], what[24];

	if (!name) {
		snprintf(what, sizeof(what), "%#lx", req);
		name = what;
	} else if (req == USERFAULTFD_IOC_NEW) {
		shim_flags_str((int)(uintptr_t)arg, in + 2, sizeof(in) - 2);
		in[0] = ',';
		in[1] = ' ';
	} else {
		args_in(req, save, in, sizeof(in));
	}
	if (r == 0 || (r < 0 && (err == EAGAIN || err == EEXIST)))
		args_out(req, arg, out, sizeof(out));
	shim_trace("ioctl(%d, %s%s) = %s%s", fd, name, in,
		   shim_result(r, err, res, sizeof(res)), out);
}

static const char *event_name(unsigned int event)
{
	switch (event) {
	case UFFD_EVENT_PAGEFAULT:
		return "PAGEFAULT";
	case UFFD_EVENT_FORK:
		return "FORK";
	case UFFD_EVENT_REMAP:
		return "REMAP";
	case UFFD_EVENT_REMOVE:
		return "REMOVE";
	case UFFD_EVENT_UNMAP:
		return "UNMAP";
	}
	return "?";
}

static void trace_msg(int fd, const struct uffd_msg *m)
{
	switch (m->event) {
	case UFFD_EVENT_PAGEFAULT:
		break;
	case UFFD_EVENT_REMAP:
		shim_trace("read(%d) = REMAP from=%#llx to=%#llx len=%llu", fd,
			   (ull)m->arg.remap.from, (ull)m->arg.remap.to,
			   (ull)m->arg.remap.len);
		return;
	case UFFD_EVENT_REMOVE:
	case UFFD_EVENT_UNMAP:
		shim_trace("read(%d) = %s start=%#llx end=%#llx", fd,
			   event_name(m->event), (ull)m->arg.remove.start,
			   (ull)m->arg.remove.end);
		return;
	default:
		shim_trace("read(%d) = %s", fd, event_name(m->event));
		return;
	}
	shim_trace("read(%d) = PAGEFAULT address=%#llx flags=%s%s%s ptid=%u",
		   fd, (ull)m->arg.pagefault.address,
		   m->arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE ? "WRITE"
								      : "READ",
		   m->arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP ? "|WP" : "",
		   m->arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_MINOR ? "|MINOR"
								      : "",
		   (unsigned int)m->arg.pagefault.feat.ptid);
}

void shim_trace_read(int fd, const struct iovec *iov, int cnt, ssize_t r,
		     int err)
{
	unsigned char buf[16 * sizeof(struct uffd_msg)];
	size_t got = 0, want;
	char res[32];

	if (r <= 0) {
		shim_trace("read(%d) = %s", fd,
			   shim_result((long)r, err, res, sizeof(res)));
		return;
	}
	want = (size_t)r;
	if (want > sizeof(buf))
		want = sizeof(buf);
	for (int i = 0; i < cnt && got < want; i++) {
		size_t n = iov[i].iov_len < want - got ? iov[i].iov_len
						       : want - got;

		if (!peek(buf + got, iov[i].iov_base, n))
			return;
		got += n;
	}
	for (size_t off = 0; off + sizeof(struct uffd_msg) <= got;
	     off += sizeof(struct uffd_msg)) {
		struct uffd_msg m;

		memcpy(&m, buf + off, sizeof(m));
		trace_msg(fd, &m);
	}
}
