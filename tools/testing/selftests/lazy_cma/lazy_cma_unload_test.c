// SPDX-License-Identifier: GPL-2.0
/*
 * Module unload frees every region: /proc/iomem and each node's free memory
 * return to what they were (to within less than one 2 MiB region), and the
 * module cannot go while someone holds /dev/lazy_cma.  Free memory is
 * compared between two states with the module loaded (before the regions,
 * and after rmmod and a reload with the same parameters): the module's own
 * memory, which rmmod gives back too (2 MiB of text pages on 7.3), must not
 * hide a leak.  Then, with heaps (reloaded with its defaults), every heap
 * buffer and descriptor is gone once closed.  Reloads the module from
 * $LAZY_CMA_KO.  Run it last.
 */
#include <dirent.h>
#include <linux/dma-heap.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "lazy_cma_lib.h"
#include "kselftest_harness.h"

/*
 * A leak of one 2 MiB region must fail: per node, free memory may come back
 * at most this much short.  Node 1 (hot-plugged, ZONE_MOVABLE) holds no
 * kernel memory at all: it comes back to within a few pages.
 */
#define LEAK_SLACK_KB		1024
/* against the machine before the module was loaded: the suite ran since */
#define SUITE_SLACK_KB		(16 * 1024)
#define NODES			2

static int unload(void)
{
	return syscall(__NR_delete_module, "lazy_cma", O_NONBLOCK) ? -errno : 0;
}

static int load(const char *params)
{
	const char *ko = getenv("LAZY_CMA_KO");
	int fd, ret;

	if (!ko)
		return -ENOENT;
	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(__NR_finit_module, fd, params, 0) ? -errno : 0;
	close(fd);
	return ret;
}

/*
 * Free pages waiting in the per-CPU lists of node @nid (-1: all) in a
 * /proc/zoneinfo snapshot, in kB: MemFree leaves them out, and freeing a
 * region can park tens of MB there (the lists' size is tuned at run time).
 */
static long pcp_kb(const char *path, int nid)
{
	char line[256];
	long kb = 0, n;
	int node = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node %d, zone", &node) == 1)
			continue;
		if ((nid < 0 || node == nid) && sscanf(line, " count: %ld", &n) == 1)
			kb += n * (getpagesize() / 1024);
	}
	fclose(f);
	return kb;
}

/* free pages (with per-CPU lists) of node @nid's zones in a /proc/zoneinfo snapshot, kB */
static long zone_free_kb(const char *path, int nid)
{
	char line[256];
	long kb = -1, n;
	int node = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node %d, zone", &node) == 1)
			continue;
		if (node == nid && sscanf(line, " nr_free_pages %ld", &n) == 1)
			kb = (kb < 0 ? 0 : kb) + n * (getpagesize() / 1024);
	}
	fclose(f);
	return kb < 0 ? -1 : kb + pcp_kb(path, nid);
}

static void settle(void)
{
	sync();
	write_str("/proc/sys/vm/drop_caches", "3");
	write_str("/proc/sys/vm/compact_memory", "1");
}

/*
 * Free memory of each node, settled, in kB: MemFree + per-CPU lists + Slab.
 * Slab, because freeing our objects can grow the kernel's caches (a debug
 * kernel's KASAN quarantine holds freed objects for a while): leaked slab
 * objects are kmemleak's to find, this looks for pages.
 */
static void free_per_node(long kb[NODES])
{
	int nid;

	settle();
	for (nid = 0; nid < NODES; nid++) {
		long mf = node_meminfo_kb(nid, "MemFree");

		kb[nid] = mf < 0 ? -1 : mf + pcp_kb("/proc/zoneinfo", nid) +
				     node_meminfo_kb(nid, "Slab");
	}
}

static long refcnt(void)
{
	return read_long("/sys/module/lazy_cma/refcnt");
}

/* descriptors of this process */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* live buffers of every heap, from debugfs; -1 if it cannot be read */
static long heap_buffers(void)
{
	char line[256], name[64];
	long b, by, a, f, sum = 0;
	FILE *fp = fopen("/sys/kernel/debug/lazy_cma/heaps", "r");

	if (!fp)
		return -1;
	while (fgets(line, sizeof(line), fp))
		if (sscanf(line, "%63s %ld %ld %ld %ld", name, &b, &by, &a, &f) == 5)
			sum += b;
	fclose(fp);
	return sum;
}

