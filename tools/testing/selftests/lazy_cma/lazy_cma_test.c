// SPDX-License-Identifier: GPL-2.0
/*
 * lazy_cma selftests: /dev/lazy_cma regions in a real kernel.
 *
 * Needs root, lazy_cma loaded, and ideally a second NUMA node whose memory
 * was hot-plugged (tools/testing/vm/run sets that up).  Every claim of the
 * driver is checked against an independent source where one exists:
 * /proc/iomem, the sysfs memory blocks of each node, the page contents
 * through mmap.
 */
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>

#include "lazy_cma_lib.h"
#include "kselftest_harness.h"

/* run @call, expect -1 and errno @err */
#define EXPECT_ERRNO(err, call) do {				\
		errno = 0;					\
		EXPECT_EQ(-1, (long)(call));			\
		EXPECT_EQ(err, errno);				\
	} while (0)

/* is @node in /sys/devices/system/node/has_memory? */
static bool node_has_memory(int node)
{
	char buf[256], *p, *save;
	bool found = false;
	FILE *f = fopen("/sys/devices/system/node/has_memory", "r");

	if (!f)
		return false;
	if (fgets(buf, sizeof(buf), f)) {
		for (p = strtok_r(buf, ",\n", &save); p; p = strtok_r(NULL, ",\n", &save)) {
			int a, b;

			if (sscanf(p, "%d-%d", &a, &b) == 2)
				found |= node >= a && node <= b;
			else if (sscanf(p, "%d", &a) == 1)
				found |= node == a;
		}
	}
	fclose(f);
	return found;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fill(void *p, uint64_t len, uint64_t seed)
{
	uint64_t *q = p, i;

	for (i = 0; i < len / 8; i++)
		q[i] = pattern(i, seed);
}

/* index of the first 8-byte word that differs, or -1 */
static long check_fill(const void *p, uint64_t len, uint64_t seed)
{
	const uint64_t *q = p;
	uint64_t i;

	for (i = 0; i < len / 8; i++)
		if (q[i] != pattern(i, seed))
			return (long)i;
	return -1;
}

static long check_zero(const void *p, uint64_t len)
{
	const uint64_t *q = p;
	uint64_t i;

	for (i = 0; i < len / 8; i++)
		if (q[i])
			return (long)i;
	return -1;
}

static void *map_region(int fd, uint64_t phys, uint64_t len)
{
	return mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)phys);
}

struct touch {
	volatile char *p;
};

static void touch_fn(void *arg)
{
	struct touch *t = arg;

	t->p[0] = 1;
	(void)t->p[0];
}

/* wait status of a child that writes one byte at @p */
static int touch_in_child(void *p)
{
	struct touch t = { .p = p };

	return in_child(touch_fn, &t);
}

FIXTURE(lc) {
	int fd;
};

FIXTURE_SETUP(lc)
{
	self->fd = lc_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", LC_DEV, strerror(errno));
}

FIXTURE_TEARDOWN(lc)
{
	lc_free_all(self->fd);
	close(self->fd);
}

/* ---- per-node variants: node 0 (boot memory) and node 1 (hot-plugged) ---- */

FIXTURE(node) {
	int fd;
};

FIXTURE_VARIANT(node) {
	int node;
};

FIXTURE_VARIANT_ADD(node, node0) {
	.node = 0,
};

FIXTURE_VARIANT_ADD(node, node1_hotplugged) {
	.node = 1,
};

FIXTURE_SETUP(node)
{
	self->fd = lc_open();
	ASSERT_LE(0, self->fd);
	if (!node_has_memory(variant->node))
		SKIP(return, "node %d has no memory on this machine", variant->node);
}

FIXTURE_TEARDOWN(node)
{
	lc_free_all(self->fd);
	close(self->fd);
}

TEST(device_node_mode)
{
	struct stat st;

	ASSERT_EQ(0, stat(LC_DEV, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0600, st.st_mode & 07777);
	EXPECT_EQ(0, st.st_uid);
}

TEST(seed_example)
{
	char out[256] = "";
	unsigned long long phys = 0;
	int fd = lc_open(), before, status;
	FILE *p;

	ASSERT_LE(0, fd);
	before = lc_count(fd);
	p = popen("./seed_example", "r");
	ASSERT_NE(NULL, p);
	ASSERT_NE(NULL, fgets(out, sizeof(out), p));
	status = pclose(p);
	EXPECT_EQ(0, status);
	ASSERT_EQ(1, sscanf(out, "phys_addr: 0x%llx", &phys)) TH_LOG("output: %s", out);
	EXPECT_NE(0, phys);
	EXPECT_EQ(0, phys % SZ_2M);
	/* it freed what it made: nothing left, no "Crash kernel" line */
	EXPECT_EQ(before, lc_count(fd));
	EXPECT_EQ(0, iomem_count("Crash kernel"));
	close(fd);
}

TEST_F(node, alloc_iomem_and_node)
{
	struct lazy_cma_region_info info;
	uint64_t phys, len = 4 * SZ_1M;

	ASSERT_EQ(0, lc_alloc(self->fd, len, variant->node, "lc selftest", &phys));
	EXPECT_EQ(0, phys % SZ_2M);
	EXPECT_TRUE(iomem_has(phys, phys + len - 1, "lc selftest"));
	/* the node, as the kernel's own memory-block view tells it */
	EXPECT_EQ(variant->node, phys_node(phys));
	EXPECT_EQ(variant->node, phys_node(phys + len - 1));
	ASSERT_EQ(0, lc_find(self->fd, phys, &info));
	EXPECT_EQ(len, info.len);
	EXPECT_EQ(variant->node, info.node);
	EXPECT_STREQ("lc selftest", info.name);
	EXPECT_EQ(0, info.map_count);

	ASSERT_EQ(0, lc_free(self->fd, phys));
	EXPECT_FALSE(iomem_has(phys, phys + len - 1, NULL));
	EXPECT_EQ(-ENOENT, lc_find(self->fd, phys, &info));
}

TEST_F(lc, default_name_and_rounding)
{
	struct lazy_cma_region_info info;
	uint64_t phys;

	ASSERT_EQ(0, lc_alloc(self->fd, 5000, -1, "", &phys));
	ASSERT_EQ(0, lc_find(self->fd, phys, &info));
	EXPECT_EQ(2 * SZ_4K, info.len);
	EXPECT_STREQ("lazy_cma", info.name);
	EXPECT_TRUE(iomem_has(phys, phys + 2 * SZ_4K - 1, "lazy_cma"));
	EXPECT_EQ(info.node, phys_node(phys));
}

TEST_F(lc, any_node_and_alignment)
{
	uint64_t phys[4];
	int i;

	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, lc_alloc(self->fd, SZ_4K * (i + 1), -1, "align", &phys[i]));
		EXPECT_EQ(0, phys[i] % SZ_2M);
		EXPECT_TRUE(node_has_memory(phys_node(phys[i])));
	}
	EXPECT_EQ(4, iomem_count("align"));
	for (i = 0; i < 4; i++)
		EXPECT_EQ(0, lc_free(self->fd, phys[i]));
	EXPECT_EQ(0, iomem_count("align"));
}

