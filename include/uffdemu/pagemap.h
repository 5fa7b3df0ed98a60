/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The PAGEMAP_SCAN ioctl of /proc/PID/pagemap (Linux 6.7), for systems whose
 * <linux/fs.h> predates it.  A program that also includes a <linux/fs.h>
 * that has it includes that one first; the definitions here then step
 * aside.
 */
#ifndef UFFDEMU_PAGEMAP_H
#define UFFDEMU_PAGEMAP_H

#include <linux/ioctl.h>
#include <linux/types.h>

#ifndef PAGEMAP_SCAN

/* Page categories, for each page of a page_region. */
#define PAGE_IS_WPALLOWED  (1 << 0) /* asynchronous write protection on */
#define PAGE_IS_WRITTEN    (1 << 1) /* no uffd-wp mark */
#define PAGE_IS_FILE       (1 << 2)
#define PAGE_IS_PRESENT    (1 << 3)
#define PAGE_IS_SWAPPED    (1 << 4) /* swapped out, or a marker entry */
#define PAGE_IS_PFNZERO    (1 << 5)
#define PAGE_IS_HUGE       (1 << 6)
#define PAGE_IS_SOFT_DIRTY (1 << 7)
#define PAGE_IS_GUARD      (1 << 8) /* Linux 6.14 */

/* A run of pages [start, end) with the same categories. */
struct page_region {
	__u64 start;
	__u64 end;
	__u64 categories;
};

/* Flags: write-protect the pages that match (and are written). */
#define PM_SCAN_WP_MATCHING   (1 << 0)
/* Fail EPERM on memory without asynchronous write protection. */
#define PM_SCAN_CHECK_WPASYNC (1 << 1)

struct pm_scan_arg {
	__u64 size;  /* sizeof(struct pm_scan_arg) */
	__u64 flags; /* PM_SCAN_* */
	__u64 start; /* page aligned */
	__u64 end;
	__u64 walk_end; /* out: where the walk stopped */
	__u64 vec;      /* struct page_region array */
	__u64 vec_len;
	__u64 max_pages; /* 0: no limit */
	__u64 category_inverted;
	__u64 category_mask;
	__u64 category_anyof_mask;
	__u64 return_mask;
};

#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)

#endif /* PAGEMAP_SCAN */

#endif /* UFFDEMU_PAGEMAP_H */
