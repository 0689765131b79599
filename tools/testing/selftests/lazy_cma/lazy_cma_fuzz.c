// SPDX-License-Identifier: GPL-2.0
/*
 * lazy_cma_fuzz: random, reproducible ioctl/mmap/fork traffic against
 * /dev/lazy_cma and the node-0 heap, checking invariants as it goes:
 *  - every call ends in success or an errno its documentation allows;
 *  - a new region reads zero, and contents survive resizes (a tag word
 *    per region, written at ALLOC and checked through mmap around each
 *    RESIZE: a move that forgot to copy reads zero, not the tag);
 *  - a mapping of memory that stopped being a region faults with SIGBUS,
 *    never shows data; mappings of live regions never fault;
 *  - at the end nothing is left (LIST empty, no "fuzz" line in /proc/iomem).
 *
 * Usage: lazy_cma_fuzz [-s SEED] [-t SECONDS] [-n ITERATIONS]
 * Prints TAP with the seed; rerunning with that seed replays the sequence.
 */
#include <linux/dma-heap.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <time.h>

#include "lazy_cma_lib.h"

#define MAX_REGIONS	24
#define MAX_MAPS	32
#define MAX_BUFS	8

struct region {
	bool live;
	uint64_t phys, len, tag;
};

struct map {
	bool used;
	char *addr;
	uint64_t len;
	int region;		/* index into regions, -1 once the memory is gone */
	uint64_t phys;		/* physical address of addr */
	uint64_t limit;		/* a shrink cut the view here: no access past it */
};

static struct region regions[MAX_REGIONS];
static struct map maps[MAX_MAPS];
static int bufs[MAX_BUFS];
static uint64_t rng, seed;
static long iter;
/* what the run exercised, reported at the end */
static long n_alloc, n_resize, n_moved, n_free, n_stale, n_live, n_heap, n_fork;
static int fd, heap;
static sigjmp_buf jb;
static volatile sig_atomic_t armed;

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static void fail(const char *op, const char *fmt, long a, long b)
{
	printf("not ok 1 fuzz: %s at iteration %ld: ", op, iter);
	printf(fmt, a, b);
	printf("\n# reproduce with: lazy_cma_fuzz -s %llu -n %ld\n",
	       (unsigned long long)seed, iter + 1);
	printf("# Totals: pass:0 fail:1 xfail:0 xpass:0 skip:0 error:0\n");
	fflush(stdout);
	exit(1);
}

static void expect_errno(const char *op, long ret, const int *ok)
{
	if (!ret)
		return;
	for (; *ok; ok++)
		if (errno == *ok)
			return;
	fail(op, "unexpected errno %ld (ret %ld)", errno, ret);
}

static void on_sigbus(int sig)
{
	(void)sig;
	if (armed)
		siglongjmp(jb, 1);
	_exit(99);
}

/* 1 if reading (and writing, if @write) @p faults with SIGBUS */
static int touch(char *p, bool write, uint64_t val, uint64_t *seen)
{
	armed = 1;
	if (sigsetjmp(jb, 1)) {
		armed = 0;
		return 1;
	}
	*seen = *(volatile uint64_t *)p;
	if (write)
		*(volatile uint64_t *)p = val;
	armed = 0;
	return 0;
}

static int pick_live(void)
{
	int i, n = (int)below(MAX_REGIONS);

	for (i = 0; i < MAX_REGIONS; i++) {
		int r = (n + i) % MAX_REGIONS;

		if (regions[r].live)
			return r;
	}
	return -1;
}

static int free_slot_region(void)
{
	int i;

	for (i = 0; i < MAX_REGIONS; i++)
		if (!regions[i].live)
			return i;
	return -1;
}

/* the memory of region r moved or went: its mappings must fault now */
static void region_gone(int r)
{
	int i;

	for (i = 0; i < MAX_MAPS; i++)
		if (maps[i].used && maps[i].region == r)
			maps[i].region = -1;
}

static uint64_t rand_len(void)
{
	static const uint64_t lens[] = {
		0, 1, 4095, 4096, 5000, SZ_1M, SZ_2M + 1, 8 * SZ_1M, 24 * SZ_1M,
		UINT64_MAX, UINT64_MAX - 4000, 1ULL << 40, 1ULL << 63,
	};

	if (below(3))
		return lens[below(sizeof(lens) / sizeof(lens[0]))];
	return 1 + below(16 * SZ_1M);
}

static void tag_region(int r, bool fresh);

