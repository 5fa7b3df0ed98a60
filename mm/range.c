/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mm_lock, and the real mappings as the system reports them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "mm/mm.h"

static pthread_mutex_t mm_mutex = PTHREAD_MUTEX_INITIALIZER;

void mm_lock(void)
{
	pthread_mutex_lock(&mm_mutex);
}

void mm_unlock(void)
{
	pthread_mutex_unlock(&mm_mutex);
}

static uintptr_t parse_hex(const char **s)
{
	uintptr_t v = 0;

	for (;; (*s)++) {
		char c = **s;

		if (c >= '0' && c <= '9')
			v = v * 16 + (uintptr_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + (uintptr_t)(c - 'a' + 10);
		else
			return v;
	}
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A file on a tmpfs mounted anywhere: shared memory to userfaultfd. */
static bool on_tmpfs(const char *path)
{
	static const char deleted[] = " (deleted)";
	size_t n = strlen(path);
	struct statfs sf;

	if (*path != '/' ||
	    (n >= sizeof(deleted) - 1 &&
	     !strcmp(path + n - (sizeof(deleted) - 1), deleted)))
		return false;
	return statfs(path, &sf) == 0 && sf.f_type == TMPFS_MAGIC;
}

/*
 * Classifies a mapping the way userfaultfd does: private anonymous memory
 * (including the heap, stacks and private /dev/zero), shared memory, or a
 * type that cannot be registered at all.
 */
static enum mm_vma_type classify(bool shared, const char *path,
				 uint64_t pagesize)
{
	/* System V segments ("/SYSV... (deleted)") are not registrable. */
	bool shmem = starts_with(path, "/memfd:") ||
		     starts_with(path, "/dev/shm/") || on_tmpfs(path);

	/*
	 * Device DAX (/dev/daxN.M) also has pages of its own size: not
	 * hugetlb.  A hugetlbfs mount may well be under /dev (/dev/hugepages).
	 */
	if (pagesize > PAGE_SIZE && !starts_with(path, "/dev/dax"))
		return shared ? VMA_HUGETLB
		       : starts_with(path, "/anon_hugepage")
			       ? VMA_HUGETLB_PRIVATE
			       : VMA_HUGETLB_COW;
	if (!shared) {
		if (*path == '\0' || starts_with(path, "[heap]") ||
		    starts_with(path, "[stack") ||
		    starts_with(path, "[anon:") ||
		    starts_with(path, "/dev/zero"))
			return VMA_ANON;
		return shmem ? VMA_SHMEM_PRIVATE : VMA_OTHER;
	}
	if (shmem || starts_with(path, "/dev/zero") ||
	    starts_with(path, "[anon_shmem"))
		return VMA_SHMEM;
	return VMA_OTHER;
}

static uint64_t parse_dec(const char **s)
{
	uint64_t v = 0;

	for (; **s >= '0' && **s <= '9'; (*s)++)
		v = v * 10 + (uint64_t)(**s - '0');
	return v;
}

/* One line of /proc/self/maps: "start-end perms offset dev inode path". */
static bool parse_line(const char *line, struct mm_vma *v)
{
	const char *s = line;
	bool shared;

	v->start = parse_hex(&s);
	if (*s++ != '-')
		return false;
	v->end = parse_hex(&s);
	if (*s++ != ' ' || strlen(s) < 4)
		return false;
	v->prot = (s[0] == 'r' ? PROT_READ : 0) |
		  (s[1] == 'w' ? PROT_WRITE : 0) |
		  (s[2] == 'x' ? PROT_EXEC : 0);
	shared = s[3] == 's';
	/* Offset, device and inode, then the path (may be empty). */
	s += 4;
	while (*s == ' ')
		s++;
	v->offset = parse_hex(&s);
	while (*s == ' ')
		s++;
	while (*s && *s != ' ')
		s++;
	while (*s == ' ')
		s++;
	v->ino = parse_dec(&s);
	while (*s == ' ')
		s++;
	/*
	 * Limitation: without PROCMAP_QUERY the page size is not read, so
	 * only anonymous hugetlb memory ("/anon_hugepage") is known for it,
	 * and its pages are taken to be 2 MiB.
	 */
	v->pagesize = starts_with(s, "/anon_hugepage") ? HPAGE_SIZE : PAGE_SIZE;
	v->type = classify(shared, s, v->pagesize);
	return true;
}

/*
 * PROCMAP_QUERY (Linux 6.11) asks the kernel for one mapping by address,
 * which costs the same however many mappings the process has; reading
 * /proc/self/maps costs their number, and write protection can multiply
 * them.
 */
struct procmap_query {
	uint64_t size;
	uint64_t query_flags;
	uint64_t query_addr;
	uint64_t vma_start;
	uint64_t vma_end;
	uint64_t vma_flags;
	uint64_t vma_page_size;
	uint64_t vma_offset;
	uint64_t inode;
	uint32_t dev_major;
	uint32_t dev_minor;
	uint32_t vma_name_size;
	uint32_t build_id_size;
	uint64_t vma_name_addr;
	uint64_t build_id_addr;
};

#define PROCMAP_QUERY                  _IOWR('f', 17, struct procmap_query)
#define PROCMAP_QUERY_COVERING_OR_NEXT 0x10
#define PROCMAP_VMA_READABLE           0x1
#define PROCMAP_VMA_WRITABLE           0x2
#define PROCMAP_VMA_EXECUTABLE         0x4
#define PROCMAP_VMA_SHARED             0x8

/* -ENOTTY where the kernel has no PROCMAP_QUERY. */
static int query_vmas(int fd, uintptr_t start, uintptr_t end,
		      struct mm_vma *out, int max)
{
	char name[4096];
	int n = 0;

	for (uintptr_t addr = start; addr < end;) {
		struct procmap_query q;

		memset(&q, 0, sizeof(q));
		q.size = sizeof(q);
		q.query_flags = PROCMAP_QUERY_COVERING_OR_NEXT;
		q.query_addr = addr;
		q.vma_name_addr = (uintptr_t)name;
		q.vma_name_size = sizeof(name);
		if (ioctl(fd, PROCMAP_QUERY, &q) != 0) {
			if (errno == ENOENT)
				break;
			return -errno;
		}
		if (q.vma_start >= end)
			break;
		if (q.vma_name_size == 0)
			name[0] = '\0';
		if (n < max) {
			out[n].start = q.vma_start;
			out[n].end = q.vma_end;
			out[n].prot =
				(q.vma_flags & PROCMAP_VMA_READABLE ? PROT_READ
								    : 0) |
				(q.vma_flags & PROCMAP_VMA_WRITABLE ? PROT_WRITE
								    : 0) |
				(q.vma_flags & PROCMAP_VMA_EXECUTABLE
					 ? PROT_EXEC
					 : 0);
			out[n].pagesize = q.vma_page_size;
			out[n].type = classify(q.vma_flags & PROCMAP_VMA_SHARED,
					       name, q.vma_page_size);
			out[n].ino = q.inode;
			out[n].offset = q.vma_offset;
		}
		n++;
		addr = q.vma_end;
	}
	return n;
}

static int query_fd_get(void);

/* "/proc/self/map_files/<start>-<end>" into buf, without stdio. */
static void map_files_path(char *buf, uint64_t start, uint64_t end)
{
	static const char prefix[] = "/proc/self/map_files/";
	char *p = buf + sizeof(prefix) - 1;

	memcpy(buf, prefix, sizeof(prefix) - 1);
	for (int half = 0; half < 2; half++) {
		uint64_t v = half ? end : start;
		int digits = 1;

		while (digits < 16 && (v >> (4 * digits)))
			digits++;
		for (int i = digits - 1; i >= 0; i--)
			*p++ = "0123456789abcdef"[(v >> (4 * i)) & 15];
		*p++ = half ? '\0' : '-';
	}
}

/*
 * Opens the file mapped at addr with flags, through /proc/self/map_files,
 * whose entries only a process with CAP_CHECKPOINT_RESTORE (or
 * CAP_SYS_ADMIN) may open, and says at which offset of it addr's page
 * lies.  Returns the descriptor or a negative errno; -ENOTTY before Linux
 * 6.11 (no PROCMAP_QUERY).  System calls only: the fault path uses it.
 */
int mm_vma_file(uintptr_t addr, int flags, uint64_t *offset)
{
	char path[64];
	struct procmap_query q;
	int qfd = query_fd_get(), fd;

	if (qfd < 0)
		return -ENOTTY;
	memset(&q, 0, sizeof(q));
	q.size = sizeof(q);
	q.query_addr = addr;
	if (ioctl(qfd, PROCMAP_QUERY, &q) != 0)
		return -errno;
	map_files_path(path, q.vma_start, q.vma_end);
	fd = open(path, flags | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*offset = q.vma_offset + ((addr & PAGE_MASK) - q.vma_start);
	return fd;
}

/*
 * Whether the page of shared memory at addr lies at or past the end of its
 * file, where an access raises SIGBUS and a fill fails.
 * Limitation: without the capability mm_vma_file() needs, or before Linux
 * 6.11, the size is not known and every page counts as inside the file.
 * System calls only: the fault path uses it.
 */
bool mm_past_eof(uintptr_t addr)
{
	struct stat st;
	uint64_t offset;
	int fd = mm_vma_file(addr, O_RDONLY, &offset);
	bool past;

	if (fd < 0)
		return false;
	past = fstat(fd, &st) == 0 && offset >= (uint64_t)st.st_size;
	close(fd);
	return past;
}

/*
 * The mappings in this process of the file (dev, ino) where they map its
 * bytes [off, off + len), but the one at skip: up to max of them in out
 * (start and end only).  Returns how many were found, 0 without
 * PROCMAP_QUERY.
 */
static int views_of(uint32_t major, uint32_t minor, uint64_t ino, uint64_t off,
		    uint64_t len, uintptr_t skip, struct mm_vma *out, int max)
{
	struct procmap_query q;
	int qfd = query_fd_get(), n = 0;

	if (qfd < 0)
		return 0;
	for (uintptr_t at = 0; n < max; at = q.vma_end) {
		uint64_t lo, hi;

		memset(&q, 0, sizeof(q));
		q.size = sizeof(q);
		q.query_flags = PROCMAP_QUERY_COVERING_OR_NEXT;
		q.query_addr = at;
		if (ioctl(qfd, PROCMAP_QUERY, &q) != 0)
			break;
		if (q.inode != ino || q.dev_major != major ||
		    q.dev_minor != minor)
			continue;
		lo = q.vma_offset > off ? q.vma_offset : off;
		hi = q.vma_offset + (q.vma_end - q.vma_start);
		if (hi > off + len)
			hi = off + len;
		if (lo >= hi)
			continue;
		out[n].start = q.vma_start + (lo - q.vma_offset);
		out[n].end = out[n].start + (hi - lo);
		if (out[n].start != skip)
			n++;
	}
	return n;
}

/*
 * The other mappings in this process of the file mapped at addr, where
 * they map the bytes its mapping maps at [addr, addr + len).
 */
int mm_views(uintptr_t addr, size_t len, struct mm_vma *out, int max)
{
	struct procmap_query self;
	int qfd = query_fd_get();

	if (qfd < 0)
		return 0;
	memset(&self, 0, sizeof(self));
	self.size = sizeof(self);
	self.query_addr = addr;
	if (ioctl(qfd, PROCMAP_QUERY, &self) != 0 || !self.inode)
		return 0;
	return views_of(self.dev_major, self.dev_minor, self.inode,
			self.vma_offset + (addr - self.vma_start), len, addr,
			out, max);
}

/*
 * Whether another mapping in this process of the file mapped at addr maps
 * the file's page at addr's offset: a sign that the file has the page,
 * which hugetlb memory gives no other way to learn.  System calls only:
 * the fault path uses it.
 */
bool mm_alias_maps(uintptr_t addr)
{
	struct mm_vma views[8];
	int n = mm_views(addr & PAGE_MASK, PAGE_SIZE, views, 8);
	unsigned char vec;

	for (int i = 0; i < n; i++)
		if (mincore((void *)views[i].start, PAGE_SIZE, &vec) == 0 &&
		    (vec & 1))
			return true;
	return false;
}

/* The mappings in this process of the file open at fd, as above. */
int mm_fd_views(int fd, uint64_t off, uint64_t len, struct mm_vma *out, int max)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return 0;
	return views_of(major(st.st_dev), minor(st.st_dev), st.st_ino, off, len,
			0, out, max);
}

/*
 * A descriptor of /proc/self/maps kept for PROCMAP_QUERY, which uses no
 * file position and so can be shared: opening the file costs more than the
 * query.  It names the address space it was opened in, so a fork child
 * opens its own.  -1 when it cannot be opened.
 */
static _Atomic int query_fd = -1;
static _Atomic pid_t query_pid;

static int query_fd_get(void)
{
	pid_t pid = getpid();
	int seen = atomic_load(&query_fd), fd;

	if (seen >= 0 && atomic_load(&query_pid) == pid)
		return seen;
	fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	fd = install_hide_fd(fd);
	if (!atomic_compare_exchange_strong(&query_fd, &seen, fd)) {
		/* Another thread opened one first. */
		install_close_fd(fd);
		return seen;
	}
	atomic_store(&query_pid, pid);
	if (seen >= 0)
		install_close_fd(seen); /* the parent's, inherited */
	return fd;
}

/*
 * Calls fn with each line of the file at path, without its newline, until
 * fn returns false.  Returns 0, or a negative errno if it cannot be opened.
 */
static int each_line(const char *path, bool (*fn)(const char *line, void *arg),
		     void *arg)
{
	char buf[8192], line[4096 + 128];
	size_t used = 0;
	bool more = true;
	ssize_t got;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while (more && (got = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; more && i < got; i++) {
			if (buf[i] != '\n') {
				if (used < sizeof(line) - 1)
					line[used++] = buf[i];
				continue;
			}
			line[used] = '\0';
			used = 0;
			more = fn(line, arg);
		}
	}
	close(fd);
	return 0;
}

struct vma_walk {
	uintptr_t start, end;
	struct mm_vma *out;
	int max, n;
};

static bool vma_line(const char *line, void *arg)
{
	struct vma_walk *w = arg;
	struct mm_vma v;

	if (!parse_line(line, &v) || v.end <= w->start)
		return true;
	if (v.start >= w->end)
		return false;
	if (w->n < w->max)
		w->out[w->n] = v;
	w->n++;
	return true;
}

int mm_vmas(uintptr_t start, uintptr_t end, struct mm_vma *out, int max)
{
	struct vma_walk w = {start, end, out, max, 0};
	int fd = query_fd_get(), err;

	if (fd >= 0) {
		int n = query_vmas(fd, start, end, out, max);

		if (n != -ENOTTY && n != -EINVAL)
			return n;
	}
	/* A kernel without PROCMAP_QUERY (before 6.11): read the file. */
	err = each_line("/proc/self/maps", vma_line, &w);
	return err ? err : w.n;
}

/*
 * VmFlags names that the emulator's own work changes on a mapping: the
 * access flags (write protection, PROT_NONE), the accounting that follows
 * them, guard markers, soft-dirty tracking.
 */
static bool own_flag(const char *t)
{
	static const char own[][3] = {"rd", "wr", "ex", "mr", "mw",
				      "me", "ac", "gu", "sd"};

	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (t[0] == own[i][0] && t[1] == own[i][1])
			return true;
	return false;
}

/* Keeps the VmFlags names of line that are not the emulator's. */
static void keep_flags(const char *line, char *out, size_t n)
{
	size_t used = 0;

	out[0] = '\0';
	for (const char *t = line; *t;) {
		while (*t == ' ')
			t++;
		if (!t[0] || !t[1])
			break;
		if (!own_flag(t) && used + 3 < n) {
			out[used++] = t[0];
			out[used++] = t[1];
			out[used++] = ' ';
			out[used] = '\0';
		}
		while (*t && *t != ' ')
			t++;
	}
}

struct flags_walk {
	const uintptr_t *starts;
	char (*out)[MM_FLAGS_MAX];
	int n, cur, found;
};

static bool flags_line(const char *line, void *arg)
{
	struct flags_walk *w = arg;
	const char *s = line;

	if ((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')) {
		uintptr_t start = parse_hex(&s);

		w->cur = -1;
		for (int k = 0; k < w->n; k++)
			if (w->starts[k] == start)
				w->cur = k;
	} else if (w->cur >= 0 && starts_with(line, "VmFlags:")) {
		keep_flags(line + 8, w->out[w->cur], MM_FLAGS_MAX);
		w->cur = -1;
		w->found++;
	}
	return w->found < w->n;
}

int mm_vma_flags(const uintptr_t *starts, int n, char (*out)[MM_FLAGS_MAX])
{
	struct flags_walk w = {starts, out, n, -1, 0};
	int err;

	for (int i = 0; i < n; i++)
		out[i][0] = '\0';
	err = each_line("/proc/self/smaps", flags_line, &w);
	if (err)
		return err;
	return w.found == n ? 0 : -ENOENT;
}

struct maywrite_walk {
	uintptr_t start;
	bool here, found, maywrite;
};

static bool maywrite_line(const char *line, void *arg)
{
	struct maywrite_walk *w = arg;
	const char *s = line;

	if ((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')) {
		w->here = parse_hex(&s) == w->start;
	} else if (w->here && starts_with(line, "VmFlags:")) {
		w->found = true;
		w->maywrite = strstr(line, " mw") != NULL;
	}
	return !w->found;
}

/*
 * Whether the mapping beginning at start may be made writable (VM_MAYWRITE):
 * not a shared mapping of a file opened read-only or sealed against
 * writing.  Reads /proc/self/smaps: for mappings without PROT_WRITE only.
 */
bool mm_vma_maywrite(uintptr_t start)
{
	struct maywrite_walk w = {start, false, false, false};

	if (each_line("/proc/self/smaps", maywrite_line, &w) || !w.found)
		return true;
	return w.maywrite;
}

/*
 * The registry of registered ranges: sorted, non-overlapping, adjacent
 * pieces of the same context merged.  It answers "which ranges does this
 * context own"; the per-page detail lives in the page-state table.  Only
 * touched under mm_lock, never on the fault path.
 */
static struct mm_reg *regs;
static size_t nregs, capregs;

static int reg_grow(size_t need)
{
	struct mm_reg *n;
	size_t cap = capregs ? capregs : 16;

	if (need <= capregs)
		return 0;
	while (cap < need)
		cap *= 2;
	n = realloc(regs, cap * sizeof(*n));
	if (!n)
		return -ENOMEM;
	regs = n;
	capregs = cap;
	return 0;
}

/* Index of the first piece that ends after addr. */
static size_t reg_search(uintptr_t addr)
{
	size_t lo = 0, hi = nregs;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (regs[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Removes [start, end) from the registry, splitting pieces as needed. */
int reg_remove(uintptr_t start, uintptr_t end)
{
	size_t i = reg_search(start);

	if (i < nregs && regs[i].start < start && regs[i].end > end) {
		if (reg_grow(nregs + 1))
			return -ENOMEM;
		memmove(&regs[i + 1], &regs[i], (nregs - i) * sizeof(*regs));
		nregs++;
		regs[i].end = start;
		regs[i + 1].start = end;
		return 0;
	}
	if (i < nregs && regs[i].start < start) {
		regs[i].end = start;
		i++;
	}
	size_t j = i;

	while (j < nregs && regs[j].end <= end)
		j++;
	if (j < nregs && regs[j].start < end)
		regs[j].start = end;
	memmove(&regs[i], &regs[j], (nregs - j) * sizeof(*regs));
	nregs -= j - i;
	return 0;
}

/* Records [start, end) as owned by slot, replacing what was there. */
int reg_add(uintptr_t start, uintptr_t end, unsigned int slot)
{
	size_t i;

	if (reg_remove(start, end) || reg_grow(nregs + 1))
		return -ENOMEM;
	i = reg_search(start);
	memmove(&regs[i + 1], &regs[i], (nregs - i) * sizeof(*regs));
	nregs++;
	regs[i] = (struct mm_reg){start, end, slot};
	if (i + 1 < nregs && regs[i + 1].start == end &&
	    regs[i + 1].slot == slot) {
		regs[i].end = regs[i + 1].end;
		memmove(&regs[i + 1], &regs[i + 2],
			(nregs - i - 2) * sizeof(*regs));
		nregs--;
	}
	if (i > 0 && regs[i - 1].end == start && regs[i - 1].slot == slot) {
		regs[i - 1].end = regs[i].end;
		memmove(&regs[i], &regs[i + 1],
			(nregs - i - 1) * sizeof(*regs));
		nregs--;
	}
	return 0;
}

/*
 * The first piece intersecting [from, to) owned by slot (any slot when 0),
 * clipped to [from, to).  False when there is none.
 */
bool reg_next(uintptr_t from, uintptr_t to, unsigned int slot,
	      struct mm_reg *out)
{
	if (from >= to)
		return false;
	for (size_t i = reg_search(from); i < nregs && regs[i].start < to;
	     i++) {
		if (slot && regs[i].slot != slot)
			continue;
		out->start = regs[i].start > from ? regs[i].start : from;
		out->end = regs[i].end < to ? regs[i].end : to;
		out->slot = regs[i].slot;
		return true;
	}
	return false;
}
