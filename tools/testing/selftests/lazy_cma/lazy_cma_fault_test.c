// SPDX-License-Identifier: GPL-2.0
/*
 * Systematic fault injection (needs CONFIG_FAULT_INJECTION with failslab and
 * fail_page_alloc): for every allocation path - ALLOC, RESIZE (growing and
 * moving), mmap, LIST, heap allocation, heap attach through vgem - make the
 * 1st, 2nd, 3rd... memory allocation of the call fail (fail-nth) until the
 * call completes without reaching it.  Each failure must surface as a clean
 * errno (or be absorbed), and the registry and /proc/iomem must agree
 * afterwards.  Leaks are left to kmemleak (the VM runner scans at the end).
 */
#include <linux/dma-heap.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <xf86drm.h>

#include "lazy_cma_lib.h"
#include "kselftest_harness.h"

#define MAX_NTH 400

static int nth_fd = -1;

static void injection_setup(void)
{
	char path[64];

	write_str("/sys/kernel/debug/failslab/ignore-gfp-wait", "N");
	write_str("/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N");
	write_str("/sys/kernel/debug/fail_page_alloc/ignore-gfp-highmem", "N");
	write_str("/sys/kernel/debug/fail_page_alloc/min-order", "0");
	write_str("/sys/kernel/debug/failslab/verbose", "0");
	write_str("/sys/kernel/debug/fail_page_alloc/verbose", "0");
	snprintf(path, sizeof(path), "/proc/self/task/%ld/fail-nth", (long)syscall(SYS_gettid));
	nth_fd = open(path, O_RDWR);
}

static void arm(int n)
{
	char b[16];
	int len = snprintf(b, sizeof(b), "%d", n);

	pwrite(nth_fd, b, len, 0);
}

/* true if the armed fault was injected (and disarm) */
static bool fired(void)
{
	char b[16] = "";

	pread(nth_fd, b, sizeof(b) - 1, 0);
	pwrite(nth_fd, "0", 1, 0);
	return atoi(b) == 0;
}

/* the registry and /proc/iomem agree on the regions named @name */
static bool consistent(int fd, const char *name)
{
	struct lazy_cma_region_info v[64];
	struct lazy_cma_list_data ld = {
		.entry_size = sizeof(v[0]), .max_entries = 64, .entries = (uintptr_t)v,
	};
	int i, n = 0;

	if (ioctl(fd, LAZY_CMA_IOCTL_LIST, &ld))
		return false;
	for (i = 0; i < (int)ld.nr_entries; i++) {
		if (strcmp(v[i].name, name))
			continue;
		n++;
		if (!iomem_has(v[i].phys_addr, v[i].phys_addr + v[i].len - 1, name))
			return false;
	}
	return n == iomem_count(name);
}

FIXTURE(fault) {
	int fd;
};

FIXTURE_SETUP(fault)
{
	if (access("/sys/kernel/debug/failslab", F_OK) ||
	    access("/sys/kernel/debug/fail_page_alloc", F_OK))
		SKIP(return, "kernel without failslab/fail_page_alloc");
	self->fd = lc_open();
	ASSERT_LE(0, self->fd);
	lc_free_all(self->fd);
	injection_setup();
	ASSERT_LE(0, nth_fd);
}

FIXTURE_TEARDOWN(fault)
{
	lc_free_all(self->fd);
	close(self->fd);
}

/*
 * Run OP with the n-th allocation failing, n = 1, 2, ... until OP no longer
 * reaches it.  OP sets r (0 or -errno); OK lists the errnos it may return.
 */
