/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ioctls of a userfaultfd, with the kernel's checks in the kernel's
 * order and the kernel's write-back rules: an argument error leaves the
 * output field alone, a failed fill writes the negative errno or the bytes
 * done, and a resolving ioctl that did only part of the range fails EAGAIN.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "emu/emu.h"
#include "mm/mm.h"

#ifndef FIGETBSZ
#define FIGETBSZ _IO(0x00, 2)
#endif

#define MAX_VMAS 256

static bool has_cap_sys_ptrace(void)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data) != 0)
		return false;
	return data[CAP_SYS_PTRACE / 32].effective &
	       (1U << (CAP_SYS_PTRACE % 32));
}

static int validate_len(uint64_t start, uint64_t len)
{
	if (len & ~PAGE_MASK || len == 0)
		return -EINVAL;
	if (start >= TASK_SIZE || len > TASK_SIZE - start)
		return -EINVAL;
	return 0;
}

/*
 * The kernel's range check.  Limitation: no vm.mmap_min_addr check, as on
 * kernels since the 2026 change (6.18.44 included); older kernels refuse
 * ranges below it.
 */
static int validate_range(uint64_t start, uint64_t len)
{
	if (start & ~PAGE_MASK)
		return -EINVAL;
	return validate_len(start, len);
}

static int api(struct uffd_ctx *ctx, void *arg)
{
	struct uffdio_api a;
	uint64_t want;

	if (uaccess_read(&a, arg, sizeof(a)))
		return -EFAULT;
	if (a.api != UFFD_API)
		goto zero;
	if ((a.features & UFFD_FEATURE_EVENT_FORK) && !has_cap_sys_ptrace()) {
		memset(&a, 0, sizeof(a));
		return uaccess_write(arg, &a, sizeof(a)) ?: -EPERM;
	}
	want = a.features;
	if (want & UFFD_FEATURE_WP_ASYNC)
		want |= UFFD_FEATURE_WP_UNPOPULATED;
	if (want & ~EMU_FEATURES)
		goto zero;
	a.api = UFFD_API;
	a.features = EMU_FEATURES;
	a.ioctls = UFFDEMU_API_IOCTLS;
	if (uaccess_write(arg, &a, sizeof(a)))
		return -EFAULT;
	if (!msgq_initialize(ctx, want))
		goto zero;
	return 0;
zero:
	memset(&a, 0, sizeof(a));
	return uaccess_write(arg, &a, sizeof(a)) ?: -EINVAL;
}

/*
 * Whether a mapping can be registered in modes (PS_MODE_*), in the
 * kernel's order of rules: MINOR needs shared memory (a memfd or tmpfs
 * file, mapped either way) or hugetlb memory; then private anonymous
 * memory, shared memory and hugetlb memory take every mode.
 * Limitation: hugetlb memory registers only with 2 MiB pages, or 1 GiB
 * pages mapped MAP_SHARED (a write through /proc/self/mem into a private
 * 1 GiB page, which a private install needs, never completes on Linux
 * 6.18), and mapped MAP_SHARED only where its file can be opened for
 * writing through /proc/self/map_files (CAP_CHECKPOINT_RESTORE), which
 * fills write through; elsewhere it is refused with EINVAL, where the
 * kernel registers it.  So is every other mapping when a WP_ASYNC context asks
 * for WP mode alone, where the kernel accepts any memory type, files
 * included.
 */
static bool vma_compatible(const struct mm_vma *v, uint32_t modes)
{
	bool shmem = v->type == VMA_SHMEM || v->type == VMA_SHMEM_PRIVATE;
	uint64_t off;
	int fd;

	if ((modes & PS_MODE_MINOR) && !shmem && !vma_is_hugetlb(v->type))
		return false;
	if (vma_is_hugetlb(v->type) && v->pagesize != HPAGE_SIZE &&
	    (v->pagesize != GPAGE_SIZE || v->type != VMA_HUGETLB))
		return false;
	if (v->type == VMA_HUGETLB) {
		fd = mm_vma_file(v->start, O_RDWR, &off);
		if (fd < 0)
			fd = mm_vma_file(v->start, O_RDONLY, &off);
		if (fd < 0)
			return false;
		close(fd);
		return true;
	}
	return v->type == VMA_ANON || vma_is_hugetlb(v->type) || shmem;
}

