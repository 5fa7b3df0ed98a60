/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What /proc shows of an emulated descriptor, as seen from inside the
 * process: readlink() of /proc/self/fd/N gives the kernel's
 * "anon_inode:[userfaultfd]" (or "/dev/userfaultfd"), and opening
 * /proc/self/fdinfo/N gives the kernel's lines: the generic pos, flags,
 * mnt_id and ino of the real descriptor (flags as the userfaultfd's own),
 * then the emulator's pending, total and API lines.
 *
 * Limitation: the fdinfo contents are taken when the file is opened, not
 * when it is read; another process reading /proc/PID/fd or
 * /proc/PID/fdinfo of this one sees the real epoll descriptor; and paths
 * reached other than by open(), fopen() or readlink() with the name
 * spelled out (a directory descriptor and a relative name, realpath())
 * see it too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tools/shim/shim.h"
#include "uffdemu/uffdemu.h"

extern void __chk_fail(void) __attribute__((noreturn));

#define UFFD_LINK "anon_inode:[userfaultfd]"

static const char *skip(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

/* A decimal number up to the next '/' or the end; -1 if none. */
static long number(const char **s)
{
	const char *p = *s;
	long v = 0;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (*p - '0');
		if (v > 1L << 30)
			return -1;
	}
	*s = p;
	return v;
}

/* After "/proc/": this process (and possibly one of its threads). */
static const char *own_process(const char *s)
{
	const char *t;
	long pid;

	if ((t = skip(s, "self/")) || (t = skip(s, "thread-self/")))
		return t;
	pid = number(&s);
	if (pid < 0 || pid != getpid() || *s != '/')
		return NULL;
	s++;
	if ((t = skip(s, "task/"))) {
		if (number(&t) < 0 || *t != '/')
			return NULL;
		return t + 1;
	}
	return s;
}

/*
 * The descriptor number N of "/proc/self/DIR/N" (and the other spellings
 * of this process; "/dev/fd/N" for DIR "fd"), or -1.
 */
int shim_proc_fd_target(const char *path, const char *dir)
{
	const char *s;
	long n;

	if (strcmp(dir, "fd") == 0 && (s = skip(path, "/dev/fd/"))) {
		/* as is */
	} else if ((s = skip(path, "/proc/")) && (s = own_process(s)) &&
		   (s = skip(s, dir)) && *s == '/') {
		s++;
	} else {
		return -1;
	}
	n = number(&s);
	return n >= 0 && *s == '\0' ? (int)n : -1;
}

/* The kernel's flags line: the file's flags, O_CLOEXEC from the fd. */
static int flags_line(int fd, char *buf, size_t len)
{
	int fl = uffdemu_fcntl(fd, F_GETFL, 0);
	int fdfl = real_fcntl(fd, F_GETFD);

	if (fl < 0)
		fl = 0;
	fl &= ~O_CLOEXEC;
	if (fdfl >= 0 && (fdfl & FD_CLOEXEC))
		fl |= O_CLOEXEC;
	return snprintf(buf, len, "flags:\t0%o\n", (unsigned int)fl);
}

/* The generic lines of the real descriptor, then the emulator's. */
static int fdinfo_text(int fd, char *out, size_t size)
{
	char path[64], real[4096];
	size_t have = 0, len = 0;
	int src, n;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	src = real_open(path, O_RDONLY | O_CLOEXEC);
	if (src < 0)
		return -1;
	while (have < sizeof(real) - 1 &&
	       (n = (int)real_read(src, real + have, sizeof(real) - 1 - have)) >
		       0)
		have += (size_t)n;
	real_close(src);
	real[have] = '\0';
	for (char *line = real, *next; *line && len < size; line = next) {
		next = strchrnul(line, '\n');
		if (*next)
			next++;
		if (skip(line, "flags:"))
			len += (size_t)flags_line(fd, out + len, size - len);
		else if (skip(line, "pos:") || skip(line, "mnt_id:") ||
			 skip(line, "ino:"))
			len += (size_t)snprintf(out + len, size - len, "%.*s",
						(int)(next - line), line);
	}
	if (len >= size)
		return -1;
	n = uffdemu_fdinfo(fd, out + len, size - len);
	return n < 0 ? -1 : (int)len + n;
}

/*
 * A read-only file with the contents, at the lowest free descriptor, as
 * open() would give.
 */
int shim_fdinfo_open(int fd, int flags)
{
	int cloexec = flags & O_CLOEXEC;
	char text[4096], path[64];
	int mfd, ro, n, err;

	n = fdinfo_text(fd, text, sizeof(text));
	if (n < 0)
		return -1;
	mfd = memfd_create("uffdemu-fdinfo", MFD_CLOEXEC);
	if (mfd < 0)
		return -1;
	if (real_write(mfd, text, (size_t)n) != n)
		goto fail;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
	ro = real_open(path, O_RDONLY | O_CLOEXEC);
	if (ro < 0)
		goto fail;
	if (real_dup3(ro, mfd, cloexec) < 0) {
		err = errno;
		real_close(ro);
		errno = err;
		goto fail;
	}
	real_close(ro);
	return mfd;
fail:
	err = errno;
	real_close(mfd);
	errno = err;
	return -1;
}

/* --- readlink --- */

static const char *fd_link(const char *path)
{
	int fd, kind;

	if (likely(!path || path[0] != '/'))
		return NULL;
	fd = shim_proc_fd_target(path, "fd");
	if (fd < 0 || !(kind = shim_fd_kind(fd)))
		return NULL;
	return kind == 1 ? UFFD_LINK : UFFDEMU_DEV_PATH;
}

static ssize_t copy_link(const char *text, char *buf, size_t len)
{
	size_t n = strlen(text);

	if (len == 0) {
		errno = EINVAL;
		return -1;
	}
	if (n > len)
		n = len;
	memcpy(buf, text, n);
	return (ssize_t)n;
}

SHIM_API ssize_t readlink(const char *path, char *buf, size_t len)
{
	const char *text = fd_link(path);

	if (likely(!text))
		return real_readlink(path, buf, len);
	return copy_link(text, buf, len);
}

SHIM_API ssize_t readlinkat(int dirfd, const char *path, char *buf, size_t len)
{
	const char *text = fd_link(path);

	if (likely(!text))
		return real_readlinkat(dirfd, path, buf, len);
	return copy_link(text, buf, len);
}

SHIM_API ssize_t __readlink_chk(const char *path, char *buf, size_t len,
				size_t buflen)
{
	if (len > buflen)
		__chk_fail();
	return readlink(path, buf, len);
}

SHIM_API ssize_t __readlinkat_chk(int dirfd, const char *path, char *buf,
				  size_t len, size_t buflen)
{
	if (len > buflen)
		__chk_fail();
	return readlinkat(dirfd, path, buf, len);
}

/* --- fopen --- */

static FILE *fdinfo_fopen(int target, const char *mode)
{
	int fd = shim_fdinfo_open(target, strchr(mode, 'e') ? O_CLOEXEC : 0);
	FILE *f;
	int err;

	if (fd < 0)
		return NULL;
	f = fdopen(fd, mode);
	if (!f) {
		err = errno;
		real_close(fd);
		errno = err;
	}
	return f;
}

static int fdinfo_target(const char *path)
{
	int n;

	if (likely(!path || path[0] != '/'))
		return -1;
	n = shim_proc_fd_target(path, "fdinfo");
	return n >= 0 && shim_fd_kind(n) == 1 ? n : -1;
}

SHIM_API FILE *fopen(const char *path, const char *mode)
{
	int n = fdinfo_target(path);

	return likely(n < 0) ? real_fopen(path, mode) : fdinfo_fopen(n, mode);
}

SHIM_API FILE *fopen64(const char *path, const char *mode)
{
	return fopen(path, mode);
}

/* --- pagemap --- */

/* "/proc/self/pagemap" and the other spellings of this process's own. */
static bool own_pagemap_path(const char *path)
{
	const char *s = skip(path, "/proc/");

	return s && (s = own_process(s)) && strcmp(s, "pagemap") == 0;
}

int shim_pagemap_open(const char *path, int dirfd, int flags, mode_t mode)
{
	int fd;

	if (!own_pagemap_path(path))
		return -2;
	fd = dirfd == AT_FDCWD ? real_open(path, flags, mode)
			       : real_openat(dirfd, path, flags, mode);
	shim_note_fd(fd);
	return fd;
}

/* Whether fd is open on this process's pagemap file now. */
bool shim_pagemap_fd(int fd)
{
	return uffdemu_pagemap_own(fd);
}

/*
 * read() (off -1) or pread() of the pagemap file, with the entries read
 * corrected.
 * Limitation: only whole entries read at an offset that is a multiple of
 * 8 are corrected; fopen() and stdio, readv() and preadv() of the file
 * are not.
 */
ssize_t shim_pagemap_read(int fd, void *buf, size_t n, off_t off)
{
	off_t pos = off < 0 ? real_lseek(fd, 0, SEEK_CUR) : off;
	ssize_t r =
		off < 0 ? real_read(fd, buf, n) : real_pread(fd, buf, n, off);
	int err = errno;

	if (r >= 8 && pos >= 0 && pos % 8 == 0 && shim_is_active() &&
	    shim_depth == 0) {
		shim_depth++;
		uffdemu_pagemap_fixup(buf, (uint64_t)pos / 8, (size_t)r / 8);
		shim_depth--;
	}
	errno = err;
	return r;
}
