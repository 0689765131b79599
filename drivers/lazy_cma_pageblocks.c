// SPDX-License-Identifier: GPL-2.0
/*
 * lazy_cma pageblocks: the bottom layer of the allocator, entered here.  It
 * takes whole pageblocks of one node, from a pageblock boundary on, as a
 * range of its own: from the buddy allocator's free lists when they have
 * them and the range will not grow, else by the window search
 * (lazy_cma_node_take()).  The pool takes its chunks here
 * (lazy_cma_chunk_alloc()), the range API its ranges of their own.
 *
 * The layer's files, each on one concern: lazy_cma_claim.c (claims, memory
 * notifier), lazy_cma_margin.c (per-zone margin), lazy_cma_scan.c (window
 * scan), lazy_cma_clear.c (clearing), lazy_cma_giveback.c (pages going
 * back), lazy_cma_take.c (taking a window or a buddy block),
 * lazy_cma_baseline.c (benchmark baselines), lazy_cma_search.c (choosing
 * the window).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/workqueue.h>

#include "lazy_cma_pageblocks.h"

int lazy_cma_pageblocks_init(void)
{
	int ret;

	ret = lazy_cma_margin_init();
	if (ret)
		return ret;
	ret = lazy_cma_clear_init();
	if (ret)
		goto err_margin;
	ret = lazy_cma_claims_init();
	if (ret)
		goto err_clear;
	return 0;

err_clear:
	lazy_cma_clear_exit();
err_margin:
	lazy_cma_margin_exit();
	return ret;
}

/* every range is freed by now; give-backs may still be queued */
void lazy_cma_pageblocks_exit(void)
{
	/* their claims keep vetoing offlining until their pages are free */
	flush_workqueue(lazy_cma_clear_wq);
	lazy_cma_claims_exit();
	lazy_cma_clear_exit();
	lazy_cma_margin_exit();
}

/*
 * Take w->nr pages of @nid as a range of its own (whole pageblocks held):
 * from the buddy allocator if it has them free and the range will not grow,
 * else by the window search.
 */
int lazy_cma_node_take(struct lazy_cma_range *range, int nid,
		       struct lazy_cma_want *w, unsigned int flags)
{
	int ret;

	if (w->held <= MAX_ORDER_NR_PAGES && !(flags & LAZY_CMA_RANGE_ROOM) &&
	    !lazy_cma_buddy_take(range, nid, w->held)) {
		range->nr_pages = w->nr;
		ret = lazy_cma_res_insert(range, w->name);
		if (!ret)
			return 0;
		lazy_cma_range_free_held(range);
	}
	return lazy_cma_search(range, nid, w, flags);
}

/**
 * lazy_cma_chunk_alloc() - take one pageblock of @nid for the pool
 * @chunk: filled in on success; no /proc/iomem entry, not cleared
 * @nid: node
 *
 * Return: 0, -ENOMEM or -EINTR.
 */
int lazy_cma_chunk_alloc(struct lazy_cma_range *chunk, int nid)
{
	struct lazy_cma_want w = {
		.nr = pageblock_nr_pages,
		.held = pageblock_nr_pages,
		.naive = READ_ONCE(lazy_cma_naive),
	};

	return lazy_cma_node_take(chunk, nid, &w, 0);
}

/**
 * lazy_cma_chunk_free() - give back a chunk from lazy_cma_chunk_alloc()
 * @chunk: nothing of it is in use
 */
void lazy_cma_chunk_free(struct lazy_cma_range *chunk)
{
	lazy_cma_range_free_held(chunk);
}
