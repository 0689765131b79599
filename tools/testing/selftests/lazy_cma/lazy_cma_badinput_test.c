// SPDX-License-Identifier: GPL-2.0
/*
 * Hostile input against /dev/lazy_cma and /dev/dma_heap/lazy_cma-node0: one
 * test per case, each asserting its exact errno, and that nothing leaked
 * (the fixture's one region is still the only one).
 */
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <limits.h>
#include <sys/mman.h>

#include "lazy_cma_lib.h"
#include "kselftest_harness.h"

#define REGION_LEN	(4 * SZ_1M)
#define KPTR		((void *)0xffff888000000000UL)

FIXTURE(bad) {
	int fd, heap;
	uint64_t phys;
	int nr_nodes;
};

FIXTURE_SETUP(bad)
{
	char path[64];
	struct stat st;

	self->fd = lc_open();
	ASSERT_LE(0, self->fd);
	lc_free_all(self->fd);
	self->heap = open("/dev/dma_heap/lazy_cma-node0", O_RDWR | O_CLOEXEC);
	ASSERT_EQ(0, lc_alloc(self->fd, REGION_LEN, -1, "badinput", &self->phys));
	for (self->nr_nodes = 0; self->nr_nodes < 4096; self->nr_nodes++) {
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d", self->nr_nodes);
		if (stat(path, &st))
			break;
	}
}

FIXTURE_TEARDOWN(bad)
{
	lc_free_all(self->fd);
	if (self->heap >= 0)
		close(self->heap);
	close(self->fd);
}

/*
 * run BODY (a long: -1 on failure), expect -1 with errno ERR, nothing leaked;
 * a BODY whose own set-up failed gives SETUP_FAILED, which fails the test
 */
#define SETUP_FAILED	(-2L)
#define BAD(name, err, body)						\
	TEST_F(bad, name)						\
	{								\
		long r;							\
		errno = 0;						\
		r = (body);						\
		EXPECT_EQ(-1, r);					\
		EXPECT_EQ(err, errno) TH_LOG("errno %d: %s", errno, strerror(errno)); \
		EXPECT_EQ(1, lc_count(self->fd));			\
	}

static long do_alloc(int fd, uint64_t len, int node, uint32_t flags, const char *name,
		     size_t name_len)
{
	struct lazy_cma_allocation_data a = { .len = len, .node = node, .flags = flags };

	memcpy(a.name, name, name_len);
	return ioctl(fd, LAZY_CMA_IOCTL_ALLOC, &a);
}

#define ALLOC(len, node, flags)	do_alloc(self->fd, len, node, flags, "x", 2)
#define ALLOC_NAME(n)		do_alloc(self->fd, SZ_1M, -1, 0, n, sizeof(n))

