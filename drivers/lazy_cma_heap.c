// SPDX-License-Identifier: GPL-2.0
/*
 * lazy_cma dma-buf heaps: one heap per NUMA node with memory, named
 * "lazy_cma-node<N>", whose buffers (lazy_cma_heap_buffer.c) are physically
 * contiguous ranges from the same allocator as /dev/lazy_cma regions.
 * Here: which nodes have a heap, and their counters in debugfs.
 *
 * How a heap reaches user space is decided at build time: through the kernel's
 * dma-heap framework where it exports dma_heap_add() (lazy_cma_heap_fw.c), or
 * through a misc device of our own at the same path speaking the same uapi
 * (lazy_cma_heap_misc.c).  Nodes that gain memory later (hot-plug, dax/kmem)
 * get their heap when it comes online.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/memory.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/nodemask.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "lazy_cma.h"
#include "lazy_cma_compat.h"

static struct lazy_cma_heap *lazy_cma_heaps[MAX_NUMNODES];
static DEFINE_MUTEX(lazy_cma_heaps_lock);
static struct dentry *lazy_cma_debugfs;

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
