// SPDX-License-Identifier: GPL-2.0
/*
 * lazy_cma window scan: look at the page descriptors of a claimed window
 * before alloc_contig_range() migrates anything, and rule out windows that
 * cannot succeed (holes, offline or reserved memory, slab, page tables,
 * pages pinned for DMA, what the kernel's pageblock isolation refuses,
 * gigantic hugetlb pages, two System RAM resources).  After a failed
 * alloc_contig_range(), tell the search what was in the way
 * (lazy_cma_obstacle()), so that the next window ends below it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ioport.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/page-flags.h>
#include <linux/sched.h>

#include "lazy_cma_pageblocks.h"

/*
 * Pinned for DMA (FOLL_LONGTERM)?  Migration would fail after retries.  A
 * large folio counts its pins exactly (folio_maybe_dma_pinned(), on 6.1 as on
 * 7.x).  A pin of a small folio only adds GUP_PIN_COUNTING_BIAS to its
 * reference count, which a page mapped by over a thousand processes (a shared
 * library's) reaches as well: the references its mappings hold are counted
 * out.  What is left is pins, or as many other references, on which
 * migration would wait just the same.
 */
static bool lazy_cma_folio_pinned(struct folio *folio)
{
	long refs;

	if (folio_test_large(folio))
		return folio_maybe_dma_pinned(folio);
	/* unsigned: an overflowed count is a very large one */
	refs = (unsigned int)folio_ref_count(folio);
	return refs - lazy_cma_small_mapcount(folio) >= GUP_PIN_COUNTING_BIAS;
}

/*
 * Would alloc_contig_range() refuse @page (at @pfn, of @zone), or fail to
 * migrate it?  What has_unmovable_pages() refuses when it isolates a
 * pageblock outside ZONE_MOVABLE: a page in use that is neither on an LRU
 * list nor movable through movable_ops, a compound page that is neither
 * hugetlb nor on an LRU list; in every zone, reserved pages and hugetlb pages
 * larger than the buddy allocator's largest order (gigantic: fenced off from
 * alloc_contig_range() on 6.1 as on 7.x).  And what migration never moves:
 * slab, page tables, PageOffline, pages pinned for DMA.  Free pages (buddy,
 * per-CPU lists, being freed, free hugetlb folios) pass.  *@obstacle: the
 * lowest pfn of what is in the way, a compound page's head.
 */
static bool lazy_cma_page_stuck(struct zone *zone, struct page *page,
				unsigned long pfn, unsigned long *obstacle)
{
	bool movable_zone = zone_idx(zone) == ZONE_MOVABLE;
	struct folio *folio;
	unsigned long head;

	*obstacle = pfn;
	if (PageReserved(page) || PageSlab(page) || PageTable(page) ||
	    PageOffline(page))
		return true;
	if (PageCompound(page)) {
		folio = page_folio(page);
		head = folio_pfn(folio);
		/* unless the folio was split or freed since page_folio() */
		if (head <= pfn && pfn - head < folio_nr_pages(folio))
			*obstacle = head;
		if (folio_test_hugetlb(folio))
			return folio_order(folio) > LAZY_CMA_MAX_BUDDY_ORDER ||
			       lazy_cma_folio_pinned(folio);
		if (!folio_ref_count(folio))
			return false;
		if (!movable_zone && !folio_test_lru(folio) &&
		    !lazy_cma_page_movable_ops(&folio->page))
			return true;
		return lazy_cma_folio_pinned(folio);
	}
	if (!page_ref_count(page))
		return false;
	if (lazy_cma_page_movable_ops(page))
		return false;
	if (!movable_zone && !PageLRU(page))
		return true;
	return lazy_cma_folio_pinned(page_folio(page));
}

/* walk_iomem_res_desc(): the first System RAM piece of a window */
static int lazy_cma_ram_piece(struct resource *res, void *arg)
{
	struct resource *first = arg;

	*first = *res;
	return 1;
}

/*
 * Is [start, start + nr) inside one "System RAM" resource?  insert_resource()
 * cannot give a region that straddles two (or a hole) an entry of its own.
 * If not, *bad is the first pfn past the part the first resource covers.
 */
static bool lazy_cma_one_ram_resource(unsigned long start, unsigned long nr,
				      unsigned long *bad)
{
	struct resource first = { .start = 1, .end = 0 };
	u64 lo = PFN_PHYS(start), hi = PFN_PHYS(start + nr) - 1;

	walk_iomem_res_desc(IORES_DESC_NONE,
			    IORESOURCE_SYSTEM_RAM | IORESOURCE_BUSY, lo, hi,
			    &first, lazy_cma_ram_piece);
	/* a piece is clipped to [lo, hi]: one that is whole covers it all */
	if (first.start == lo && first.end == hi)
		return true;
	*bad = first.start == lo ? PHYS_PFN(first.end + 1) : start;
	return false;
}

/*
 * Look at every page of [start, start + nr), a window the caller has claimed:
 * false, with the lowest offending pfn in *bad, if a page there is offline,
 * a hole, not memory of @zone or in a pageblock alloc_contig_range() refuses
 * (lazy_cma_pageblock_refused(): a CMA pageblock, or one isolated by someone
 * else, which a failed isolation could reset and a CMA area lose for good),
 * all of which alloc_contig_range() must never see; or, unless @naive, if
 * the window straddles two System RAM resources or holds a page that would
 * stop it (lazy_cma_page_stuck()).  What cannot be told from the
 * descriptors is left to alloc_contig_range().
 */
bool lazy_cma_window_usable(struct zone *zone, unsigned long start,
			    unsigned long nr, bool naive,
			    unsigned long *bad)
{
	unsigned long pfn, end = start + nr;

	for (pfn = start; pfn < end; pfn++) {
		struct page *page = pfn_to_online_page(pfn);

		if (!page || page_zone(page) != zone) {
			*bad = pfn;
			return false;
		}
		/* a pageblock's bits once, at its first page in the window */
		if ((pfn == start || !(pfn & (pageblock_nr_pages - 1))) &&
		    lazy_cma_pageblock_refused(pfn)) {
			*bad = ALIGN_DOWN(pfn, pageblock_nr_pages);
			return false;
		}
		if (!naive && lazy_cma_page_stuck(zone, page, pfn, bad))
			return false;
		if (!(pfn & (LAZY_CMA_BATCH_PAGES * 16 - 1)))
			cond_resched();
	}
	return naive || lazy_cma_one_ram_resource(start, nr, bad);
}

/*
 * alloc_contig_range() failed on [pfn, pfn + nr), a window still claimed (its
 * pages are all online): the lowest pfn that may have been in the way, so
 * that the search goes on with the windows below it and does not try the
 * same page again.  A page the scan refuses now is one.  Else the lowest
 * page still in use: alloc_contig_range() migrates upwards, and what it had
 * taken below the page it failed on is free again.  The start of the window
 * if neither (the failure came after migration: everything is free).
 */
unsigned long lazy_cma_obstacle(struct zone *zone, unsigned long pfn,
				unsigned long nr)
{
	unsigned long p, bad;

	if (!lazy_cma_window_usable(zone, pfn, nr, false, &bad))
		return bad;
	for (p = pfn; p < pfn + nr; p++) {
		if (folio_ref_count(page_folio(pfn_to_page(p))))
			return p;
		if (!(p & (LAZY_CMA_BATCH_PAGES * 16 - 1)))
			cond_resched();
	}
	return pfn;
}