/* The entry bits a registration of v in modes starts from. */
static uint32_t vma_modes(const struct mm_vma *v, uint32_t modes)
{
	if (v->type == VMA_SHMEM_PRIVATE)
		return modes | PS_SHARED | PS_COW;
	if (vma_is_hugetlb(v->type) && v->pagesize == GPAGE_SIZE)
		modes |= PS_GIGA;
	if (v->type == VMA_HUGETLB_PRIVATE)
		return modes | PS_HUGE;
	if (v->type == VMA_HUGETLB_COW)
		return modes | PS_HUGE | PS_COW;
	if (v->type == VMA_HUGETLB)
		return modes | PS_HUGE | PS_SHARED;
	return modes | (v->type == VMA_SHMEM ? PS_SHARED : 0);
}

/* Whether addr is not aligned to the huge pages of hugetlb mapping v. */
static bool huge_misaligned(const struct mm_vma *v, uintptr_t addr)
{
	return vma_is_hugetlb(v->type) && (addr & (v->pagesize - 1));
}

/* The registry piece of another context in [start, end), if any. */
static bool foreign_piece(uintptr_t start, uintptr_t end, unsigned int slot)
{
	struct mm_reg r;

	for (uintptr_t a = start; reg_next(a, end, 0, &r); a = r.end)
		if (r.slot != slot)
			return true;
	return false;
}

/*
 * *huge says whether any of the mappings is hugetlb memory, which has no
 * ZEROPAGE and no MOVE.
 */
static int register_vmas(struct uffd_ctx *ctx, uintptr_t start, uintptr_t end,
			 uint32_t modes, bool *huge)
{
	struct mm_vma v[MAX_VMAS];
	int n = mm_vmas(start, end, v, MAX_VMAS);

	if (n < 0)
		return n;
	if (n == 0)
		return -EINVAL;
	if (n > MAX_VMAS)
		return -ENOMEM;
	if (huge_misaligned(&v[0], start))
		return -EINVAL;
	for (int i = 0; i < n; i++) {
		uintptr_t s = v[i].start > start ? v[i].start : start;
		uintptr_t e = v[i].end < end ? v[i].end : end;

		if (!vma_compatible(&v[i], modes))
			return -EINVAL;
		if ((v[i].type == VMA_SHMEM || v[i].type == VMA_HUGETLB) &&
		    !(v[i].prot & PROT_WRITE) && !mm_vma_maywrite(v[i].start))
			return -EPERM;
		if (end <= v[i].end && huge_misaligned(&v[i], end))
			return -EINVAL;
		if (foreign_piece(s, e, (unsigned int)ctx->slot))
			return -EBUSY;
		*huge |= vma_is_hugetlb(v[i].type);
	}
	for (int i = 0; i < n; i++) {
		uintptr_t s = v[i].start > start ? v[i].start : start;
		uintptr_t e = v[i].end < end ? v[i].end : end;
		int err = mm_register(s, e, (unsigned int)ctx->slot,
				      vma_modes(&v[i], modes), v[i].prot);

		if (err)
			return err;
	}
	return 0;
}

static int do_register(struct uffd_ctx *ctx, void *arg)
{
	struct uffdio_register r;
	bool huge = false;
	uint64_t mask;
	int err;

	if (uaccess_read(&r, arg, offsetof(struct uffdio_register, ioctls)))
		return -EFAULT;
	if (r.mode == 0 || r.mode & ~(uint64_t)UFFDEMU_API_REGISTER_MODES)
		return -EINVAL;
	err = validate_range(r.range.start, r.range.len);
	if (err)
		return err;
	if (!ctx_mm_alive(ctx))
		return -ENOMEM;
	mm_lock();
	err = register_vmas(
		ctx, r.range.start, r.range.start + r.range.len,
		(r.mode & UFFDIO_REGISTER_MODE_MISSING ? PS_MODE_MISSING : 0) |
			(r.mode & UFFDIO_REGISTER_MODE_WP ? PS_MODE_WP : 0) |
			(r.mode & UFFDIO_REGISTER_MODE_MINOR ? PS_MODE_MINOR
							     : 0),
		&huge);
	mm_unlock();
	if (err)
		return err;
	mask = EMU_RANGE_IOCTLS;
	if (huge)
		mask &= ~((1ULL << _UFFDIO_ZEROPAGE) | (1ULL << _UFFDIO_MOVE));
	if (!(r.mode & UFFDIO_REGISTER_MODE_WP))
		mask &= ~(1ULL << _UFFDIO_WRITEPROTECT);
	if (!(r.mode & UFFDIO_REGISTER_MODE_MINOR))
		mask &= ~(1ULL << _UFFDIO_CONTINUE);
	if (uaccess_write((char *)arg +
				  offsetof(struct uffdio_register, ioctls),
			  &mask, sizeof(mask)))
		return -EFAULT;
	return 0;
}