static void op_alloc(void)
{
	static const int ok[] = { EINVAL, ENODEV, ENOMEM, 0 };
	static const int nodes[] = { -1, -1, 0, 1, 2, -2, 1024, 7 };
	struct lazy_cma_allocation_data a;
	int r = free_slot_region();
	long ret;

	if (r < 0)
		return;
	memset(&a, 0, sizeof(a));
	a.len = rand_len();
	a.node = nodes[below(8)];
	a.flags = below(8) ? 0 : (uint32_t)rnd();
	snprintf(a.name, sizeof(a.name), "fuzz %d", r);
	if (!below(10))
		a.name[3] = (char)below(256);
	if (!below(20))
		memset(a.name, 'z', sizeof(a.name));
	ret = ioctl(fd, LAZY_CMA_IOCTL_ALLOC, &a);
	expect_errno("alloc", ret, ok);
	if (ret)
		return;
	if (a.phys_addr % SZ_2M)
		fail("alloc", "start 0x%lx not 2 MiB aligned (%ld)", (long)a.phys_addr, 0);
	n_alloc++;
	regions[r] = (struct region){ .live = true, .phys = a.phys_addr,
				      .len = (a.len + 4095) & ~4095ULL, .tag = rnd() | 1 };
	tag_region(r, true);
}

/*
 * Check region r's first word through a short-lived mapping, then write its
 * tag there: a fresh region must read 0, a tagged one exactly its tag (never
 * 0: tags are odd).
 */
static void tag_region(int r, bool fresh)
{
	uint64_t *m = mmap(NULL, SZ_4K, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			   (off_t)regions[r].phys);

	if (m == MAP_FAILED)
		fail("tag mmap", "errno %ld region %ld", errno, r);
	if (fresh && m[0] != 0)
		fail("contents", "new region reads 0x%lx, not 0 (region %ld)", (long)m[0], r);
	if (!fresh && m[0] != regions[r].tag)
		fail("contents", "tag lost: reads 0x%lx (region %ld)", (long)m[0], r);
	m[0] = regions[r].tag;
	munmap(m, SZ_4K);
}

static void op_resize(void)
{
	static const int ok[] = { EINVAL, ENOMEM, ENOENT, 0 };
	struct lazy_cma_resize_data d;
	int r = pick_live();
	long ret;

	if (r < 0 || below(8) == 0) {
		d.phys_addr = rnd() & ~(below(2) ? 0 : 4095ULL);
		d.len = rand_len();
		ret = ioctl(fd, LAZY_CMA_IOCTL_RESIZE, &d);
		if (!ret)
			fail("resize", "a random address 0x%lx resized (%ld)", (long)d.phys_addr, 0);
		expect_errno("resize random", ret, ok);
		return;
	}
	tag_region(r, false);
	d.phys_addr = regions[r].phys;
	d.len = rand_len();
	ret = ioctl(fd, LAZY_CMA_IOCTL_RESIZE, &d);
	expect_errno("resize", ret, ok);
	if (ret)
		return;
	n_resize++;
	if (d.phys_addr != regions[r].phys) {
		n_moved++;
		region_gone(r);
	} else
		for (int i = 0; i < MAX_MAPS; i++)
			if (maps[i].used && maps[i].region == r &&
			    maps[i].limit > d.phys_addr + d.len)
				maps[i].limit = d.phys_addr + d.len;
	regions[r].phys = d.phys_addr;
	regions[r].len = d.len;
	tag_region(r, false);
}

static void op_free(void)
{
	static const int ok[] = { ENOENT, 0 };
	int r = pick_live();
	__u64 a;
	long ret;

	if (r < 0 || !below(6)) {
		a = below(2) ? rnd() : (r >= 0 ? regions[r].phys + SZ_4K : 0);
		ret = ioctl(fd, LAZY_CMA_IOCTL_FREE, &a);
		if (!ret)
			fail("free", "0x%lx was not a region start (%ld)", (long)a, 0);
		expect_errno("free random", ret, ok);
		return;
	}
	a = regions[r].phys;
	ret = ioctl(fd, LAZY_CMA_IOCTL_FREE, &a);
	if (ret)
		fail("free", "errno %ld freeing a live region (%ld)", errno, r);
	n_free++;
	regions[r].live = false;
	region_gone(r);
}

