// SPDX-License-Identifier: GPL-2.0
/*
 * lazy_cma taking pages: whole pageblocks become a range of the allocator
 * here, either a window the search chose, claimed, scanned and emptied by
 * alloc_contig_range() (lazy_cma_take()), or a block straight from the buddy
 * allocator's free lists (lazy_cma_buddy_take()).  A taken range gets its
 * /proc/iomem entry here too (lazy_cma_res_insert()).  No lock is held:
 * claims never overlap, so two requests never work on the same page.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/ioport.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/string.h>

#include "lazy_cma_pageblocks.h"

/*
 * alloc_contig_range() over [pfn, pfn + nr) in chunks of LAZY_CMA_CHUNK_PAGES,
 * so that a fatal signal is noticed between chunks: the page allocator clears
 * every page (init_on_alloc) before alloc_contig_range() returns, which takes
 * seconds for a large range.  All or nothing, except on -EINTR: then the
 * first *@taken pages are held, for the caller to lazy_cma_give_back().
 */
int lazy_cma_contig_range(unsigned long pfn, unsigned long nr,
			  unsigned long *taken)
{
	unsigned long done = 0;
	int ret = 0;

	while (done < nr) {
		unsigned long n = min(nr - done, LAZY_CMA_CHUNK_PAGES);

		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		ret = lazy_cma_alloc_contig_range(pfn + done, pfn + done + n,
						  LAZY_CMA_GFP);
		if (ret) {
			/* before the caller unclaims: see lazy_cma_failed_lo */
			lazy_cma_note_failed(pfn + done, n);
			break;
		}
		done += n;
	}
	*taken = ret == -EINTR ? done : 0;
	if (ret && ret != -EINTR && done)
		lazy_cma_free_pages(pfn, done);
	return ret;
}

static void lazy_cma_res_init(struct lazy_cma_range *range, const char *name)
{
	memset(&range->res, 0, sizeof(range->res));
	range->res.name = name;
	range->res.start = PFN_PHYS(range->pfn);
	range->res.end = PFN_PHYS(range->pfn + range->nr_pages) - 1;
	range->res.flags = IORESOURCE_MEM | IORESOURCE_BUSY;
}

/* give @range, whose pages are held, its /proc/iomem entry (if @name) */
int lazy_cma_res_insert(struct lazy_cma_range *range, const char *name)
{
	if (!name)
		return 0;
	lazy_cma_res_init(range, name);
	/* the scan ruled out windows that straddle two System RAM entries */
	return insert_resource(&iomem_resource, &range->res) ? -EBUSY : 0;
}

/*
 * Claim the window of w->want pages at @pfn, check every page of it, take
 * its first w->held pages and give them their /proc/iomem entry; the rest of
 * the window is only looked at, so that the range finds room to grow there.
 * Return: 0; -EAGAIN, with the lowest pfn that rules the window out in *bad,
 * if it is claimed, going offline or not usable (nothing was migrated);
 * -EBUSY or another error of alloc_contig_range(), with (unless w->naive)
 * the lowest pfn that may have been in its way in *bad; -EBUSY, with *bad
 * at the window, if insert_resource() failed; -EINTR.  On
 * failure the window is unclaimed again; on -EINTR its claim goes with the
 * pages taken to lazy_cma_give_back(), and comes off when they are free.
 */
int lazy_cma_take(struct lazy_cma_range *range, struct zone *zone,
		  unsigned long pfn, const struct lazy_cma_want *w,
		  unsigned long *bad)
{
	unsigned long taken;
	int ret;

	if (!lazy_cma_try_claim(&range->claim, pfn, w->want, bad))
		return -EAGAIN;
	if (!lazy_cma_window_usable(zone, pfn, w->want, w->naive, bad)) {
		ret = -EAGAIN;
		goto out_unclaim;
	}
	if (w->want != w->held)
		lazy_cma_claim_resize(&range->claim, w->held, NULL);
	ret = lazy_cma_contig_range(pfn, w->held, &taken);
	if (ret == -EINTR) {
		lazy_cma_give_back(&range->claim, pfn, taken);
		return ret;
	}
	if (ret) {
		if (!w->naive)
			*bad = lazy_cma_obstacle(zone, pfn, w->held);
		goto out_unclaim;
	}

	range->pfn = pfn;
	range->nr_pages = w->nr;
	range->held = w->held;
	range->nid = pfn_to_nid(pfn);
	range->chunk = NULL;
	ret = lazy_cma_res_insert(range, w->name);
	if (ret) {
		lazy_cma_free_pages(pfn, w->held);
		*bad = pfn;
		goto out_unclaim;
	}
	return 0;

out_unclaim:
	lazy_cma_unclaim(&range->claim);
	return ret;
}

/*
 * @held pages (whole pageblocks, at most MAX_ORDER_NR_PAGES) straight from
 * the buddy allocator's free lists of @nid, if it has them: no reclaim, no
 * compaction, no migration, not even kswapd woken.  A non-movable
 * allocation comes from ZONE_NORMAL or ZONE_DMA32; never ZONE_DMA (as the
 * search), and the zone must keep its safety margin.
 */
int lazy_cma_buddy_take(struct lazy_cma_range *range, int nid,
			unsigned long held)
{
	gfp_t gfp = (GFP_KERNEL | __GFP_THISNODE | __GFP_NOWARN) & ~__GFP_RECLAIM;
	unsigned int order = get_order(held << PAGE_SHIFT);
	unsigned long pfn, i, bad;
	struct page *page;
	struct zone *zone;
	bool refuse;

	page = alloc_pages_node(nid, gfp, order);
	if (!page)
		return -ENOMEM;
	pfn = page_to_pfn(page);
	split_page(page, order);
	for (i = held; i < 1UL << order; i++)
		__free_page(pfn_to_page(pfn + i));
	/*
	 * A window another request claimed may hold free pages: they are not
	 * ours to keep (that request would fail, and claims never overlap).
	 */
	zone = page_zone(page);
	/* the pages left the free count: the zone must still keep its margin */
	refuse = !lazy_cma_zone_grant(zone, 0);
#ifdef CONFIG_ZONE_DMA
	refuse = refuse || zone_idx(zone) == ZONE_DMA;
#endif
	if (refuse || !lazy_cma_try_claim(&range->claim, pfn, held, &bad)) {
		lazy_cma_free_pages(pfn, held);
		return -EBUSY;
	}
	range->pfn = pfn;
	range->held = held;
	range->nid = nid;
	range->chunk = NULL;
	return 0;
}
