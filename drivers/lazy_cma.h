/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lazy_cma internals: the contiguous-range allocator, the region registry
 * and the character device.
 */
#ifndef _LAZY_CMA_H
#define _LAZY_CMA_H

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/errno.h>
#include <linux/interval_tree.h>
#include <linux/ioport.h>
#include <linux/lazy_cma.h>
#include <linux/list.h>
#include <linux/rbtree.h>
#include <linux/types.h>

#include "lazy_cma_compat.h"

struct address_space;
struct dma_buf;
struct vm_area_struct;

/* ---- lazy_cma_alloc.c: physically contiguous ranges of one node ---- */

/**
 * struct lazy_cma_claim - pages the allocator holds or is taking
 * @it:	[it.start, it.last] in pfns, in the allocator's interval tree of
 *	claims (a window search asks it once per candidate, so it must stay
 *	cheap with many thousands of regions)
 *
 * Memory that holds a claim cannot be offlined: the allocator vetoes it.
 */
struct lazy_cma_claim {
	struct interval_tree_node it;
};

struct lazy_cma_chunk;

/**
 * struct lazy_cma_range - physically contiguous pages of one node
 * @pfn:	first page frame
 * @nr_pages:	number of pages
 * @held:	pages held from @pfn on, at least @nr_pages: a range of its own
 *		holds whole pageblocks, so that it can grow in place (see
 *		lazy_cma_range_grow()); a piece of a pool chunk holds @nr_pages
 * @nid:	NUMA node of every page
 * @chunk:	the pool chunk the pages belong to (lazy_cma_pool.c), or NULL
 *		for a range of its own
 * @res:	its /proc/iomem entry; res.name must outlive the range
 * @claim:	keeps the memory from being offlined while the range lives
 *		(a pool piece is covered by its chunk's claim)
 */
struct lazy_cma_range {
	unsigned long pfn;
	unsigned long nr_pages;
	unsigned long held;
	int nid;
	struct lazy_cma_chunk *chunk;
	struct resource res;
	struct lazy_cma_claim claim;
};

/* lazy_cma_range_alloc() flags */
#define LAZY_CMA_RANGE_ROOM	BIT(0)	/* may grow: room after it, never pooled */

extern unsigned int lazy_cma_reserve_mb;
extern bool lazy_cma_naive;
extern bool lazy_cma_kernel_search;

int lazy_cma_alloc_init(void);
void lazy_cma_alloc_exit(void);
int lazy_cma_check_node(int nid);
int lazy_cma_range_alloc(struct lazy_cma_range *range, int nid,
			 unsigned long nr_pages, unsigned long nr_overwritten,
			 const char *name, unsigned int flags);
int lazy_cma_range_grow(struct lazy_cma_range *range, unsigned long nr_pages);
void lazy_cma_range_release_tail(struct lazy_cma_range *range);
void lazy_cma_range_free(struct lazy_cma_range *range);
int lazy_cma_copy_pages(unsigned long dst_pfn, unsigned long src_pfn,
			unsigned long nr_pages);

int lazy_cma_chunk_alloc(struct lazy_cma_range *chunk, int nid);
void lazy_cma_chunk_free(struct lazy_cma_range *chunk);

/* ---- lazy_cma_pool.c: small requests share pageblocks ---- */

int lazy_cma_pool_init(void);
void lazy_cma_pool_exit(void);
int lazy_cma_pool_alloc(struct lazy_cma_range *range, int nid,
			unsigned long nr_pages);
void lazy_cma_pool_shrink(struct lazy_cma_range *range, unsigned long nr_pages);

static inline phys_addr_t lazy_cma_range_phys(const struct lazy_cma_range *range)
{
	return PFN_PHYS(range->pfn);
}

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