/* ---- ALLOC ---- */
BAD(alloc_len_zero, EINVAL, ALLOC(0, -1, 0))
BAD(alloc_len_u64_max, EINVAL, ALLOC(UINT64_MAX, -1, 0))
BAD(alloc_len_wraps_when_rounded, EINVAL, ALLOC(UINT64_MAX - 4094, -1, 0))
BAD(alloc_len_1tib, ENOMEM, ALLOC(1ULL << 40, -1, 0))
BAD(alloc_len_2pow63, ENOMEM, ALLOC(1ULL << 63, -1, 0))
BAD(alloc_len_1tib_node0, ENOMEM, ALLOC(1ULL << 40, 0, 0))
BAD(alloc_node_minus2, EINVAL, ALLOC(SZ_1M, -2, 0))
BAD(alloc_node_int_min, EINVAL, ALLOC(SZ_1M, INT_MIN, 0))
BAD(alloc_node_int_max, EINVAL, ALLOC(SZ_1M, INT_MAX, 0))
BAD(alloc_node_1024, EINVAL, ALLOC(SZ_1M, 1024, 0))
BAD(alloc_node_first_impossible, EINVAL, ALLOC(SZ_1M, self->nr_nodes, 0))
BAD(alloc_flags_1, EINVAL, ALLOC(SZ_1M, -1, 1))
BAD(alloc_flags_top_bit, EINVAL, ALLOC(SZ_1M, -1, 0x80000000u))
BAD(alloc_flags_all, EINVAL, ALLOC(SZ_1M, -1, 0xffffffffu))
BAD(alloc_flags_with_bad_node, EINVAL, ALLOC(SZ_1M, -7, 2))
BAD(alloc_name_unterminated, EINVAL, ({
	char n[LAZY_CMA_NAME_MAX];

	memset(n, 'A', sizeof(n));
	do_alloc(self->fd, SZ_1M, -1, 0, n, sizeof(n));
}))
BAD(alloc_name_newline, EINVAL, ALLOC_NAME("new\nline"))
BAD(alloc_name_tab, EINVAL, ALLOC_NAME("tab\there"))
BAD(alloc_name_del, EINVAL, ALLOC_NAME("del\x7f"))
BAD(alloc_name_latin1, EINVAL, ALLOC_NAME("caf\xe9"))
BAD(alloc_name_utf8, EINVAL, ALLOC_NAME("\xc3\xa9t\xc3\xa9"))
BAD(alloc_name_escape, EINVAL, ALLOC_NAME("\x1b[31mred"))
/* names of the kernel's own /proc/iomem entries (kexec-tools parses them) */
BAD(alloc_name_system_ram, EINVAL, ALLOC_NAME("System RAM"))
BAD(alloc_name_system_ram_kmem, EINVAL, ALLOC_NAME("System RAM (kmem)"))
BAD(alloc_name_kernel_code, EINVAL, ALLOC_NAME("Kernel code"))
BAD(alloc_name_kernel_data, EINVAL, ALLOC_NAME("Kernel data"))
BAD(alloc_name_kernel_bss, EINVAL, ALLOC_NAME("Kernel bss"))
BAD(alloc_name_reserved, EINVAL, ALLOC_NAME("Reserved"))
BAD(alloc_name_acpi_tables, EINVAL, ALLOC_NAME("ACPI Tables"))
BAD(alloc_name_soft_reserved, EINVAL, ALLOC_NAME("Soft Reserved"))
BAD(alloc_name_reserved_lowercase, EINVAL, ALLOC_NAME("reserved"))
BAD(alloc_name_system_ram_upper, EINVAL, ALLOC_NAME("SYSTEM RAM"))
BAD(alloc_name_gart, EINVAL, ALLOC_NAME("GART"))
BAD(alloc_null, EFAULT, ioctl(self->fd, LAZY_CMA_IOCTL_ALLOC, NULL))
BAD(alloc_ptr_1, EFAULT, ioctl(self->fd, LAZY_CMA_IOCTL_ALLOC, (void *)1))
BAD(alloc_kernel_ptr, EFAULT, ioctl(self->fd, LAZY_CMA_IOCTL_ALLOC, KPTR))
BAD(alloc_result_unwritable, EFAULT, ({
	struct lazy_cma_allocation_data *a = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
						  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long ret;

	a->len = SZ_1M;
	a->node = -1;
	mprotect(a, 4096, PROT_READ);
	ret = ioctl(self->fd, LAZY_CMA_IOCTL_ALLOC, a);
	munmap(a, 4096);
	ret;
}))

/* ---- RESIZE ---- */
static long do_resize(int fd, uint64_t phys, uint64_t len)
{
	struct lazy_cma_resize_data r = { .phys_addr = phys, .len = len };

	return ioctl(fd, LAZY_CMA_IOCTL_RESIZE, &r);
}