TEST_F(lc, alloc_einval)
{
	struct lazy_cma_allocation_data a;
	long nr_nodes = 0;
	char path[64];

	/* nodes the kernel could ever have: the first absent nodeN dir */
	for (nr_nodes = 0; nr_nodes < 4096; nr_nodes++) {
		struct stat st;

		snprintf(path, sizeof(path), "/sys/devices/system/node/node%ld", nr_nodes);
		if (stat(path, &st))
			break;
	}

#define ALLOC_EINVAL(field_init) do {					\
		memset(&a, 0, sizeof(a));				\
		a.len = SZ_1M;						\
		a.node = -1;						\
		field_init;						\
		EXPECT_ERRNO(EINVAL, ioctl(self->fd, LAZY_CMA_IOCTL_ALLOC, &a)); \
	} while (0)

	ALLOC_EINVAL(a.len = 0);
	ALLOC_EINVAL(a.len = UINT64_MAX);
	ALLOC_EINVAL(a.len = UINT64_MAX - 100);
	ALLOC_EINVAL(a.flags = 1);
	ALLOC_EINVAL(a.flags = 0x80000000u);
	ALLOC_EINVAL(a.node = -2);
	ALLOC_EINVAL(a.node = INT_MIN);
	ALLOC_EINVAL(a.node = INT_MAX);
	ALLOC_EINVAL(a.node = 1 << 20);
	ALLOC_EINVAL(memset(a.name, 'A', sizeof(a.name)));
	ALLOC_EINVAL(strcpy(a.name, "new\nline"));
	ALLOC_EINVAL(strcpy(a.name, "del\x7f"));
	ALLOC_EINVAL(strcpy(a.name, "high\xc3\xa9"));
	EXPECT_EQ(0, lc_count(self->fd));
	TH_LOG("%ld possible nodes", nr_nodes);
}

TEST_F(lc, alloc_enomem)
{
	char buf[32];
	long old;
	uint64_t phys;

	EXPECT_EQ(-ENOMEM, lc_alloc(self->fd, 1ULL << 40, -1, "huge", &phys));
	EXPECT_EQ(-ENOMEM, lc_alloc(self->fd, 1ULL << 40, 0, "huge", &phys));
	/* more than node 1 has at all */
	if (node_has_memory(1))
		EXPECT_EQ(-ENOMEM, lc_alloc(self->fd, 2 * SZ_1G, 1, "huge", &phys));

	/* the safety margin: a node may not go below watermarks + reserve_mb */
	old = read_long("/sys/module/lazy_cma/parameters/reserve_mb");
	ASSERT_LE(0, old);
	ASSERT_EQ(0, write_str("/sys/module/lazy_cma/parameters/reserve_mb", "1000000"));
	EXPECT_EQ(-ENOMEM, lc_alloc(self->fd, SZ_4K, 0, "margin", &phys));
	EXPECT_EQ(-ENOMEM, lc_alloc(self->fd, SZ_4K, -1, "margin", &phys));
	snprintf(buf, sizeof(buf), "%ld", old);
	ASSERT_EQ(0, write_str("/sys/module/lazy_cma/parameters/reserve_mb", buf));
	EXPECT_EQ(0, lc_alloc(self->fd, SZ_4K, 0, "margin", &phys));
	EXPECT_EQ(0, iomem_count("huge"));
}

static int set_node_blocks(int node, const char *state)
{
	char path[256];
	int i, ret = 0, n = 0;

	for (i = 0; i < 4096; i++) {
		struct stat st;

		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/memory%d/state",
			 node, i);
		if (stat(path, &st))
			continue;
		n++;
		if (write_str(path, state))
			ret = -1;
	}
	return n ? ret : -1;
}

TEST_F_TIMEOUT(lc, node_without_memory_enodev, 120)
{
	uint64_t phys;

	if (!node_has_memory(1))
		SKIP(return, "no node 1");
	/* take all of hot-plugged node 1 away, as unplugging CXL memory would */
	ASSERT_EQ(0, set_node_blocks(1, "offline"));
	EXPECT_FALSE(node_has_memory(1));
	EXPECT_EQ(-ENODEV, lc_alloc(self->fd, SZ_1M, 1, "gone", &phys));
	EXPECT_EQ(0, set_node_blocks(1, "online_movable"));
	ASSERT_TRUE(node_has_memory(1));
	/* and memory that comes (back) online is usable at once */
	EXPECT_EQ(0, lc_alloc(self->fd, 64 * SZ_1M, 1, "back", &phys));
	EXPECT_EQ(1, phys_node(phys));
}

/* the memory block of @phys, or -1 */
static long phys_block(uint64_t phys)
{
	char buf[64];
	FILE *f = fopen("/sys/devices/system/memory/block_size_bytes", "r");
	unsigned long long bs = 0;

	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f))
		bs = strtoull(buf, NULL, 16);
	fclose(f);
	return bs ? (long)(phys / bs) : -1;
}

TEST_F_TIMEOUT(lc, offline_block_with_region_fails, 120)
{
	char path[128];
	uint64_t phys;
	long blk;

	if (!node_has_memory(1))
		SKIP(return, "no node 1");
	ASSERT_EQ(0, lc_alloc(self->fd, SZ_2M, 1, "pinned", &phys));
	blk = phys_block(phys);
	ASSERT_LE(0, blk);
	snprintf(path, sizeof(path), "/sys/devices/system/memory/memory%ld/state", blk);
	/* the block holds a region: offlining it fails and changes nothing */
	EXPECT_EQ(-EBUSY, write_str(path, "offline"));
	EXPECT_TRUE(iomem_has(phys, phys + SZ_2M - 1, "pinned"));
	/* another block of the node still goes */
	char other[128];

	snprintf(other, sizeof(other), "/sys/devices/system/memory/memory%ld/state",
		 blk - 1);
	EXPECT_EQ(0, write_str(other, "offline"));
	EXPECT_EQ(0, write_str(other, "online_movable"));
	/* and once the region is freed, so does its block */
	ASSERT_EQ(0, lc_free(self->fd, phys));
	EXPECT_EQ(0, write_str(path, "offline"));
	EXPECT_EQ(0, write_str(path, "online_movable"));
}

