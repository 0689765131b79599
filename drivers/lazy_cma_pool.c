// SPDX-License-Identifier: GPL-2.0
/*
 * lazy_cma pool: requests smaller than a pageblock share pageblocks.
 *
 * Taking a whole pageblock for a 4 KiB heap buffer would spoil it for huge
 * pages, hugetlb, offlining and any later large request: 512 such buffers
 * would pin 1 GiB of pageblocks.  Small requests are instead carved, first
 * fit, out of per-node chunks of one pageblock each, as the page allocator
 * itself keeps unmovable allocations together.  A chunk is a range of the
 * pageblock layer below (lazy_cma_chunk_alloc(): from the buddy allocator's free lists
 * when it has a free pageblock on the node, else by the window search), so
 * it is claimed, and its memory block cannot go offline while it lives.
 *
 * A chunk goes back to the page allocator as soon as its last piece is
 * freed: closing every buffer gives all the memory back, and an empty chunk
 * never stands in the way of offlining.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/highmem.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/nodemask.h>
#include <linux/slab.h>

#include "lazy_cma_pool.h"

struct lazy_cma_chunk {
	struct list_head node;
	struct lazy_cma_range range;	/* the pageblock, no iomem entry */
	unsigned long used;		/* pages handed out */
	unsigned long *dirty;		/* a bit per page, set: may not be zero */
	unsigned long map[];		/* a bit per page, set: handed out */
};

struct lazy_cma_pool {
	struct mutex lock;		/* protects chunks and their maps */
	struct list_head chunks;
};

static struct lazy_cma_pool *lazy_cma_pools;

int lazy_cma_pool_init(void)
{
	int nid;

	lazy_cma_pools = kcalloc(nr_node_ids, sizeof(*lazy_cma_pools), GFP_KERNEL);
	if (!lazy_cma_pools)
		return -ENOMEM;
	for (nid = 0; nid < nr_node_ids; nid++) {
		mutex_init(&lazy_cma_pools[nid].lock);
		INIT_LIST_HEAD(&lazy_cma_pools[nid].chunks);
	}
	return 0;
}

/* every piece is freed by now, and with it every chunk */
void lazy_cma_pool_exit(void)
{
	int nid;

	for (nid = 0; nid < nr_node_ids; nid++) {
		WARN_ON(!list_empty(&lazy_cma_pools[nid].chunks));
		mutex_destroy(&lazy_cma_pools[nid].lock);
	}
	kfree(lazy_cma_pools);
}

/*
 * Take @nr_pages of @chunk, first fit; false if they do not fit.  *@clear:
 * the first of them that may not be zero (a piece handed out before, or a
 * chunk the page allocator did not clear), or nr_pages if none.
 */
static bool lazy_cma_chunk_take(struct lazy_cma_chunk *chunk,
				struct lazy_cma_range *range,
				unsigned long nr_pages, unsigned long *clear)
{
	unsigned long pos;

	/* naturally aligned, as the page allocator would give them */
	pos = bitmap_find_next_zero_area(chunk->map, pageblock_nr_pages, 0,
					 nr_pages, (1UL << get_order(nr_pages << PAGE_SHIFT)) - 1);
	if (pos >= pageblock_nr_pages)
		return false;
	bitmap_set(chunk->map, pos, nr_pages);
	*clear = find_next_bit(chunk->dirty, pos + nr_pages, pos) - pos;
	bitmap_set(chunk->dirty, pos, nr_pages);
	chunk->used += nr_pages;
	range->pfn = chunk->range.pfn + pos;
	range->nr_pages = nr_pages;
	range->held = nr_pages;
	range->nid = chunk->range.nid;
	range->chunk = chunk;
	return true;
}

/* clear pages [@from, @nr_pages) of @range */
static void lazy_cma_piece_clear(struct lazy_cma_range *range,
				 unsigned long from)
{
	unsigned long i;

	for (i = from; i < range->nr_pages; i++)
		clear_highpage(pfn_to_page(range->pfn + i));
}

/**
 * lazy_cma_pool_alloc() - take @nr_pages contiguous, zeroed pages in a chunk
 * @range: filled in on success (pfn, nr_pages, held, nid, chunk); no iomem
 *	   entry yet
 * @nid: node
 * @nr_pages: fewer than a pageblock
 *
 * Return: 0; -ENOMEM if no chunk has room and no new one could be had;
 * -EINTR on a fatal signal.
 */
int lazy_cma_pool_alloc(struct lazy_cma_range *range, int nid,
			unsigned long nr_pages)
{
	struct lazy_cma_pool *pool = &lazy_cma_pools[nid];
	unsigned long words = BITS_TO_LONGS(pageblock_nr_pages), clear;
	struct lazy_cma_chunk *chunk;
	int ret;

	mutex_lock(&pool->lock);
	list_for_each_entry(chunk, &pool->chunks, node) {
		if (lazy_cma_chunk_take(chunk, range, nr_pages, &clear)) {
			mutex_unlock(&pool->lock);
			lazy_cma_piece_clear(range, clear);
			return 0;
		}
	}
	mutex_unlock(&pool->lock);

	/* no room: a new chunk, taken without the lock (it may migrate) */
	chunk = kzalloc(struct_size(chunk, map, 2 * words), GFP_KERNEL);
	if (!chunk)
		return -ENOMEM;
	/* the dirty bits follow the map */
	chunk->dirty = chunk->map + words;
	ret = lazy_cma_chunk_alloc(&chunk->range, nid);
	if (ret) {
		kfree(chunk);
		return ret;
	}
	/* the page allocator cleared it (init_on_alloc), or nobody did */
	if (!want_init_on_alloc(GFP_KERNEL))
		bitmap_fill(chunk->dirty, pageblock_nr_pages);
	/* a new chunk has room for any piece smaller than itself */
	lazy_cma_chunk_take(chunk, range, nr_pages, &clear);
	mutex_lock(&pool->lock);
	/* newest first: the next small requests fill it */
	list_add(&chunk->node, &pool->chunks);
	mutex_unlock(&pool->lock);
	lazy_cma_piece_clear(range, clear);
	return 0;
}

/**
 * lazy_cma_pool_shrink() - give back the pages of a pool range past @nr_pages
 * @range: a range from lazy_cma_pool_alloc(); its nr_pages becomes @nr_pages
 * @nr_pages: fewer than now; 0 frees the range
 */
void lazy_cma_pool_shrink(struct lazy_cma_range *range, unsigned long nr_pages)
{
	struct lazy_cma_chunk *chunk = range->chunk;
	struct lazy_cma_pool *pool = &lazy_cma_pools[chunk->range.nid];
	unsigned long pos = range->pfn - chunk->range.pfn;
	bool drop = false;

	mutex_lock(&pool->lock);
	bitmap_clear(chunk->map, pos + nr_pages, range->held - nr_pages);
	chunk->used -= range->held - nr_pages;
	range->held = nr_pages;
	range->nr_pages = nr_pages;
	if (!chunk->used) {
		list_del(&chunk->node);
		drop = true;
	}
	mutex_unlock(&pool->lock);
	if (drop) {
		lazy_cma_chunk_free(&chunk->range);
		kfree(chunk);
	}
}
