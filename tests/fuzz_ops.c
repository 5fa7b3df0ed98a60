// SPDX-License-Identifier: GPL-2.0-or-later
/* The fuzzer's areas, and its operations printed as C-like lines. */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "fuzz.h"
#include "helpers.h"

/*
 * 1 GiB apart, so that a range running past an area's end meets nothing;
 * SRC below the others, so that no range of theirs can reach it.  A
 * thread sanitizer allows fixed mappings only below 512 GiB.
 */
#ifdef TESTS_TSAN
#define FZ_BASE 0x006000000000ULL
#else
#define FZ_BASE 0x310000000000ULL
#endif
#define FZ_STRIDE 0x40000000ULL

static const struct {
	const char *name;
	int slot; /* in FZ_STRIDEs from FZ_BASE */
	unsigned int pages;
} areas[N_AREAS] = {
	[AREA_A] = {"A", 0, 16},    [AREA_B] = {"B", 1, 8},
	[AREA_C] = {"C", 2, 4},     [AREA_R] = {"R", 3, 2},
	[AREA_N] = {"N", 4, 2},     [AREA_SRC] = {"SRC", -1, 5},
	[AREA_GAP] = {"GAP", 5, 4}, [AREA_ABS] = {"", 0, 0},
};

uint64_t fz_area_base(enum fz_area a)
{
	if (a == AREA_ABS)
		return 0;
	return FZ_BASE + (uint64_t)(int64_t)areas[a].slot * FZ_STRIDE;
}

unsigned int fz_area_pages(enum fz_area a)
{
	return areas[a].pages;
}

const char *fz_area_name(enum fz_area a)
{
	return areas[a].name;
}

void fz_fmt_addr(char *out, size_t n, uint64_t addr)
{
	int a;

	for (a = 0; a < AREA_ABS; a++) {
		uint64_t base = fz_area_base((enum fz_area)a);

		/* Within the area's stride: past its end is still "A+...". */
		if (addr - base < FZ_STRIDE / 2) {
			snprintf(out, n, "%s+%#llx", areas[a].name,
				 (unsigned long long)(addr - base));
			return;
		}
	}
	snprintf(out, n, "%#llx", (unsigned long long)addr);
}

struct bit_name {
	uint64_t bit;
	const char *name;
};

/* "MISSING|WP|0x100" for value, with names where there are some. */
static void fmt_bits(char *out, size_t n, uint64_t value,
		     const struct bit_name *names)
{
	size_t len = 0;

	out[0] = '\0';
	for (; names->name && len < n; names++) {
		if (!(value & names->bit))
			continue;
		value &= ~names->bit;
		len += (size_t)snprintf(out + len, n - len, "%s%s",
					len ? "|" : "", names->name);
	}
	if ((value || !len) && len < n)
		snprintf(out + len, n - len, "%s%#llx", len ? "|" : "",
			 (unsigned long long)value);
}

static const struct bit_name flag_names[] = {
	{O_NONBLOCK, "O_NONBLOCK"},
	{O_CLOEXEC, "O_CLOEXEC"},
	{UFFD_USER_MODE_ONLY, "UFFD_USER_MODE_ONLY"},
	{0, NULL},
};

static const struct bit_name reg_names[] = {
	{UFFDIO_REGISTER_MODE_MISSING, "MISSING"},
	{UFFDIO_REGISTER_MODE_WP, "WP"},
	{UFFDIO_REGISTER_MODE_MINOR, "MINOR"},
	{0, NULL},
};

static const struct bit_name copy_names[] = {
	{UFFDIO_COPY_MODE_DONTWAKE, "DONTWAKE"},
	{UFFDIO_COPY_MODE_WP, "MODE_WP"},
	{0, NULL},
};

static const struct bit_name dontwake_names[] = {
	{UFFDIO_POISON_MODE_DONTWAKE, "DONTWAKE"},
	{0, NULL},
};

static const struct bit_name move_names[] = {
	{UFFDIO_MOVE_MODE_DONTWAKE, "DONTWAKE"},
	{UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES, "ALLOW_SRC_HOLES"},
	{0, NULL},
};

static const struct bit_name wp_names[] = {
	{UFFDIO_WRITEPROTECT_MODE_WP, "MODE_WP"},
	{UFFDIO_WRITEPROTECT_MODE_DONTWAKE, "DONTWAKE"},
	{0, NULL},
};

