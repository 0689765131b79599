// SPDX-License-Identifier: GPL-2.0
/*
 * lazy_cma zone margin: the zones a request may take pages from, in the
 * order it tries them, and what each of them must keep free for everyone
 * else (lazy_cma_zone_grant()).  Why per zone, and how requests that run at
 * once are counted, is explained above lazy_cma_zone_keep().
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/moduleparam.h>
#include <linux/nodemask.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/vmstat.h>

#include "lazy_cma_pageblocks.h"

unsigned int lazy_cma_reserve_mb = 64;
module_param_named(reserve_mb, lazy_cma_reserve_mb, uint, 0644);
MODULE_PARM_DESC(reserve_mb,
		 "MiB a node must keep free above its zones' high watermarks after an allocation (default 64)");

/* pages granted to requests not done yet, per node and zone (see below) */
static unsigned long *lazy_cma_inflight;
static DEFINE_SPINLOCK(lazy_cma_inflight_lock);

/* ZONE_DMA is never tried */
const enum zone_type lazy_cma_zone_order[] = {
	ZONE_MOVABLE,
	ZONE_NORMAL,
#ifdef CONFIG_ZONE_DMA32
	ZONE_DMA32,
#endif
};

/* counted from the list itself: no count to keep in step with its #ifdef */
const unsigned int lazy_cma_nr_zones_tried = ARRAY_SIZE(lazy_cma_zone_order);

int lazy_cma_margin_init(void)
{
	lazy_cma_inflight = kcalloc(array_size(nr_node_ids, MAX_NR_ZONES),
				    sizeof(*lazy_cma_inflight), GFP_KERNEL);
	if (!lazy_cma_inflight)
		return -ENOMEM;
	return 0;
}

void lazy_cma_margin_exit(void)
{
	kfree(lazy_cma_inflight);
}

/*
 * The safety margin holds per zone, and for every request at once.
 *
 * A window lies in one zone, and its pages leave that zone for good: free
 * pages of another zone (ZONE_MOVABLE, typically) cannot stand in for them,
 * since the allocations that need this zone most (the kernel's own, for
 * ZONE_NORMAL and ZONE_DMA32) may not use the zones above it.  So a request
 * may take @nr pages from a zone only if what stays free there is at least
 * what the page allocator itself keeps for an ordinary allocation, plus
 * reserve_mb:
 *  - free pages as the page allocator counts them (every CPU's share, read
 *    under the lock), less those an ordinary allocation may not use: free
 *    pages of MIGRATE_CMA pageblocks and the high-atomic reserve;
 *  - the zone's high watermark;
 *  - its largest lowmem_reserve: what allocations that could have been
 *    served by the zones above must leave in this one (the request is such
 *    an allocation: it tries ZONE_MOVABLE first);
 *  - reserve_mb.
 *
 * alloc_contig_range() takes a window's pages out of the free count only as
 * it goes (free pages when their pageblocks are isolated, the rest as they
 * are migrated), which takes seconds for a large window.  Every request
 * therefore counts as taken, from its check until it is done, in the zone's
 * in-flight pages; the check and the count are one step under a lock, so N
 * requests that each fit but not together cannot all pass.  While a request
 * runs, the pages it has already taken are counted twice (gone from the
 * free count and still in flight): a concurrent request may be refused that
 * would have fit, never the other way round.
 *
 * reserve_mb is a fixed amount, not a share of the zone, on purpose.  The
 * watermarks already grow with the zone (watermark_scale_factor: the high
 * watermark lies 0.2 % of the zone above the minimum by default), and what
 * reserve_mb is for (room for user space to fork, fault in and grow its
 * caches without reclaim while the regions are held) does not grow with the
 * memory of one node: a share large enough to matter on a 512 MiB node would
 * keep gigabytes idle on a 1 TiB CXL node that were hot-plugged precisely to
 * be handed out.  An administrator who wants another amount writes
 * reserve_mb, at any time.
 */
static unsigned long lazy_cma_zone_keep(struct zone *zone)
{
	unsigned long keep = (unsigned long)READ_ONCE(lazy_cma_reserve_mb) <<
			     (20 - PAGE_SHIFT);
	long reserve = 0;
	int i;

	for (i = 0; i < MAX_NR_ZONES; i++)
		reserve = max(reserve, zone->lowmem_reserve[i]);
	return keep + high_wmark_pages(zone) + reserve;
}

/* free pages of @zone that an allocation without ALLOC_CMA/ALLOC_HIGH may use */
static unsigned long lazy_cma_zone_free(struct zone *zone)
{
	unsigned long free = zone_page_state_snapshot(zone, NR_FREE_PAGES);
	unsigned long unusable = zone_page_state_snapshot(zone, NR_FREE_CMA_PAGES) +
				 READ_ONCE(zone->nr_reserved_highatomic);

	return free > unusable ? free - unusable : 0;
}

static unsigned long *lazy_cma_zone_inflight(struct zone *zone)
{
	return &lazy_cma_inflight[zone_to_nid(zone) * MAX_NR_ZONES + zone_idx(zone)];
}

/*
 * May a request take @nr_pages from @zone, after every request granted and
 * not done yet?  If so they count as taken until lazy_cma_zone_ungrant().
 */
bool lazy_cma_zone_grant(struct zone *zone, unsigned long nr_pages)
{
	unsigned long need = lazy_cma_zone_keep(zone) + nr_pages;
	bool ok;

	spin_lock(&lazy_cma_inflight_lock);
	need += *lazy_cma_zone_inflight(zone);
	ok = lazy_cma_zone_free(zone) >= need;
	if (ok)
		*lazy_cma_zone_inflight(zone) += nr_pages;
	spin_unlock(&lazy_cma_inflight_lock);
	return ok;
}

/* the request is done: its pages left the free count, or were not taken */
void lazy_cma_zone_ungrant(struct zone *zone, unsigned long nr_pages)
{
	spin_lock(&lazy_cma_inflight_lock);
	*lazy_cma_zone_inflight(zone) -= nr_pages;
	spin_unlock(&lazy_cma_inflight_lock);
}
