/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ioctls of a userfaultfd, with the kernel's checks in the kernel's
 * order and the kernel's write-back rules: an argument error leaves the
 * output field alone, a failed fill writes the negative errno or the bytes
 * done, and a resolving ioctl that did only part of the range fails EAGAIN.
 */
#define _GNU_SOURCE
#include <errno.h>
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
 * Whether a mapping can be registered in MISSING mode.
 * Limitation: shared memory (memfd, tmpfs, shared anonymous) is refused
 * with EINVAL, where the kernel registers it.
 */
static bool vma_compatible(const struct mm_vma *v)
{
	return v->type == VMA_ANON;
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

static int register_vmas(struct uffd_ctx *ctx, uintptr_t start, uintptr_t end,
			 uint32_t modes)
{
	struct mm_vma v[MAX_VMAS];
	int n = mm_vmas(start, end, v, MAX_VMAS);

	if (n < 0)
		return n;
	if (n == 0)
		return -EINVAL;
	if (n > MAX_VMAS)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		uintptr_t s = v[i].start > start ? v[i].start : start;
		uintptr_t e = v[i].end < end ? v[i].end : end;

		if (!vma_compatible(&v[i]))
			return -EINVAL;
		if (foreign_piece(s, e, (unsigned int)ctx->slot))
			return -EBUSY;
	}
	for (int i = 0; i < n; i++) {
		uintptr_t s = v[i].start > start ? v[i].start : start;
		uintptr_t e = v[i].end < end ? v[i].end : end;
		int err = mm_register(s, e, (unsigned int)ctx->slot, modes,
				      v[i].prot);

		if (err)
			return err;
	}
	return 0;
}

static int do_register(struct uffd_ctx *ctx, void *arg)
{
	struct uffdio_register r;
	uint64_t mask;
	int err;

	if (uaccess_read(&r, arg, offsetof(struct uffdio_register, ioctls)))
		return -EFAULT;
	if (r.mode == 0 || r.mode & ~(uint64_t)UFFDEMU_API_REGISTER_MODES)
		return -EINVAL;
	/* Presented as a processor without minor-fault support. */
	if (r.mode & UFFDIO_REGISTER_MODE_MINOR)
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
			(r.mode & UFFDIO_REGISTER_MODE_WP ? PS_MODE_WP : 0));
	mm_unlock();
	if (err)
		return err;
	mask = EMU_RANGE_IOCTLS;
	if (!(r.mode & UFFDIO_REGISTER_MODE_WP))
		mask &= ~(1ULL << _UFFDIO_WRITEPROTECT);
	if (uaccess_write((char *)arg +
				  offsetof(struct uffdio_register, ioctls),
			  &mask, sizeof(mask)))
		return -EFAULT;
	return 0;
}

static int unregister_check(struct uffd_ctx *ctx, uintptr_t start,
			    uintptr_t end)
{
	struct mm_vma v[MAX_VMAS];
	int n = mm_vmas(start, end, v, MAX_VMAS);

	if (n < 0)
		return n;
	if (n == 0)
		return -EINVAL;
	if (n > MAX_VMAS)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		uintptr_t s = v[i].start > start ? v[i].start : start;
		uintptr_t e = v[i].end < end ? v[i].end : end;
		struct mm_reg r;

		if (foreign_piece(s, e, (unsigned int)ctx->slot))
			return -EINVAL;
		if (!vma_compatible(&v[i]) &&
		    !reg_next(s, e, (unsigned int)ctx->slot, &r))
			return -EINVAL;
	}
	return 0;
}