static const struct bit_name poll_names[] = {
	{POLLIN, "POLLIN"},
	{POLLOUT, "POLLOUT"},
	{POLLPRI, "POLLPRI"},
	{0, NULL},
};

static const struct bit_name prot_names[] = {
	{PROT_READ, "PROT_READ"},
	{PROT_WRITE, "PROT_WRITE"},
	{0, NULL},
};

static void fmt_slot(char *out, size_t n, unsigned int slot)
{
	if (slot == FZ_SLOT_CLOSED)
		snprintf(out, n, "closed_fd");
	else if (slot == FZ_SLOT_OTHER)
		snprintf(out, n, "devnull_fd");
	else
		snprintf(out, n, "fd[%u]", slot);
}

/* A comment for an argument that is not in ordinary memory. */
static const char *place_note(unsigned int place)
{
	static const char *const notes[] = {
		[PLACE_OK] = "",
		[PLACE_NULL] = " /* at NULL */",
		[PLACE_8] = " /* at (void *)8 */",
		[PLACE_NONE] = " /* in a PROT_NONE page */",
		[PLACE_RO] = " /* in a read-only page */",
		[PLACE_TAIL] = " /* its last 8 bytes in a PROT_NONE page */",
	};

	return place < N_PLACES ? notes[place] : "";
}

/* The ioctls with a range: "{A+0x1000, 0x2000}". */
static void fmt_range(char *out, size_t n, const struct fz_op *op)
{
	char a[48];

	fz_fmt_addr(a, sizeof(a), fz_addr(op->area, op->off));
	snprintf(out, n, "{%s, %#llx}", a, (unsigned long long)op->len);
}

static void fmt_uffd_ioctl(char *out, size_t n, const struct fz_op *op,
			   const char *fd)
{
	char range[96], src[48], bits[96];

	fmt_range(range, sizeof(range), op);
	switch (op->kind) {
	case FZ_API:
		snprintf(out, n,
			 "ioctl(%s, UFFDIO_API, &(struct uffdio_api){%#llx, "
			 "%#llx})%s",
			 fd, (unsigned long long)op->x,
			 (unsigned long long)op->mode, place_note(op->place));
		break;
	case FZ_REGISTER:
		fmt_bits(bits, sizeof(bits), op->mode, reg_names);
		snprintf(out, n,
			 "ioctl(%s, UFFDIO_REGISTER, &(struct uffdio_register)"
			 "{%s, %s})%s",
			 fd, range, bits, place_note(op->place));
		break;
	case FZ_UNREGISTER:
	case FZ_WAKE:
		snprintf(out, n,
			 "ioctl(%s, UFFDIO_%s, &(struct uffdio_range)%s)%s", fd,
			 op->kind == FZ_WAKE ? "WAKE" : "UNREGISTER", range,
			 place_note(op->place));
		break;
	case FZ_COPY:
		fz_fmt_addr(src, sizeof(src),
			    fz_addr(op->src_area, op->src_off));
		fmt_bits(bits, sizeof(bits), op->mode, copy_names);
		range[strlen(range) - 1] = '\0'; /* "{dst, len" */
		snprintf(out, n,
			 "ioctl(%s, UFFDIO_COPY, &(struct uffdio_copy){%s, "
			 "src %s, %s})%s",
			 fd, range + 1, src, bits, place_note(op->place));
		break;
	case FZ_ZEROPAGE:
		fmt_bits(bits, sizeof(bits), op->mode, copy_names);
		snprintf(out, n,
			 "ioctl(%s, UFFDIO_ZEROPAGE, &(struct uffdio_zeropage)"
			 "{%s, %s})%s",
			 fd, range, bits, place_note(op->place));
		break;
	case FZ_WRITEPROTECT:
		fmt_bits(bits, sizeof(bits), op->mode, wp_names);
		snprintf(out, n,
			 "ioctl(%s, UFFDIO_WRITEPROTECT, &(struct "
			 "uffdio_writeprotect){%s, %s})%s",
			 fd, range, bits, place_note(op->place));
		break;
	case FZ_POISON:
		fmt_bits(bits, sizeof(bits), op->mode, dontwake_names);
		snprintf(out, n,
			 "ioctl(%s, UFFDIO_POISON, &(struct uffdio_poison)"
			 "{%s, %s})%s",
			 fd, range, bits, place_note(op->place));
		break;
	case FZ_MOVE:
		fz_fmt_addr(src, sizeof(src),
			    fz_addr(op->src_area, op->src_off));
		fmt_bits(bits, sizeof(bits), op->mode, move_names);
		range[strlen(range) - 1] = '\0'; /* "{dst, len" */
		snprintf(out, n,
			 "ioctl(%s, UFFDIO_MOVE, &(struct uffdio_move){%s, "
			 "src %s, %s})%s",
			 fd, range + 1, src, bits, place_note(op->place));
		break;
	}
}

