/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The SIGSEGV path.
 *
 * libsigsegv finds the fault address portably, but its handler is not told
 * the signal context, which is needed to know whether the access was a
 * write.  So our own sigaction handler wraps libsigsegv's: it records the
 * context for this thread, then lets libsigsegv dispatch to on_fault().
 *
 * Faults that are not userfaults go where they would have gone without us:
 * to the handler the application had installed before, or to the default
 * action, so a real crash still dies of SIGSEGV.
 *
 * Everything here runs in a signal handler with every signal blocked: no
 * malloc, no stdio, no lock that a faulting thread could hold.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sigsegv.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "mm/mm.h"

/* A populated page that keeps faulting is not ours after this many tries. */
#define STALE_RETRIES 100000

struct fault_frame {
	int sig;
	siginfo_t *info;
	void *ucontext;
};

static struct sigaction app_action;
static void (*libsigsegv_action)(int, siginfo_t *, void *);

static __thread struct fault_frame *current_fault
	__attribute__((tls_model("initial-exec")));
static __thread uintptr_t retry_addr __attribute__((tls_model("initial-exec")));
static __thread unsigned long retry_count
	__attribute__((tls_model("initial-exec")));

static bool access_allowed(uint32_t entry, bool write)
{
	unsigned int prot = ps_prot(entry);

	if (write)
		return prot & PROT_WRITE;
	return prot & (PROT_READ | PROT_WRITE | PROT_EXEC);
}

/* A racing install or registration: the access only needs to run again. */
static bool retry_later(uintptr_t addr)
{
	if (retry_addr != (addr & PAGE_MASK)) {
		retry_addr = addr & PAGE_MASK;
		retry_count = 0;
	}
	if (++retry_count > STALE_RETRIES)
		return false;
	sched_yield();
	return true;
}

/*
 * The kernel's read fault on a file maps the neighbours the file has along
 * with the page (fault-around, 64 KiB by default), within the mapping and
 * an aligned window, but not in a range registered in WP or MINOR mode.
 * Limitation: the real mapping is not split where a registration begins,
 * so the system's own read fault on an unregistered page of it maps
 * unregistered pages beyond the registration too, where the kernel's
 * mapping ends there.  In a MAP_PRIVATE mapping, where a page can be
 * mapped without a private copy by a read alone, the emulator's own reads
 * (the fault-around here, a read fault outside MISSING mode, CONTINUE) do
 * the same.
 */
#define FAULT_AROUND_PAGES 16

static const uint32_t vma_bits = PS_CTX_MASK | PS_MODES | PS_PROTS | PS_KIND;

/* The aligned window around page, inside the run of pages like it. */
static void around_window(uintptr_t page, uint32_t entry, uintptr_t *from,
			  uintptr_t *to)
{
	uintptr_t lo = page & ~(FAULT_AROUND_PAGES * PAGE_SIZE - 1);
	uintptr_t hi = lo + FAULT_AROUND_PAGES * PAGE_SIZE;

	*from = page;
	while (*from > lo && (pagestate_get(*from - PAGE_SIZE) & vma_bits) ==
				     (entry & vma_bits))
		*from -= PAGE_SIZE;
	*to = page + PAGE_SIZE;
	while (*to < hi &&
	       (pagestate_get(*to) & vma_bits) == (entry & vma_bits))
		*to += PAGE_SIZE;
}

/*
 * The userfault a fault on a page of shared memory that this mapping has
 * not mapped comes to, once it is known whether the file has the page: a
 * minor fault, or a MISSING fault (past the end of the file, SIGBUS, which
 * the kernel's fault raises first).  False when there is none: the page is
 * then simply mapped.  *taken is what the fault path returns then.
 */
static bool file_userfault(uintptr_t addr, bool write, uint32_t entry,
			   bool in_file, void *uc, bool *taken)
{
	if (in_file && (entry & PS_MODE_MINOR)) {
		*taken = emu_fault(addr, write, FAULT_MINOR, uc);
		return true;
	}
	if (in_file || !(entry & PS_MODE_MISSING))
		return false;
	if (mm_past_eof(addr)) {
		fault_raise_sigbus(addr, uc, BUS_ADRERR, 0);
		*taken = true;
	} else {
		*taken = emu_fault(addr, write, FAULT_MISSING, uc);
	}
	return true;
}

/*
 * A page of shared memory that this mapping has not mapped: what the
 * kernel's fault does depends on whether the file has the page.  Missing
 * from the file, it is a MISSING fault (or, in MINOR mode alone, the page is
 * allocated), or SIGBUS past the end of the file; in the file, a MINOR fault
 * (or, without MINOR mode, the page is simply mapped).  A page being
 * installed is in the file before its contents are whole: the access waits
 * for the install.
 */
