/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lazy_cma pool: requests smaller than a pageblock share pageblocks
 * (lazy_cma_pool.c).  It takes its chunks from the pageblock layer below it
 * and is used by the range API above it.
 */
#ifndef _LAZY_CMA_POOL_H
#define _LAZY_CMA_POOL_H

#include "lazy_cma_pageblocks.h"

int lazy_cma_pool_init(void);
void lazy_cma_pool_exit(void);
int lazy_cma_pool_alloc(struct lazy_cma_range *range, int nid,
			unsigned long nr_pages);
void lazy_cma_pool_shrink(struct lazy_cma_range *range, unsigned long nr_pages);

#endif /* _LAZY_CMA_POOL_H */