/*
 * The checks of UNREGISTER.  *stop is where the unregistering ends: end,
 * or, when a registered hugetlb mapping would be split inside a huge page
 * (EINVAL), the start of that mapping, since the kernel unregisters the
 * mappings before it first.
 */
static int unregister_check(struct uffd_ctx *ctx, uintptr_t start,
			    uintptr_t end, uintptr_t *stop)
{
	struct mm_vma v[MAX_VMAS];
	int n = mm_vmas(start, end, v, MAX_VMAS);

	if (n < 0)
		return n;
	if (n == 0)
		return -EINVAL;
	if (n > MAX_VMAS)
		return -ENOMEM;
	if (huge_misaligned(&v[0], start))
		return -EINVAL;
	for (int i = 0; i < n; i++) {
		uintptr_t s = v[i].start > start ? v[i].start : start;
		uintptr_t e = v[i].end < end ? v[i].end : end;
		struct mm_reg r;

		if (foreign_piece(s, e, (unsigned int)ctx->slot))
			return -EINVAL;
		if (!vma_compatible(&v[i], 0) &&
		    !reg_next(s, e, (unsigned int)ctx->slot, &r))
			return -EINVAL;
	}
	*stop = end;
	for (int i = 0; i < n; i++) {
		uintptr_t s = v[i].start > start ? v[i].start : start;
		struct mm_reg r;

		if (end <= v[i].end && huge_misaligned(&v[i], end) &&
		    reg_next(s, end, (unsigned int)ctx->slot, &r)) {
			*stop = s;
			return -EINVAL;
		}
	}
	return 0;
}

static int do_unregister(struct uffd_ctx *ctx, void *arg)
{
	struct uffdio_range r;
	struct mm_reg piece;
	uintptr_t start, end, stop;
	int err;

	if (uaccess_read(&r, arg, sizeof(r)))
		return -EFAULT;
	err = validate_range(r.start, r.len);
	if (err)
		return err;
	if (!ctx_mm_alive(ctx))
		return -ENOMEM;
	start = r.start;
	end = r.start + r.len;
	mm_lock();
	stop = start;
	err = unregister_check(ctx, start, end, &stop);
	while (start < stop &&
	       reg_next(start, stop, (unsigned int)ctx->slot, &piece)) {
		/* Only the waiters of pages in MISSING mode are woken. */
		uintptr_t b = piece.start + PAGE_SIZE;
		uint32_t missing = pagestate_get(piece.start) & PS_MODE_MISSING;

		while (b < piece.end &&
		       (pagestate_get(b) & PS_MODE_MISSING) == missing)
			b += PAGE_SIZE;
		if (mm_unregister(piece.start, b))
			msgq_wake_range(ctx, piece.start, b - piece.start);
		start = b;
	}
	mm_unlock();
	return err;
}

static int do_wake(struct uffd_ctx *ctx, void *arg)
{
	struct uffdio_range r;
	int err;

	if (uaccess_read(&r, arg, sizeof(r)))
		return -EFAULT;
	err = validate_range(r.start, r.len);
	if (err)
		return err;
	msgq_wake_range(ctx, r.start, r.len);
	return 0;
}

#define FLAG_PAIRS 8

/*
 * Whether the real mappings under [start, end), registered alike and with
 * one protection the program gave, could be one kernel mapping: no hole,
 * and where two meet with the same protection, the same flags (an
 * madvise() flag such as MADV_DONTFORK keeps the kernel's mappings apart).
 * Where they differ in protection the emulator made them differ (write
 * protection, pages kept missing by PROT_NONE), and the flags are not
 * compared.  Limitation: only the first FLAG_PAIRS such meeting places
 * are compared.
 */
