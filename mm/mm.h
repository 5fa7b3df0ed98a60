/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The simulated MMU: which pages are registered, to which userfaultfd and in
 * which modes, whether each one is populated, and how a missing page is kept
 * inaccessible so that touching it traps.
 */
#ifndef UFFDEMU_MM_H
#define UFFDEMU_MM_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PAGE_SHIFT 12
#define PAGE_SIZE  (1UL << PAGE_SHIFT)
#define PAGE_MASK  (~(PAGE_SIZE - 1))

/* The huge pages of hugetlb memory the emulator registers. */
#define HPAGE_SHIFT 21
#define HPAGE_SIZE  (1UL << HPAGE_SHIFT)
#define HPAGE_MASK  (~(HPAGE_SIZE - 1))
#define GPAGE_SHIFT 30
#define GPAGE_SIZE  (1UL << GPAGE_SHIFT)

/* Top of the user address space of an ordinary process. */
#if defined(__x86_64__)
#define TASK_SIZE 0x7ffffffff000UL
#else
#define TASK_SIZE (1UL << 48)
#endif

/*
 * One 32-bit entry per page.  An entry of zero means "not registered".
 * The fault handler reads entries without any lock; they change only under
 * mm_lock (and the waiter lock where a wake-up depends on them).
 */
#define PS_CTX_MASK     0xffffU /* owning context slot, 0 = none */
#define PS_MODE_MISSING (1U << 16)
#define PS_MODE_WP      (1U << 17)
#define PS_MODE_MINOR   (1U << 18)
#define PS_MODES        (PS_MODE_MISSING | PS_MODE_WP | PS_MODE_MINOR)
#define PS_PROT_READ    (1U << 19)
#define PS_PROT_WRITE   (1U << 20)
#define PS_PROT_EXEC    (1U << 21)
#define PS_PROTS        (PS_PROT_READ | PS_PROT_WRITE | PS_PROT_EXEC)
#define PS_PRESENT      (1U << 22) /* populated; kept in MISSING mode only */
#define PS_BUSY         (1U << 23) /* being changed: a fault just retries */
#define PS_HIDDEN_PROT  (1U << 24) /* kept missing by PROT_NONE, not a guard */
#define PS_WP           (1U << 25) /* write-protected: uffd-wp mark or marker */
#define PS_POISON       (1U << 26) /* poison marker: any access raises SIGBUS */
/*
 * Shared memory mapped MAP_SHARED: a page may be in the file without being
 * mapped here.  PS_PRESENT then says whether it is mapped here, in every
 * mode, and a page not mapped here is hidden: the system's own fault would
 * map it, with its neighbours, where the kernel's userfaultfd keeps it out
 * (WP and MINOR modes turn off the kernel's fault-around).
 * Limitation: a mapped page that the system swaps out keeps PS_PRESENT, so
 * its next access is no minor fault, where the kernel reports one.
 */
#define PS_SHARED       (1U << 27)
/*
 * With PS_SHARED or PS_HUGE: a file mapped MAP_PRIVATE.  A page is the
 * file's until it is written, then a private copy; a fill makes a private
 * copy and leaves the file as it was.
 */
#define PS_COW          (1U << 28)
/*
 * Hugetlb memory: each huge page (2 MiB, or 1 GiB with PS_GIGA) has one
 * equal entry per PAGE_SIZE, all changed together.  Its pages are
 * kept missing by PROT_NONE, since guard markers cannot be installed there.
 * Limitation: so each missing or filled huge page may split a memory
 * region.  And a hugetlb file mapped MAP_PRIVATE knows of the file's
 * pages only what another mapping of it in this process maps (they cannot
 * be seen without adding them), and hides its missing pages in MISSING
 * mode only: in MINOR mode alone a page the file has is mapped without
 * the minor fault the kernel reports.
 */
#define PS_HUGE         (1U << 29)
/*
 * With PS_HUGE and PS_SHARED (hugetlb memory mapped MAP_SHARED): the file
 * is known to have the page, because this mapping mapped it, or a fill
 * or fault put it there.  Nothing else tells of a hugetlb file's pages.
 * Limitation: a page the file got through another process, or through a
 * mapping of this process that no longer maps it, is not known: it counts
 * as missing from the file, a MISSING fault where the kernel maps it or
 * reports a minor fault (COPY finds it, and fails EEXIST as the kernel).
 */
