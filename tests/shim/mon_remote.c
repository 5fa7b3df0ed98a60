// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The rules of a userfaultfd as seen from another process: a monitor that
 * received the descriptor over a Unix socket makes UFFDIO_API itself,
 * registers the other process's memory, reads, polls, and answers with
 * good and bad arguments.  Every result is printed, so the run on the
 * kernel and the run under the emulator must print the same.
 */
#include "mon.h"

#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/wait.h>

#define AREA_PAGES 2056UL /* 8 pages, then 8 MiB */

/* Linux 6.4: older headers lack it. */
#ifndef UFFDIO_CONTINUE_MODE_WP
#define UFFDIO_CONTINUE_MODE_WP (1ULL << 1)
#endif

/* One byte each way: the two processes take turns. */
static void tell(int sock, char c)
{
	if (write(sock, &c, 1) != 1)
		die("write");
}

static char hear(int sock)
{
	char c;

	if (read(sock, &c, 1) != 1)
		die("read");
	return c;
}

static long copy(int uffd, uint64_t dst, uint64_t src, uint64_t len,
		 uint64_t mode, long long *field)
{
	struct uffdio_copy c = {dst, src, len, mode, 0x7777};
	long r = ioctl(uffd, UFFDIO_COPY, &c);

	*field = c.copy;
	return r;
}

static void show_field(const char *what, long r, long long field)
{
	const char *err = r < 0 ? errno_name(errno) : "";

	say("%s: %ld%s%s, field %lld\n", what, r, *err ? " " : "", err, field);
}

/*
 * MINOR and WP faults of the other process's shared memory, answered with
 * CONTINUE (MODE_WP) and WRITEPROTECT from here.
 */
static void shared_memory(int uffd, int sock, uint64_t anon)
{
	struct uffdio_continue cont;
	struct uffdio_writeprotect wp;
	struct uffdio_register reg;
	struct uffd_msg msg;
	uint64_t shm;
	long r;

	if (read(sock, &shm, sizeof(shm)) != sizeof(shm))
		die("read shm");
	reg = (struct uffdio_register){{shm, 2 * PG},
				       UFFDIO_REGISTER_MODE_MINOR |
					       UFFDIO_REGISTER_MODE_WP,
				       0};
	show("REGISTER(MINOR|WP) of its shared memory",
	     ioctl(uffd, UFFDIO_REGISTER, &reg));
	say("  ioctls %llx\n", (unsigned long long)reg.ioctls);
	tell(sock, 'r'); /* it reads page 0, which its file has */
	msg = uffd_next(uffd);
	say("  event %x flags %llx page %llu\n", msg.event,
	    (unsigned long long)msg.arg.pagefault.flags,
	    (unsigned long long)(msg.arg.pagefault.address - shm) / PG);
	cont = (struct uffdio_continue){
		{shm, PG}, UFFDIO_CONTINUE_MODE_WP, 0x7777};
	r = ioctl(uffd, UFFDIO_CONTINUE, &cont);
	show_field("CONTINUE(WP)", r, cont.mapped);
	tell(sock, 'p'); /* printed: it may print, then write page 0 */
	msg = uffd_next(uffd);
	say("  event %x flags %llx page %llu\n", msg.event,
	    (unsigned long long)msg.arg.pagefault.flags,
	    (unsigned long long)(msg.arg.pagefault.address - shm) / PG);
	wp = (struct uffdio_writeprotect){{shm, PG}, 0};
	show("WRITEPROTECT(0)", ioctl(uffd, UFFDIO_WRITEPROTECT, &wp));
	tell(sock, 'p');
	if (hear(sock) != 'd')
		die("the writer");
	cont = (struct uffdio_continue){{anon, PG}, 0, 0x7777};
	r = ioctl(uffd, UFFDIO_CONTINUE, &cont);
	show_field("CONTINUE on anonymous memory", r, cont.mapped);
	wp = (struct uffdio_writeprotect){{anon, PG},
					  UFFDIO_WRITEPROTECT_MODE_WP};
	show("WRITEPROTECT without WP mode",
	     ioctl(uffd, UFFDIO_WRITEPROTECT, &wp));
}