static bool flags_agree(uintptr_t start, uintptr_t end)
{
	struct mm_vma v[2 * FLAG_PAIRS];
	uintptr_t starts[2 * FLAG_PAIRS];
	char flags[2 * FLAG_PAIRS][MM_FLAGS_MAX];
	int n = mm_vmas(start, end, v, 2 * FLAG_PAIRS), k = 0;

	if (n <= 1)
		return true;
	if (n > 2 * FLAG_PAIRS)
		n = 2 * FLAG_PAIRS;
	for (int i = 1; i < n; i++) {
		if (v[i].start != v[i - 1].end)
			return false;
		/* Shared memory: one file, at offsets that follow on. */
		if (v[i].type != v[i - 1].type)
			return false;
		if ((v[i].type == VMA_SHMEM ||
		     v[i].type == VMA_SHMEM_PRIVATE) &&
		    (v[i].ino != v[i - 1].ino ||
		     v[i].offset !=
			     v[i - 1].offset + (v[i - 1].end - v[i - 1].start)))
			return false;
		if (v[i].prot == v[i - 1].prot && k < 2 * FLAG_PAIRS) {
			starts[k++] = v[i - 1].start;
			starts[k++] = v[i].start;
		}
	}
	if (k == 0 || mm_vma_flags(starts, k, flags))
		return true;
	for (int i = 0; i < k; i += 2)
		if (strcmp(flags[i], flags[i + 1]))
			return false;
	return true;
}

/*
 * The fill loop's first check: [dst, dst + len) must lie in one registered
 * mapping.  Pages that agree in owner, modes and protection, in real
 * mappings that agree in their flags, are what one kernel VMA would hold.
 * Returns the bytes at the start that may be filled: pages in MISSING mode
 * not populated, and pages in other modes, whose source the kernel reads
 * before it looks at them.
 * Limitation: the kernel also keeps mappings apart that agree in all of
 * that but got their anonymous-page bookkeeping (anon_vma) while apart: a
 * write fault or a fill aimed at either, even one that failed, before
 * registrations made them agree.  The emulator does not see that
 * bookkeeping, and its own mappings cannot stand in for the kernel's:
 * they are not split where a registration begins, and guard markers give
 * them bookkeeping the kernel's lack.  It fills such a range where the
 * kernel fails ENOENT.
 * Limitation: the source is read ahead, all of it, and where it overlaps
 * empty pages of the destination outside MISSING mode it populates them
 * before they are filled (EEXIST), where the kernel reads each source page
 * only as it fills the page before.
 */
static ssize_t fill_target(enum mm_fill_op op, uintptr_t dst, size_t len,
			   bool wp)
{
	const uint32_t same = PS_CTX_MASK | PS_MODES | PS_PROTS;
	uint32_t first = pagestate_get(dst);
	size_t missing = len;

	if (!(first & PS_CTX_MASK))
		return -ENOENT;
	for (size_t off = 0; off < len; off += PAGE_SIZE) {
		uint32_t e = pagestate_get(dst + off);

		if ((e & same) != (first & same))
			return -ENOENT;
		if (missing == len && ps_tracked(e) && (e & PS_PRESENT))
			missing = off;
	}
	/* One page lies in one mapping: the mappings need no reading. */
	if (len > PAGE_SIZE && !flags_agree(dst, dst + len))
		return -ENOENT;
	/* MODE_WP needs a mapping registered in WP mode: after the above. */
	if (wp && !(first & PS_MODE_WP))
		return -EINVAL;
	/* Huge pages: no ZEROPAGE, and whole pages only. */
	if ((first & PS_HUGE) &&
	    (op == FILL_ZERO || ((dst | len) & (ps_page_size(first) - 1))))
		return -EINVAL;
	/* CONTINUE maps pages a file has: shared and hugetlb memory only. */
	if (op == FILL_CONTINUE && !(first & (PS_SHARED | PS_HUGE)))
		return -EINVAL;
	return (ssize_t)missing;
}

/* One resolving ioctl in progress: where its result goes, whom it wakes. */
struct resolve {
	struct uffd_ctx *ctx;
	void *field;
	bool wake;
};