TEST_F(lc, free_and_resize_enoent)
{
	uint64_t phys, p, len = SZ_2M;

	ASSERT_EQ(0, lc_alloc(self->fd, 2 * SZ_2M, -1, "enoent", &phys));
	EXPECT_EQ(-ENOENT, lc_free(self->fd, phys + SZ_4K));
	EXPECT_EQ(-ENOENT, lc_free(self->fd, phys + 1));
	EXPECT_EQ(-ENOENT, lc_free(self->fd, phys - SZ_4K));
	EXPECT_EQ(-ENOENT, lc_free(self->fd, 0));
	EXPECT_EQ(-ENOENT, lc_free(self->fd, UINT64_MAX));
	p = phys + SZ_2M;
	EXPECT_EQ(-ENOENT, lc_resize(self->fd, &p, &len));
	p = phys + 1;
	EXPECT_EQ(-ENOENT, lc_resize(self->fd, &p, &len));
	EXPECT_EQ(0, lc_free(self->fd, phys));
	EXPECT_EQ(-ENOENT, lc_free(self->fd, phys));	/* double free */
	p = phys;
	EXPECT_EQ(-ENOENT, lc_resize(self->fd, &p, &len));
}

TEST_F(lc, enotty)
{
	char big[256] = { 0 };

	EXPECT_ERRNO(ENOTTY, ioctl(self->fd, _IOWR('X', 0, struct lazy_cma_allocation_data), big));
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd, _IOWR('H', 5, struct lazy_cma_allocation_data), big));
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd, _IOWR('H', 0xff, struct lazy_cma_list_data), big));
	/* right type and number, wrong size */
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd, _IOWR('H', 0, char[80]), big));
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd, _IOWR('H', 0, char[96]), big));
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd, _IOWR('H', 1, char[8]), big));
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd, _IOW('H', 2, __u32), big));
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd, _IOWR('H', 3, char[24]), big));
	/* right size, wrong direction */
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd, _IOR('H', 0, struct lazy_cma_allocation_data), big));
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd, _IOWR('H', 2, __u64), big));
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd, _IO('H', 2), 0));
	EXPECT_EQ(0, lc_count(self->fd));
}

TEST_F(lc, efault)
{
	struct lazy_cma_list_data ld;
	uint64_t phys;
	void *ro;

	EXPECT_ERRNO(EFAULT, ioctl(self->fd, LAZY_CMA_IOCTL_ALLOC, NULL));
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, LAZY_CMA_IOCTL_RESIZE, NULL));
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, LAZY_CMA_IOCTL_FREE, NULL));
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, LAZY_CMA_IOCTL_LIST, NULL));
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, LAZY_CMA_IOCTL_ALLOC, (void *)1));
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, LAZY_CMA_IOCTL_FREE, (void *)-4096L));

	/* a read-only argument: the region made cannot be reported, so it is undone */
	ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	((struct lazy_cma_allocation_data *)ro)->len = SZ_1M;
	((struct lazy_cma_allocation_data *)ro)->node = -1;
	strcpy(((struct lazy_cma_allocation_data *)ro)->name, "efault");
	ASSERT_EQ(0, mprotect(ro, 4096, PROT_READ));
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, LAZY_CMA_IOCTL_ALLOC, ro));
	EXPECT_EQ(0, lc_count(self->fd));
	EXPECT_EQ(0, iomem_count("efault"));
	munmap(ro, 4096);

	/* LIST into a bad array */
	ASSERT_EQ(0, lc_alloc(self->fd, SZ_1M, -1, "efault", &phys));
	memset(&ld, 0, sizeof(ld));
	ld.entry_size = sizeof(struct lazy_cma_region_info);
	ld.max_entries = 4;
	ld.entries = 16;
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, LAZY_CMA_IOCTL_LIST, &ld));
	ld.entries = UINT64_MAX - 8;
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, LAZY_CMA_IOCTL_LIST, &ld));
}

TEST_F(lc, list)
{
	struct lazy_cma_region_info v[4];
	struct lazy_cma_list_data ld;
	unsigned char wide[2][160];
	uint64_t a, b, lo, hi;
	unsigned int i;
	void *m;
	int status;

	ASSERT_EQ(0, lc_alloc(self->fd, SZ_2M, -1, "list-a", &a));
	ASSERT_EQ(0, lc_alloc(self->fd, 2 * SZ_2M, -1, "list-b", &b));
	lo = a < b ? a : b;
	hi = a < b ? b : a;

	memset(&ld, 0, sizeof(ld));
	ld.entry_size = sizeof(v[0]);
	ASSERT_EQ(0, ioctl(self->fd, LAZY_CMA_IOCTL_LIST, &ld));
	EXPECT_EQ(2, ld.nr_regions);
	EXPECT_EQ(0, ld.nr_entries);

	ld.max_entries = 1;
	ld.entries = (uintptr_t)v;
	ASSERT_EQ(0, ioctl(self->fd, LAZY_CMA_IOCTL_LIST, &ld));
	EXPECT_EQ(1, ld.nr_entries);
	EXPECT_EQ(lo, v[0].phys_addr);

	/* paging on from the last start + 1 */
	ld.start = v[0].phys_addr + 1;
	ASSERT_EQ(0, ioctl(self->fd, LAZY_CMA_IOCTL_LIST, &ld));
	EXPECT_EQ(1, ld.nr_entries);
	EXPECT_EQ(hi, v[0].phys_addr);
	ld.start = hi + 1;
	ASSERT_EQ(0, ioctl(self->fd, LAZY_CMA_IOCTL_LIST, &ld));
	EXPECT_EQ(0, ld.nr_entries);
	ld.start = UINT64_MAX;
	ASSERT_EQ(0, ioctl(self->fd, LAZY_CMA_IOCTL_LIST, &ld));
	EXPECT_EQ(0, ld.nr_entries);

	/* bad entry sizes */
	ld.start = 0;
	ld.entry_size = LAZY_CMA_REGION_INFO_SIZE_VER0 - 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, LAZY_CMA_IOCTL_LIST, &ld));
	ld.entry_size = 0;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, LAZY_CMA_IOCTL_LIST, &ld));
	ld.entry_size = 4097;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, LAZY_CMA_IOCTL_LIST, &ld));

	/* a newer caller's larger entries: known part filled, rest zeroed */
	memset(wide, 0xff, sizeof(wide));
	ld.entry_size = sizeof(wide[0]);
	ld.max_entries = 2;
	ld.entries = (uintptr_t)wide;
	ASSERT_EQ(0, ioctl(self->fd, LAZY_CMA_IOCTL_LIST, &ld));
	ASSERT_EQ(2, ld.nr_entries);
	for (i = 0; i < 2; i++) {
		struct lazy_cma_region_info *e = (void *)wide[i];
		unsigned int j;

		EXPECT_EQ(i ? hi : lo, e->phys_addr);
		EXPECT_STREQ((i ? hi : lo) == a ? "list-a" : "list-b", e->name);
		for (j = sizeof(*e); j < sizeof(wide[0]); j++)
			if (wide[i][j])
				break;
		EXPECT_EQ(sizeof(wide[0]), j);
	}
	EXPECT_EQ(a == lo ? SZ_2M : 2 * SZ_2M, ((struct lazy_cma_region_info *)wide[0])->len);

	/* mapped: counts VMAs, including a forked child's copy */
	m = map_region(self->fd, b, SZ_2M);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(0, lc_find(self->fd, b, &v[0]));
	EXPECT_EQ(1, v[0].map_count);
	if (fork() == 0) {
		struct lazy_cma_region_info c;
		int fd = lc_open();

		_exit(lc_find(fd, b, &c) || c.map_count != 2);
	}
	wait(&status);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	munmap(m, SZ_2M);
	ASSERT_EQ(0, lc_find(self->fd, b, &v[0]));
	EXPECT_EQ(0, v[0].map_count);
}

