/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the lazy_cma selftests: thin ioctl wrappers that return
 * -errno, and independent views of the system (/proc/iomem, sysfs memory
 * blocks, meminfo) to check the driver's claims against.
 */
#ifndef LAZY_CMA_LIB_H
#define LAZY_CMA_LIB_H

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/io_uring.h>
#include <linux/lazy_cma.h>

#define LC_DEV		"/dev/lazy_cma"
#define SZ_4K		(4096ULL)
#define SZ_1M		(1ULL << 20)
#define SZ_2M		(2ULL << 20)
#define SZ_1G		(1ULL << 30)

static inline int lc_open(void)
{
	return open(LC_DEV, O_RDWR | O_CLOEXEC);
}

static inline int lc_alloc(int fd, uint64_t len, int node, const char *name,
			   uint64_t *phys)
{
	struct lazy_cma_allocation_data a;

	if (phys)
		*phys = 0;
	memset(&a, 0, sizeof(a));
	a.len = len;
	a.node = node;
	if (name)
		strncpy(a.name, name, LAZY_CMA_NAME_MAX - 1);
	if (ioctl(fd, LAZY_CMA_IOCTL_ALLOC, &a))
		return -errno;
	if (phys)
		*phys = a.phys_addr;
	return 0;
}

static inline int lc_free(int fd, uint64_t phys)
{
	__u64 a = phys;

	return ioctl(fd, LAZY_CMA_IOCTL_FREE, &a) ? -errno : 0;
}

static inline int lc_resize(int fd, uint64_t *phys, uint64_t *len)
{
	struct lazy_cma_resize_data r = { .phys_addr = *phys, .len = *len };

	if (ioctl(fd, LAZY_CMA_IOCTL_RESIZE, &r))
		return -errno;
	*phys = r.phys_addr;
	*len = r.len;
	return 0;
}

/* the region starting exactly at @phys: 0 and *out, or -ENOENT */
static inline int lc_find(int fd, uint64_t phys, struct lazy_cma_region_info *out)
{
	struct lazy_cma_list_data ld;

	memset(&ld, 0, sizeof(ld));
	ld.entry_size = sizeof(*out);
	ld.max_entries = 1;
	ld.start = phys;
	ld.entries = (uintptr_t)out;
	if (ioctl(fd, LAZY_CMA_IOCTL_LIST, &ld))
		return -errno;
	if (ld.nr_entries != 1 || out->phys_addr != phys)
		return -ENOENT;
	return 0;
}

/* number of live regions, or -errno */
static inline int lc_count(int fd)
{
	struct lazy_cma_list_data ld;

	memset(&ld, 0, sizeof(ld));
	ld.entry_size = sizeof(struct lazy_cma_region_info);
	if (ioctl(fd, LAZY_CMA_IOCTL_LIST, &ld))
		return -errno;
	return (int)ld.nr_regions;
}

/* free every live region (test cleanup) */
static inline void lc_free_all(int fd)
{
	struct lazy_cma_region_info info;
	struct lazy_cma_list_data ld;

	for (;;) {
		memset(&ld, 0, sizeof(ld));
		ld.entry_size = sizeof(info);
		ld.max_entries = 1;
		ld.entries = (uintptr_t)&info;
		if (ioctl(fd, LAZY_CMA_IOCTL_LIST, &ld) || !ld.nr_entries)
			return;
		if (lc_free(fd, info.phys_addr))
			return;
	}
}

/* is "start-end : name" a line of /proc/iomem (any depth)? name NULL = any */
static inline bool iomem_has(uint64_t start, uint64_t end, const char *name)
{
	char line[256];
	bool found = false;
	FILE *f = fopen("/proc/iomem", "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned long long s, e;
		char n[128];

		if (sscanf(line, " %llx-%llx : %127[^\n]", &s, &e, n) != 3)
			continue;
		found = s == start && e == end && (!name || !strcmp(n, name));
	}
	fclose(f);
	return found;
}

