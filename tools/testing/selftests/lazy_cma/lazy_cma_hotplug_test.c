// SPDX-License-Identifier: GPL-2.0
/*
 * Memory that comes online after lazy_cma was loaded, as dax/kmem or a
 * hot-plugged DIMM brings it: node 1 gets its heap then, without a reload,
 * and both the heap and /dev/lazy_cma allocate from it.  The guest must boot
 * with node 1 offline (memhp_default_state=offline).
 */
#include <linux/dma-heap.h>
#include <dirent.h>

#include "lazy_cma_lib.h"
#include "kselftest_harness.h"

static int node1_blocks(const char *state)
{
	DIR *d = opendir("/sys/devices/system/node/node1");
	struct dirent *e;
	char path[300];
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "memory", 6) || e->d_name[6] < '0' || e->d_name[6] > '9')
			continue;
		snprintf(path, sizeof(path), "/sys/devices/system/node/node1/%s/state", e->d_name);
		if (write_str(path, state))
			n = -1000;
		n++;
	}
	closedir(d);
	return n;
}

TEST(heap_appears_when_memory_comes_online)
{
	struct dma_heap_allocation_data d = { .len = 64 * SZ_1M, .fd_flags = O_RDWR };
	const char *dev = "/dev/dma_heap/lazy_cma-node1";
	uint64_t phys;
	int i, heap, fd;

	fd = lc_open();
	ASSERT_LE(0, fd);
	/* loaded while node 1 had no memory: no heap, and ENODEV */
	ASSERT_NE(0, access(dev, F_OK)) TH_LOG("boot with memhp_default_state=offline");
	EXPECT_EQ(-ENODEV, lc_alloc(fd, SZ_1M, 1, "early", &phys));

	ASSERT_LT(0, node1_blocks("online_movable"));
	for (i = 0; i < 100 && access(dev, F_OK); i++)
		usleep(100 * 1000);
	ASSERT_EQ(0, access(dev, F_OK)) TH_LOG("no heap 10 s after onlining");
	TH_LOG("heap appeared %d ms after onlining", i * 100);

	heap = open(dev, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, heap);
	ASSERT_EQ(0, ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &d));
	EXPECT_EQ(1, iomem_count("lazy_cma-node1 dma-buf"));
	close((int)d.fd);

	ASSERT_EQ(0, lc_alloc(fd, 64 * SZ_1M, 1, "late", &phys));
	EXPECT_EQ(1, phys_node(phys));
	EXPECT_EQ(0, lc_free(fd, phys));

	/* memory gone again: the heap stays, and says ENODEV */
	ASSERT_LT(0, node1_blocks("offline"));
	d.fd = 0;
	EXPECT_EQ(-1, ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &d));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(0, access(dev, F_OK));
	close(heap);
	close(fd);
}

TEST_HARNESS_MAIN