static int do_unregister(struct uffd_ctx *ctx, void *arg)
{
	struct uffdio_range r;
	struct mm_reg piece;
	uintptr_t start, end;
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
	err = unregister_check(ctx, start, end);
	while (!err && reg_next(start, end, (unsigned int)ctx->slot, &piece)) {
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

/*
 * The fill loop's first check: [dst, dst + len) must lie in one registered
 * mapping.  Pages that agree in owner, modes and protection are what one
 * kernel VMA would hold.  Returns the bytes at the start that may be
 * filled: pages in MISSING mode not populated, and pages in other modes,
 * whose source the kernel reads before it looks at them.
 * Limitation: the source is read ahead, all of it, and where it overlaps
 * empty pages of the destination outside MISSING mode it populates them
 * before they are filled (EEXIST), where the kernel reads each source page
 * only as it fills the page before.
 */
static ssize_t fill_target(uintptr_t dst, size_t len, bool wp)
{
	const uint32_t same = PS_CTX_MASK | PS_MODES | PS_PROTS;
	uint32_t first = pagestate_get(dst);
	size_t missing = len;

	if (!(first & PS_CTX_MASK))
		return -ENOENT;
	if (wp && !(first & PS_MODE_WP))
		return -EINVAL;
	for (size_t off = 0; off < len; off += PAGE_SIZE) {
		uint32_t e = pagestate_get(dst + off);

		if ((e & same) != (first & same))
			return -ENOENT;
		if (missing == len && (e & PS_MODE_MISSING) && (e & PS_PRESENT))
			missing = off;
	}
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
 * COPY and ZEROPAGE after their argument checks.  src is NULL for zeros.
 * The source is touched from user space first, outside every lock, so that
 * a source in registered missing memory takes a userfault as on the kernel
 * and an unreadable source ends the copy where it becomes unreadable.
 */
static ssize_t fill(struct resolve *res, enum mm_fill_op op, uintptr_t dst,
		    const char *src, size_t len, bool wp)
{
	ssize_t r, readable = (ssize_t)len;

	mm_lock();
	r = fill_target(dst, len, wp);
	mm_unlock();
	if (r < 0 || !src)
		goto run;
	readable = 0;
	while ((size_t)readable < (size_t)r &&
	       uaccess_touch_read(src + readable, PAGE_SIZE) == 0)
		readable += PAGE_SIZE;
	if (readable == 0 && r > 0)
		return -EFAULT;
	if (readable < r)
		len = (size_t)readable;
run:
	mm_lock();
	r = fill_target(dst, len, wp);
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
 * ZEROPAGE and POISON: the same struct layout (range, mode, a result
 * field) and the same checks; only the fill differs.
 */
_Static_assert(offsetof(struct uffdio_poison, updated) ==
		       offsetof(struct uffdio_zeropage, zeropage),
	       "ZEROPAGE and POISON share a layout");

static int do_range_fill(struct uffd_ctx *ctx, void *arg, enum mm_fill_op op)
{
	const size_t field = offsetof(struct uffdio_zeropage, zeropage);
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
	/* Bit 0 is DONTWAKE for both. */
	if (z.mode & ~(uint64_t)UFFDIO_ZEROPAGE_MODE_DONTWAKE)
		return -EINVAL;
	if (!ctx_mm_alive(ctx))
		return -ESRCH;
	resolve_init(&res, ctx, (char *)arg + field,
		     z.mode & UFFDIO_ZEROPAGE_MODE_DONTWAKE);
	return finish(&res,
		      fill(&res, op, z.range.start, NULL, z.range.len, false),
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

		while (b < end && (pagestate_get(b) & PS_MODE_WP) &&
		       (pagestate_get(b) & PS_CTX_MASK) == (e & PS_CTX_MASK))
			b += PAGE_SIZE;
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
 * The kernel's VMA is where the registration agrees: the run of pages
 * around addr with the same owner and modes, within the real mapping.
 */
static void registered_extent(struct mm_vma *v, uintptr_t addr)
{
	const uint32_t same = PS_CTX_MASK | PS_MODES;
	uint32_t e = pagestate_get(addr) & same;
	uintptr_t lo = addr & PAGE_MASK, hi = lo + PAGE_SIZE;

	while (lo > v->start && (pagestate_get(lo - PAGE_SIZE) & same) == e)
		lo -= PAGE_SIZE;
	while (hi < v->end && (pagestate_get(hi) & same) == e)
		hi += PAGE_SIZE;
	v->start = lo;
	v->end = hi;
}

/* UFFDIO_MOVE's checks of the two mappings, in the kernel's order. */
static int move_vmas(struct uffd_ctx *ctx, uintptr_t dst, uintptr_t src,
		     size_t len)
{
	struct mm_vma d, s;
	int err = vma_at(dst, &d) ?: vma_at(src, &s);

	if (err)
		return err;
	registered_extent(&d, dst);
	registered_extent(&s, src);
	if (d.type != VMA_ANON || s.type != VMA_ANON)
		return -EINVAL;
	if (src + len > s.end || dst + len > d.end)
		return -EINVAL;
	if (d.prot != s.prot || !(s.prot & PROT_WRITE))
		return -EINVAL;
	if ((pagestate_get(dst) & PS_CTX_MASK) != (uint32_t)ctx->slot)
		return -EINVAL;
	return 0;
}

static int do_move(struct uffd_ctx *ctx, void *arg)
{
	struct uffdio_move m;
	struct resolve res;
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
	mm_lock();
	r = move_vmas(ctx, m.dst, m.src, m.len);
	if (r == 0)
		r = mm_move(m.dst, m.src, m.len,
			    m.mode & UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES, publish,
			    &res);
	mm_unlock();
	return finish(&res, r, m.len);
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
		*ret = -ENOTTY;
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
	}
	return -EINVAL;
}
