// SPDX-License-Identifier: GPL-2.0
/*
 * lazy_cma heaps through the kernel's dma-heap framework, for kernels that
 * export dma_heap_add(): the framework owns /dev/dma_heap/<name>, the
 * /sys/class/dma_heap entry, DMA_HEAP_IOCTL_ALLOC's checks and the fd.
 *
 * The framework has no way to remove a heap.  Once one is registered the
 * module pins itself: rmmod answers "in use" for good, rather than leave a
 * heap whose ops point into freed code.  Load with heaps=0 to keep lazy_cma
 * unloadable.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-heap.h>
#include <linux/module.h>

#include "lazy_cma.h"
#include "lazy_cma_compat.h"

static struct dma_buf *lazy_cma_fw_allocate(struct dma_heap *dma_heap,
					    unsigned long len, u32 fd_flags,
					    u64 heap_flags)
{
	return lazy_cma_heap_allocate(dma_heap_get_drvdata(dma_heap), len,
				      fd_flags, heap_flags);
}

static const struct dma_heap_ops lazy_cma_fw_ops = {
	.allocate = lazy_cma_fw_allocate,
};

int lazy_cma_heap_register(struct lazy_cma_heap *heap)
{
	struct dma_heap_export_info exp_info = {
		.name = heap->name,
		.ops = &lazy_cma_fw_ops,
		.priv = heap,
	};
	struct dma_heap *dma_heap;

	/*
	 * One reference per heap, never dropped: see above.  Taken first, so
	 * that a heap is never registered once rmmod has begun (a late
	 * memory-online scan racing with unload).
	 */
	if (!try_module_get(THIS_MODULE))
		return -ENODEV;
	dma_heap = dma_heap_add(&exp_info);
	if (IS_ERR(dma_heap)) {
		module_put(THIS_MODULE);
		return PTR_ERR(dma_heap);
	}
	return 0;
}

void lazy_cma_heap_unregister(struct lazy_cma_heap *heap)
{
	/* unreachable: a registered heap keeps the module loaded */
	WARN_ON_ONCE(1);
}

LAZY_CMA_IMPORT_NS(DMA_BUF_HEAP);