/*
 * The kernel writes the field after the fill and wakes only when that
 * write succeeded.  The emulator wakes as each run is published, so it
 * checks first that the field can be written.
 */
static void resolve_init(struct resolve *res, struct uffd_ctx *ctx, void *field,
			 bool dontwake)
{
	int64_t v;

	res->ctx = ctx;
	res->field = field;
	res->wake = !dontwake && uaccess_read(&v, field, sizeof(v)) == 0 &&
		    uaccess_write(field, &v, sizeof(v)) == 0;
}

/* New page states and the wake-up for them, in one step. */
static void publish(void *arg, uintptr_t start, uintptr_t end, uint32_t set,
		    uint32_t clear)
{
	struct resolve *res = arg;

	msgq_publish(res->ctx, start, end, set, clear, res->wake);
}

/*
 * COPY, ZEROPAGE and POISON after their argument checks.  src is read for
 * COPY alone; for COPY it may be any address, NULL included.
 * The source is touched from user space first, outside every lock, so that
 * a source in registered missing memory takes a userfault as on the kernel
 * and an unreadable source ends the copy where it becomes unreadable.
 * The kernel reads each page's source before it looks at the destination
 * page, so the source of the first page that cannot be filled is read
 * too: when it is unreadable the copy ends with EFAULT there, not EEXIST.
 */
static ssize_t fill(struct resolve *res, enum mm_fill_op op, uintptr_t dst,
		    const char *src, size_t len, bool wp)
{
	size_t readable = 0, want, unit = PAGE_SIZE;
	ssize_t r;

	mm_lock();
	r = fill_target(op, dst, len, wp);
	unit = ps_page_size(pagestate_get(dst));
	mm_unlock();
	if (r < 0 || op != FILL_COPY)
		goto run;
	want = (size_t)r < len ? (size_t)r + unit : len;
	while (readable < want &&
	       uaccess_touch_read((const char *)((uintptr_t)src + readable),
				  PAGE_SIZE) == 0)
		readable += PAGE_SIZE;
	/* The kernel makes the page's table before it reads the source. */
	if (readable < want)
		tables_note(dst + readable, dst + readable + PAGE_SIZE);
	readable &= ~(unit - 1);
	if (readable == 0)
		return -EFAULT;
	if (readable < want)
		len = readable;
run:
	mm_lock();
	r = fill_target(op, dst, len, wp);
	if (r >= 0)
		r = mm_fill(op, dst, src, len, wp, publish, res);
	mm_unlock();
	return r;
}

/* The tail shared by the resolving ioctls: field and result. */
static int finish(struct resolve *res, ssize_t r, uint64_t len)
{
	int64_t v = r;

	if (uaccess_write(res->field, &v, sizeof(v)))
		return -EFAULT;
	if (r < 0)
		return (int)r;
	return (uint64_t)r == len ? 0 : -EAGAIN;
}

/*
 * A non-cooperative event is in flight: the resolving ioctls fail EAGAIN,
 * writing -EAGAIN to their field first, as the kernel does since 6.15.
 */
static int changing(struct uffd_ctx *ctx, void *field)
{
	int64_t v = -EAGAIN;

	if (!atomic_load(&ctx->mmap_changing))
		return 0;
	if (field && uaccess_write(field, &v, sizeof(v)))
		return -EFAULT;
	return -EAGAIN;
}

static int do_copy(struct uffd_ctx *ctx, void *arg)
{
	struct uffdio_copy c;
	struct resolve res;
	int err =
		changing(ctx, (char *)arg + offsetof(struct uffdio_copy, copy));

	if (err)
		return err;
	if (uaccess_read(&c, arg, offsetof(struct uffdio_copy, copy)))
		return -EFAULT;
	err = validate_len(c.src, c.len) ?: validate_range(c.dst, c.len);
	if (err)
		return err;
	if (c.mode &
	    ~(uint64_t)(UFFDIO_COPY_MODE_DONTWAKE | UFFDIO_COPY_MODE_WP))
		return -EINVAL;
	if (!ctx_mm_alive(ctx))
		return -ESRCH;
	resolve_init(&res, ctx,
		     (char *)arg + offsetof(struct uffdio_copy, copy),
		     c.mode & UFFDIO_COPY_MODE_DONTWAKE);
	return finish(&res,
		      fill(&res, FILL_COPY, c.dst, (const char *)c.src, c.len,
			   c.mode & UFFDIO_COPY_MODE_WP),
		      c.len);
}