/* every node's free memory back to @before, short by less than @slack kB */
static void expect_free_back(struct __test_metadata *_metadata, const char *what,
			     long before[NODES], long after[NODES], long slack)
{
	int nid;

	for (nid = 0; nid < NODES; nid++) {
		if (before[nid] < 0)
			continue;
		TH_LOG("%s: node %d free %ld kB, before %ld kB (%+ld kB)", what, nid,
		       after[nid], before[nid], after[nid] - before[nid]);
		EXPECT_GT(slack, before[nid] - after[nid]);
	}
}

TEST(rmmod_refused_while_open)
{
	int fd = lc_open();

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EWOULDBLOCK, unload());
	close(fd);
	EXPECT_EQ(0, access(LC_DEV, F_OK));
}

FIXTURE(unload) {
	int unused;
};

FIXTURE_SETUP(unload)
{
}

FIXTURE_TEARDOWN(unload)
{
}

TEST_F_TIMEOUT(unload, rmmod_frees_everything, 300)
{
	long before[NODES], after[NODES], gone[NODES], pre[NODES], pre_slab, now_slab, now0;
	long iomem_lines_before;
	/* reloaded as it was: with heaps (node 0's is there) or without */
	const char *params = access("/dev/dma_heap/lazy_cma-node0", F_OK) ? "heaps=0" : "";
	uint64_t phys;
	int fd, fds, i;

	free_per_node(before);
	iomem_lines_before = iomem_count("Crash kernel");
	fds = count_fds();
	fd = lc_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, lc_count(fd));
	ASSERT_EQ(0, lc_alloc(fd, 64 * SZ_1M, 0, "unload0", &phys));
	ASSERT_EQ(0, lc_alloc(fd, SZ_2M, 0, "unload-2m", &phys));
	if (before[1] >= 0) {
		ASSERT_EQ(0, lc_alloc(fd, 64 * SZ_1M, 1, "unload1", &phys));
		ASSERT_EQ(0, lc_alloc(fd, SZ_2M, 1, "unload-2m", &phys));
	}
	ASSERT_EQ(0, lc_alloc(fd, 16 * SZ_1M, -1, "Crash kernel", &phys));
	for (i = 0; i < 32; i++)
		ASSERT_EQ(0, lc_alloc(fd, SZ_4K, -1, "unload-small", &phys));
	close(fd);
	free_per_node(after);
	EXPECT_LE(after[0], before[0] - 64 * 1024);
	if (before[1] >= 0)
		EXPECT_LE(after[1], before[1] - 64 * 1024);

	/* nobody holds the module: no descriptor, no buffer left anywhere */
	EXPECT_EQ(fds, count_fds());
	EXPECT_EQ(0, refcnt());
	ASSERT_EQ(0, unload());
	EXPECT_NE(0, access(LC_DEV, F_OK));
	EXPECT_EQ(0, iomem_count("unload0"));
	EXPECT_EQ(0, iomem_count("unload1"));
	EXPECT_EQ(0, iomem_count("unload-2m"));
	EXPECT_EQ(0, iomem_count("unload-small"));
	EXPECT_EQ(iomem_lines_before, iomem_count("Crash kernel"));
	free_per_node(gone);

	/*
	 * Against the machine before the module was ever loaded (the runner
	 * snapshots /proc/meminfo and /proc/zoneinfo then), both without the
	 * module.  Node 1 holds only movable memory and must come back as
	 * tightly; node 0's Slab is added back on both sides, and it may come
	 * back 16 MiB short: the suite grows the kernel's own caches.  The
	 * snapshot has per-zone free pages, not per-node MemFree: node 0's
	 * share is the whole machine's minus node 1's.
	 */
	pre_slab = meminfo_file_kb("/tmp/meminfo_before_load", "Slab");
	now_slab = meminfo_kb("Slab");
	pre[1] = zone_free_kb("/tmp/zoneinfo_before_load", 1);
	pre[0] = meminfo_file_kb("/tmp/meminfo_before_load", "MemFree") +
		 pcp_kb("/tmp/zoneinfo_before_load", -1) + pre_slab - (pre[1] > 0 ? pre[1] : 0);
	now0 = meminfo_kb("MemFree") + pcp_kb("/proc/zoneinfo", -1) + now_slab -
	       (gone[1] > 0 ? gone[1] : 0);

	/* it comes back empty, as it was loaded; then as much is free as before */
	ASSERT_EQ(0, load(params));
	fd = lc_open();
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, lc_count(fd));
	close(fd);
	free_per_node(after);
	expect_free_back(_metadata, "after rmmod and reload", before, after, LEAK_SLACK_KB);

	ASSERT_LE(0, pre_slab) TH_LOG("no snapshot from before the module was loaded");
	ASSERT_LE(0, now_slab);
	TH_LOG("Slab %+ld kB since before load", now_slab - pre_slab);
	if (gone[1] >= 0) {
		TH_LOG("since before load: node 1 free %ld kB, before %ld kB (%+ld kB)",
		       gone[1], pre[1], gone[1] - pre[1]);
		EXPECT_GT(LEAK_SLACK_KB, pre[1] - gone[1]);
	}
	TH_LOG("since before load: node 0 free+Slab %ld kB, before %ld kB (%+ld kB)",
	       now0, pre[0], now0 - pre[0]);
	EXPECT_GT(SUITE_SLACK_KB, pre[0] - now0);
}

