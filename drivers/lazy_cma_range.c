// SPDX-License-Identifier: GPL-2.0
/*
 * lazy_cma range API: physically contiguous, zeroed pages of one node for
 * the regions of /dev/lazy_cma and the heaps' buffers.  The top of the
 * allocator, and the only part that knows both layers below it: a request
 * smaller than a pageblock that will not grow (a heap buffer) gets a piece
 * of a pool chunk (lazy_cma_pool.c); any other gets whole pageblocks of its
 * own (lazy_cma_pageblocks.c), and is cleared here.  A range of its own can
 * grow in place and give back its tail.
 *
 * lazy_cma_range_alloc() is the entry point: the node (the nearest one that
 * can, if none is named), the pool or the pageblocks, and once more after
 * the pages of killed requests came back (lazy_cma_giveback.c).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/highmem.h>
#include <linux/ioport.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/nodemask.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/timekeeping.h>
#include <linux/topology.h>

#include "lazy_cma_pool.h"
#include "lazy_cma_range.h"

#define CREATE_TRACE_POINTS
#include "lazy_cma_trace.h"

/**
 * lazy_cma_check_node() - is @nid a node a request may name?
 * @nid: NUMA node, or NUMA_NO_NODE for any
 *
 * Return: 0, -EINVAL for a number that cannot be a node, -ENODEV for a node
 * without memory.
 */
int lazy_cma_check_node(int nid)
{
	if (nid == NUMA_NO_NODE)
		return 0;
	if (nid < 0 || nid >= nr_node_ids)
		return -EINVAL;
	if (!node_state(nid, N_MEMORY))
		return -ENODEV;
	return 0;
}

/*
 * Take @nr pages of @nid: a request smaller than a pageblock that will not
 * grow (a heap buffer) gets a piece of a pool chunk (lazy_cma_pool.c),
 * others a range of their own, which starts on a pageblock boundary.
 */
static int lazy_cma_node_alloc(struct lazy_cma_range *range, int nid,
			       unsigned long nr, const char *name,
			       unsigned int flags)
{
	struct lazy_cma_want w = {
		.nr = nr,
		.held = ALIGN(nr, pageblock_nr_pages),
		.name = name,
		.naive = READ_ONCE(lazy_cma_naive),
	};
	int ret;

	/* ALIGN() must not wrap (32-bit) */
	if (nr > ULONG_MAX - pageblock_nr_pages)
		return -ENOMEM;
	if (nr >= pageblock_nr_pages || (flags & LAZY_CMA_RANGE_ROOM))
		return lazy_cma_node_take(range, nid, &w, flags);

	ret = lazy_cma_pool_alloc(range, nid, nr);
	if (ret)
		return ret;
	ret = lazy_cma_res_insert(range, name);
	if (ret)
		lazy_cma_pool_shrink(range, 0);
	return ret;
}

/* nodes with memory, nearest to the calling CPU first */
static int lazy_cma_any_node_alloc(struct lazy_cma_range *range,
				   unsigned long nr, const char *name,
				   unsigned int flags)
{
	int here = numa_node_id();
	nodemask_t tried = NODE_MASK_NONE;
	int ret = -ENOMEM;

	for (;;) {
		int nid, best = NUMA_NO_NODE;

		for_each_node_state(nid, N_MEMORY) {
			if (node_isset(nid, tried))
				continue;
			if (best == NUMA_NO_NODE ||
			    node_distance(here, nid) < node_distance(here, best))
				best = nid;
		}
		if (best == NUMA_NO_NODE)
			return ret;
		node_set(best, tried);

		ret = lazy_cma_node_alloc(range, best, nr, name, flags);
		if (ret != -ENOMEM)
			return ret;
	}
}

static int lazy_cma_alloc_where(struct lazy_cma_range *range, int nid,
				unsigned long nr_pages, const char *name,
				unsigned int flags)
{
	if (nid == NUMA_NO_NODE)
		return lazy_cma_any_node_alloc(range, nr_pages, name, flags);
	return lazy_cma_node_alloc(range, nid, nr_pages, name, flags);
}

/* a range its caller never saw: given back by a worker if the caller dies */
static void lazy_cma_range_abandon(struct lazy_cma_range *range)
{
	if (range->chunk) {
		lazy_cma_range_free(range);
		return;
	}
	trace_lazy_cma_free(range->nid, range->pfn, range->nr_pages);
	if (range->res.parent)
		remove_resource(&range->res);
	lazy_cma_give_back(&range->claim, range->pfn, range->held);
}