static void alloc_and_exit(void *arg)
{
	int fd = lc_open();
	uint64_t phys;

	(void)arg;
	_exit(fd < 0 || lc_alloc(fd, 4 * SZ_1M, -1, "persist", &phys) ? 1 : 0);
}

TEST_F(lc, outlives_its_creator)
{
	struct lazy_cma_region_info v[8];
	struct lazy_cma_list_data ld;
	int status, i, found = -1;

	status = in_child(alloc_and_exit, NULL);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ(1, iomem_count("persist"));
	memset(&ld, 0, sizeof(ld));
	ld.entry_size = sizeof(v[0]);
	ld.max_entries = 8;
	ld.entries = (uintptr_t)v;
	ASSERT_EQ(0, ioctl(self->fd, LAZY_CMA_IOCTL_LIST, &ld));
	for (i = 0; i < (int)ld.nr_entries; i++)
		if (!strcmp(v[i].name, "persist"))
			found = i;
	ASSERT_LE(0, found);
	EXPECT_EQ(4 * SZ_1M, v[found].len);
	/* found by its address, from another process, and freed there */
	EXPECT_EQ(0, lc_free(self->fd, v[found].phys_addr));
	EXPECT_EQ(0, iomem_count("persist"));
}

TEST_F(node, mmap_round_trip)
{
	uint64_t phys, len = 16 * SZ_1M;
	void *m;

	ASSERT_EQ(0, lc_alloc(self->fd, len, variant->node, "mmap", &phys));
	m = map_region(self->fd, phys, len);
	ASSERT_NE(MAP_FAILED, m);
	EXPECT_EQ(-1, check_zero(m, len));
	fill(m, len, 42);
	ASSERT_EQ(0, munmap(m, len));
	m = map_region(self->fd, phys, len);
	ASSERT_NE(MAP_FAILED, m);
	EXPECT_EQ(-1, check_fill(m, len, 42));
	/* a window in the middle shows the same bytes */
	uint64_t *w = mmap(NULL, SZ_4K, PROT_READ, MAP_SHARED, self->fd,
			   (off_t)(phys + 5 * SZ_4K));

	ASSERT_NE(MAP_FAILED, w);
	EXPECT_EQ(pattern(5 * SZ_4K / 8, 42), w[0]);
	munmap(w, SZ_4K);
	munmap(m, len);
}

/* 8 MiB is cleared by the caller alone, 64 MiB by several CPUs at once */
static void zero_fill_after_reuse(struct __test_metadata *_metadata, int fd,
				  int node, uint64_t len)
{
	uint64_t phys, first = 0;
	int round, reused = 0;
	void *m;

	for (round = 0; round < 3; round++) {
		ASSERT_EQ(0, lc_alloc(fd, len, node, "zero", &phys));
		reused += round && phys == first;
		if (!round)
			first = phys;
		m = map_region(fd, phys, len);
		ASSERT_NE(MAP_FAILED, m);
		EXPECT_EQ(-1, check_zero(m, len)) TH_LOG("round %d at 0x%" PRIx64, round, phys);
		memset(m, 0xa5, len);
		munmap(m, len);
		ASSERT_EQ(0, lc_free(fd, phys));
	}
	/*
	 * On movable-only node 1 nothing else can take the freed pages, so the
	 * same, dirtied memory must come back: zeroing is really tested.  On
	 * node 0 the kernel may reuse them first; any memory must be zero.
	 */
	TH_LOG("node %d, %" PRIu64 " MiB: same address %d of 2 times", node, len >> 20, reused);
	if (node == 1)
		EXPECT_LT(0, reused);
}

TEST_F(node, zero_fill_after_reuse)
{
	zero_fill_after_reuse(_metadata, self->fd, variant->node, 8 * SZ_1M);
}

TEST_F_TIMEOUT(node, zero_fill_after_reuse_parallel, 120)
{
	zero_fill_after_reuse(_metadata, self->fd, variant->node, 64 * SZ_1M);
}

TEST_F(lc, mmap_limits)
{
	uint64_t phys, len = 2 * SZ_2M;
	void *m;

	ASSERT_EQ(0, lc_alloc(self->fd, len, -1, "mmap-limits", &phys));
	/* beyond the end, too long, before the start, nowhere */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, SZ_4K, PROT_READ, MAP_SHARED, self->fd, (off_t)(phys + len)));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, len + SZ_4K, PROT_READ, MAP_SHARED, self->fd, (off_t)phys));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, SZ_4K, PROT_READ, MAP_SHARED, self->fd, (off_t)(phys - SZ_4K)));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, SZ_4K, PROT_READ, MAP_SHARED, self->fd, 0));
	EXPECT_EQ(ENXIO, errno);
	/* straddling the end */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 2 * SZ_4K, PROT_READ, MAP_SHARED, self->fd,
				   (off_t)(phys + len - SZ_4K)));
	EXPECT_EQ(ENXIO, errno);
	/* private and unaligned */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, SZ_4K, PROT_READ, MAP_PRIVATE, self->fd, (off_t)phys));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, SZ_4K, PROT_READ, MAP_SHARED, self->fd, (off_t)(phys + 512)));
	EXPECT_EQ(EINVAL, errno);
	/* a read-only descriptor maps read-only, shared */
	int ro = open(LC_DEV, O_RDONLY | O_CLOEXEC);

	ASSERT_LE(0, ro);
	m = mmap(NULL, SZ_4K, PROT_READ, MAP_SHARED, ro, (off_t)phys);
	ASSERT_NE(MAP_FAILED, m);
	EXPECT_EQ(0, *(volatile char *)m);
	munmap(m, SZ_4K);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, SZ_4K, PROT_READ | PROT_WRITE, MAP_SHARED, ro,
				   (off_t)phys));
	EXPECT_EQ(EACCES, errno);
	close(ro);
	/* the last page alone is fine */
	m = mmap(NULL, SZ_4K, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, (off_t)(phys + len - SZ_4K));
	ASSERT_NE(MAP_FAILED, m);
	munmap(m, SZ_4K);
}