BAD(resize_to_zero, EINVAL, do_resize(self->fd, self->phys, 0))
BAD(resize_u64_max, EINVAL, do_resize(self->fd, self->phys, UINT64_MAX))
BAD(resize_wraps_when_rounded, EINVAL, do_resize(self->fd, self->phys, UINT64_MAX - 100))
BAD(resize_1tib, ENOMEM, do_resize(self->fd, self->phys, 1ULL << 40))
BAD(resize_inside_region, ENOENT, do_resize(self->fd, self->phys + SZ_4K, SZ_2M))
BAD(resize_unaligned, ENOENT, do_resize(self->fd, self->phys + 1, SZ_2M))
BAD(resize_at_end, ENOENT, do_resize(self->fd, self->phys + REGION_LEN, SZ_2M))
BAD(resize_address_0, ENOENT, do_resize(self->fd, 0, SZ_2M))
BAD(resize_address_max, ENOENT, do_resize(self->fd, UINT64_MAX & ~4095ULL, SZ_2M))
BAD(resize_null, EFAULT, ioctl(self->fd, LAZY_CMA_IOCTL_RESIZE, NULL))
BAD(resize_kernel_ptr, EFAULT, ioctl(self->fd, LAZY_CMA_IOCTL_RESIZE, KPTR))

/* ---- FREE ---- */
static long do_free(int fd, uint64_t phys)
{
	__u64 a = phys;

	return ioctl(fd, LAZY_CMA_IOCTL_FREE, &a);
}

BAD(free_inside_region, ENOENT, do_free(self->fd, self->phys + SZ_4K))
BAD(free_unaligned, ENOENT, do_free(self->fd, self->phys + 1))
BAD(free_at_end, ENOENT, do_free(self->fd, self->phys + REGION_LEN))
BAD(free_address_0, ENOENT, do_free(self->fd, 0))
BAD(free_address_max, ENOENT, do_free(self->fd, UINT64_MAX))
BAD(free_double, ENOENT, ({
	uint64_t p;
	long ret = SETUP_FAILED;

	if (!lc_alloc(self->fd, SZ_1M, -1, "double", &p) && !lc_free(self->fd, p))
		ret = do_free(self->fd, p);
	ret;
}))
BAD(free_null, EFAULT, ioctl(self->fd, LAZY_CMA_IOCTL_FREE, NULL))
BAD(free_kernel_ptr, EFAULT, ioctl(self->fd, LAZY_CMA_IOCTL_FREE, KPTR))

/* ---- LIST ---- */
static long do_list(int fd, uint32_t entry_size, uint32_t max, uint64_t entries)
{
	struct lazy_cma_list_data ld = {
		.entry_size = entry_size, .max_entries = max, .entries = entries,
	};

	return ioctl(fd, LAZY_CMA_IOCTL_LIST, &ld);
}

BAD(list_entry_size_0, EINVAL, do_list(self->fd, 0, 0, 0))
BAD(list_entry_size_ver0_minus_1, EINVAL, do_list(self->fd, LAZY_CMA_REGION_INFO_SIZE_VER0 - 1, 0, 0))
BAD(list_entry_size_4097, EINVAL, do_list(self->fd, 4097, 0, 0))
BAD(list_entry_size_u32_max, EINVAL, do_list(self->fd, UINT32_MAX, 1, 0))
BAD(list_entries_null, EFAULT, do_list(self->fd, sizeof(struct lazy_cma_region_info), 1, 0))
BAD(list_entries_kernel, EFAULT, do_list(self->fd, sizeof(struct lazy_cma_region_info), 1,
					 (uintptr_t)KPTR))
BAD(list_entries_end_of_space, EFAULT, do_list(self->fd, 4096, 8, UINT64_MAX - 4095))
BAD(list_null, EFAULT, ioctl(self->fd, LAZY_CMA_IOCTL_LIST, NULL))