/* lines of /proc/iomem whose name is @name */
static inline int iomem_count(const char *name)
{
	char line[256];
	int n = 0;
	FILE *f = fopen("/proc/iomem", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, " : ");

		if (p) {
			p[strcspn(p, "\n")] = '\0';
			n += !strcmp(p + 3, name);
		}
	}
	fclose(f);
	return n;
}

static inline long read_long(const char *path)
{
	char buf[64];
	long v = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f))
		v = strtol(buf, NULL, 0);
	fclose(f);
	return v;
}

static inline int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -errno;
}

/* the node whose sysfs memory blocks hold @phys, independent of the driver */
static inline int phys_node(uint64_t phys)
{
	char path[128], buf[64];
	unsigned long long bs;
	FILE *f = fopen("/sys/devices/system/memory/block_size_bytes", "r");
	int node;

	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	bs = strtoull(buf, NULL, 16);
	for (node = 0; node < 64; node++) {
		struct stat st;

		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/memory%llu",
			 node, phys / bs);
		if (!stat(path, &st))
			return node;
	}
	return -1;
}

/* "MemFree:" etc. of a /proc/meminfo snapshot, in kB; -1 if absent */
static inline long meminfo_file_kb(const char *path, const char *key)
{
	char line[256];
	long v = -1;
	size_t kl = strlen(key);
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':') {
			v = strtol(line + kl + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

static inline long meminfo_kb(const char *key)
{
	return meminfo_file_kb("/proc/meminfo", key);
}

/* "MemFree" etc. of one node ("Node N MemFree:  123 kB"), in kB; -1 if absent */
static inline long node_meminfo_kb(int node, const char *key)
{
	char path[80], line[256], *p;
	size_t kl = strlen(key);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo", node);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		p = strstr(line, key);
		if (p && p[kl] == ':' && p > line && p[-1] == ' ') {
			v = strtol(p + kl + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

/* page frame of the page mapped at @p in this process (root only), 0 if none */
static inline uint64_t self_pfn(const void *p)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (pread(fd, &e, sizeof(e), (off_t)((uintptr_t)p / 4096) * 8) != sizeof(e))
		e = 0;
	close(fd);
	return (e >> 63) ? e & ((1ULL << 55) - 1) : 0;
}

/*
 * Pin @n single pages at @pages for DMA (FOLL_LONGTERM), as io_uring fixed
 * buffers do: returns the ring, whose closing unpins them, or -errno.
 */
static inline int pin_pages(char *const *pages, int n)
{
	struct io_uring_params params = { 0 };
	struct iovec *iov = calloc(n, sizeof(*iov));
	int i, ring = syscall(__NR_io_uring_setup, 4, &params);

	if (ring < 0 || !iov) {
		ring = ring < 0 ? -errno : -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		iov[i].iov_base = pages[i];
		iov[i].iov_len = 4096;
	}
	if (syscall(__NR_io_uring_register, ring, IORING_REGISTER_BUFFERS, iov, n)) {
		i = -errno;
		close(ring);
		ring = i;
	}
out:
	free(iov);
	return ring;
}

/* run fn(arg) in a child; its wait status */
static inline int in_child(void (*fn)(void *), void *arg)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

static inline bool killed_by(int status, int sig)
{
	return status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == sig;
}

/* ended by exit(0): WEXITSTATUS() alone reads 0 for a child killed by a signal */
static inline bool exited_ok(int status)
{
	return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/*
 * How the running kernel must register lazy_cma's heaps, from its version
 * alone, as README.md's table of kernels says: through the dma-heap
 * framework where the kernel exports dma_heap_add() (mainline since 6.18),
 * else as misc devices of the module's own.  Deliberately not taken from the
 * module (its import_ns): a wrong Kbuild probe must fail the heap tests.
 */
static inline const char *kernel_heap_reg(void)
{
	struct utsname u;
	int major, minor;

	if (uname(&u) || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return "unknown";
	return major > 6 || (major == 6 && minor >= 18) ? "framework" : "misc";
}

static inline uint64_t pattern(uint64_t i, uint64_t seed)
{
	return (i * 0x9e3779b97f4a7c15ULL) ^ seed;
}

#endif
