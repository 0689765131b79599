// SPDX-License-Identifier: GPL-2.0
/*
 * lazy_cma window search: where a range of its own is placed.  The zones of
 * the node are tried in the order ZONE_MOVABLE, ZONE_NORMAL, ZONE_DMA32
 * (never ZONE_DMA), each only if it keeps its margin (lazy_cma_margin.c);
 * within a zone, windows whose start is a multiple of the pageblock size are
 * tried from the top of the zone down, for a region first windows twice as
 * long, so that it finds room to grow after it.  Each window is taken or
 * refused by lazy_cma_take() (lazy_cma_take.c), and the next window ends
 * below what ruled the last one out, or below the page on which
 * alloc_contig_range() failed.  No lock is held here: requests on different
 * nodes, or different windows of one node, run in parallel.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/align.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>

#include "lazy_cma_pageblocks.h"

static int lazy_cma_zone_alloc(struct lazy_cma_range *range, struct zone *zone,
			       const struct lazy_cma_want *w)
{
	unsigned long align = pageblock_nr_pages;
	unsigned long lo = ALIGN(zone->zone_start_pfn, align);
	unsigned long hi = zone_end_pfn(zone);
	unsigned long start, bad, nr = w->want;
	int ret;

	if (w->naive)
		return lazy_cma_zone_alloc_naive(range, zone, w);
	if (hi < nr || hi - nr < lo)
		return -ENOMEM;

	start = ALIGN_DOWN(hi - nr, align);
	for (;;) {
		if (fatal_signal_pending(current))
			return -EINTR;

		ret = lazy_cma_take(range, zone, start, w, &bad);
		if (!ret || ret == -EINTR)
			return ret;
		/*
		 * Ruled out by the scan, or alloc_contig_range() failed: the
		 * next window ends at or below what was in the way.
		 */
		bad = min(bad, start + nr - 1);
		if (bad < lo + nr)
			return -ENOMEM;
		start = ALIGN_DOWN(bad - nr, align);
	}
}

/*
 * A range that may grow, of up to LAZY_CMA_ROOM_MAX_PAGES (512 MiB), is
 * placed with as much room after it as it holds, if the zone has a window
 * that large: a RESIZE to twice its length then stays in place on a node
 * that is not full.  The room is only looked at, not held.
 */
#define LAZY_CMA_ROOM_MAX_PAGES	(512UL << (20 - PAGE_SHIFT))

/* the window search over the node's zones, with room first if asked */
int lazy_cma_search(struct lazy_cma_range *range, int nid,
		    struct lazy_cma_want *w, unsigned int flags)
{
	pg_data_t *pgdat = NODE_DATA(nid);
	bool room = (flags & LAZY_CMA_RANGE_ROOM) && !w->naive &&
		    w->held <= LAZY_CMA_ROOM_MAX_PAGES;
	int pass, i, ret;

#ifdef LAZY_CMA_HAVE_ALLOC_CONTIG_PAGES
	if (READ_ONCE(lazy_cma_kernel_search))
		return lazy_cma_node_alloc_kernel(range, nid, w);
#endif

	for (i = 0; i < lazy_cma_nr_zones_tried; i++) {
		struct zone *zone = &pgdat->node_zones[lazy_cma_zone_order[i]];

		if (!populated_zone(zone) || !lazy_cma_zone_grant(zone, w->held))
			continue;
		/* with room, then without, before the next zone */
		for (pass = room ? 0 : 1; pass < 2; pass++) {
			w->want = pass ? w->held : 2 * w->held;
			ret = lazy_cma_zone_alloc(range, zone, w);
			if (ret != -ENOMEM)
				break;
		}
		lazy_cma_zone_ungrant(zone, w->held);
		if (ret != -ENOMEM)
			return ret;
	}
	return -ENOMEM;
}
