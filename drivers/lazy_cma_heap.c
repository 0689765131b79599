// SPDX-License-Identifier: GPL-2.0
/*
 * lazy_cma dma-buf heaps: one heap per NUMA node with memory, named
 * "lazy_cma-node<N>", whose buffers are physically contiguous ranges from the
 * same allocator as /dev/lazy_cma regions (zeroed, named in /proc/iomem as
 * "lazy_cma-node<N> dma-buf").
 *
 * How a heap reaches user space is decided at build time: through the kernel's
 * dma-heap framework where it exports dma_heap_add() (lazy_cma_heap_fw.c), or
 * through a misc device of our own at the same path speaking the same uapi
 * (lazy_cma_heap_misc.c).  Nodes that gain memory later (hot-plug, dax/kmem)
 * get their heap when it comes online.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/iosys-map.h>
#include <linux/memory.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/nodemask.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

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

static struct lazy_cma_heap *lazy_cma_heaps[MAX_NUMNODES];
static DEFINE_MUTEX(lazy_cma_heaps_lock);
static struct dentry *lazy_cma_debugfs;

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

/* give every node with memory its heap; called at load and on memory online */
static void lazy_cma_heaps_scan(void)
{
	int nid, ret;

	mutex_lock(&lazy_cma_heaps_lock);
	for_each_node_state(nid, N_MEMORY) {
		struct lazy_cma_heap *heap;

		if (lazy_cma_heaps[nid])
			continue;
		heap = kzalloc(sizeof(*heap), GFP_KERNEL);
		if (!heap)
			break;
		heap->nid = nid;
		snprintf(heap->name, sizeof(heap->name), "%s-node%d", KBUILD_MODNAME, nid);
		snprintf(heap->res_name, sizeof(heap->res_name), "%s dma-buf", heap->name);
		ret = lazy_cma_heap_register(heap);
		if (ret) {
			pr_warn("cannot register heap %s: %d\n", heap->name, ret);
			kfree(heap);
			continue;
		}
		lazy_cma_heaps[nid] = heap;
	}
	mutex_unlock(&lazy_cma_heaps_lock);
}

static void lazy_cma_heaps_scan_work(struct work_struct *work)
{
	lazy_cma_heaps_scan();
}

static DECLARE_WORK(lazy_cma_heaps_work, lazy_cma_heaps_scan_work);

/* memory onlining holds the hotplug lock: register the new heap later */
static int lazy_cma_heaps_memory_notify(struct notifier_block *nb,
					unsigned long action, void *arg)
{
	if (action == MEM_ONLINE)
		schedule_work(&lazy_cma_heaps_work);
	return NOTIFY_OK;
}

static struct notifier_block lazy_cma_heaps_memory_nb = {
	.notifier_call = lazy_cma_heaps_memory_notify,
};

static int lazy_cma_heaps_stats_show(struct seq_file *s, void *unused)
{
	int nid;

	seq_printf(s, "%-20s %10s %14s %10s %10s\n", "heap", "buffers", "bytes",
		   "allocs", "failures");
	mutex_lock(&lazy_cma_heaps_lock);
	for (nid = 0; nid < MAX_NUMNODES; nid++) {
		struct lazy_cma_heap *heap = lazy_cma_heaps[nid];

		if (!heap)
			continue;
		seq_printf(s, "%-20s %10ld %14ld %10ld %10ld\n", heap->name,
			   atomic_long_read(&heap->buffers), atomic_long_read(&heap->bytes),
			   atomic_long_read(&heap->allocs), atomic_long_read(&heap->failures));
	}
	mutex_unlock(&lazy_cma_heaps_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(lazy_cma_heaps_stats);

int lazy_cma_heaps_init(void)
{
	int ret;

	lazy_cma_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("heaps", 0444, lazy_cma_debugfs, NULL,
			    &lazy_cma_heaps_stats_fops);

	ret = register_memory_notifier(&lazy_cma_heaps_memory_nb);
	if (ret) {
		debugfs_remove_recursive(lazy_cma_debugfs);
		return ret;
	}
	lazy_cma_heaps_scan();
	return 0;
}

/*
 * Only reached when no heap can outlive the module: with the framework path,
 * registering a heap pinned the module for good.
 */
void lazy_cma_heaps_exit(void)
{
	int nid;

	unregister_memory_notifier(&lazy_cma_heaps_memory_nb);
	cancel_work_sync(&lazy_cma_heaps_work);
	debugfs_remove_recursive(lazy_cma_debugfs);

	mutex_lock(&lazy_cma_heaps_lock);
	for (nid = 0; nid < MAX_NUMNODES; nid++) {
		if (!lazy_cma_heaps[nid])
			continue;
		lazy_cma_heap_unregister(lazy_cma_heaps[nid]);
		kfree(lazy_cma_heaps[nid]);
		lazy_cma_heaps[nid] = NULL;
	}
	mutex_unlock(&lazy_cma_heaps_lock);
}

LAZY_CMA_IMPORT_NS(DMA_BUF);
