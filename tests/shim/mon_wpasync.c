// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A dirty-page tracker: asynchronous write protection (UFFD_FEATURE_WP_ASYNC)
 * on an area, and the PAGEMAP_SCAN ioctl of /proc/self/pagemap to collect
 * the pages written since the last round and protect them again in the
 * same call, as CRIU's incremental dumps do.  Writes never wait and no
 * message is ever queued.  The program knows only the kernel's interfaces:
 * the definitions its 6.1 headers lack are spelled out here.
 */
#include "mon.h"

#include <stdint.h>

#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif

/* <linux/fs.h>, Linux 6.7. */
struct scan_region {
	uint64_t start, end, categories;
};

struct scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask;
	uint64_t return_mask;
};

#define SCAN         _IOWR('f', 16, struct scan_arg)
#define SCAN_WP      (1 << 0) /* PM_SCAN_WP_MATCHING */
#define SCAN_CHECK   (1 << 1) /* PM_SCAN_CHECK_WPASYNC */
#define IS_WPALLOWED (1 << 0)
#define IS_WRITTEN   (1 << 1)
#define IS_PRESENT   (1 << 3)
#define IS_SWAPPED   (1 << 4)
#define IS_PFNZERO   (1 << 5)
#define PAGES        16

static char *area;
static int pagemap;

/*
 * Prints the regions the scan finds in the area, by page number, with the
 * categories asked for.
 */
static long scan(const char *what, uint64_t flags, uint64_t mask,
		 uint64_t ret_mask, uint64_t max_pages, uint64_t vec_len)
{
	struct scan_region vec[PAGES];
	struct scan_arg a = {
		.size = sizeof(a),
		.flags = flags,
		.start = (uintptr_t)area,
		.end = (uintptr_t)area + PAGES * PG,
		.vec = (uintptr_t)vec,
		.vec_len = vec_len,
		.max_pages = max_pages,
		.category_mask = mask,
		.return_mask = ret_mask,
	};
	long n = ioctl(pagemap, SCAN, &a);

	if (n < 0) {
		say("%s: %s\n", what, strerror(errno));
		return n;
	}
	say("%s: %ld regions, walk ended at page %ld\n", what, n,
	    (long)((a.walk_end - (uintptr_t)area) / PG));
	for (long i = 0; i < n; i++)
		say("  pages %ld-%ld categories %#llx\n",
		    (long)((vec[i].start - (uintptr_t)area) / PG),
		    (long)((vec[i].end - (uintptr_t)area) / PG) - 1,
		    (unsigned long long)vec[i].categories);
	return n;
}

/*
 * The flags of each page's pagemap entry from bit 57 up: 1 uffd-wp, 0x20
 * swapped (a marker, for an empty page), 0x40 present.
 */
static void show_pagemap(const char *what)
{
	uint64_t e[PAGES];
	char line[PAGES * 4 + 1];
	size_t len = 0;
	ssize_t r = pread(pagemap, e, sizeof(e),
			  (off_t)((uintptr_t)area / PG * sizeof(e[0])));

	if (r != (ssize_t)sizeof(e))
		die("pread pagemap");
	for (int i = 0; i < PAGES; i++)
		len += (size_t)snprintf(line + len, sizeof(line) - len, " %x",
					(unsigned int)(e[i] >> 57));
	say("pagemap %s:%s\n", what, line);
}

/* No message is ever waiting: writes were resolved without the monitor. */
static void check_quiet(int uffd)
{
	struct uffd_msg msg;
	struct pollfd p = {.fd = uffd, .events = POLLIN};
	int ready = poll(&p, 1, 0);
	ssize_t r = read(uffd, &msg, sizeof(msg));

	say("poll: %d, read: %zd %s\n", ready, r,
	    r < 0 ? strerrorname_np(errno) : "");
}

int main(void)
{
	const uint64_t all = IS_WPALLOWED | IS_WRITTEN | IS_PRESENT |
			     IS_SWAPPED | IS_PFNZERO;
	struct uffdio_api api = {.api = UFFD_API,
				 .features = UFFD_FEATURE_WP_ASYNC};
	struct uffdio_register reg;
	struct uffdio_writeprotect wp;
	int uffd = uffd_create(O_CLOEXEC | O_NONBLOCK);

	if (ioctl(uffd, UFFDIO_API, &api) != 0) {
		if (errno == EINVAL)
			skip("the kernel has no UFFD_FEATURE_WP_ASYNC");
		die("UFFDIO_API");
	}
	pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pagemap < 0)
		die("open pagemap");
	area = map_pages(PAGES);
	for (int i = 0; i < 8; i++)
		area[i * PG] = (char)('a' + i);
	say("pages 0-7 written, page 8 read: %d\n", area[8 * PG]);

	reg = (struct uffdio_register){.range = {(uintptr_t)area, PAGES * PG},
				       .mode = UFFDIO_REGISTER_MODE_WP};
	if (ioctl(uffd, UFFDIO_REGISTER, &reg) != 0)
		die("UFFDIO_REGISTER");
	say("registered %d pages in WP mode\n", PAGES);
	if (scan("before protection", 0, 0, all, 0, PAGES) < 0)
		return 1;

	wp = (struct uffdio_writeprotect){{(uintptr_t)area, PAGES * PG},
					  UFFDIO_WRITEPROTECT_MODE_WP};
	if (ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) != 0)
		die("UFFDIO_WRITEPROTECT");
	scan("protected", 0, 0, all, 0, PAGES);
	show_pagemap("protected");

	for (int round = 1; round <= 3; round++) {
		char what[64];

		for (int i = round; i < PAGES; i += 3 + round)
			area[i * PG + round] = (char)('A' + round);
		check_quiet(uffd);
		show_pagemap("written");
		snprintf(what, sizeof(what), "round %d, first 2 dirty pages",
			 round);
		scan(what, 0, IS_WRITTEN, IS_WRITTEN, 2, PAGES);
		snprintf(what, sizeof(what), "round %d, dirty pages", round);
		scan(what, SCAN_WP | SCAN_CHECK, IS_WRITTEN,
		     IS_WRITTEN | IS_PRESENT, 0, PAGES);
		snprintf(what, sizeof(what), "round %d, after", round);
		scan(what, 0, 0, all, 0, PAGES);
		show_pagemap("protected again");
	}

	say("page 1 holds %c, page 12 %c, page 15 %c\n", area[PG + 1],
	    area[12 * PG + 2], area[15 * PG + 3]);
	wp.mode = 0;
	if (ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) != 0)
		die("UFFDIO_WRITEPROTECT");
	scan("unprotected", 0, 0, all, 0, PAGES);
	show_pagemap("unprotected");
	scan("only 3 regions fit", 0, 0, all, 0, 3);
	close(uffd);
	area[0] = 'z';
	scan("closed", SCAN_CHECK, 0, all, 0, PAGES);
	say("done\n");
	return 0;
}