#define PS_IN_FILE      (1U << 30)
/* With PS_HUGE: the huge pages are of 1 GiB (GPAGE_SIZE), not 2 MiB. */
#define PS_GIGA         (1U << 31)
/* The bits that tell one kind of mapping from another. */
#define PS_KIND         (PS_SHARED | PS_COW | PS_HUGE | PS_GIGA)

#define PS_PROT_SHIFT 19

/* pagestate.c: the table of entries, two levels deep. */
int pagestate_reserve(uintptr_t start, size_t len);
uint32_t pagestate_get(uintptr_t addr);
void pagestate_set(uintptr_t addr, uint32_t entry);
bool pagestate_cas(uintptr_t addr, uint32_t old, uint32_t entry);
bool pagestate_cas_page(uintptr_t page, size_t size, uint32_t old,
			uint32_t entry);
void pagestate_release(uintptr_t start, size_t len);

/* Whether the entry keeps PS_PRESENT: pages that trap while not mapped. */
static inline bool ps_tracked(uint32_t e)
{
	return e & (PS_MODE_MISSING | PS_SHARED);
}

/* A page kept inaccessible because it is not mapped yet. */
static inline bool ps_hidden(uint32_t e)
{
	return ps_tracked(e) && !(e & PS_PRESENT);
}

/* The page holding addr, and its size: a huge page in hugetlb memory. */
static inline unsigned int ps_page_shift(uint32_t e)
{
	if (!(e & PS_HUGE))
		return PAGE_SHIFT;
	return (e & PS_GIGA) ? GPAGE_SHIFT : HPAGE_SHIFT;
}

static inline size_t ps_page_size(uint32_t e)
{
	return 1UL << ps_page_shift(e);
}

static inline uintptr_t ps_page(uint32_t e, uintptr_t addr)
{
	return addr & ~(ps_page_size(e) - 1);
}

/* The protection the program set. */
static inline unsigned int ps_prot(uint32_t e)
{
	return (e & PS_PROTS) >> PS_PROT_SHIFT;
}

/* The protection the page really has: hidden, write-protected or not. */
static inline unsigned int page_prot(uint32_t e)
{
	unsigned int prot = ps_prot(e);

	if (e & PS_HIDDEN_PROT)
		return 0;
	if (e & PS_WP)
		prot &= ~2U; /* PROT_WRITE */
	return prot;
}

/*
 * mm_lock serialises everything that changes registered memory: ioctls,
 * the memory entry points, fork.  It is never taken on the fault path, so
 * a thread that faults while holding it cannot deadlock the handler; code
 * that holds it must still not touch user memory that may be missing.
 */
void mm_lock(void);
void mm_unlock(void);

/* range.c: the real mappings (the kernel's VMAs). */
enum mm_vma_type {
	VMA_ANON,            /* private anonymous memory */
	VMA_SHMEM,           /* shared memory mapped MAP_SHARED: memfd, tmpfs,
				shared anonymous */
	VMA_SHMEM_PRIVATE,   /* a memfd or tmpfs file mapped MAP_PRIVATE */
	VMA_HUGETLB_PRIVATE, /* MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB */
	VMA_HUGETLB_COW,     /* a hugetlb memfd or file mapped MAP_PRIVATE */
	VMA_HUGETLB,         /* hugetlb memory mapped MAP_SHARED */
	VMA_OTHER,           /* files on disk, devices, [vdso]: never
				registrable */
};

static inline bool vma_is_hugetlb(enum mm_vma_type t)
{
	return t == VMA_HUGETLB_PRIVATE || t == VMA_HUGETLB_COW ||
	       t == VMA_HUGETLB;
}

struct mm_vma {
	uintptr_t start;
	uintptr_t end;
	unsigned int prot; /* PROT_* */
	enum mm_vma_type type;
	uint64_t ino;      /* of the mapped file; 0 for anonymous memory */
	uint64_t offset;   /* in the file, of start */
	uint64_t pagesize; /* PAGE_SIZE, or the size of its huge pages */
};