static void monitor(int sock)
{
	static char src[8 << 20] __attribute__((aligned(4096)));
	struct uffdio_api api = {.api = 0x55};
	struct uffdio_register reg;
	struct uffdio_range range;
	struct uffd_msg msg;
	struct pollfd p;
	long long field;
	uint64_t base;
	int uffd = recv_fd(sock);
	long r;

	if (read(sock, &base, sizeof(base)) != sizeof(base))
		die("read base");
	memset(src, 's', sizeof(src));
	show("read before UFFDIO_API", read(uffd, &msg, sizeof(msg)));
	show("UFFDIO_API, wrong api", ioctl(uffd, UFFDIO_API, &api));
	say("  written back: api %llx features %llx ioctls %llx\n",
	    (unsigned long long)api.api, (unsigned long long)api.features,
	    (unsigned long long)api.ioctls);
	api = (struct uffdio_api){.api = UFFD_API};
	show("UFFDIO_API", ioctl(uffd, UFFDIO_API, &api));
	say("  api ioctls %llx\n", (unsigned long long)api.ioctls);

	reg = (struct uffdio_register){{base, AREA_PAGES * PG}, 0x8, 0};
	show("REGISTER, mode 8", ioctl(uffd, UFFDIO_REGISTER, &reg));
	reg = (struct uffdio_register){{base + 1, PG}, 1, 0};
	show("REGISTER, unaligned", ioctl(uffd, UFFDIO_REGISTER, &reg));
	reg = (struct uffdio_register){{base, AREA_PAGES * PG}, 1, 0};
	show("REGISTER the other process's memory",
	     ioctl(uffd, UFFDIO_REGISTER, &reg));
	say("  ioctls %llx\n", (unsigned long long)reg.ioctls);
	show("read, nothing there", read(uffd, &msg, sizeof(msg)));
	show("read into 8 bytes", read(uffd, &msg, 8));
	p = (struct pollfd){.fd = uffd, .events = POLLIN};
	show("poll, nothing there", poll(&p, 1, 0));

	tell(sock, 't'); /* the other process touches page 0 */
	p = (struct pollfd){.fd = uffd, .events = POLLIN};
	show("poll, a fault", poll(&p, 1, 5000));
	say("  revents %x\n", p.revents);
	show("read", read(uffd, &msg, sizeof(msg)));
	say("  event %x flags %llx page %llu\n", msg.event,
	    (unsigned long long)msg.arg.pagefault.flags,
	    (unsigned long long)(msg.arg.pagefault.address - base) / PG);

	r = copy(uffd, base, 8, PG, 0, &field);
	show_field("COPY from address 8", r, field);
	r = copy(uffd, base, (uintptr_t)src, 0, 0, &field);
	show_field("COPY of 0 bytes", r, field);
	r = copy(uffd, base, (uintptr_t)src, PG, 4, &field);
	show_field("COPY, mode 4", r, field);
	r = copy(uffd, base, (uintptr_t)src, PG, 0, &field);
	show_field("COPY page 0", r, field);
	tell(sock, 'p');
	if (hear(sock) != 'd')
		die("the toucher");
	r = copy(uffd, base, (uintptr_t)src, PG, 0, &field);
	show_field("COPY page 0 again", r, field);
	r = copy(uffd, base + PG, (uintptr_t)src, 2 * PG, 0, &field);
	show_field("COPY pages 1 and 2", r, field);
	{
		struct uffdio_zeropage z = {{base + 3 * PG, PG}, 0, 0x7777};

		r = ioctl(uffd, UFFDIO_ZEROPAGE, &z);
		show_field("ZEROPAGE page 3", r, z.zeropage);
	}
	r = copy(uffd, base + 2 * PG, (uintptr_t)src, 3 * PG, 0, &field);
	show_field("COPY pages 2 to 4", r, field);
	r = copy(uffd, base + 8 * PG, (uintptr_t)src, 8 << 20, 0, &field);
	show_field("COPY of 8 MiB", r, field);
	range = (struct uffdio_range){base, PG};
	show("WAKE", ioctl(uffd, UFFDIO_WAKE, &range));
	range = (struct uffdio_range){base, AREA_PAGES * PG};
	show("UNREGISTER", ioctl(uffd, UFFDIO_UNREGISTER, &range));
	r = copy(uffd, base + 5 * PG, (uintptr_t)src, PG, 0, &field);
	show_field("COPY after UNREGISTER", r, field);
	show("an unknown ioctl", ioctl(uffd, _IOWR(0xaa, 0x3f, __u64), &field));
	tell(sock, 'c'); /* the other process checks its pages */
	hear(sock);
	shared_memory(uffd, sock, base);
	close(uffd);
}

static void *touch_page(void *p);

static void *write_page(void *p)
{
	*(volatile char *)p = 'W';
	return NULL;
}

/* Its side of shared_memory(): a memfd whose page 0 the file has. */
static void faulting_shared(int sock)
{
	int mfd = memfd_create("uffdemu-remote", MFD_CLOEXEC);
	uint64_t shm;
	pthread_t t;
	void *seen;
	char *p;

	if (mfd < 0 || ftruncate(mfd, 2 * PG) || pwrite(mfd, "m", 1, 0) != 1)
		die("memfd");
	p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	if (p == MAP_FAILED)
		die("mmap");
	close(mfd);
	shm = (uintptr_t)p;
	if (write(sock, &shm, sizeof(shm)) != sizeof(shm))
		die("write shm");
	hear(sock);
	pthread_create(&t, NULL, touch_page, p);
	pthread_join(t, &seen);
	hear(sock); /* the monitor's line first */
	say("faulting process: its shared page 0 reads '%c'\n",
	    (int)(uintptr_t)seen);
	pthread_create(&t, NULL, write_page, p);
	pthread_join(t, NULL);
	hear(sock);
	say("faulting process: its write went through, page 0 reads '%c'\n",
	    p[0]);
	tell(sock, 'd');
}

static void *touch_page(void *p)
{
	return (void *)(uintptr_t)(unsigned char)*(volatile char *)p;
}

int main(void)
{
	int sock, uffd, status;
	uint64_t base;
	pthread_t t;
	void *seen;
	char *mem;
	pid_t pid;

	pid = start_server(monitor, &sock);
	uffd = uffd_create(O_CLOEXEC | O_NONBLOCK);
	mem = map_pages(AREA_PAGES);
	send_fd(sock, uffd);
	close(uffd);
	base = (uintptr_t)mem;
	if (write(sock, &base, sizeof(base)) != sizeof(base))
		die("write base");
	hear(sock);
	pthread_create(&t, NULL, touch_page, mem);
	pthread_join(t, &seen);
	hear(sock); /* the monitor's line first */
	say("faulting process: page 0 reads '%c'\n", (int)(uintptr_t)seen);
	tell(sock, 'd');
	hear(sock);
	say("faulting process: pages 1 to 4 read %d %d %d %d, the last "
	    "of 8 MiB %d, page 5 %d\n",
	    mem[PG], mem[2 * PG], mem[3 * PG], mem[4 * PG],
	    mem[(AREA_PAGES - 1) * PG], mem[5 * PG]);
	tell(sock, 'k');
	faulting_shared(sock);
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid");
	say("faulting process: the monitor exited %d\n", WEXITSTATUS(status));
	return 0;
}