/*
 * ZEROPAGE, POISON and CONTINUE: the same struct layout (range, mode, a
 * result field) and the same checks; CONTINUE also takes MODE_WP, and only
 * the fill differs.
 */
_Static_assert(offsetof(struct uffdio_poison, updated) ==
			       offsetof(struct uffdio_zeropage, zeropage) &&
		       offsetof(struct uffdio_continue, mapped) ==
			       offsetof(struct uffdio_zeropage, zeropage),
	       "ZEROPAGE, POISON and CONTINUE share a layout");

static int do_range_fill(struct uffd_ctx *ctx, void *arg, enum mm_fill_op op)
{
	const size_t field = offsetof(struct uffdio_zeropage, zeropage);
	const uint64_t wp_bit =
		op == FILL_CONTINUE ? UFFDIO_CONTINUE_MODE_WP : 0;
	struct uffdio_zeropage z;
	struct resolve res;
	int err = changing(ctx, (char *)arg + field);

	if (err)
		return err;
	if (uaccess_read(&z, arg, field))
		return -EFAULT;
	err = validate_range(z.range.start, z.range.len);
	if (err)
		return err;
	/* Bit 0 is DONTWAKE for all three. */
	if (z.mode & ~(uint64_t)(UFFDIO_ZEROPAGE_MODE_DONTWAKE | wp_bit))
		return -EINVAL;
	if (!ctx_mm_alive(ctx))
		return -ESRCH;
	/* What the caller wrote to a page through another view is seen. */
	if (op == FILL_CONTINUE)
		atomic_thread_fence(memory_order_seq_cst);
	resolve_init(&res, ctx, (char *)arg + field,
		     z.mode & UFFDIO_ZEROPAGE_MODE_DONTWAKE);
	return finish(&res,
		      fill(&res, op, z.range.start, NULL, z.range.len,
			   z.mode & wp_bit),
		      z.range.len);
}

static void clear_wp(uintptr_t start, uintptr_t end)
{
	sigset_t saved;

	wq_lock(&saved);
	for (uintptr_t a = start; a < end; a += PAGE_SIZE)
		pagestate_set(a, pagestate_get(a) & ~PS_WP);
	wq_unlock(&saved);
}

/*
 * Whether empty pages of the owner's range are marked when protected: the
 * owner's UFFD_FEATURE_WP_UNPOPULATED decides, as on the kernel, whichever
 * context the call came through.
 */
static bool marks_unpopulated(uint32_t entry)
{
	struct uffd_ctx *owner = ctx_by_slot(entry & PS_CTX_MASK);

	/* Shared and hugetlb memory always keep markers on empty entries. */
	if (entry & (PS_SHARED | PS_HUGE))
		return true;
	return owner && (owner->features & UFFD_FEATURE_WP_UNPOPULATED);
}

/*
 * Every piece of [start, end) that a mapping covers must be registered in
 * WP mode; the first that is not ends the walk with ENOENT, the pieces
 * before it already changed.  Holes are skipped.
 */
static int writeprotect_vmas(uintptr_t start, uintptr_t end, bool wp)
{
	bool any = false;

	for (uintptr_t a = start; a < end;) {
		uint32_t e = pagestate_get(a);
		uintptr_t b = a;
		int err;

		/* One owner, one kind of memory: markers depend on both. */
		while (b < end && (pagestate_get(b) & PS_MODE_WP) &&
		       (pagestate_get(b) & (PS_CTX_MASK | PS_KIND)) ==
			       (e & (PS_CTX_MASK | PS_KIND)))
			b += PAGE_SIZE;
		/* Hugetlb memory: the whole range in whole huge pages. */
		if (b > a && (e & PS_HUGE) &&
		    ((start | (end - start)) & (ps_page_size(e) - 1)))
			return -EINVAL;
		if (b > a) {
			err = mm_writeprotect(a, b, wp, marks_unpopulated(e),
					      clear_wp);
			if (err)
				return err;
			any = true;
			a = b;
			continue;
		}
		/* Not registered for WP: ENOENT unless it is a hole. */
		while (b < end && !(pagestate_get(b) & PS_MODE_WP))
			b += PAGE_SIZE;
		if (mm_vmas(a, b, NULL, 0) != 0)
			return -ENOENT;
		a = b;
	}
	return any ? 0 : -ENOENT;
}