/*
 * Reads the real mappings intersecting [start, end) from the system.
 * Returns how many there are (only the first max are stored) or a
 * negative errno.
 */
int mm_vmas(uintptr_t start, uintptr_t end, struct mm_vma *out, int max);

/*
 * The VmFlags of the real mappings beginning at starts[0..n), as their
 * names, without those the emulator's own work changes (access, accounting,
 * guard markers).  Reads /proc/self/smaps: for rare questions only.
 * Returns 0, or a negative errno when a mapping was not found.
 */
#define MM_FLAGS_MAX 96
int mm_vma_flags(const uintptr_t *starts, int n, char (*out)[MM_FLAGS_MAX]);
bool mm_vma_maywrite(uintptr_t start);
bool mm_past_eof(uintptr_t addr);
int mm_vma_file(uintptr_t addr, int flags, uint64_t *offset);
bool mm_alias_maps(uintptr_t addr);
int mm_views(uintptr_t addr, size_t len, struct mm_vma *out, int max);
int mm_fd_views(int fd, uint64_t off, uint64_t len, struct mm_vma *out,
		int max);

struct mm_reg {
	uintptr_t start;
	uintptr_t end;
	unsigned int slot;
};
int reg_add(uintptr_t start, uintptr_t end, unsigned int slot);
int reg_remove(uintptr_t start, uintptr_t end);
bool reg_next(uintptr_t from, uintptr_t to, unsigned int slot,
	      struct mm_reg *out);

/* ops.c: operations on registered memory, under mm_lock. */
int mm_register(uintptr_t start, uintptr_t end, unsigned int slot,
		uint32_t modes, unsigned int prot);
bool mm_unregister(uintptr_t start, uintptr_t end);
enum mm_fill_op { FILL_COPY, FILL_ZERO, FILL_POISON, FILL_CONTINUE };
typedef void mm_publish_fn(void *arg, uintptr_t start, uintptr_t end,
			   uint32_t set, uint32_t clear);
ssize_t mm_fill(enum mm_fill_op op, uintptr_t dst, const char *src, size_t len,
		bool wp, mm_publish_fn *publish, void *arg);
void mm_update(uintptr_t start, uintptr_t end, uint32_t set, uint32_t clear);
ssize_t mm_move(uintptr_t dst, uintptr_t src, size_t len, bool allow_holes,
		mm_publish_fn *publish, void *arg);
bool mm_page_empty(uintptr_t addr, uint32_t entry);
int mm_writeprotect(uintptr_t start, uintptr_t end, bool wp, bool unpopulated,
		    void (*clear)(uintptr_t start, uintptr_t end));
void mm_writeprotect_all(uintptr_t start, uintptr_t end);
void mm_forget(uintptr_t start, uintptr_t end);
int mm_discard(uintptr_t start, uintptr_t end);
void mm_protect(uintptr_t start, uintptr_t end, unsigned int prot);
void *mm_remap(void *old_addr, size_t old_len, size_t new_len, int flags,
	       void *new_addr, bool (*keep)(unsigned int slot));

/* tables.c: which page tables the kernel would have. */
void tables_note(uintptr_t start, uintptr_t end);
bool tables_absent(uintptr_t addr);
void tables_before_zap(uintptr_t start, uintptr_t end);
void tables_after_zap(uintptr_t start, uintptr_t end, bool unmapped);

/* install.c: how missing pages are hidden and pages installed. */
int install_init(void);
int install_hide(uintptr_t start, size_t len, bool *by_prot);
int install_unhide(uintptr_t start, size_t len, unsigned int prot,
		   bool by_prot);
/* How pages about to be filled are kept missing. */
enum install_hidden {
	HIDDEN_NONE,  /* not at all: empty pages outside MISSING mode */
	HIDDEN_GUARD, /* by a guard marker */
	HIDDEN_PROT,  /* by PROT_NONE */
};
ssize_t install_copy(uintptr_t dst, const void *src, size_t len,
		     unsigned int prot, enum install_hidden hidden);