static void fmt_memory_op(char *out, size_t n, const struct fz_op *op)
{
	char a[48], bits[64];

	fz_fmt_addr(a, sizeof(a), fz_addr(op->area, op->off));
	switch (op->kind) {
	case FZ_MADVISE:
		snprintf(out, n, "madvise(%s, %#llx, %s)", a,
			 (unsigned long long)op->len,
			 op->mode == MADV_DONTNEED ? "MADV_DONTNEED"
						   : "MADV_NORMAL");
		break;
	case FZ_MPROTECT:
		fmt_bits(bits, sizeof(bits), op->mode, prot_names);
		snprintf(out, n, "mprotect(%s, %#llx, %s)", a,
			 (unsigned long long)op->len,
			 op->mode ? bits : "PROT_NONE");
		break;
	case FZ_MUNMAP:
		snprintf(out, n, "munmap(%s, %#llx)", a,
			 (unsigned long long)op->len);
		break;
	case FZ_MMAP:
		snprintf(
			out, n,
			"mmap(%s, %#llx, PROT_READ|PROT_WRITE, "
			"MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE, -1, 0)",
			a, (unsigned long long)op->len);
		break;
	case FZ_TOUCH:
		snprintf(out, n, "T(op %u) = touch(%s, %s)", op->id, a,
			 op->mode == TOUCH_BYTE_READ    ? "read a byte"
			 : op->mode == TOUCH_BYTE_WRITE ? "write a byte"
							: "read the page");
		break;
	}
}

void fz_fmt_op(char *out, size_t n, const struct fz_op *op)
{
	char fd[24], fd2[24], bits[96];

	fmt_slot(fd, sizeof(fd), op->slot);
	fmt_slot(fd2, sizeof(fd2), op->slot2);
	switch (op->kind) {
	case FZ_CREATE:
		fmt_bits(bits, sizeof(bits), op->mode, flag_names);
		snprintf(out, n, "%s = userfaultfd(%s)", fd2, bits);
		break;
	case FZ_DEV_CREATE:
		fmt_bits(bits, sizeof(bits), op->mode, flag_names);
		snprintf(out, n,
			 "%s = ioctl(open(\"/dev/userfaultfd\"), "
			 "USERFAULTFD_IOC_NEW, %s)",
			 fd2, bits);
		break;
	case FZ_API:
	case FZ_REGISTER:
	case FZ_UNREGISTER:
	case FZ_WAKE:
	case FZ_COPY:
	case FZ_ZEROPAGE:
	case FZ_WRITEPROTECT:
	case FZ_POISON:
	case FZ_MOVE:
		fmt_uffd_ioctl(out, n, op, fd);
		break;
	case FZ_IOCTL:
		snprintf(out, n, "ioctl(%s, %#llx, &(int){%llu})%s", fd,
			 (unsigned long long)op->x,
			 (unsigned long long)op->mode, place_note(op->place));
		break;
	case FZ_READ:
		snprintf(out, n, "read(%s, buf, %llu)%s", fd,
			 (unsigned long long)op->mode, place_note(op->place));
		break;
	case FZ_POLL:
		fmt_bits(bits, sizeof(bits), op->mode, poll_names);
		snprintf(out, n, "poll(&(struct pollfd){%s, %s}, 1, 0)", fd,
			 bits);
		break;
	case FZ_CLOSE:
		snprintf(out, n, "close(%s)", fd);
		break;
	case FZ_DUP:
		snprintf(out, n, "%s = dup(%s)", fd2, fd);
		break;
	case FZ_SETFL:
		snprintf(out, n, "fcntl(%s, F_SETFL, %s)", fd,
			 op->mode ? "O_NONBLOCK" : "0");
		break;
	case FZ_SIGNAL:
		snprintf(out, n, "pthread_kill(T(op %llu), SIGUSR1)",
			 (unsigned long long)op->x);
		break;
	case FZ_FDINFO:
		snprintf(out, n, "fdinfo(%s)", fd);
		break;
	default:
		fmt_memory_op(out, n, op);
		break;
	}
}
