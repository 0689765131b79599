/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lazy_cma range API (lazy_cma_range.c): physically contiguous, zeroed
 * ranges of one node, for the regions, the heaps and kdump.  The struct
 * lazy_cma_range it hands out is the pageblock layer's.
 */
#ifndef _LAZY_CMA_RANGE_H
#define _LAZY_CMA_RANGE_H

#include <linux/pfn.h>
#include <linux/types.h>

#include "lazy_cma_pageblocks.h"

int lazy_cma_check_node(int nid);
int lazy_cma_range_alloc(struct lazy_cma_range *range, int nid,
			 unsigned long nr_pages, unsigned long nr_overwritten,
			 const char *name, unsigned int flags);
int lazy_cma_range_grow(struct lazy_cma_range *range, unsigned long nr_pages);
void lazy_cma_range_release_tail(struct lazy_cma_range *range);
void lazy_cma_range_free(struct lazy_cma_range *range);
int lazy_cma_copy_pages(unsigned long dst_pfn, unsigned long src_pfn,
			unsigned long nr_pages);

static inline phys_addr_t lazy_cma_range_phys(const struct lazy_cma_range *range)
{
	return PFN_PHYS(range->pfn);
}

#endif /* _LAZY_CMA_RANGE_H */