ssize_t install_copy_unit(uintptr_t dst, const void *src, size_t len,
			  unsigned int prot, enum install_hidden hidden,
			  size_t unit);
int install_hide_fd(int fd);
bool install_internal_fd(int fd);
int install_internal_fds(int *out, int max);
void install_close_fd(int fd);
enum { PAGE_OWN, PAGE_SHARED, PAGE_ZERO };
int install_page_kind(uintptr_t addr, int *kind);
int install_pagemap(uintptr_t addr, uint64_t *out, size_t n);
int install_zero(uintptr_t dst, size_t len, unsigned int prot,
		 enum install_hidden hidden);
ssize_t install_shared(uintptr_t dst, const void *src, size_t len,
		       unsigned int old_prot, unsigned int prot,
		       enum install_hidden hidden);
int install_map(uintptr_t dst, size_t len, unsigned int old_prot,
		unsigned int prot, enum install_hidden hidden, bool cow);
ssize_t install_private(uintptr_t dst, const void *src, size_t len,
			unsigned int prot, enum install_hidden hidden);
ssize_t install_huge_shared(uintptr_t dst, const void *src, size_t len,
			    unsigned int old_prot, unsigned int prot,
			    enum install_hidden hidden, size_t size);
int install_populated(uintptr_t start, size_t len, unsigned char *vec);
int install_mapped(uintptr_t start, size_t len, unsigned char *vec);
bool install_shared_busy(void);
const char *install_method(void);

/* uaccess.c: user memory accessed the way the kernel does. */
int uaccess_read(void *dst, const void *usrc, size_t len);
int uaccess_write(void *udst, const void *src, size_t len);
int uaccess_touch_read(const void *usrc, size_t len);
int uaccess_touch_write(void *udst, size_t len);
bool uaccess_fixup(uintptr_t addr, void *ucontext);

/* arch/<cpu>.c: decoding the signal context. */
bool arch_fault_is_write(const void *ucontext);

/* fault.c */
struct sigaction;
int fault_init(void);
int fault_sigaction(int sig, const struct sigaction *act,
		    struct sigaction *oact);
void fault_raise_sigbus(uintptr_t addr, void *ucontext, int code, short lsb);
void fault_raise_poison(uintptr_t addr, void *ucontext, unsigned int shift);

/*
 * What the fault path asks of the userfaultfd layer.  emu_fault() runs
 * inside the SIGSEGV handler with every signal blocked: it must be
 * async-signal-safe.  It returns true when it took the fault (the access
 * is retried afterwards), false when the fault is not a userfault.
 */
enum fault_kind { FAULT_MISSING, FAULT_WP, FAULT_MINOR };
bool emu_fault(uintptr_t addr, bool write, enum fault_kind kind,
	       void *ucontext);

/*
 * Maps the hidden pages of shared memory in [start, end) that cached[]
 * says the file has and whose entries agree with want in owner, modes,
 * protection and PS_SHARED, as the kernel's fault does without asking
 * anyone: the page of a fault in MISSING mode alone, with the neighbours
 * the kernel maps around a read fault; or a page the file lacks in MINOR
 * mode alone, which the kernel allocates (cached[] then says 1 for it).
 * For a write fault in a MAP_PRIVATE mapping the page is only opened: the
 * write, run again, makes the private copy.  Runs in the SIGSEGV handler,
 * as emu_fault() does.
 */
void emu_fault_map(uintptr_t start, uintptr_t end, const unsigned char *cached,
		   uint32_t want, bool around, bool write);
void emu_fault_map_huge(uintptr_t page, uint32_t want);

/*
 * The lock the fault path holds while it resolves an asynchronous
 * write-protect fault (UFFD_FEATURE_WP_ASYNC): it changes a page's WP mark
 * and its protection together under it.  Code that sets WP marks or
 * changes the protection of registered pages holds it over both steps, so
 * that the two orders are the only outcomes.  It blocks every signal.
 */
void emu_faults_lock(sigset_t *saved);
void emu_faults_unlock(const sigset_t *saved);

#endif /* UFFDEMU_MM_H */