/* ---- commands that are not ours: type, number, size or direction ---- */
BAD(cmd_wrong_type, ENOTTY, ioctl(self->fd, _IOWR('X', 0, struct lazy_cma_allocation_data), KPTR))
BAD(cmd_nr_5, ENOTTY, ioctl(self->fd, _IOWR('H', 5, struct lazy_cma_allocation_data), KPTR))
BAD(cmd_nr_255, ENOTTY, ioctl(self->fd, _IOWR('H', 255, struct lazy_cma_list_data), KPTR))
BAD(cmd_alloc_short, ENOTTY, ioctl(self->fd, _IOWR('H', 0, char[80]), KPTR))
BAD(cmd_alloc_long, ENOTTY, ioctl(self->fd, _IOWR('H', 0, char[96]), KPTR))
BAD(cmd_resize_short, ENOTTY, ioctl(self->fd, _IOWR('H', 1, __u64), KPTR))
BAD(cmd_free_u32, ENOTTY, ioctl(self->fd, _IOW('H', 2, __u32), KPTR))
BAD(cmd_list_short, ENOTTY, ioctl(self->fd, _IOWR('H', 3, char[24]), KPTR))
BAD(cmd_alloc_read_only_dir, ENOTTY, ioctl(self->fd, _IOR('H', 0, struct lazy_cma_allocation_data), KPTR))
BAD(cmd_free_no_dir, ENOTTY, ioctl(self->fd, _IO('H', 2), 0))
BAD(cmd_dma_heap_alloc_on_lazy_cma, ENOTTY, ioctl(self->fd, DMA_HEAP_IOCTL_ALLOC, KPTR))
BAD(cmd_zero, ENOTTY, ioctl(self->fd, 0, 0))

/* ---- mmap ---- */
static long do_mmap(int fd, size_t len, int prot, int flags, off_t off)
{
	void *m = mmap(NULL, len, prot, flags, fd, off);

	if (m == MAP_FAILED)
		return -1;
	munmap(m, len);
	return 0;
}

#define MMAP(len, off)	do_mmap(self->fd, len, PROT_READ, MAP_SHARED, (off_t)(off))

BAD(mmap_after_end, ENXIO, MMAP(SZ_4K, self->phys + REGION_LEN))
BAD(mmap_before_start, ENXIO, MMAP(SZ_4K, self->phys - SZ_4K))
BAD(mmap_too_long, ENXIO, MMAP(REGION_LEN + SZ_4K, self->phys))
BAD(mmap_straddling_end, ENXIO, MMAP(2 * SZ_4K, self->phys + REGION_LEN - SZ_4K))
BAD(mmap_offset_0, ENXIO, MMAP(SZ_4K, 0))
BAD(mmap_offset_huge, ENXIO, MMAP(2 * SZ_4K, 0x7ffffffffffff000LL))
BAD(mmap_private, EINVAL, do_mmap(self->fd, SZ_4K, PROT_READ, MAP_PRIVATE, (off_t)self->phys))
BAD(mmap_unaligned_offset, EINVAL, MMAP(SZ_4K, self->phys + 512))
BAD(mmap_len_0, EINVAL, MMAP(0, self->phys))
BAD(mmap_freed_region, ENXIO, ({
	uint64_t p;
	long ret = SETUP_FAILED;

	if (!lc_alloc(self->fd, SZ_1M, -1, "gone", &p) && !lc_free(self->fd, p))
		ret = MMAP(SZ_4K, p);
	ret;
}))

/* ---- the heap: the framework's checks ---- */
static long heap_alloc(int heap, uint64_t len, uint32_t fd, uint32_t fd_flags, uint64_t hf)
{
	struct dma_heap_allocation_data d = {
		.len = len, .fd = fd, .fd_flags = fd_flags, .heap_flags = hf,
	};
	long r = ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &d);

	if (!r)
		close((int)d.fd);
	return r;
}

#define HEAP(len, fd, fl, hf)	heap_alloc(self->heap, len, fd, fl, hf)