TEST_F(lc, free_revokes_mappings)
{
	uint64_t phys, len = SZ_2M;
	char *m;

	ASSERT_EQ(0, lc_alloc(self->fd, len, -1, "revoke", &phys));
	m = map_region(self->fd, phys, len);
	ASSERT_NE(MAP_FAILED, m);
	memset(m, 0x5a, len);
	EXPECT_TRUE(exited_ok(touch_in_child(m)));
	ASSERT_EQ(0, lc_free(self->fd, phys));
	/* the memory is gone: touching the old mapping is SIGBUS, never data */
	EXPECT_TRUE(killed_by(touch_in_child(m), SIGBUS));
	EXPECT_TRUE(killed_by(touch_in_child(m + len - 1), SIGBUS));
	/* a new region at the same address is not reachable through it either */
	uint64_t again;

	ASSERT_EQ(0, lc_alloc(self->fd, len, -1, "revoke2", &again));
	if (again == phys)
		TH_LOG("same address handed out again");
	EXPECT_TRUE(killed_by(touch_in_child(m), SIGBUS));
	munmap(m, len);
}

TEST_F(node, shrink)
{
	struct lazy_cma_region_info info;
	uint64_t phys, p, len = 8 * SZ_1M, nlen = 2 * SZ_1M + 1, l2, i, *q;
	char *m;

	ASSERT_EQ(0, lc_alloc(self->fd, len, variant->node, "shrink", &phys));
	m = map_region(self->fd, phys, len);
	ASSERT_NE(MAP_FAILED, m);
	fill(m, len, 7);
	p = phys;
	ASSERT_EQ(0, lc_resize(self->fd, &p, &nlen));
	EXPECT_EQ(phys, p);
	EXPECT_EQ(2 * SZ_1M + SZ_4K, nlen);
	ASSERT_EQ(0, lc_find(self->fd, phys, &info));
	EXPECT_EQ(nlen, info.len);
	EXPECT_TRUE(iomem_has(phys, phys + nlen - 1, "shrink"));
	EXPECT_FALSE(iomem_has(phys, phys + len - 1, "shrink"));
	/* kept part intact, cut part revoked */
	EXPECT_EQ(-1, check_fill(m, nlen, 7));
	EXPECT_TRUE(exited_ok(touch_in_child(m + nlen - 1)));
	EXPECT_TRUE(killed_by(touch_in_child(m + nlen), SIGBUS));
	EXPECT_TRUE(killed_by(touch_in_child(m + len - 1), SIGBUS));
	/* the mapping still exists (its kept part works), and is counted */
	ASSERT_EQ(0, lc_find(self->fd, phys, &info));
	EXPECT_EQ(1, info.map_count);
	/* same size is a no-op */
	ASSERT_EQ(0, lc_resize(self->fd, &p, &nlen));
	EXPECT_EQ(phys, p);
	/* grown back (in place if it can): the old mapping never sees the new tail */
	l2 = len;
	ASSERT_EQ(0, lc_resize(self->fd, &p, &l2));
	/* in place unless the kernel took what the shrink gave back */
	TH_LOG("regrown %s", p == phys ? "in place" : "by moving");
	EXPECT_TRUE(killed_by(touch_in_child(m + len - 1), SIGBUS));
	if (p == phys)
		EXPECT_TRUE(exited_ok(touch_in_child(m)));
	munmap(m, len);
	ASSERT_EQ(0, lc_find(self->fd, p, &info));
	EXPECT_EQ(0, info.map_count);
	/*
	 * Through a new mapping: the kept part came along (but for its first
	 * and last word, which the children above wrote), and the added part,
	 * dirty before the shrink, is zero.
	 */
	m = map_region(self->fd, p, len);
	ASSERT_NE(MAP_FAILED, m);
	q = (uint64_t *)m;
	for (i = 1; i < nlen / 8 - 1 && q[i] == pattern(i, 7); i++)
		;
	EXPECT_EQ(nlen / 8 - 1, i);
	EXPECT_EQ(-1, check_zero(m + nlen, len - nlen));
	munmap(m, len);
}

TEST_F(lc, resize_einval_enomem_keeps_region)
{
	struct lazy_cma_region_info info;
	uint64_t phys, p, len = SZ_2M, l;
	void *m;

	ASSERT_EQ(0, lc_alloc(self->fd, len, -1, "keep", &phys));
	m = map_region(self->fd, phys, len);
	ASSERT_NE(MAP_FAILED, m);
	fill(m, len, 9);
	p = phys;
	l = 0;
	EXPECT_EQ(-EINVAL, lc_resize(self->fd, &p, &l));
	l = UINT64_MAX;
	EXPECT_EQ(-EINVAL, lc_resize(self->fd, &p, &l));
	l = 1ULL << 40;
	EXPECT_EQ(-ENOMEM, lc_resize(self->fd, &p, &l));
	/* exactly as before */
	EXPECT_EQ(phys, p);
	ASSERT_EQ(0, lc_find(self->fd, phys, &info));
	EXPECT_EQ(len, info.len);
	EXPECT_EQ(1, info.map_count);
	EXPECT_TRUE(iomem_has(phys, phys + len - 1, "keep"));
	EXPECT_EQ(-1, check_fill(m, len, 9));
	munmap(m, len);
}

/*
 * On an otherwise empty hot-plugged node allocation is deterministic:
 * top-down with room, so a second region of 2 MiB lands 4 MiB below the
 * first.
 */
