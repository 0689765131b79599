// SPDX-License-Identifier: GPL-2.0
/*
 * lazy_cma_kexec_hold ADDR MAX_SECONDS: hold the kernel's kexec lock, for
 * lazy_cma_kdump_test.sh.  With a crash-kernel range armed at ADDR and no
 * crash kernel loaded, one thread calls kexec_load(KEXEC_ON_CRASH) with one
 * page-sized segment at ADDR whose source page is registered with
 * userfaultfd and never filled.  do_kexec_load() takes the kexec lock first
 * and copies the segment last: the copy faults on that page and waits,
 * holding the lock.  The fault's message on the userfaultfd proves the
 * kernel is there; then "holding" is printed, and the lock stays held until
 * SIGTERM or SIGINT comes or MAX_SECONDS pass.  To let go, the page is
 * unmapped and the userfaultfd closed: the fault is retried, finds nothing
 * mapped, and the load fails with EFAULT, so no crash kernel is ever loaded
 * (if one were, it is unloaded again and the status is 1).
 *
 * Prints one line per step.  Exit status: 0 the lock was held and the load
 * failed with EFAULT; 1 anything else; 4 the kernel has no userfaultfd.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kexec.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define EXIT_NO_UFFD	4

static uint64_t addr;
static void *page;
static long page_size;
static long load_ret;
static int load_errno;
static int done_pipe[2];

static long kexec_load(uint64_t entry, unsigned long nr, struct kexec_segment *seg,
		       unsigned long flags)
{
	return syscall(SYS_kexec_load, (unsigned long)entry, nr, seg, flags);
}

static void *loader(void *arg)
{
	struct kexec_segment seg = {
		.buf = page,
		.bufsz = (size_t)page_size,
		.mem = (const void *)(uintptr_t)addr,
		.memsz = (size_t)page_size,
	};
	char c = 0;

	load_ret = kexec_load(addr, 1, &seg, KEXEC_ON_CRASH | KEXEC_ARCH_DEFAULT);
	load_errno = errno;
	if (write(done_pipe[1], &c, 1) != 1)
		perror("lazy_cma_kexec_hold: write");
	return NULL;
}

/* the load returned: say how; a loaded image is unloaded again */
static int report_load(void)
{
	if (load_ret == 0) {
		printf("kexec_load: loaded (unexpected); unloading it\n");
		if (kexec_load(0, 0, NULL, KEXEC_ON_CRASH | KEXEC_ARCH_DEFAULT))
			printf("kexec_load: unload failed: %s\n", strerror(errno));
		return 1;
	}
	printf("kexec_load: %s\n", strerror(load_errno));
	return load_errno == EFAULT ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct uffdio_register reg = { 0 };
	struct uffdio_api api = { .api = UFFD_API };
	struct pollfd pfd[2];
	struct uffd_msg msg;
	struct timespec limit;
	unsigned long secs;
	pthread_t thread;
	sigset_t sigs;
	int uffd, sig, ret;
	char *end;

	if (argc != 3) {
		fprintf(stderr, "usage: lazy_cma_kexec_hold ADDR MAX_SECONDS\n");
		return 1;
	}
	errno = 0;
	addr = strtoull(argv[1], &end, 0);
	if (errno || *end || !addr) {
		fprintf(stderr, "lazy_cma_kexec_hold: bad address %s\n", argv[1]);
		return 1;
	}
	secs = strtoul(argv[2], &end, 10);
	if (*end || !secs) {
		fprintf(stderr, "lazy_cma_kexec_hold: bad seconds %s\n", argv[2]);
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	page_size = sysconf(_SC_PAGESIZE);

	/* no UFFD_USER_MODE_ONLY: the fault to catch is the kernel's own */
	uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0) {
		printf("no userfaultfd: %s\n", strerror(errno));
		return errno == ENOSYS ? EXIT_NO_UFFD : 1;
	}
	if (ioctl(uffd, UFFDIO_API, &api)) {
		printf("UFFDIO_API: %s\n", strerror(errno));
		return 1;
	}
	page = mmap(NULL, (size_t)page_size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED) {
		printf("mmap: %s\n", strerror(errno));
		return 1;
	}
	reg.range.start = (uintptr_t)page;
	reg.range.len = (uint64_t)page_size;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		printf("UFFDIO_REGISTER: %s\n", strerror(errno));
		return 1;
	}
	if (pipe(done_pipe)) {
		printf("pipe: %s\n", strerror(errno));
		return 1;
	}
	/* the signals that end the hold reach the main thread only */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	if (pthread_create(&thread, NULL, loader, NULL)) {
		printf("pthread_create failed\n");
		return 1;
	}

	/* the kernel inside the load (a fault message), or the load done */
	pfd[0].fd = uffd;
	pfd[0].events = POLLIN;
	pfd[1].fd = done_pipe[0];
	pfd[1].events = POLLIN;
	ret = poll(pfd, 2, 30000);
	if (ret > 0 && (pfd[0].revents & POLLIN) &&
	    read(uffd, &msg, sizeof(msg)) == sizeof(msg) &&
	    msg.event == UFFD_EVENT_PAGEFAULT &&
	    (msg.arg.pagefault.address & ~(uint64_t)(page_size - 1)) == (uintptr_t)page) {
		printf("holding: kexec_load of a crash segment at 0x%" PRIx64
		       " waits for its source page\n", addr);
		limit.tv_sec = (time_t)secs;
		limit.tv_nsec = 0;
		sig = sigtimedwait(&sigs, NULL, &limit);
		if (sig > 0)
			printf("released by signal %d\n", sig);
		else
			printf("released after %lu s\n", secs);
		ret = 0;
	} else if (ret > 0 && (pfd[1].revents & POLLIN)) {
		printf("kexec_load returned without waiting\n");
		ret = 1;
	} else {
		printf("no fault message within 30 s\n");
		ret = 1;
	}
	/* nothing mapped at the source: the retried fault fails, as the load */
	munmap(page, (size_t)page_size);
	close(uffd);
	pthread_join(thread, NULL);
	if (report_load())
		ret = 1;
	return ret;
}
