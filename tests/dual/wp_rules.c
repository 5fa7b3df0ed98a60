/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Write-protect rules, printed line by line so that the kernel's run and
 * the emulator's can be compared: REGISTER masks, WRITEPROTECT errors and
 * holes, WP faults and their flags, DONTWAKE and WAKE, UNREGISTER leaving
 * WP sleepers asleep, COPY_MODE_WP, MISSING|WP, WP_UNPOPULATED markers.
 * The argument is the feature set to ask for.
 */
#include <pthread.h>

#include "dual.h"

#define PS 4096UL

static char *area;
static int fd;
static volatile int done[8];

static void *writer(void *a)
{
	long i = (long)a;

	area[i * PS + 7] = 'x';
	done[i] = 1;
	return NULL;
}

static void *reader(void *a)
{
	long i = (long)a;
	volatile char c = area[i * PS + 7];

	(void)c;
	done[i] = 1;
	return NULL;
}

/* The next message, waiting up to a second for it. */
static int next_msg(struct uffd_msg *m)
{
	for (int t = 0; t < 200; t++) {
		if (u_read(fd, m, sizeof(*m)) == sizeof(*m))
			return 1;
		usleep(5000);
	}
	return 0;
}

static void show_msg(const char *label)
{
	struct uffd_msg m;

	if (next_msg(&m))
		printf("%s: message flags=%#llx page=%lu\n", label,
		       (unsigned long long)m.arg.pagefault.flags,
		       (unsigned long)(m.arg.pagefault.address -
				       (uintptr_t)area) /
			       PS);
	else
		printf("%s: no message\n", label);
}

static int wp(unsigned long page, unsigned long pages, unsigned long mode)
{
	struct uffdio_writeprotect w = {
		{(uintptr_t)area + page * PS, pages * PS}, mode};

	return u_ioctl(fd, UFFDIO_WRITEPROTECT, &w);
}

static int wake(unsigned long page)
{
	struct uffdio_range r = {(uintptr_t)area + page * PS, PS};

	return u_ioctl(fd, UFFDIO_WAKE, &r);
}

static void start(pthread_t *t, void *(*fn)(void *), long page)
{
	pthread_create(t, NULL, fn, (void *)page);
}

int main(int argc, char **argv)
{
	unsigned long long feat = argc > 1 ? strtoull(argv[1], NULL, 0) : 0;
	struct uffdio_api api = {UFFD_API,
				 UFFD_FEATURE_PAGEFAULT_FLAG_WP | feat, 0};
	struct uffdio_register reg;
	struct uffdio_range range;
	struct uffdio_copy copy;
	struct uffdio_zeropage zero;
	static char src[PS];
	pthread_t t;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	fd = dual_create(O_CLOEXEC | O_NONBLOCK);
	rc = u_ioctl(fd, UFFDIO_API, &api);
	show("UFFDIO_API", rc, 0);
	area = mmap(NULL, 16 * PS, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (int i = 0; i < 4; i++)
		area[i * PS] = (char)(i + 1);

	reg = (struct uffdio_register){
		{(uintptr_t)area, 8 * PS}, UFFDIO_REGISTER_MODE_WP, 0};
	rc = u_ioctl(fd, UFFDIO_REGISTER, &reg);
	show("REGISTER WP", rc, (long long)reg.ioctls);
	show("WRITEPROTECT mode WP|DONTWAKE", wp(0, 1, 3), 0);
	show("WRITEPROTECT mode 4", wp(0, 1, 4), 0);
	show("WRITEPROTECT unregistered pages 8-11", wp(8, 4, 1), 0);
	show("WRITEPROTECT pages 6-9 (half registered)", wp(6, 4, 1), 0);
	show("WRITEPROTECT pages 0-7", wp(0, 8, 1), 0);

	start(&t, reader, 1);
	pthread_join(t, NULL);
	printf("read of protected page 1 done=%d\n", done[1]);

	start(&t, writer, 2);
	show_msg("write to protected page 2");
	usleep(20000);
	printf("writer blocked: %d\n", !done[2]);
	show("unprotect page 2 with DONTWAKE", wp(2, 1, 2), 0);
	usleep(20000);
	printf("writer still blocked: %d\n", !done[2]);
	show("WAKE page 2", wake(2), 0);
	pthread_join(t, NULL);
	printf("writer done=%d\n", done[2]);

	start(&t, writer, 5);
	usleep(30000);
	printf("write to unpopulated protected page 5 done=%d\n", done[5]);
	if (!done[5]) {
		show_msg("unpopulated page 5");
		show("unprotect page 5", wp(5, 1, 0), 0);
	}
	pthread_join(t, NULL);

	start(&t, writer, 3);
	show_msg("write to protected page 3");
	range = (struct uffdio_range){(uintptr_t)area, 8 * PS};
	show("UNREGISTER", u_ioctl(fd, UFFDIO_UNREGISTER, &range), 0);
	usleep(20000);
	printf("WP writer still blocked after UNREGISTER: %d\n", !done[3]);
	show("WAKE page 3", wake(3), 0);
	pthread_join(t, NULL);
	printf("writer done=%d value=%c\n", done[3], area[3 * PS + 7]);

	reg.mode = UFFDIO_REGISTER_MODE_WP | UFFDIO_REGISTER_MODE_MISSING;
	rc = u_ioctl(fd, UFFDIO_REGISTER, &reg);
	show("REGISTER MISSING|WP", rc, (long long)reg.ioctls);
	memset(src, 'c', PS);
	copy = (struct uffdio_copy){(uintptr_t)area + 6 * PS, (uintptr_t)src,
				    PS, UFFDIO_COPY_MODE_WP, 0};
	rc = u_ioctl(fd, UFFDIO_COPY, &copy);
	show("COPY MODE_WP page 6", rc, copy.copy);
	start(&t, writer, 6);
	show_msg("write to page 6");
	show("unprotect page 6", wp(6, 1, 0), 0);
	pthread_join(t, NULL);
	printf("writer done=%d\n", done[6]);

	start(&t, writer, 7);
	show_msg("write to missing page 7");
	show("WRITEPROTECT missing page 7", wp(7, 1, 1), 0);
	copy.dst = (uintptr_t)area + 7 * PS;
	copy.mode = 0;
	rc = u_ioctl(fd, UFFDIO_COPY, &copy);
	show("COPY page 7", rc, copy.copy);
	pthread_join(t, NULL);
	printf("writer done=%d\n", done[7]);

	zero = (struct uffdio_zeropage){{(uintptr_t)area + 4 * PS, PS}, 0, 0};
	rc = u_ioctl(fd, UFFDIO_ZEROPAGE, &zero);
	show("ZEROPAGE page 4", rc, zero.zeropage);
	show("MADV_DONTNEED pages 0-1", u_madvise(area, 2 * PS, MADV_DONTNEED),
	     0);
	show("close", u_close(fd), 0);
	area[0] = 'z';
	printf("page 0 writable after close: %c\n", area[0]);
	return 0;
}