TEST_F(node, grow_in_place)
{
	uint64_t s, p, l0 = 2 * SZ_1M + SZ_4K, l1 = 4 * SZ_1M, l = 6 * SZ_1M + SZ_4K;
	char *m;

	/*
	 * Dirty the memory the region will grow into: 8 MiB, filled, cut to
	 * 2 MiB + 4 KiB (the rest of its last pageblock stays held, the other
	 * 4 MiB go back to the page allocator, dirty), then grown again.
	 */
	ASSERT_EQ(0, lc_alloc(self->fd, 8 * SZ_1M, variant->node, "small", &s));
	m = map_region(self->fd, s, 8 * SZ_1M);
	ASSERT_NE(MAP_FAILED, m);
	memset(m, 0xa5, 8 * SZ_1M);
	fill(m, l0, 3);
	munmap(m, 8 * SZ_1M);
	p = s;
	ASSERT_EQ(0, lc_resize(self->fd, &p, &l0));
	ASSERT_EQ(s, p);

	/* within its last pageblock: always in place, and cleared */
	ASSERT_EQ(0, lc_resize(self->fd, &p, &l1));
	EXPECT_EQ(s, p);
	EXPECT_TRUE(iomem_has(s, s + l1 - 1, "small"));
	m = map_region(self->fd, p, l1);
	ASSERT_NE(MAP_FAILED, m);
	EXPECT_EQ(-1, check_fill(m, l0, 3));
	EXPECT_EQ(-1, check_zero(m + l0, l1 - l0));
	munmap(m, l1);

	/* past it: in place unless the kernel took what the shrink gave back */
	ASSERT_EQ(0, lc_resize(self->fd, &p, &l));
	TH_LOG("grown past its last pageblock %s", p == s ? "in place" : "by moving");
	EXPECT_TRUE(iomem_has(p, p + l - 1, "small"));
	m = map_region(self->fd, p, l);
	ASSERT_NE(MAP_FAILED, m);
	EXPECT_EQ(-1, check_fill(m, l0, 3));
	EXPECT_EQ(-1, check_zero(m + l0, l - l0));
	munmap(m, l);
}

TEST_F(lc, grow_by_moving)
{
	struct lazy_cma_region_info info;
	uint64_t top, s, p, l = 8 * SZ_1M;
	char *old, *m;

	if (!node_has_memory(1))
		SKIP(return, "no node 1");
	/* each region leaves as much room after it as it holds */
	ASSERT_EQ(0, lc_alloc(self->fd, SZ_2M, 1, "top", &top));
	ASSERT_EQ(0, lc_alloc(self->fd, SZ_2M, 1, "mover", &s));
	ASSERT_EQ(top, s + 2 * SZ_2M) TH_LOG("layout: top 0x%" PRIx64 " mover 0x%" PRIx64,
					     top, s);
	old = map_region(self->fd, s, SZ_2M);
	ASSERT_NE(MAP_FAILED, old);
	fill(old, SZ_2M, 5);

	p = s;
	ASSERT_EQ(0, lc_resize(self->fd, &p, &l));
	ASSERT_NE(s, p);	/* "top" is in the way: it moved */
	EXPECT_EQ(8 * SZ_1M, l);
	EXPECT_EQ(1, phys_node(p));
	EXPECT_EQ(-ENOENT, lc_find(self->fd, s, &info));
	ASSERT_EQ(0, lc_find(self->fd, p, &info));
	EXPECT_EQ(l, info.len);
	EXPECT_STREQ("mover", info.name);
	EXPECT_EQ(0, info.map_count);
	EXPECT_TRUE(iomem_has(p, p + l - 1, "mover"));
	EXPECT_EQ(1, iomem_count("mover"));
	/* the old mapping was revoked before the old memory went back */
	EXPECT_TRUE(killed_by(touch_in_child(old), SIGBUS));
	munmap(old, SZ_2M);
	/* contents came along; the added part is zero */
	m = map_region(self->fd, p, l);
	ASSERT_NE(MAP_FAILED, m);
	EXPECT_EQ(-1, check_fill(m, SZ_2M, 5));
	EXPECT_EQ(-1, check_zero(m + SZ_2M, l - SZ_2M));
	munmap(m, l);
	/* the neighbour was not touched */
	ASSERT_EQ(0, lc_find(self->fd, top, &info));
	EXPECT_STREQ("top", info.name);
}

struct perm_ctx {
	int fd;
	uint64_t phys;
};

static void unprivileged(void *arg)
{
	struct perm_ctx *c = arg;
	struct lazy_cma_list_data ld = { .entry_size = sizeof(struct lazy_cma_region_info) };
	uint64_t phys;
	int bad = 0;

	if (setgid(65534) || setuid(65534))
		_exit(100);
	/* mode 0600 root: the node itself refuses */
	bad |= (open(LC_DEV, O_RDWR) != -1 || errno != EACCES) << 0;
	/* an inherited descriptor does not carry root's rights */
	bad |= (lc_alloc(c->fd, SZ_1M, -1, "nobody", &phys) != -EPERM) << 1;
	bad |= (ioctl(c->fd, LAZY_CMA_IOCTL_LIST, &ld) != -1 || errno != EPERM) << 2;
	bad |= (lc_free(c->fd, c->phys) != -EPERM) << 3;
	bad |= (mmap(NULL, SZ_4K, PROT_READ, MAP_SHARED, c->fd, (off_t)c->phys) != MAP_FAILED ||
		errno != EPERM) << 4;
	_exit(bad);
}

TEST_F(lc, eperm_without_cap_sys_admin)
{
	struct perm_ctx c = { .fd = self->fd };
	int status;

	ASSERT_EQ(0, lc_alloc(self->fd, SZ_1M, -1, "perm", &c.phys));
	status = in_child(unprivileged, &c);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(1, lc_count(self->fd));
}

/* a request that takes seconds: most of hot-plugged node 1, else 1 GiB */
static void alloc_forever(void *arg)
{
	int fd = lc_open(), r;
	uint64_t phys;

	(void)arg;
	if (node_has_memory(1))
		r = lc_alloc(fd, 768 * SZ_1M, 1, "killed", &phys);
	else
		r = lc_alloc(fd, SZ_1G, -1, "killed", &phys);
	_exit(r ? 100 - r : 3);
}

/*
 * Pages pinned for DMA (FOLL_LONGTERM) are never taken or moved: regions made
 * while 32 pages of node 0 are pinned hold none of them, and the pinned pages
 * keep their frames and contents.
 */
