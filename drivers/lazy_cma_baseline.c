// SPDX-License-Identifier: GPL-2.0
/*
 * lazy_cma benchmark baselines, apart from the search they are measured
 * against: naive=1 tries every pageblock step with alloc_contig_range()
 * (lazy_cma_zone_alloc_naive()), kernel_search=1 lets the kernel's
 * alloc_contig_pages() choose the window (lazy_cma_node_alloc_kernel(),
 * where the kernel exports it).  Neither is used unless its module
 * parameter is set.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/moduleparam.h>
#include <linux/nodemask.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>

#include "lazy_cma_pageblocks.h"

bool lazy_cma_naive;
module_param_named(naive, lazy_cma_naive, bool, 0644);
MODULE_PARM_DESC(naive,
		 "Benchmark baseline: search top-down in pageblock steps calling alloc_contig_range() at each (default N)");

#ifdef LAZY_CMA_HAVE_ALLOC_CONTIG_PAGES
bool lazy_cma_kernel_search;
module_param_named(kernel_search, lazy_cma_kernel_search, bool, 0644);
MODULE_PARM_DESC(kernel_search,
		 "Benchmark baseline: let the kernel's alloc_contig_pages() choose the window; overrides naive (default N)");
#endif

/*
 * The naive strategy, kept as a baseline for the benchmark (naive=1):
 * top-down in pageblock steps, alloc_contig_range() at every step, without
 * the descriptor scan's guesses about what would fail.  What
 * alloc_contig_range() itself requires (every page online and of this zone,
 * no CMA or isolated pageblock) is still checked, page by page, as in the
 * default search.
 */
int lazy_cma_zone_alloc_naive(struct lazy_cma_range *range, struct zone *zone,
			      const struct lazy_cma_want *w)
{
	unsigned long align = pageblock_nr_pages;
	unsigned long lo = ALIGN(zone->zone_start_pfn, align);
	unsigned long hi = zone_end_pfn(zone);
	unsigned long start, bad, nr = w->want;
	int ret;

	if (hi < nr || hi - nr < lo)
		return -ENOMEM;
	for (start = ALIGN_DOWN(hi - nr, align); ; start -= align) {
		if (fatal_signal_pending(current))
			return -EINTR;
		ret = lazy_cma_take(range, zone, start, w, &bad);
		if (!ret || ret == -EINTR)
			return ret;
		cond_resched();
		if (start < lo + align)
			return -ENOMEM;
	}
}

#ifdef LAZY_CMA_HAVE_ALLOC_CONTIG_PAGES
/* the zone modifier that makes @idx the highest zone a gfp mask may use */
static gfp_t lazy_cma_zone_gfp(enum zone_type idx)
{
	switch (idx) {
	case ZONE_MOVABLE:
		return __GFP_HIGHMEM | __GFP_MOVABLE;
#ifdef CONFIG_ZONE_DMA32
	case ZONE_DMA32:
		return __GFP_DMA32;
#endif
	default:
		return 0;
	}
}

/*
 * The kernel's own search, kept as a baseline for the benchmark
 * (kernel_search=1): alloc_contig_pages() walks the zones at and below the
 * one its gfp mask names, bottom-up in steps of the request's length, and
 * takes the first window its own scan accepts.  It is asked zone by zone,
 * in the search's order, and only for a zone that has the request above its
 * safety margin (left alone, it would start in ZONE_NORMAL every time, and
 * a ZONE_NORMAL below its margin would refuse every request).  It chooses
 * the window itself, so the claim can only come after: a window that
 * overlaps another claim or an offlining in progress is given back
 * (-EBUSY), which also lets that offlining finish.  The kernel walks on
 * to the zones below the one asked (ZONE_NORMAL, ZONE_DMA32, ZONE_DMA): a
 * window it finds there was not counted in flight while it was taken, and
 * is kept only if that zone keeps its margin now; one in ZONE_DMA is given
 * back.  Its failed attempts may have undone an offlining's isolation anywhere in the
 * node, so the whole node counts as failed (see lazy_cma_failed_lo).  It
 * takes the request's whole pageblocks, as the search does.
 */
int lazy_cma_node_alloc_kernel(struct lazy_cma_range *range, int nid,
			       const struct lazy_cma_want *w)
{
	unsigned long n = w->held, pfn, bad;
	nodemask_t only = NODE_MASK_NONE;
	struct page *page = NULL;
	struct zone *zone = NULL;
	int i;

	node_set(nid, only);
	for (i = 0; i < lazy_cma_nr_zones_tried && !page; i++) {
		zone = &NODE_DATA(nid)->node_zones[lazy_cma_zone_order[i]];
		if (!populated_zone(zone) || !lazy_cma_zone_grant(zone, n))
			continue;
		page = lazy_cma_alloc_contig_pages(n, LAZY_CMA_GFP |
						   lazy_cma_zone_gfp(zone_idx(zone)),
						   nid, &only);
		lazy_cma_zone_ungrant(zone, n);
		lazy_cma_note_failed(node_start_pfn(nid), node_spanned_pages(nid));
		/* the kernel walks on below the zone asked: the check is below */
		if (page)
			zone = page_zone(page);
#ifdef CONFIG_ZONE_DMA
		if (page && zone_idx(zone) == ZONE_DMA) {
			lazy_cma_free_pages(page_to_pfn(page), n);
			page = NULL;
		}
#endif
		if (!page && fatal_signal_pending(current))
			return -EINTR;
	}
	if (!page)
		return -ENOMEM;
	pfn = page_to_pfn(page);
	/* the pages left the free count: the zone must still keep its margin */
	if (!lazy_cma_zone_grant(zone, 0)) {
		lazy_cma_free_pages(pfn, n);
		return -ENOMEM;
	}
	if (!lazy_cma_try_claim(&range->claim, pfn, n, &bad)) {
		lazy_cma_free_pages(pfn, n);
		return -EBUSY;
	}

	range->pfn = pfn;
	range->nr_pages = w->nr;
	range->held = n;
	range->nid = nid;
	range->chunk = NULL;
	if (!lazy_cma_res_insert(range, w->name))
		return 0;
	/* given back before the claim goes, as in lazy_cma_take() */
	lazy_cma_free_pages(pfn, n);
	lazy_cma_unclaim(&range->claim);
	return -EBUSY;
}
#endif
