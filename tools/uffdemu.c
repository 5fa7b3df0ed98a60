/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uffdemu: the command.
 *
 *   uffdemu run [options] [--] PROGRAM [ARGS...]
 *
 * starts an unchanged, dynamically linked program with the emulator
 * underneath: libuffdemu-preload.so goes first in LD_PRELOAD, and every
 * userfaultfd the program creates is an emulated one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PRELOAD_NAME "libuffdemu-preload.so"

#ifndef UFFDEMU_PRELOAD_RELDIR
#define UFFDEMU_PRELOAD_RELDIR "../lib/uffdemu"
#endif
#ifndef UFFDEMU_VERSION
#define UFFDEMU_VERSION "unknown"
#endif

enum mode { MODE_EMULATE, MODE_AUTO, MODE_KERNEL };

static void usage(FILE *out)
{
	fputs("usage: uffdemu run [options] [--] PROGRAM [ARGS...]\n"
	      "       uffdemu bench [options]   (uffdemu bench --help)\n"
	      "       uffdemu help | version\n"
	      "\n"
	      "Runs PROGRAM with the userfaultfd emulator underneath: every\n"
	      "userfaultfd it creates, with syscall(SYS_userfaultfd) or\n"
	      "/dev/userfaultfd, is an emulated one.\n"
	      "\n"
	      "options:\n"
	      "  --trace     print each userfaultfd call, ioctl and message "
	      "on stderr\n"
	      "  --emulate   use the emulator even where the kernel's "
	      "userfaultfd\n"
	      "              works (the default)\n"
	      "  --auto      use the kernel's userfaultfd where it works, "
	      "the\n"
	      "              emulator where the kernel refuses it\n"
	      "  --kernel    run PROGRAM without the emulator, for "
	      "comparison\n"
	      "  -h, --help  show this text\n"
	      "\n"
	      "environment:\n"
	      "  UFFDEMU_PRELOAD  the preload library to use "
	      "(default: " PRELOAD_NAME "\n"
	      "                   next to this program, or "
	      "in " UFFDEMU_PRELOAD_RELDIR "/)\n",
	      out);
}

static void fail(const char *what, const char *reason)
{
	fprintf(stderr, "uffdemu: %s: %s\n", what, reason);
}

/* dir/name if it is a readable file; out has PATH_MAX bytes. */
static bool try_path(char *out, const char *dir, const char *name)
{
	char joined[PATH_MAX];

	if (snprintf(joined, sizeof(joined), "%s/%s", dir, name) >=
	    (int)sizeof(joined))
		return false;
	return access(joined, R_OK) == 0 && realpath(joined, out) != NULL;
}

/* The preload library: UFFDEMU_PRELOAD, else next to this program. */
static bool find_preload(char *out)
{
	const char *env = getenv("UFFDEMU_PRELOAD");
	char self[PATH_MAX], *slash;
	ssize_t n;

	if (env && *env) {
		if (access(env, R_OK) != 0 || !realpath(env, out)) {
			fail(env, strerror(errno));
			return false;
		}
		return true;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0) {
		fail("/proc/self/exe", strerror(errno));
		return false;
	}
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	if (try_path(out, self, PRELOAD_NAME))
		return true;
	if (strlen(self) + sizeof(UFFDEMU_PRELOAD_RELDIR) + 1 < sizeof(self)) {
		strcat(self, "/" UFFDEMU_PRELOAD_RELDIR);
		if (try_path(out, self, PRELOAD_NAME))
			return true;
	}
	fail("cannot find " PRELOAD_NAME, "set UFFDEMU_PRELOAD to its path");
	return false;
}

static bool is_ours(const char *entry, size_t len)
{
	size_t n = sizeof(PRELOAD_NAME) - 1;

	return len >= n && memcmp(entry + len - n, PRELOAD_NAME, n) == 0 &&
	       (len == n || entry[len - n - 1] == '/');
}

/*
 * LD_PRELOAD with ours first (when first is not NULL) and any other copy
 * of ours taken out; the dynamic linker separates entries with spaces or
 * colons.
 */