TEST_F_TIMEOUT(lc, pinned_pages_are_left_alone, 180)
{
	enum { NPIN = 32, NREG = 4 };
	uint64_t pfn[NPIN], phys[NREG];
	char *buf, *pages[NPIN];
	int ring, i, k, taken = 0;

	buf = mmap(NULL, NPIN * SZ_2M, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	for (i = 0; i < NPIN; i++) {
		pages[i] = buf + (size_t)i * SZ_2M;
		memset(pages[i], i + 1, SZ_4K);
	}
	ring = pin_pages(pages, NPIN);
	if (ring == -ENOSYS || ring == -EPERM)
		SKIP(return, "no io_uring to pin pages with (%d)", ring);
	ASSERT_LE(0, ring);
	for (i = 0; i < NPIN; i++) {
		pfn[i] = self_pfn(pages[i]);
		ASSERT_NE(0, pfn[i]);
	}
	for (k = 0; k < NREG; k++)
		ASSERT_EQ(0, lc_alloc(self->fd, 32 * SZ_1M, 0, "pins", &phys[k]));
	for (k = 0; k < NREG; k++)
		for (i = 0; i < NPIN; i++)
			if (pfn[i] * SZ_4K >= phys[k] && pfn[i] * SZ_4K < phys[k] + 32 * SZ_1M) {
				TH_LOG("pinned pfn 0x%" PRIx64 " inside the region at 0x%" PRIx64,
				       pfn[i], phys[k]);
				taken++;
			}
	EXPECT_EQ(0, taken);
	for (i = 0; i < NPIN; i++) {
		EXPECT_EQ(pfn[i], self_pfn(pages[i]));
		EXPECT_EQ(i + 1, pages[i][SZ_4K - 1]);
	}
	for (k = 0; k < NREG; k++)
		EXPECT_EQ(0, lc_free(self->fd, phys[k]));
	close(ring);
	munmap(buf, NPIN * SZ_2M);
}

struct spin {
	int fd;
	uint64_t phys;
	volatile int done, ready;
	int busy, gone, other;
};

/*
 * mmap and same-length RESIZE of a region, again and again, while another
 * thread moves it: neither may destroy it, each answers EBUSY meanwhile.
 */
static void *busy_spinner(void *arg)
{
	struct spin *sp = arg;

	while (!sp->done) {
		void *m = mmap(NULL, SZ_2M, PROT_READ, MAP_SHARED, sp->fd, (off_t)sp->phys);
		uint64_t p = sp->phys, l = SZ_2M;
		int r;

		if (m != MAP_FAILED) {
			munmap(m, SZ_2M);
			sp->ready = 1;
		} else if (errno == EBUSY) {
			sp->busy++;
		} else if (errno == ENXIO) {
			sp->gone++;
		} else {
			sp->other++;
		}
		r = lc_resize(sp->fd, &p, &l);
		if (r == -EBUSY)
			sp->busy++;
		else if (r == -ENOENT)
			sp->gone++;
		else if (r)
			sp->other++;
	}
	return NULL;
}

TEST_F_TIMEOUT(lc, busy_region_answers_ebusy, 180)
{
	struct spin sp = { .fd = self->fd };
	uint64_t top, p, l = 512 * SZ_1M;
	pthread_t t;
	int r;

	if (!node_has_memory(1))
		SKIP(return, "no node 1");
	ASSERT_EQ(0, lc_alloc(self->fd, SZ_2M, 1, "top", &top));
	ASSERT_EQ(0, lc_alloc(self->fd, SZ_2M, 1, "mover", &sp.phys));
	/* with the room each region leaves after it */
	ASSERT_EQ(top, sp.phys + 2 * SZ_2M);
	ASSERT_EQ(0, pthread_create(&t, NULL, busy_spinner, &sp));
	while (!sp.ready)
		usleep(1000);
	/*
	 * "top" is in the way: the region moves, which takes a while.  The
	 * other thread's own RESIZE may hold it busy for an instant: retry.
	 */
	do {
		p = sp.phys;
		l = 512 * SZ_1M;
		r = lc_resize(self->fd, &p, &l);
	} while (r == -EBUSY);
	ASSERT_EQ(0, r);
	sp.done = 1;
	pthread_join(t, NULL);
	TH_LOG("during the move: EBUSY %d times; after it: ENOENT/ENXIO %d times",
	       sp.busy, sp.gone);
	EXPECT_NE(sp.phys, p);
	EXPECT_LT(0, sp.busy);
	EXPECT_EQ(0, sp.other);
	EXPECT_EQ(0, lc_free(self->fd, p));
	EXPECT_EQ(0, lc_free(self->fd, top));
}

/* MiB free where alloc_forever() takes its memory: node 1, else anywhere */
static long forever_free_mb(void)
{
	if (node_has_memory(1))
		return node_meminfo_kb(1, "MemFree") / 1024;
	return meminfo_kb("MemFree") / 1024;
}

/* SIGKILL @pid and reap it: seconds from the signal until it is gone */
static double kill_and_reap(pid_t pid, int *status)
{
	double t0 = now();

	kill(pid, SIGKILL);
	if (waitpid(pid, status, 0) != pid)
		*status = -1;
	return now() - t0;
}

/*
 * A killed request ends at once: the pages it took are given back by a
 * worker after it is gone (seconds on the debug kernel, where freeing is
 * slow), and a request that needs them meanwhile waits and gets them.
 *
 * No absolute time is asserted (a guest that shares its host, or a slower
 * machine, is slower at all of it): the child is killed once it holds a
 * third of its request, and the time until it is gone is compared with
 * what the same run measured.  The signal is seen between chunks of 64 MiB,
 * so the child may take as long as the chunk in flight (at the pace the
 * request kept so far) and an idle process's death, twice over; the pages
 * it took come back later, from a worker that shares the CPU with its exit,
 * so half of the time they took after it was gone is allowed on top.  A
 * request that ignored the signal would run on for eight more chunks; one
 * that freed the pages itself would be gone only once they are free: on the
 * debug kernel, seconds against a tenth of one.
 */
TEST_F_TIMEOUT(lc, fatal_signal_stops_allocation, 180)
{
	uint64_t want = node_has_memory(1) ? 768 * SZ_1M : SZ_1G, phys;
	double t0, run, idle, gone, back, chunk, allowed;
	long before, taken, held;
	int status;
	pid_t pid;

	/* the same kill with no request in flight */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		for (;;)
			pause();
	usleep(100 * 1000);
	idle = kill_and_reap(pid, &status);
	ASSERT_TRUE(killed_by(status, SIGKILL));

	before = forever_free_mb();
	t0 = now();
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		alloc_forever(NULL);
	/* until the request holds a third of what it asks for */
	do {
		usleep(1000);
		taken = before - forever_free_mb();
		run = now() - t0;
	} while (taken < (long)(want / SZ_1M / 3) && run < 60 &&
		 !waitpid(pid, &status, WNOHANG));
	ASSERT_LE((long)(want / SZ_1M / 3), taken)
		TH_LOG("took %ld MiB in %.1f s", taken, run);
	gone = kill_and_reap(pid, &status);
	/* until its pages are back */
	do {
		held = before - forever_free_mb();
		back = now() - t0 - run;
		if (held < 32)
			break;
		usleep(1000);
	} while (back < 120);
	chunk = run * 64 / taken;
	allowed = 2 * (chunk + idle) + (back - gone) / 2;
	TH_LOG("killed holding %ld MiB after %.2f s (%.3f s per 64 MiB): gone %.3f s after SIGKILL (an idle process: %.3f s), the pages back after %.3f s (%ld MiB out); allowed %.3f s",
	       taken, run, chunk, gone, idle, back, held, allowed);
	EXPECT_GT(allowed, gone)
		TH_LOG("a killed allocation must end promptly: gone after %.3f s, allowed %.3f s",
		       gone, allowed);
	EXPECT_TRUE(killed_by(status, SIGKILL))
		TH_LOG("the request ended before the signal: status 0x%x", status);
	/* nothing of the interrupted request stays behind */
	EXPECT_EQ(0, iomem_count("killed"));
	EXPECT_EQ(0, lc_count(self->fd));
	if (!node_has_memory(1))
		return;
	/*
	 * Kill it again, and make the same request right away, while the
	 * killed one's pages are still on their way back (node 1 has no room
	 * for both): it waits for them and gets them, not ENOMEM
	 */
	before = forever_free_mb();
	t0 = now();
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		alloc_forever(NULL);
	do {
		usleep(1000);
		taken = before - forever_free_mb();
	} while (taken < (long)(want / SZ_1M / 3) && now() - t0 < 60 &&
		 !waitpid(pid, &status, WNOHANG));
	ASSERT_LE((long)(want / SZ_1M / 3), taken)
		TH_LOG("took %ld MiB in %.1f s", taken, now() - t0);
	kill_and_reap(pid, &status);
	held = before - forever_free_mb();
	t0 = now();
	ASSERT_EQ(0, lc_alloc(self->fd, 768 * SZ_1M, 1, "again", &phys))
		TH_LOG("the same request, made while %ld MiB of the killed one were out, failed",
		       held);
	TH_LOG("the same request, made while %ld MiB of the killed one were out, took %.2f s",
	       held, now() - t0);
	EXPECT_EQ(0, lc_free(self->fd, phys));
}

struct par {
	int fd, node, iters, failures;
	double seconds;
};

static void *par_worker(void *arg)
{
	struct par *p = arg;
	double t0 = now();
	int i;

	for (i = 0; i < p->iters; i++) {
		uint64_t phys, len = (uint64_t)(1 + i % 4) * SZ_2M, l;
		int r = lc_alloc(p->fd, len, p->node, "par", &phys);

		if (r) {
			p->failures++;
			continue;
		}
		l = len * 2;
		r = lc_resize(p->fd, &phys, &l);
		if (r && r != -ENOMEM)
			p->failures++;
		if (lc_free(p->fd, phys))
			p->failures++;
	}
	p->seconds = now() - t0;
	return NULL;
}

TEST_F_TIMEOUT(lc, parallel_nodes, 300)
{
	struct par p[4];
	pthread_t t[4];
	int i;

	for (i = 0; i < 4; i++) {
		p[i] = (struct par){ .fd = self->fd, .node = node_has_memory(1) ? i % 2 : 0,
				     .iters = 8 };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, par_worker, &p[i]));
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, p[i].failures) TH_LOG("worker %d on node %d", i, p[i].node);
		TH_LOG("worker %d (node %d): %.2f s", i, p[i].node, p[i].seconds);
	}
	EXPECT_EQ(0, lc_count(self->fd));
	EXPECT_EQ(0, iomem_count("par"));
}