/*
 * Heap buffers: none is left once its descriptors and mappings are gone,
 * none of their descriptors leaks (not even from a refused request), and
 * their memory comes back.  Where heaps are misc devices the module then
 * unloads; framework heaps pin it for good.
 */
TEST_F_TIMEOUT(unload, heap_buffers_and_fds_released, 300)
{
	static const uint64_t sizes[] = { SZ_4K, SZ_2M, 8 * SZ_1M + SZ_4K };
	long before[NODES], after[NODES], base_ref;
	int nid, fds, heap, bufs[NODES][3], n = 0;
	bool misc = !strcmp(kernel_heap_reg(), "misc");
	char path[64];
	unsigned int i;

	/* loaded without heaps (the unload boot): with its defaults now */
	if (access("/dev/dma_heap/lazy_cma-node0", F_OK)) {
		ASSERT_EQ(0, unload());
		ASSERT_EQ(0, load(""));
	}
	ASSERT_EQ(0, access("/dev/dma_heap/lazy_cma-node0", F_OK));
	free_per_node(before);
	fds = count_fds();
	base_ref = refcnt();
	/* framework heaps hold one reference each; misc heaps none */
	if (misc)
		EXPECT_EQ(0, base_ref);
	EXPECT_EQ(0, heap_buffers());
	for (nid = 0; nid < NODES; nid++) {
		struct dma_heap_allocation_data d = { .len = SZ_1M, .fd_flags = O_RDWR };

		snprintf(path, sizeof(path), "/dev/dma_heap/lazy_cma-node%d", nid);
		heap = open(path, O_RDWR | O_CLOEXEC);
		if (heap < 0 && before[nid] < 0)
			continue;
		ASSERT_LE(0, heap) TH_LOG("%s: %s", path, strerror(errno));
		for (i = 0; i < 3; i++) {
			d.len = sizes[i];
			d.fd = 0;
			ASSERT_EQ(0, ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &d));
			bufs[nid][i] = (int)d.fd;
			n++;
		}
		/* refused requests leave no descriptor behind */
		EXPECT_EQ(-1, ioctl(heap, DMA_HEAP_IOCTL_ALLOC, NULL));
		d.len = 1ULL << 40;
		d.fd = 0;
		EXPECT_EQ(-1, ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &d));
		close(heap);
	}
	EXPECT_EQ(n, heap_buffers());
	for (nid = 0; nid < NODES; nid++) {
		char *m;

		if (before[nid] < 0)
			continue;
		/* the mapping outlives the descriptor, then goes too */
		m = mmap(NULL, SZ_2M, PROT_READ | PROT_WRITE, MAP_SHARED, bufs[nid][1], 0);
		ASSERT_NE(MAP_FAILED, m);
		for (i = 0; i < 3; i++)
			close(bufs[nid][i]);
		memset(m, 0x3c, SZ_2M);
		munmap(m, SZ_2M);
	}
	EXPECT_EQ(fds, count_fds());
	EXPECT_EQ(0, heap_buffers());
	EXPECT_EQ(0, iomem_count("lazy_cma-node0 dma-buf"));
	EXPECT_EQ(0, iomem_count("lazy_cma-node1 dma-buf"));
	EXPECT_EQ(base_ref, refcnt());
	free_per_node(after);
	expect_free_back(_metadata, "buffers closed", before, after, LEAK_SLACK_KB);

	if (!misc) {
		/* registered framework heaps can never go: the module pinned itself */
		EXPECT_EQ(-EWOULDBLOCK, unload());
		return;
	}
	ASSERT_EQ(0, unload());
	EXPECT_NE(0, access("/dev/dma_heap/lazy_cma-node0", F_OK));
	ASSERT_EQ(0, load(""));
}

TEST_HARNESS_MAIN