BAD(heap_fd_nonzero, EINVAL, HEAP(SZ_1M, 3, O_RDWR, 0))
BAD(heap_fd_u32_max, EINVAL, HEAP(SZ_1M, UINT32_MAX, O_RDWR, 0))
BAD(heap_fd_flags_append, EINVAL, HEAP(SZ_1M, 0, O_RDWR | O_APPEND, 0))
BAD(heap_fd_flags_nonblock, EINVAL, HEAP(SZ_1M, 0, O_RDWR | O_NONBLOCK, 0))
BAD(heap_fd_flags_all, EINVAL, HEAP(SZ_1M, 0, UINT32_MAX, 0))
BAD(heap_heap_flags_1, EINVAL, HEAP(SZ_1M, 0, O_RDWR, 1))
BAD(heap_heap_flags_top, EINVAL, HEAP(SZ_1M, 0, O_RDWR, 1ULL << 63))
BAD(heap_len_zero, EINVAL, HEAP(0, 0, O_RDWR, 0))
BAD(heap_len_wraps, EINVAL, HEAP(UINT64_MAX, 0, O_RDWR, 0))
BAD(heap_len_1tib, ENOMEM, HEAP(1ULL << 40, 0, O_RDWR, 0))
BAD(heap_null, EFAULT, ioctl(self->heap, DMA_HEAP_IOCTL_ALLOC, NULL))
BAD(heap_kernel_ptr, EFAULT, ioctl(self->heap, DMA_HEAP_IOCTL_ALLOC, KPTR))
BAD(heap_cmd_nr_1, EINVAL, ioctl(self->heap, _IOWR('H', 1, struct dma_heap_allocation_data), KPTR))
BAD(heap_lazy_cma_alloc_cmd, EINVAL, ({
	struct lazy_cma_allocation_data a = { .len = SZ_1M, .node = -1 };

	/* read as a heap request, its node field lands in heap_flags */
	ioctl(self->heap, LAZY_CMA_IOCTL_ALLOC, &a);
}))
BAD(heap_buf_mmap_private, EINVAL, ({
	struct dma_heap_allocation_data d = { .len = SZ_1M, .fd_flags = O_RDWR };
	long r = ioctl(self->heap, DMA_HEAP_IOCTL_ALLOC, &d);

	if (!r) {
		r = do_mmap((int)d.fd, SZ_1M, PROT_READ, MAP_PRIVATE, 0);
		close((int)d.fd);
	}
	r;
}))
BAD(heap_buf_mmap_too_long, EINVAL, ({
	struct dma_heap_allocation_data d = { .len = SZ_1M, .fd_flags = O_RDWR };
	long r = ioctl(self->heap, DMA_HEAP_IOCTL_ALLOC, &d);

	if (!r) {
		r = do_mmap((int)d.fd, SZ_1M + SZ_4K, PROT_READ, MAP_SHARED, 0);
		close((int)d.fd);
	}
	r;
}))
BAD(heap_buf_mmap_offset_past_end, EINVAL, ({
	struct dma_heap_allocation_data d = { .len = SZ_1M, .fd_flags = O_RDWR };
	long r = ioctl(self->heap, DMA_HEAP_IOCTL_ALLOC, &d);

	if (!r) {
		r = do_mmap((int)d.fd, SZ_4K, PROT_READ, MAP_SHARED, SZ_1M);
		close((int)d.fd);
	}
	r;
}))
BAD(heap_buf_sync_bad_flags, EINVAL, ({
	struct dma_heap_allocation_data d = { .len = SZ_1M, .fd_flags = O_RDWR };
	struct dma_buf_sync s = { .flags = 0x100 };
	long r = ioctl(self->heap, DMA_HEAP_IOCTL_ALLOC, &d);

	if (!r) {
		r = ioctl((int)d.fd, DMA_BUF_IOCTL_SYNC, &s);
		close((int)d.fd);
	}
	r;
}))

TEST_HARNESS_MAIN