static bool trace_has(const char *buf, const char *event, const char *what)
{
	const char *p = buf;

	while ((p = strstr(p, event))) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		char line[512];

		snprintf(line, sizeof(line), "%.*s", (int)(n < 511 ? n : 511), p);
		if (strstr(line, what))
			return true;
		p += n;
	}
	return false;
}

TEST_F(lc, tracepoints)
{
	const char *T = "/sys/kernel/tracing";
	char path[128], want[128], *buf;
	uint64_t phys, p, l = 4 * SZ_1M, none;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/events/lazy_cma/enable", T);
	if (access(path, F_OK))
		SKIP(return, "no tracefs at %s", T);
	snprintf(want, sizeof(want), "%s/trace", T);
	ASSERT_EQ(0, write_str(want, ""));
	ASSERT_EQ(0, write_str(path, "1"));

	ASSERT_EQ(0, lc_alloc(self->fd, SZ_2M, 0, "traced", &phys));
	p = phys;
	ASSERT_EQ(0, lc_resize(self->fd, &p, &l));
	ASSERT_EQ(0, lc_free(self->fd, p));
	EXPECT_EQ(-ENOMEM, lc_alloc(self->fd, 1ULL << 40, 0, "traced", &none));
	ASSERT_EQ(0, write_str(path, "0"));

	buf = calloc(1, 1 << 20);
	ASSERT_NE(NULL, buf);
	fd = open(want, O_RDONLY);
	ASSERT_LE(0, fd);
	n = read(fd, buf, (1 << 20) - 1);
	close(fd);
	ASSERT_LT(0, n);
	snprintf(want, sizeof(want), "node=0 pfn=0x%llx len=2097152 zone=",
		 (unsigned long long)(phys / SZ_4K));
	EXPECT_TRUE(trace_has(buf, "lazy_cma_alloc:", want)) TH_LOG("%s", buf);
	EXPECT_TRUE(trace_has(buf, "lazy_cma_alloc:", "duration_ns="));
	EXPECT_TRUE(trace_has(buf, "lazy_cma_resize:", "len=2097152 -> "));
	EXPECT_TRUE(trace_has(buf, "lazy_cma_resize:", "len=4194304 how="));
	snprintf(want, sizeof(want), "pfn=0x%llx len=4194304", (unsigned long long)(p / SZ_4K));
	EXPECT_TRUE(trace_has(buf, "lazy_cma_free:", want));
	EXPECT_TRUE(trace_has(buf, "lazy_cma_alloc_fail:", "len=1099511627776 errno=12"));
	free(buf);
}

TEST_HARNESS_MAIN
