// SPDX-License-Identifier: GPL-2.0
/*
 * lazy_cma heap buffers: a dma-buf over one contiguous range of the heap's
 * node, from the same allocator as /dev/lazy_cma regions (zeroed, named in
 * /proc/iomem as "lazy_cma-node<N> dma-buf"), and every dma_buf_ops
 * callback of it.  lazy_cma_heap_allocate() is what both registration
 * paths (lazy_cma_heap_fw.c, lazy_cma_heap_misc.c) call for
 * DMA_HEAP_IOCTL_ALLOC; the heaps themselves are in lazy_cma_heap.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/iosys-map.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include "lazy_cma.h"
#include "lazy_cma_compat.h"

/* largest scatterlist entry: sg lengths are 32-bit */
#define LAZY_CMA_SG_MAX		SZ_1G

struct lazy_cma_buffer {
	struct lazy_cma_heap *heap;
	struct lazy_cma_range range;
	struct mutex lock;		/* attachments */
	struct list_head attachments;
};

struct lazy_cma_attachment {
	struct device *dev;
	struct sg_table table;
	struct list_head node;
	bool mapped;
};

static int lazy_cma_heap_attach(struct dma_buf *dmabuf,
				struct dma_buf_attachment *attachment)
{
	struct lazy_cma_buffer *buffer = dmabuf->priv;
	unsigned long len = PFN_PHYS(buffer->range.nr_pages), off = 0;
	struct lazy_cma_attachment *a;
	struct scatterlist *sg;
	unsigned int i, nents = DIV_ROUND_UP(len, LAZY_CMA_SG_MAX);
	int ret;

	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return -ENOMEM;
	ret = sg_alloc_table(&a->table, nents, GFP_KERNEL);
	if (ret) {
		kfree(a);
		return ret;
	}
	/* contiguous memory: one entry per (at most) 1 GiB */
	for_each_sgtable_sg(&a->table, sg, i) {
		unsigned long n = min_t(unsigned long, len - off, LAZY_CMA_SG_MAX);

		sg_set_page(sg, pfn_to_page(buffer->range.pfn + PHYS_PFN(off)), n, 0);
		off += n;
	}
	a->dev = attachment->dev;
	INIT_LIST_HEAD(&a->node);
	attachment->priv = a;

	mutex_lock(&buffer->lock);
	list_add(&a->node, &buffer->attachments);
	mutex_unlock(&buffer->lock);
	return 0;
}

static void lazy_cma_heap_detach(struct dma_buf *dmabuf,
				 struct dma_buf_attachment *attachment)
{
	struct lazy_cma_buffer *buffer = dmabuf->priv;
	struct lazy_cma_attachment *a = attachment->priv;

	mutex_lock(&buffer->lock);
	list_del(&a->node);
	mutex_unlock(&buffer->lock);
	sg_free_table(&a->table);
	kfree(a);
}

static struct sg_table *lazy_cma_heap_map_dma_buf(struct dma_buf_attachment *attachment,
						  enum dma_data_direction dir)
{
	struct lazy_cma_buffer *buffer = attachment->dmabuf->priv;
	struct lazy_cma_attachment *a = attachment->priv;
	int ret;

	ret = dma_map_sgtable(attachment->dev, &a->table, dir, 0);
	if (ret)
		return ERR_PTR(ret);
	mutex_lock(&buffer->lock);
	a->mapped = true;
	mutex_unlock(&buffer->lock);
	return &a->table;
}

static void lazy_cma_heap_unmap_dma_buf(struct dma_buf_attachment *attachment,
					struct sg_table *table,
					enum dma_data_direction dir)
{
	struct lazy_cma_buffer *buffer = attachment->dmabuf->priv;
	struct lazy_cma_attachment *a = attachment->priv;

	mutex_lock(&buffer->lock);
	a->mapped = false;
	mutex_unlock(&buffer->lock);
	dma_unmap_sgtable(attachment->dev, table, dir, 0);
}

static int lazy_cma_heap_begin_cpu_access(struct dma_buf *dmabuf,
					  enum dma_data_direction dir)
{
	struct lazy_cma_buffer *buffer = dmabuf->priv;
	struct lazy_cma_attachment *a;

	mutex_lock(&buffer->lock);
	list_for_each_entry(a, &buffer->attachments, node) {
		if (a->mapped)
			dma_sync_sgtable_for_cpu(a->dev, &a->table, dir);
	}
	mutex_unlock(&buffer->lock);
	return 0;
}

static int lazy_cma_heap_end_cpu_access(struct dma_buf *dmabuf,
					enum dma_data_direction dir)
{
	struct lazy_cma_buffer *buffer = dmabuf->priv;
	struct lazy_cma_attachment *a;

	mutex_lock(&buffer->lock);
	list_for_each_entry(a, &buffer->attachments, node) {
		if (a->mapped)
			dma_sync_sgtable_for_device(a->dev, &a->table, dir);
	}
	mutex_unlock(&buffer->lock);
	return 0;
}