static int do_writeprotect(struct uffd_ctx *ctx, void *arg)
{
	struct uffdio_writeprotect w;
	bool wp;
	int err = changing(ctx, NULL);

	if (err)
		return err;
	if (uaccess_read(&w, arg, sizeof(w)))
		return -EFAULT;
	err = validate_range(w.range.start, w.range.len);
	if (err)
		return err;
	if (w.mode & ~(uint64_t)(UFFDIO_WRITEPROTECT_MODE_WP |
				 UFFDIO_WRITEPROTECT_MODE_DONTWAKE))
		return -EINVAL;
	wp = w.mode & UFFDIO_WRITEPROTECT_MODE_WP;
	if (wp && (w.mode & UFFDIO_WRITEPROTECT_MODE_DONTWAKE))
		return -EINVAL;
	if (!ctx_mm_alive(ctx))
		return -ESRCH;
	mm_lock();
	err = writeprotect_vmas(w.range.start, w.range.start + w.range.len, wp);
	mm_unlock();
	if (err)
		return err;
	if (!wp && !(w.mode & UFFDIO_WRITEPROTECT_MODE_DONTWAKE))
		msgq_wake_range(ctx, w.range.start, w.range.len);
	return 0;
}

/* The mapping containing addr, or -ENOENT. */
static int vma_at(uintptr_t addr, struct mm_vma *v)
{
	int n = mm_vmas(addr, addr + 1, v, 1);

	if (n < 0)
		return n;
	return n == 1 && v->start <= addr ? 0 : -ENOENT;
}

/*
 * The protection the program gave the page at addr, in the real mapping v:
 * write protection and PROT_NONE hiding change the real one.
 */
static unsigned int program_prot(uintptr_t addr, const struct mm_vma *v)
{
	uint32_t e = pagestate_get(addr);

	return e & (PS_CTX_MASK | PS_POISON) ? ps_prot(e) : v->prot;
}

/*
 * Whether [addr, addr + len) lies in one kernel VMA, the one holding addr
 * (the real mapping v): the pages must agree in owner, modes and the
 * protection the program gave them.  The real mappings may be split where
 * the emulator changed the protection of some pages, so a boundary
 * between two real mappings counts only where neither side's protection
 * was changed; *prot gets the VMA's protection.
 */
static bool in_one_vma(uintptr_t addr, size_t len, struct mm_vma v,
		       unsigned int *prot)
{
	const uint32_t same = PS_CTX_MASK | PS_MODES;
	uint32_t owner = pagestate_get(addr) & same;

	*prot = program_prot(addr, &v);
	for (uintptr_t a = addr; a < addr + len; a += PAGE_SIZE) {
		if (a >= v.end) {
			struct mm_vma next;

			if (vma_at(a, &next) || next.start != v.end ||
			    next.type != v.type)
				return false;
			if (program_prot(a - PAGE_SIZE, &v) == v.prot &&
			    program_prot(a, &next) == next.prot)
				return false;
			v = next;
		}
		if ((pagestate_get(a) & same) != owner ||
		    program_prot(a, &v) != *prot)
			return false;
	}
	return true;
}

/* UFFDIO_MOVE's checks of the two mappings, in the kernel's order. */
static int move_vmas(struct uffd_ctx *ctx, uintptr_t dst, uintptr_t src,
		     size_t len)
{
	struct mm_vma d, s;
	unsigned int dprot, sprot;
	int err = vma_at(dst, &d) ?: vma_at(src, &s);

	if (err)
		return err;
	if (d.type != VMA_ANON || s.type != VMA_ANON)
		return -EINVAL;
	if (!in_one_vma(src, len, s, &sprot) ||
	    !in_one_vma(dst, len, d, &dprot))
		return -EINVAL;
	if (dprot != sprot || !(sprot & PROT_WRITE))
		return -EINVAL;
	if ((pagestate_get(dst) & PS_CTX_MASK) != (uint32_t)ctx->slot)
		return -EINVAL;
	return 0;
}