/**
 * lazy_cma_range_alloc() - take @nr_pages contiguous, zeroed pages
 * @range: filled in on success
 * @nid: node to take them from, or NUMA_NO_NODE for the nearest that can
 * @nr_pages: how many; the range starts on a pageblock boundary unless it
 *	is smaller than a pageblock and not LAZY_CMA_RANGE_ROOM: then it
 *	shares a pageblock with others
 * @nr_overwritten: how many of the first pages the caller overwrites before
 *	anyone can see the range (a moving RESIZE copies there): these are
 *	not cleared
 * @name: /proc/iomem name; must stay valid until the range is freed
 * @flags: LAZY_CMA_RANGE_ROOM for a range that may grow (a region)
 *
 * Return: 0; -EINVAL or -ENODEV for a bad @nid; -ENOMEM if no window could be
 * had or the node would drop below its watermarks plus the safety margin,
 * also after the pages of killed requests came back; -EINTR if a fatal
 * signal arrived (nothing is kept: what was taken is given back by a worker).
 */
int lazy_cma_range_alloc(struct lazy_cma_range *range, int nid,
			 unsigned long nr_pages, unsigned long nr_overwritten,
			 const char *name, unsigned int flags)
{
	u64 t0 = ktime_get_ns();
	long seen;
	int ret;

	ret = lazy_cma_check_node(nid);
	if (ret)
		goto out_fail;

	seen = atomic_long_read(&lazy_cma_givebacks_done);
	ret = lazy_cma_alloc_where(range, nid, nr_pages, name, flags);
	/* killed requests' pages may be on their way back: wait, try again */
	if (ret == -ENOMEM) {
		ret = lazy_cma_wait_givebacks(seen);
		if (ret > 0)
			ret = lazy_cma_alloc_where(range, nid, nr_pages, name, flags);
		else if (!ret)
			ret = -ENOMEM;
	}
	if (ret)
		goto out_fail;

	/* a pool piece comes zeroed (only regions pass nr_overwritten) */
	if (!range->chunk)
		ret = lazy_cma_zero_new_pages(range->pfn + nr_overwritten,
					      range->nr_pages - nr_overwritten);
	/* a dying caller could never learn of the range: do not keep it */
	if (!ret && fatal_signal_pending(current))
		ret = -EINTR;
	if (ret) {
		lazy_cma_range_abandon(range);
		goto out_fail;
	}
	trace_lazy_cma_alloc(range->nid, range->pfn, range->nr_pages,
			     page_zone(pfn_to_page(range->pfn))->name,
			     ktime_get_ns() - t0);
	return 0;

out_fail:
	trace_lazy_cma_alloc_fail(nid, nr_pages, ret, ktime_get_ns() - t0);
	return ret;
}

/**
 * lazy_cma_range_grow() - take the pages right after @range, up to @nr_pages
 * @range: a live range; its length is NOT updated, the caller publishes
 *	   @nr_pages when it is ready (its iomem entry already grows here)
 * @nr_pages: the new total length, larger than the current one
 *
 * A range of its own holds whole pageblocks: what fits in its last one costs
 * nothing, and past it alloc_contig_range() starts on a pageblock boundary,
 * so the isolation of its first pageblock never meets the range's own pages
 * (which are not movable: outside ZONE_MOVABLE that would fail).  A piece
 * of a pool chunk does not grow in place.
 *
 * Return: 0 with the added pages zeroed; -EBUSY if the memory after the
 * range cannot be had; -ENOMEM if the node has no room; -EINTR on a fatal
 * signal.  On failure the range is as it was.
 */