static vm_fault_t lazy_cma_heap_vm_fault(struct vm_fault *vmf)
{
	struct lazy_cma_buffer *buffer = vmf->vma->vm_private_data;

	if (vmf->pgoff >= buffer->range.nr_pages)
		return VM_FAULT_SIGBUS;
	return vmf_insert_pfn(vmf->vma, vmf->address, buffer->range.pfn + vmf->pgoff);
}

static const struct vm_operations_struct lazy_cma_heap_vm_ops = {
	.fault = lazy_cma_heap_vm_fault,
};

/*
 * PFN mappings, faulted in page by page: the mapping holds the dma-buf (and
 * so the memory) alive, and get_user_pages() cannot pin the pages beyond it.
 */
static int lazy_cma_heap_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	/* MAP_SHARED (a read-only descriptor clears VM_SHARED, not VM_MAYSHARE) */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	lazy_cma_vm_flags_set(vma, VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &lazy_cma_heap_vm_ops;
	vma->vm_private_data = dmabuf->priv;
	return 0;
}

/*
 * The range is in the kernel's linear map already: no vmap() needed, and
 * nothing to count or undo (the dma-buf core counts vmaps itself).
 */
static int lazy_cma_heap_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct lazy_cma_buffer *buffer = dmabuf->priv;
	struct page *page = pfn_to_page(buffer->range.pfn);

	if (PageHighMem(page))
		return -ENOMEM;
	iosys_map_set_vaddr(map, page_address(page));
	return 0;
}

static void lazy_cma_heap_vunmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	iosys_map_clear(map);
}

static void lazy_cma_heap_release(struct dma_buf *dmabuf)
{
	struct lazy_cma_buffer *buffer = dmabuf->priv;
	struct lazy_cma_heap *heap = buffer->heap;

	atomic_long_dec(&heap->buffers);
	atomic_long_sub(PFN_PHYS(buffer->range.nr_pages), &heap->bytes);
	lazy_cma_range_free(&buffer->range);
	mutex_destroy(&buffer->lock);
	kfree(buffer);
}

static const struct dma_buf_ops lazy_cma_heap_buf_ops = {
	.attach = lazy_cma_heap_attach,
	.detach = lazy_cma_heap_detach,
	.map_dma_buf = lazy_cma_heap_map_dma_buf,
	.unmap_dma_buf = lazy_cma_heap_unmap_dma_buf,
	.begin_cpu_access = lazy_cma_heap_begin_cpu_access,
	.end_cpu_access = lazy_cma_heap_end_cpu_access,
	.mmap = lazy_cma_heap_mmap,
	.vmap = lazy_cma_heap_vmap,
	.vunmap = lazy_cma_heap_vunmap,
	.release = lazy_cma_heap_release,
};

/**
 * lazy_cma_heap_allocate() - a contiguous, zeroed dma-buf from @heap's node
 * @heap: the heap
 * @len: bytes, page-aligned and not 0 (the callers check)
 * @fd_flags: O_CLOEXEC / O_ACCMODE bits for the dma-buf file
 * @heap_flags: must be 0 (the callers check)
 *
 * Return: the dma-buf, or ERR_PTR(-ENOMEM) if the node cannot supply the
 * range, -ENODEV if it has no memory now, -EINTR on a fatal signal.
 */
struct dma_buf *lazy_cma_heap_allocate(struct lazy_cma_heap *heap,
				       unsigned long len, u32 fd_flags,
				       u64 heap_flags)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	struct lazy_cma_buffer *buffer;
	struct dma_buf *dmabuf;
	int ret;

	buffer = kzalloc(sizeof(*buffer), GFP_KERNEL);
	if (!buffer) {
		ret = -ENOMEM;
		goto err_count;
	}
	mutex_init(&buffer->lock);
	INIT_LIST_HEAD(&buffer->attachments);
	buffer->heap = heap;

	ret = lazy_cma_range_alloc(&buffer->range, heap->nid, len >> PAGE_SHIFT, 0,
				   heap->res_name, 0);
	if (ret)
		goto err_free;

	exp_info.exp_name = heap->name;
	exp_info.ops = &lazy_cma_heap_buf_ops;
	exp_info.size = len;
	exp_info.flags = fd_flags;
	exp_info.priv = buffer;
	dmabuf = dma_buf_export(&exp_info);
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		goto err_range;
	}

	atomic_long_inc(&heap->allocs);
	atomic_long_inc(&heap->buffers);
	atomic_long_add(len, &heap->bytes);
	return dmabuf;

err_range:
	lazy_cma_range_free(&buffer->range);
err_free:
	mutex_destroy(&buffer->lock);
	kfree(buffer);
err_count:
	atomic_long_inc(&heap->failures);
	return ERR_PTR(ret);
}
