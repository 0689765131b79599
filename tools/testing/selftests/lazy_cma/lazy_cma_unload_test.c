// SPDX-License-Identifier: GPL-2.0
/*
 * Module unload frees every region: /proc/iomem and MemFree return to what
 * they were, and the module cannot go while someone holds /dev/lazy_cma.
 * Reloads the module from $LAZY_CMA_KO at the end.  Run it last.
 */
#include <sys/syscall.h>

#include "lazy_cma_lib.h"
#include "kselftest_harness.h"

static int unload(void)
{
	return syscall(__NR_delete_module, "lazy_cma", O_NONBLOCK) ? -errno : 0;
}

static int load(void)
{
	const char *ko = getenv("LAZY_CMA_KO");
	int fd, ret;

	if (!ko)
		return -ENOENT;
	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(__NR_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return ret;
}

/*
 * Free pages waiting in the per-CPU lists of a /proc/zoneinfo snapshot, in
 * kB: MemFree leaves them out, and freeing a region can park tens of MB
 * there (the lists' size is tuned at run time).
 */
static long pcp_kb(const char *path)
{
	char line[256];
	long kb = 0, n;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " count: %ld", &n) == 1)
			kb += n * (getpagesize() / 1024);
	fclose(f);
	return kb;
}

static long free_kb_settled(void)
{
	sync();
	write_str("/proc/sys/vm/drop_caches", "3");
	write_str("/proc/sys/vm/compact_memory", "1");
	return meminfo_kb("MemFree") + pcp_kb("/proc/zoneinfo");
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
	const char *snap = "/tmp/meminfo_before_load";
	long before, during, after, iomem_lines_before, pre, pre_slab, now_slab;
	uint64_t phys;
	int fd, i;

	before = free_kb_settled();
	iomem_lines_before = iomem_count("Crash kernel");
	fd = lc_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, lc_count(fd));
	ASSERT_EQ(0, lc_alloc(fd, 64 * SZ_1M, 0, "unload0", &phys));
	if (phys_node(phys) >= 0 && !access("/sys/devices/system/node/node1", F_OK))
		ASSERT_EQ(0, lc_alloc(fd, 64 * SZ_1M, 1, "unload1", &phys));
	ASSERT_EQ(0, lc_alloc(fd, 16 * SZ_1M, -1, "Crash kernel", &phys));
	for (i = 0; i < 32; i++)
		ASSERT_EQ(0, lc_alloc(fd, SZ_4K, -1, "unload-small", &phys));
	close(fd);
	during = free_kb_settled();
	TH_LOG("free (MemFree + per-CPU lists) before %ld kB, with regions %ld kB", before, during);
	EXPECT_LE(during, before - 100 * 1024);

	ASSERT_EQ(0, unload());
	EXPECT_NE(0, access(LC_DEV, F_OK));
	EXPECT_EQ(0, iomem_count("unload0"));
	EXPECT_EQ(0, iomem_count("unload1"));
	EXPECT_EQ(0, iomem_count("unload-small"));
	EXPECT_EQ(iomem_lines_before, iomem_count("Crash kernel"));
	after = free_kb_settled();
	TH_LOG("free after rmmod %ld kB (%+ld kB vs before)", after, after - before);
	/* within 1 % of what it was */
	EXPECT_LE(labs(after - before), before / 100);

	/*
	 * And against the machine before the module was ever loaded (the
	 * runner snapshots /proc/meminfo and /proc/zoneinfo then).  Slab is added back on both
	 * sides: the suite grows the kernel's own caches (and a debug kernel's
	 * KASAN quarantine and kmemleak metadata) by tens of MB, none of it
	 * ours; our slab objects are kmemleak's to find, this looks for pages.
	 */
	pre = meminfo_file_kb(snap, "MemFree") + pcp_kb("/tmp/zoneinfo_before_load");
	pre_slab = meminfo_file_kb(snap, "Slab");
	now_slab = meminfo_kb("Slab");
	if (pre > 0 && pre_slab >= 0 && now_slab >= 0) {
		pre += pre_slab;
		after += now_slab;
		TH_LOG("free+Slab before load %ld kB, after the suite and rmmod %ld kB (%+.2f %%; Slab %+ld kB)",
		       pre, after, 100.0 * (after - pre) / pre, now_slab - pre_slab);
		EXPECT_LE(labs(after - pre), pre / 100);
	}

	/* and it comes back empty */
	ASSERT_EQ(0, load());
	fd = lc_open();
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, lc_count(fd));
	close(fd);
}

TEST_HARNESS_MAIN