int lazy_cma_range_grow(struct lazy_cma_range *range, unsigned long nr_pages)
{
	struct zone *zone = page_zone(pfn_to_page(range->pfn));
	unsigned long held = ALIGN(nr_pages, pageblock_nr_pages);
	unsigned long start = range->pfn + range->held;
	unsigned long more = held - range->held;
	unsigned long kept = min(nr_pages, range->held) - range->nr_pages;
	struct lazy_cma_claim added;
	unsigned long end, bad, taken;
	int ret;

	if (range->chunk || nr_pages > ULONG_MAX - pageblock_nr_pages)
		return -EBUSY;
	if (held > range->held) {
		if (check_add_overflow(start, more, &end))
			return -EBUSY;
		if (!lazy_cma_zone_grant(zone, more))
			return -ENOMEM;
		if (!lazy_cma_try_claim(&added, start, more, &bad)) {
			ret = -EBUSY;
			goto out_ungrant;
		}
		if (!lazy_cma_window_usable(zone, start, more, false, &bad)) {
			ret = -EBUSY;
			goto out_unclaim;
		}
		ret = lazy_cma_contig_range(start, more, &taken);
		if (ret == -EINTR) {
			lazy_cma_give_back(&added, start, taken);
			goto out_ungrant;
		}
		if (ret) {
			ret = -EBUSY;
			goto out_unclaim;
		}
	}

	ret = adjust_resource(&range->res, range->res.start, PFN_PHYS(nr_pages));
	if (ret) {
		ret = -EBUSY;
		goto out_free;
	}
	/* what the range held past its length may hold what it had before */
	ret = lazy_cma_zero_pages(range->pfn + range->nr_pages, kept);
	if (!ret && held > range->held)
		ret = lazy_cma_zero_new_pages(start, nr_pages - range->held);
	if (!ret && fatal_signal_pending(current))
		ret = -EINTR;
	if (ret)
		goto out_shrink;
	if (held > range->held) {
		lazy_cma_claim_resize(&range->claim, held, &added);
		range->held = held;
		lazy_cma_zone_ungrant(zone, more);
	}
	return 0;

out_shrink:
	WARN_ON(adjust_resource(&range->res, range->res.start,
				PFN_PHYS(range->nr_pages)));
out_free:
	if (held <= range->held)
		return ret;
	lazy_cma_give_back(&added, start, more);
	goto out_ungrant;
out_unclaim:
	lazy_cma_unclaim(&added);
out_ungrant:
	lazy_cma_zone_ungrant(zone, more);
	return ret;
}

/**
 * lazy_cma_range_release_tail() - give back what lies past @range's length
 * @range: a live range: its nr_pages was lowered, or a grow that was not
 *	   published is undone (nr_pages is the old length)
 *
 * The iomem entry is cut to nr_pages; a range of its own gives back what
 * lies past ALIGN(nr_pages, pageblock_nr_pages), and keeps the rest of its
 * last pageblock.
 */
void lazy_cma_range_release_tail(struct lazy_cma_range *range)
{
	unsigned long held = ALIGN(range->nr_pages, pageblock_nr_pages);

	WARN_ON(adjust_resource(&range->res, range->res.start,
				PFN_PHYS(range->nr_pages)));
	if (range->chunk) {
		lazy_cma_pool_shrink(range, range->nr_pages);
		return;
	}
	if (held == range->held)
		return;
	lazy_cma_free_pages(range->pfn + held, range->held - held);
	lazy_cma_claim_resize(&range->claim, held, NULL);
	range->held = held;
}

/**
 * lazy_cma_range_free() - give a range back to the page allocator
 * @range: a live range; nothing may map it any more
 */
void lazy_cma_range_free(struct lazy_cma_range *range)
{
	trace_lazy_cma_free(range->nid, range->pfn, range->nr_pages);
	/* a failed re-insert (kdump disarm) leaves the resource detached */
	if (range->res.parent)
		remove_resource(&range->res);
	if (range->chunk)
		lazy_cma_pool_shrink(range, 0);
	else
		lazy_cma_range_free_held(range);
}

/**
 * lazy_cma_copy_pages() - copy @nr_pages pages from @src_pfn to @dst_pfn
 * @dst_pfn: first destination page frame
 * @src_pfn: first source page frame
 * @nr_pages: pages to copy
 *
 * Return: 0; the copy is not interruptible, so a moving RESIZE that started
 * copying always completes.
 */
int lazy_cma_copy_pages(unsigned long dst_pfn, unsigned long src_pfn,
			unsigned long nr_pages)
{
	unsigned long i;

	for (i = 0; i < nr_pages; i++) {
		copy_highpage(pfn_to_page(dst_pfn + i), pfn_to_page(src_pfn + i));
		if ((i + 1) % LAZY_CMA_BATCH_PAGES == 0)
			cond_resched();
	}
	return 0;
}