static bool shared_fault(uintptr_t addr, bool write, uint32_t entry, void *uc)
{
	uintptr_t page = addr & PAGE_MASK, from = page, to = page + PAGE_SIZE;
	unsigned char cached[FAULT_AROUND_PAGES];
	bool around = !write && !(entry & (PS_MODE_MINOR | PS_MODE_WP));
	bool in_file, busy, taken;

	retry_addr = 0;
	if (around)
		around_window(page, entry, &from, &to);
	if (mincore((void *)from, to - from, cached) != 0)
		return false;
	in_file = cached[(page - from) >> PAGE_SHIFT] & 1;
	busy = install_shared_busy();
	if (in_file && busy) {
		sched_yield();
		return true;
	}
	/* Neighbours being installed may not be whole yet: none then. */
	if (around && !busy)
		emu_fault_map(from, to, cached, entry & vma_bits, true, false);
	if (file_userfault(addr, write, entry, in_file, uc, &taken))
		return taken;
	/* Fault-around has mapped it already when the file has it. */
	if (in_file && around)
		return true;
	/* In the file, or to be allocated in MINOR mode alone. */
	cached[0] = 1;
	emu_fault_map(page, page + PAGE_SIZE, cached, entry & vma_bits, false,
		      write);
	return true;
}

/*
 * shared_fault() for hugetlb memory, where what the emulator knows of the
 * file stands for mincore() (in_file); no fault-around there.
 */
static bool huge_file_fault(uintptr_t addr, bool write, uint32_t entry,
			    bool in_file, void *uc)
{
	bool taken;

	retry_addr = 0;
	if (install_shared_busy()) {
		sched_yield();
		return true;
	}
	if (file_userfault(addr, write, entry, in_file, uc, &taken))
		return taken;
	emu_fault_map_huge(ps_page(entry, addr), entry & vma_bits);
	return true;
}

static bool take_fault(uintptr_t addr, bool write, void *uc)
{
	uint32_t entry = pagestate_get(addr);

	if (!entry)
		return false;
	if (entry & PS_BUSY) {
		/* Registration or release in progress: it will finish. */
		sched_yield();
		return true;
	}
	if (!access_allowed(entry, write))
		return false;
	if (entry & PS_POISON) {
		fault_raise_poison(addr, uc, ps_page_shift(entry));
		return true;
	}
	if (!(entry & PS_CTX_MASK))
		return false;
	if ((entry & PS_WP) && !(entry & PS_MODE_WP)) {
		/*
		 * A write-protect marker outside WP mode goes at the first
		 * fault, and the access runs again, as on the kernel; so does
		 * the mark of a populated page, at the first write.
		 * Limitation: an operation on the page at the same moment may
		 * write the marker back.
		 */
		uintptr_t page = ps_page(entry, addr);
		size_t size = ps_page_size(entry);

		retry_addr = 0;
		if (pagestate_cas_page(page, size, entry, entry & ~PS_WP))
			mprotect((void *)page, size,
				 (int)page_prot(entry & ~PS_WP));
		return true;
	}
	if ((entry & PS_HUGE) && ps_hidden(entry) && (entry & PS_SHARED))
		return huge_file_fault(
			addr, write, entry,
			(entry & PS_IN_FILE) || mm_alias_maps(addr), uc);
	/*
	 * A hugetlb file mapped MAP_PRIVATE, where another mapping shows that
	 * the file has the page: the kernel maps the file's page there (a
	 * write copies it), or reports a minor fault.  Elsewhere its pages are
	 * missing as in anonymous memory.
	 */
	if ((entry & PS_HUGE) && ps_hidden(entry) && (entry & PS_COW) &&
	    mm_alias_maps(addr))
		return huge_file_fault(addr, write, entry, true, uc);
	if ((entry & PS_SHARED) && ps_hidden(entry))
		return shared_fault(addr, write, entry, uc);
	if ((entry & PS_MODE_MISSING) && !(entry & PS_PRESENT)) {
		retry_addr = 0;
		/* The kernel's fault makes the page table first. */
		tables_note(addr, addr + 1);
		return emu_fault(addr, write, FAULT_MISSING, uc);
	}
	if (write && (entry & PS_WP) && (entry & PS_MODE_WP)) {
		retry_addr = 0;
		/*
		 * A write to an empty page outside MISSING mode populates it
		 * first, write-protected, as the kernel's fault does before
		 * it reports: a read maps the zero page (nothing happens to
		 * a populated page), and a fill then finds the page there.
		 * Limitation: a thread that takes the read access away
		 * (mprotect) between the check and the read ends the process
		 * with SIGSEGV.
		 */
		if (!(entry & PS_MODE_MISSING) &&
		    (page_prot(entry) & PROT_READ))
			(void)*(volatile const char *)(addr & PAGE_MASK);
		return emu_fault(addr, true, FAULT_WP, uc);
	}
	/* An install or an unprotect in progress. */
	return retry_later(addr);
}

static pid_t current_tid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/*
 * Makes the access fail with SIGBUS as the kernel's fault does.  The signal
 * is queued while blocked, so it arrives as the handler returns, before the
 * access runs again, with the faulting context.  Like the kernel's forced
 * signal it cannot be blocked or ignored away: the process then dies of
 * it.
 */
