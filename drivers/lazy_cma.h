/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lazy_cma above the range API (lazy_cma_range.h): the region registry,
 * kdump, the heaps and the character device.
 */
#ifndef _LAZY_CMA_H
#define _LAZY_CMA_H

#include <linux/atomic.h>
#include <linux/errno.h>
#include <linux/lazy_cma.h>
#include <linux/list.h>
#include <linux/rbtree.h>
#include <linux/types.h>

#include "lazy_cma_compat.h"
#include "lazy_cma_range.h"

struct address_space;
struct dma_buf;
struct vm_area_struct;

/* ---- lazy_cma_region.c: address-keyed regions of /dev/lazy_cma ---- */

/**
 * struct lazy_cma_region - one region of /dev/lazy_cma
 * @node:	in the registry's tree, keyed by @range.pfn
 * @range:	the memory
 * @views:	what its mappings may see (struct lazy_cma_view)
 * @req_nid:	node asked for at ALLOC (NUMA_NO_NODE = any); a moving RESIZE
 *		obeys it too
 * @busy:	a RESIZE or FREE is working on the region without the lock
 * @kdump:	armed as the kernel's crash-kernel range (lazy_cma_kdump.c):
 *		no RESIZE, no mmap, FREE only once no crash kernel is loaded
 * @name:	/proc/iomem name
 */
struct lazy_cma_region {
	struct rb_node node;
	struct lazy_cma_range range;
	struct list_head views;
	int req_nid;
	bool busy;
	bool kdump;
	char name[LAZY_CMA_NAME_MAX];
};

extern struct address_space *lazy_cma_mapping;

int lazy_cma_regions_init(void);
void lazy_cma_regions_exit(void);
void lazy_cma_regions_free_all(void);
struct lazy_cma_region *lazy_cma_region_alloc(int nid, u64 len, const char *name,
					      u64 *phys);
void lazy_cma_region_publish(struct lazy_cma_region *region);
void lazy_cma_region_discard(struct lazy_cma_region *region);
int lazy_cma_region_arm(struct lazy_cma_region *region);
int lazy_cma_region_unarm(struct lazy_cma_region *region);
/* tells the caller the outcome of a RESIZE before it is committed */
typedef int (*lazy_cma_report_t)(void __user *uarg, u64 phys, u64 len);
int lazy_cma_region_resize(u64 *phys, u64 *len, lazy_cma_report_t report,
			   void __user *uarg);
int lazy_cma_region_free(u64 phys);
unsigned int lazy_cma_region_snapshot(u64 start,
				      struct lazy_cma_region_info *out,
				      unsigned int max, unsigned int *total);
int lazy_cma_region_mmap(struct vm_area_struct *vma);

/* ---- lazy_cma_kdump.c: a region as the kernel's crash-kernel range ---- */

#ifdef LAZY_CMA_KDUMP
int lazy_cma_kdump_arm(struct lazy_cma_range *range);
int lazy_cma_kdump_disarm(struct lazy_cma_range *range);
bool lazy_cma_kdump_loaded(void);
#else
static inline int lazy_cma_kdump_arm(struct lazy_cma_range *range)
{
	return -EOPNOTSUPP;
}

static inline int lazy_cma_kdump_disarm(struct lazy_cma_range *range)
{
	return 0;
}

static inline bool lazy_cma_kdump_loaded(void)
{
	return false;
}
#endif

/* ---- lazy_cma_heap.c: per-node dma-buf heaps ---- */

#define LAZY_CMA_HEAP_NAME_MAX	24

/**
 * struct lazy_cma_heap - the heap of one node
 * @nid:	its node
 * @name:	"lazy_cma-node<N>": device node /dev/dma_heap/<name>
 * @res_name:	/proc/iomem name of its buffers: "<name> dma-buf"
 * @buffers:	live buffers
 * @bytes:	bytes in live buffers
 * @allocs:	successful allocations so far
 * @failures:	failed allocations so far
 * @priv:	the registration path's data
 */
struct lazy_cma_heap {
	int nid;
	char name[LAZY_CMA_HEAP_NAME_MAX];
	char res_name[LAZY_CMA_HEAP_NAME_MAX + 8];
	atomic_long_t buffers;
	atomic_long_t bytes;
	atomic_long_t allocs;
	atomic_long_t failures;
	void *priv;
};

int lazy_cma_heaps_init(void);
void lazy_cma_heaps_exit(void);
struct dma_buf *lazy_cma_heap_allocate(struct lazy_cma_heap *heap,
				       unsigned long len, u32 fd_flags,
				       u64 heap_flags);

/* lazy_cma_heap_fw.c or lazy_cma_heap_misc.c, chosen by Kbuild */
int lazy_cma_heap_register(struct lazy_cma_heap *heap);
void lazy_cma_heap_unregister(struct lazy_cma_heap *heap);

/* ---- lazy_cma_dev.c: /dev/lazy_cma ---- */

int lazy_cma_dev_register(void);
void lazy_cma_dev_enable(void);
void lazy_cma_dev_unregister(void);

#endif /* _LAZY_CMA_H */