static void op_mmap(void)
{
	int r = pick_live(), i;
	uint64_t off, len;
	char *m;

	/* reuse a free slot, else one whose memory is gone, else any */
	for (i = 0; i < MAX_MAPS && maps[i].used; i++)
		;
	for (int j = 0; i == MAX_MAPS && j < MAX_MAPS; j++)
		if (maps[j].region < 0)
			i = j;
	if (i == MAX_MAPS)
		i = (int)below(MAX_MAPS);
	if (r < 0)
		return;
	if (maps[i].used)
		munmap(maps[i].addr, maps[i].len);
	maps[i].used = false;
	off = below(regions[r].len / SZ_4K) * SZ_4K;
	len = (1 + below((regions[r].len - off) / SZ_4K)) * SZ_4K;
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)(regions[r].phys + off));
	if (m == MAP_FAILED)
		fail("mmap", "errno %ld inside live region %ld", errno, r);
	maps[i] = (struct map){ .used = true, .addr = m, .len = len, .region = r,
				.phys = regions[r].phys + off, .limit = UINT64_MAX };
}

/* must touching physical address @pa through @mp fault? */
static bool must_fault(struct map *mp, uint64_t pa)
{
	struct region *r;

	if (mp->region < 0)
		return true;
	r = &regions[mp->region];
	return pa < r->phys || pa >= r->phys + r->len || pa >= mp->limit;
}

static void op_touch(void)
{
	struct map *mp = &maps[below(MAX_MAPS)];
	uint64_t off, seen, pa;
	int faulted;

	if (!mp->used)
		return;
	off = below(mp->len / 8) * 8;
	pa = mp->phys + off;
	/* never overwrite a region's tag word */
	faulted = touch(mp->addr + off, mp->region < 0 || pa != regions[mp->region].phys,
			rnd(), &seen);
	if (faulted)
		n_stale++;
	else
		n_live++;
	if (faulted != must_fault(mp, pa))
		fail(faulted ? "touch: SIGBUS on live memory" : "touch: stale mapping read data",
		     "region %ld offset %ld", mp->region, (long)off);
}

static void op_munmap(void)
{
	struct map *mp = &maps[below(MAX_MAPS)];

	if (!mp->used)
		return;
	munmap(mp->addr, mp->len);
	mp->used = false;
}

static void op_list(void)
{
	static const int ok[] = { EINVAL, EFAULT, 0 };
	static struct lazy_cma_region_info v[8];
	struct lazy_cma_list_data ld;
	int live = 0, i;
	long ret;

	memset(&ld, 0, sizeof(ld));
	ld.entry_size = below(4) ? sizeof(v[0]) : (uint32_t)below(5000);
	ld.max_entries = (uint32_t)below(9);
	ld.start = below(2) ? 0 : rnd();
	/* a bad pointer is a kernel address: never memory of ours */
	ld.entries = below(8) ? (uintptr_t)v : rnd() | (1ULL << 63);
	if (ld.entry_size * ld.max_entries > sizeof(v) && ld.entries == (uintptr_t)v)
		ld.max_entries = sizeof(v) / (ld.entry_size ? ld.entry_size : 1);
	ret = ioctl(fd, LAZY_CMA_IOCTL_LIST, &ld);
	expect_errno("list", ret, ok);
	if (ret)
		return;
	for (i = 0; i < MAX_REGIONS; i++)
		live += regions[i].live;
	if ((int)ld.nr_regions != live)
		fail("list", "%ld regions listed, %ld live", ld.nr_regions, live);
}

static void op_bad_cmd(void)
{
	static char junk[256];
	/* our type byte, or one no VFS-level ioctl uses */
	unsigned int cmd = ((unsigned int)rnd() & ~0xff00u) | ((below(4) ? 'H' : 'Z') << 8);
	long ret;

	if (cmd == LAZY_CMA_IOCTL_ALLOC || cmd == LAZY_CMA_IOCTL_RESIZE ||
	    cmd == LAZY_CMA_IOCTL_FREE || cmd == LAZY_CMA_IOCTL_LIST ||
	    cmd == LAZY_CMA_IOCTL_KDUMP)
		return;
	ret = ioctl(fd, cmd, junk);
	if (ret != -1 || errno != ENOTTY)
		fail("ioctl", "cmd 0x%lx gave errno %ld, not ENOTTY", cmd, errno);
}

static void op_heap(void)
{
	static const int ok[] = { EINVAL, ENOMEM, 0 };
	struct dma_heap_allocation_data d;
	int i = (int)below(MAX_BUFS);
	long ret;

	if (heap < 0)
		return;
	if (bufs[i] >= 0) {
		if (below(2)) {
			uint64_t *m = mmap(NULL, SZ_4K, PROT_READ | PROT_WRITE, MAP_SHARED,
					   bufs[i], 0);

			if (m == MAP_FAILED)
				fail("heap mmap", "errno %ld (%ld)", errno, 0);
			m[1] = m[0] + 1;
			munmap(m, SZ_4K);
		}
		close(bufs[i]);
		bufs[i] = -1;
		return;
	}
	memset(&d, 0, sizeof(d));
	d.len = below(4) ? 1 + below(8 * SZ_1M) : rand_len();
	d.fd_flags = below(6) ? O_RDWR | O_CLOEXEC : (uint32_t)rnd();
	d.heap_flags = below(8) ? 0 : rnd();
	d.fd = below(8) ? 0 : (uint32_t)rnd();
	ret = ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &d);
	expect_errno("heap alloc", ret, ok);
	if (!ret) {
		n_heap++;
		bufs[i] = (int)d.fd;
	}
}