void fault_raise_sigbus(uintptr_t addr, void *ucontext, int code, short lsb)
{
	ucontext_t *uc = ucontext;
	struct sigaction cur;
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	si.si_signo = SIGBUS;
	si.si_code = code;
	si.si_addr = (void *)addr;
	si.si_addr_lsb = lsb;
	sigaction(SIGBUS, NULL, &cur);
	if (sigismember(&uc->uc_sigmask, SIGBUS) == 1 ||
	    cur.sa_handler == SIG_IGN) {
		signal(SIGBUS, SIG_DFL);
		sigdelset(&uc->uc_sigmask, SIGBUS);
	}
	syscall(SYS_rt_tgsigqueueinfo, getpid(), current_tid(), SIGBUS, &si);
}

/*
 * A poisoned page reports like hardware memory failure where the kernel
 * has memory-failure support (BUS_MCEERR_AR with the shift of the page,
 * huge or not), and as
 * a plain address error where it has not, as the running kernel would.
 */
static int poison_code = -1;

void fault_raise_poison(uintptr_t addr, void *ucontext, unsigned int shift)
{
	bool mce = poison_code == BUS_MCEERR_AR;

	fault_raise_sigbus(addr, ucontext, mce ? BUS_MCEERR_AR : BUS_ADRERR,
			   mce ? (short)shift : 0);
}

/* Hands a fault that is not ours to the application's own disposition. */
static void chain(const struct fault_frame *f)
{
	const struct sigaction *a = &app_action;
	const ucontext_t *uc = f->ucontext;
	sigset_t mask;

	if (a->sa_handler == SIG_DFL || a->sa_handler == SIG_IGN) {
		/* A hardware fault cannot be ignored: the access runs again
		 * and the default action ends the process. */
		signal(f->sig, SIG_DFL);
		return;
	}
	mask = uc->uc_sigmask;
	for (int s = 1; s < NSIG; s++)
		if (sigismember(&a->sa_mask, s) == 1)
			sigaddset(&mask, s);
	if (!(a->sa_flags & SA_NODEFER))
		sigaddset(&mask, f->sig);
	pthread_sigmask(SIG_SETMASK, &mask, NULL);
	if (a->sa_flags & SA_SIGINFO)
		a->sa_sigaction(f->sig, f->info, f->ucontext);
	else
		a->sa_handler(f->sig);
}

static int on_fault(void *fault_address, int serious)
{
	struct fault_frame *f = current_fault;
	uintptr_t addr = (uintptr_t)fault_address;

	if (!f)
		return 0;
	if (take_fault(addr, arch_fault_is_write(f->ucontext), f->ucontext))
		return 1;
	uaccess_fixup(addr, f->ucontext);
	chain(f);
	return 1;
}

static void on_signal(int sig, siginfo_t *info, void *ucontext)
{
	struct fault_frame frame = {sig, info, ucontext};
	struct fault_frame *outer = current_fault;
	int saved_errno = errno;

	current_fault = &frame;
	libsigsegv_action(sig, info, ucontext);
	current_fault = outer;
	errno = saved_errno;
}

static _Atomic bool installed;

/*
 * sigaction() for programs that route it through the emulator: once the
 * emulator's handler is in place, a SIGSEGV handler the program installs
 * becomes the one faults that are not userfaults are handed to, and the
 * emulator's stays in front.
 */
int fault_sigaction(int sig, const struct sigaction *act,
		    struct sigaction *oact)
{
	sigset_t all, saved;

	if (sig != SIGSEGV || !atomic_load(&installed))
		return sigaction(sig, act, oact);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &saved);
	if (oact)
		*oact = app_action;
	if (act)
		app_action = *act;
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	return 0;
}

int fault_init(void)
{
	struct sigaction app_bus, lib, ours;

	/* This sysctl exists only with CONFIG_MEMORY_FAILURE. */
	poison_code = access("/proc/sys/vm/memory_failure_early_kill", F_OK)
			      ? BUS_ADRERR
			      : BUS_MCEERR_AR;
	sigaction(SIGSEGV, NULL, &app_action);
	sigaction(SIGBUS, NULL, &app_bus);
	if (sigsegv_install_handler(on_fault) != 0)
		return -ENOSYS;
	sigaction(SIGSEGV, NULL, &lib);
	if (!(lib.sa_flags & SA_SIGINFO))
		return -ENOSYS;
	libsigsegv_action = lib.sa_sigaction;

	memset(&ours, 0, sizeof(ours));
	ours.sa_sigaction = on_signal;
	ours.sa_flags = SA_SIGINFO | SA_RESTART | (lib.sa_flags & SA_ONSTACK);
	sigfillset(&ours.sa_mask);
	sigaction(SIGSEGV, &ours, NULL);
	/* Userfaults arrive as SIGSEGV only; SIGBUS stays the program's. */
	sigaction(SIGBUS, &app_bus, NULL);
	atomic_store(&installed, true);
	return 0;
}