#define SWEEP(what, OP, ...) do {					\
		static const int ok_[] = { 0, __VA_ARGS__ };		\
		int n_, injected_ = 0, failed_ = 0;			\
		for (n_ = 1; n_ <= MAX_NTH; n_++) {			\
			int r = 0;					\
			bool hit_, good_ = false;			\
			arm(n_);					\
			OP;						\
			hit_ = fired();					\
			for (unsigned int k_ = 0; k_ < sizeof(ok_) / sizeof(ok_[0]); k_++) \
				good_ |= r == -ok_[k_];			\
			EXPECT_TRUE(good_) TH_LOG("%s, fault %d: %d", what, n_, r); \
			injected_ += hit_;				\
			failed_ += hit_ && r;				\
			if (!hit_)					\
				break;					\
		}							\
		TH_LOG("%s: %d faults injected, %d failed the call", what, \
		       injected_, failed_);				\
		EXPECT_LT(0, injected_);				\
		EXPECT_GT(MAX_NTH, n_);					\
	} while (0)

TEST_F_TIMEOUT(fault, alloc, 600)
{
	uint64_t phys;

	SWEEP("ALLOC 4 MiB", ({
		r = lc_alloc(self->fd, 4 * SZ_1M, 1, "fault", &phys);
		if (!r)
			lc_free(self->fd, phys);
	}), ENOMEM);
	EXPECT_TRUE(consistent(self->fd, "fault"));
	EXPECT_EQ(0, lc_count(self->fd));
}

TEST_F_TIMEOUT(fault, resize, 600)
{
	uint64_t top, s, p, l;

	ASSERT_EQ(0, lc_alloc(self->fd, SZ_2M, 1, "top", &top));
	SWEEP("RESIZE 2 -> 4 MiB (moving)", ({
		r = lc_alloc(self->fd, SZ_2M, 1, "fault", &s);
		if (!r) {
			p = s;
			l = 4 * SZ_1M;
			r = lc_resize(self->fd, &p, &l);
			lc_free(self->fd, r ? s : p);
		}
	}), ENOMEM);
	EXPECT_TRUE(consistent(self->fd, "fault"));
	EXPECT_EQ(1, lc_count(self->fd));
}

TEST_F_TIMEOUT(fault, mmap_and_list, 600)
{
	struct lazy_cma_region_info v[4];
	uint64_t phys;

	ASSERT_EQ(0, lc_alloc(self->fd, SZ_2M, -1, "fault", &phys));
	SWEEP("mmap", ({
		void *m = mmap(NULL, SZ_2M, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd,
			       (off_t)phys);
		r = m == MAP_FAILED ? -errno : 0;
		if (!r) {
			*(volatile char *)m = 1;
			munmap(m, SZ_2M);
		}
	}), ENOMEM, EAGAIN);
	SWEEP("LIST", ({
		struct lazy_cma_list_data ld = { .entry_size = sizeof(v[0]), .max_entries = 4,
						 .entries = (uintptr_t)v };
		r = ioctl(self->fd, LAZY_CMA_IOCTL_LIST, &ld) ? -errno : 0;
	}), ENOMEM);
	EXPECT_TRUE(consistent(self->fd, "fault"));
}

TEST_F_TIMEOUT(fault, heap_allocate_and_attach, 600)
{
	int heap = open("/dev/dma_heap/lazy_cma-node0", O_RDWR | O_CLOEXEC);
	int card = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, heap);
	SWEEP("heap allocate", ({
		struct dma_heap_allocation_data d = { .len = SZ_2M, .fd_flags = O_RDWR };
		r = ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &d) ? -errno : 0;
		if (!r)
			close((int)d.fd);
	}), ENOMEM, EMFILE);
	ASSERT_LE(0, card) TH_LOG("vgem not loaded");
	SWEEP("vgem import (attach + map)", ({
		struct dma_heap_allocation_data d = { .len = SZ_2M, .fd_flags = O_RDWR };
		uint32_t h;

		r = ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &d) ? -errno : 0;
		if (!r) {
			arm(n_);
			r = drmPrimeFDToHandle(card, (int)d.fd, &h) ? -errno : 0;
			if (!r)
				drmCloseBufferHandle(card, h);
			close((int)d.fd);
		}
	}), ENOMEM, ENOSPC);
	EXPECT_EQ(0, iomem_count("lazy_cma-node0 dma-buf"));
	close(card);
	close(heap);
}

TEST_HARNESS_MAIN