static void op_fork(void)
{
	struct map *mp = &maps[below(MAX_MAPS)];
	int status;
	pid_t pid;

	if (!mp->used)
		return;
	pid = fork();
	if (pid < 0)
		fail("fork", "errno %ld (%ld)", errno, 0);
	if (!pid) {
		uint64_t seen;
		int faulted = touch(mp->addr, false, 0, &seen);

		_exit(faulted ? 2 : 0);
	}
	waitpid(pid, &status, 0);
	n_fork++;
	if (!WIFEXITED(status))
		fail("fork", "child died with status 0x%lx (%ld)", status, 0);
	if ((WEXITSTATUS(status) == 2) != must_fault(mp, mp->phys))
		fail("fork", "child of a mapping of region %ld: exit %ld", mp->region,
		     WEXITSTATUS(status));
}

int main(int argc, char **argv)
{
	double seconds = 30, t0;
	long max_iter = -1;
	struct timespec ts;
	int c, i;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
	while ((c = getopt(argc, argv, "s:t:n:")) != -1) {
		if (c == 's')
			seed = strtoull(optarg, NULL, 0);
		else if (c == 't')
			seconds = atof(optarg);
		else if (c == 'n')
			max_iter = atol(optarg);
		else
			return 2;
	}
	rng = seed ? seed : 1;
	printf("TAP version 13\n1..1\n# seed %llu\n", (unsigned long long)seed);
	fflush(stdout);

	signal(SIGBUS, on_sigbus);
	fd = lc_open();
	if (fd < 0)
		fail("open", "errno %ld (%ld)", errno, 0);
	heap = open("/dev/dma_heap/lazy_cma-node0", O_RDWR | O_CLOEXEC);
	for (i = 0; i < MAX_BUFS; i++)
		bufs[i] = -1;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = ts.tv_sec + ts.tv_nsec / 1e9;
	for (iter = 0; max_iter < 0 || iter < max_iter; iter++) {
		if (max_iter < 0 && !(iter % 16)) {
			clock_gettime(CLOCK_MONOTONIC, &ts);
			if (ts.tv_sec + ts.tv_nsec / 1e9 - t0 > seconds)
				break;
		}
		switch (below(16)) {
		case 0: case 1: op_alloc(); break;
		case 2: if (below(2)) op_resize(); break;
		case 3: if (!below(3)) op_free(); break;
		case 4: case 5: op_mmap(); break;
		case 6: case 7: case 8: case 9: op_touch(); break;
		case 10: op_munmap(); break;
		case 11: op_list(); break;
		case 12: op_bad_cmd(); break;
		case 13: op_heap(); break;
		default: op_fork(); break;
		}
	}

	for (i = 0; i < MAX_MAPS; i++)
		if (maps[i].used)
			munmap(maps[i].addr, maps[i].len);
	for (i = 0; i < MAX_BUFS; i++)
		if (bufs[i] >= 0)
			close(bufs[i]);
	for (i = 0; i < MAX_REGIONS; i++) {
		__u64 a = regions[i].phys;

		if (regions[i].live && ioctl(fd, LAZY_CMA_IOCTL_FREE, &a))
			fail("cleanup", "errno %ld freeing region %ld", errno, i);
	}
	if (lc_count(fd) != 0)
		fail("cleanup", "%ld regions left (%ld)", lc_count(fd), 0);
	for (i = 0; i < MAX_REGIONS; i++) {
		char n[16];

		snprintf(n, sizeof(n), "fuzz %d", i);
		if (iomem_count(n))
			fail("cleanup", "/proc/iomem still has region %ld (%ld)", i, 0);
	}
	printf("# allocs %ld, resizes %ld (%ld moved), frees %ld, heap buffers %ld, forks %ld\n",
	       n_alloc, n_resize, n_moved, n_free, n_heap, n_fork);
	printf("# touches: %ld of live memory, %ld SIGBUS as expected\n", n_live, n_stale);
	printf("ok 1 fuzz seed=%llu iterations=%ld\n", (unsigned long long)seed, iter);
	printf("# Totals: pass:1 fail:0 xfail:0 xpass:0 skip:0 error:0\n");
	return 0;
}
