/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Signals.  Userfaults arrive as SIGSEGV, so once the emulator is in use
 * its handler must stay installed and SIGSEGV must stay deliverable:
 *
 * - sigaction() and signal() for SIGSEGV go to uffdemu_sigaction(): the
 *   program's handler is kept and receives the faults that are not
 *   userfaults, and is what the program reads back.
 * - A program that blocks SIGSEGV would die of its next userfault (a
 *   fault with the signal blocked kills the process), so SIGSEGV is left
 *   out of what sigprocmask(), pthread_sigmask() and the masks of other
 *   handlers block.
 *   Limitation: a thread that blocked SIGSEGV before the first userfaultfd
 *   existed keeps it blocked, and dies if it touches missing memory; a
 *   program can see that SIGSEGV is not in its mask.
 *
 * Before the first userfaultfd all of these are the real calls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "tools/shim/shim.h"
#include "uffdemu/uffdemu.h"

static int segv_action(const struct sigaction *act, struct sigaction *oact)
{
	int r;

	shim_depth++;
	r = uffdemu_sigaction(SIGSEGV, act, oact);
	shim_depth--;
	return r;
}

static SHIM_COLD int sigaction_slow(int sig, const struct sigaction *act,
				    struct sigaction *oact)
{
	struct sigaction copy;

	if (sig == SIGSEGV)
		return segv_action(act, oact);
	if (shim_is_active() && act &&
	    sigismember(&act->sa_mask, SIGSEGV) == 1) {
		copy = *act;
		sigdelset(&copy.sa_mask, SIGSEGV);
		act = &copy;
	}
	return real_sigaction(sig, act, oact);
}

SHIM_API int sigaction(int sig, const struct sigaction *act,
		       struct sigaction *oact)
{
	if (unlikely(sig == SIGSEGV || shim_is_active()))
		return sigaction_slow(sig, act, oact);
	return real_sigaction(sig, act, oact);
}

/*
 * signal(SIGSEGV, ...) as the C library does it, through sigaction():
 * BSD semantics (the handler stays, restarts system calls, blocks the
 * signal while it runs), or System V ones for sysv_signal().
 */
static sighandler_t segv_signal(sighandler_t handler, bool sysv)
{
	struct sigaction act, old;

	if (handler == SIG_ERR) {
		errno = EINVAL;
		return SIG_ERR;
	}
	memset(&act, 0, sizeof(act));
	act.sa_handler = handler;
	sigemptyset(&act.sa_mask);
	if (sysv) {
		act.sa_flags = SA_RESETHAND | SA_NODEFER;
	} else {
		sigaddset(&act.sa_mask, SIGSEGV);
		act.sa_flags = SA_RESTART;
	}
	if (segv_action(&act, &old) < 0)
		return SIG_ERR;
	return old.sa_handler;
}

SHIM_API sighandler_t signal(int sig, sighandler_t handler)
{
	if (unlikely(sig == SIGSEGV))
		return segv_signal(handler, false);
	return real_signal(sig, handler);
}

SHIM_API sighandler_t bsd_signal(int sig, sighandler_t handler)
{
	return signal(sig, handler);
}

SHIM_API sighandler_t sysv_signal(int sig, sighandler_t handler)
{
	if (unlikely(sig == SIGSEGV))
		return segv_signal(handler, true);
	return real_sysv_signal(sig, handler);
}

SHIM_API sighandler_t __sysv_signal(int sig, sighandler_t handler)
{
	return sysv_signal(sig, handler);
}

/* The set to give the real call: without SIGSEGV, once it matters. */
static const sigset_t *keep_segv(int how, const sigset_t *set, sigset_t *copy)
{
	if (!set || how == SIG_UNBLOCK || sigismember(set, SIGSEGV) != 1 ||
	    shim_depth)
		return set;
	*copy = *set;
	sigdelset(copy, SIGSEGV);
	return copy;
}

static SHIM_COLD int sigprocmask_slow(int how, const sigset_t *set,
				      sigset_t *old)
{
	sigset_t copy;

	return real_sigprocmask(how, keep_segv(how, set, &copy), old);
}

static SHIM_COLD int pthread_sigmask_slow(int how, const sigset_t *set,
					  sigset_t *old)
{
	sigset_t copy;

	return real_pthread_sigmask(how, keep_segv(how, set, &copy), old);
}

SHIM_API int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	if (unlikely(shim_is_active()))
		return sigprocmask_slow(how, set, old);
	return real_sigprocmask(how, set, old);
}

SHIM_API int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	if (unlikely(shim_is_active()))
		return pthread_sigmask_slow(how, set, old);
	return real_pthread_sigmask(how, set, old);
}