static int do_move(struct uffd_ctx *ctx, void *arg)
{
	struct uffdio_move m;
	struct resolve res;
	bool wake;
	ssize_t r;
	int err =
		changing(ctx, (char *)arg + offsetof(struct uffdio_move, move));

	if (err)
		return err;
	if (uaccess_read(&m, arg, offsetof(struct uffdio_move, move)))
		return -EFAULT;
	/* Only the address space the context serves may move its pages. */
	if (!ctx_mm_alive(ctx))
		return -EINVAL;
	err = validate_range(m.dst, m.len) ?: validate_range(m.src, m.len);
	if (err)
		return err;
	if (m.mode & ~(uint64_t)(UFFDIO_MOVE_MODE_DONTWAKE |
				 UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES))
		return -EINVAL;
	resolve_init(&res, ctx,
		     (char *)arg + offsetof(struct uffdio_move, move),
		     m.mode & UFFDIO_MOVE_MODE_DONTWAKE);
	/*
	 * The pages are published as they move, and their waiters woken
	 * once the whole range has moved, as the kernel does: a page moved
	 * on by a later step of an overlapping move is gone again when they
	 * look.  A thread that faults in between sees the page, or is
	 * queued in time for the wake-up.
	 */
	wake = res.wake;
	res.wake = false;
	mm_lock();
	r = move_vmas(ctx, m.dst, m.src, m.len);
	if (r == 0)
		r = mm_move(m.dst, m.src, m.len,
			    m.mode & UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES, publish,
			    &res);
	mm_unlock();
	err = finish(&res, r, m.len);
	if (r > 0 && wake && err != -EFAULT)
		msgq_wake_range(ctx, m.dst, (uint64_t)r);
	return err;
}

/*
 * FIOASYNC: the int is read first (EFAULT).  A value that leaves the
 * file's O_ASYNC as it is returns 0; one that would change it needs the
 * file's fasync support, which a userfaultfd lacks: ENOTTY.  The
 * emulator's descriptor lacks it too, so once the value is read the real
 * ioctl gives the same answer for the flags the file really has.
 */
int ctx_fioasync(int fd, void *arg)
{
	int on;

	if (uaccess_read(&on, arg, sizeof(on)))
		return -EFAULT;
	return ioctl(fd, FIOASYNC, &on) ? -errno : 0;
}

/* Generic file ioctls, answered before the userfaultfd ones. */
static bool generic_ioctl(int fd, unsigned long request, void *arg, int *ret)
{
	int bsz = (int)PAGE_SIZE;

	switch (request) {
	case FIOCLEX:
	case FIONCLEX:
	case FIONBIO:
		*ret = ioctl(fd, request, arg) ? -errno : 0;
		return true;
	case FIOASYNC:
		*ret = ctx_fioasync(fd, arg);
		return true;
	case FIGETBSZ:
		*ret = uaccess_write(arg, &bsz, sizeof(bsz));
		return true;
	}
	return false;
}

int ctx_ioctl(struct uffd_ctx *ctx, int fd, unsigned long request, void *arg)
{
	int ret;

	if (generic_ioctl(fd, request, arg, &ret))
		return ret;
	if (atomic_load(&ctx->state) == CTX_NEW)
		return request == UFFDIO_API ? api(ctx, arg) : -EINVAL;
	switch (request) {
	case UFFDIO_API:
		return api(ctx, arg);
	case UFFDIO_REGISTER:
		return do_register(ctx, arg);
	case UFFDIO_UNREGISTER:
		return do_unregister(ctx, arg);
	case UFFDIO_WAKE:
		return do_wake(ctx, arg);
	case UFFDIO_COPY:
		return do_copy(ctx, arg);
	case UFFDIO_ZEROPAGE:
		return do_range_fill(ctx, arg, FILL_ZERO);
	case UFFDIO_WRITEPROTECT:
		return do_writeprotect(ctx, arg);
	case UFFDIO_POISON:
		return do_range_fill(ctx, arg, FILL_POISON);
	case UFFDIO_MOVE:
		return do_move(ctx, arg);
	case UFFDIO_CONTINUE:
		return do_range_fill(ctx, arg, FILL_CONTINUE);
	}
	return -EINVAL;
}