static char *preload_list(const char *first, const char *old)
{
	size_t size = (first ? strlen(first) : 0) + (old ? strlen(old) : 0) + 2;
	char *list = malloc(size);
	size_t len = 0;

	if (!list)
		return NULL;
	if (first)
		len = (size_t)snprintf(list, size, "%s", first);
	list[len] = '\0';
	while (old && *old) {
		size_t n = strcspn(old, " :");

		if (n && !is_ours(old, n)) {
			if (len)
				list[len++] = ':';
			memcpy(list + len, old, n);
			len += n;
			list[len] = '\0';
		}
		old += n;
		old += strspn(old, " :");
	}
	return list;
}

static int set_preload(enum mode mode)
{
	char path[PATH_MAX], *list;
	int r;

	if (mode != MODE_KERNEL) {
		if (!find_preload(path))
			return -1;
		if (strpbrk(path, " :")) {
			fail(path, "cannot be preloaded (a space or colon in "
				   "its path)");
			return -1;
		}
	}
	list = preload_list(mode == MODE_KERNEL ? NULL : path,
			    getenv("LD_PRELOAD"));
	if (!list) {
		fail("LD_PRELOAD", strerror(ENOMEM));
		return -1;
	}
	r = *list ? setenv("LD_PRELOAD", list, 1) : unsetenv("LD_PRELOAD");
	free(list);
	if (r != 0)
		fail("LD_PRELOAD", strerror(errno));
	return r;
}

static int run(int argc, char **argv)
{
	enum mode mode = MODE_EMULATE;
	bool trace = false;
	int i;

	for (i = 0; i < argc && argv[i][0] == '-'; i++) {
		const char *o = argv[i];

		if (strcmp(o, "--") == 0) {
			i++;
			break;
		} else if (strcmp(o, "--trace") == 0) {
			trace = true;
		} else if (strcmp(o, "--emulate") == 0) {
			mode = MODE_EMULATE;
		} else if (strcmp(o, "--auto") == 0) {
			mode = MODE_AUTO;
		} else if (strcmp(o, "--kernel") == 0) {
			mode = MODE_KERNEL;
		} else if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			fail(o, "unknown option (see uffdemu --help)");
			return 2;
		}
	}
	if (i >= argc) {
		fail("run", "no program given (see uffdemu --help)");
		return 2;
	}
	if (trace && mode == MODE_KERNEL) {
		fail("--trace", "needs the emulator, not --kernel");
		return 2;
	}
	if (set_preload(mode) != 0)
		return 125;
	unsetenv("UFFDEMU_AUTO");
	if (mode == MODE_AUTO)
		setenv("UFFDEMU_AUTO", "1", 1);
	if (trace)
		setenv("UFFDEMU_TRACE", "1", 1);
	else if (mode == MODE_KERNEL)
		unsetenv("UFFDEMU_TRACE");
	fflush(stdout);
	execvp(argv[i], argv + i);
	fail(argv[i], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}

/*
 * Runs a helper program that is built beside this one: NAME in SUBDIR of
 * the build tree, or next to this binary once installed.
 */
static int run_sibling(const char *subdir, const char *name, char **argv)
{
	char self[PATH_MAX], path[PATH_MAX + 64], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n < 0) {
		fail("/proc/self/exe", strerror(errno));
		return 125;
	}
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	snprintf(path, sizeof(path), "%s/%s/%s", self, subdir, name);
	if (access(path, X_OK) != 0)
		snprintf(path, sizeof(path), "%s/%s", self, name);
	argv[0] = path;
	fflush(stdout);
	execv(path, argv);
	fail(path, strerror(errno));
	return errno == ENOENT ? 127 : 126;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd) {
		usage(stderr);
		return 2;
	}
	if (strcmp(cmd, "run") == 0)
		return run(argc - 2, argv + 2);
	if (strcmp(cmd, "bench") == 0)
		return run_sibling("bench", "uffdemu-bench", argv + 1);
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "-h") == 0 ||
	    strcmp(cmd, "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("uffdemu %s\n", UFFDEMU_VERSION);
		return 0;
	}
	fail(cmd, "unknown command (see uffdemu --help)");
	return 2;
}
