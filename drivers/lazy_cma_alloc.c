// SPDX-License-Identifier: GPL-2.0
/*
 * lazy_cma allocator: find a window of one node's memory that
 * alloc_contig_range() can empty, take it, name it in /proc/iomem and zero it.
 *
 * A range of its own holds whole pageblocks from a pageblock boundary on.  A
 * heap buffer of up to MAX_ORDER_NR_PAGES comes from the buddy allocator's
 * free lists when they have it; one smaller than a pageblock is a piece of
 * a shared chunk (lazy_cma_pool.c).  Otherwise the zones are tried in the
 * order ZONE_MOVABLE, ZONE_NORMAL, ZONE_DMA32 (never ZONE_DMA); within a
 * zone, windows whose start is a multiple of the pageblock size are tried
 * from the top of the zone down, for a region first windows twice as long,
 * so that it finds room to grow after it.  A cheap scan of the page
 * descriptors rules out windows that cannot succeed (holes, offline or
 * reserved memory, slab, page tables, pages pinned for DMA, what the kernel's
 * pageblock isolation refuses, gigantic hugetlb pages, two System RAM
 * resources) before alloc_contig_range() migrates anything.  The next window
 * ends below what ruled the last one out, or below the page on which
 * alloc_contig_range() failed.  No lock is held here: requests on
 * different nodes, or different windows of one node, run in parallel; claims
 * never overlap, so two requests never work on the same page.  Large ranges
 * are cleared by several CPUs at once.
 *
 * Memory hot-unplug: pages the allocator holds are not movable, and in
 * ZONE_MOVABLE offline_pages() would retry migrating them until a signal came.
 * Every range is therefore claimed in an interval tree that a memory notifier
 * consults to veto MEM_GOING_OFFLINE of any block it touches: offlining fails
 * at once with -EBUSY instead.
 *
 * The claim also keeps memory from going away under the allocator.  Modules
 * cannot take mem_hotplug_lock (get_online_mems() and mem_hotplug_begin() are
 * not exported), but offline_pages() holds it for writing from before
 * MEM_GOING_OFFLINE until after MEM_OFFLINE or MEM_CANCEL_OFFLINE, so at most
 * one offlining is between those two notifications at a time, and the
 * notifier records it.  A window is claimed before its pages are looked at,
 * under the lock that the notifier takes, and only if it overlaps neither
 * another claim nor the offlining in progress.  From then on no block of the
 * window can start going offline; a block that went offline before is seen as
 * such by pfn_to_online_page() (sections are marked offline before
 * MEM_OFFLINE), so the scan rejects the window without touching its memmap.
 * Every page is checked that way before alloc_contig_range() is called, by
 * the naive search too.  A rejected window is unclaimed at once.
 *
 * offline_pages() isolates a block's pageblocks before MEM_GOING_OFFLINE, and
 * an alloc_contig_range() that fails undoes the isolation of its whole range,
 * whoever had isolated it.  A block on which alloc_contig_range() failed since
 * the last MEM_GOING_OFFLINE is therefore refused too (-EBUSY): its offlining
 * may have lost its isolation and would wait forever.  The failure is noted
 * before the window is unclaimed, so the notifier sees one or the other.
 *
 * A request ended by a fatal signal hands the pages it took, with their
 * claim, to a worker that frees them (lazy_cma_give_back()): the task dies
 * without waiting for that, and a request that finds no window while such
 * pages are on their way back waits for them once and searches again.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/highmem.h>
#include <linux/ioport.h>
#include <linux/memory.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/nodemask.h>
#include <linux/overflow.h>
#include <linux/page-flags.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/topology.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "lazy_cma.h"
#include "lazy_cma_compat.h"

#define CREATE_TRACE_POINTS
#include "lazy_cma_trace.h"

/* pages zeroed or copied between two looks at the scheduler and signals */
#define LAZY_CMA_BATCH_PAGES	256

#define LAZY_CMA_GFP		(GFP_KERNEL | __GFP_NOWARN)

/* alloc_contig_range() calls are at most this long (64 MiB), see below */
#define LAZY_CMA_CHUNK_PAGES	(64UL << (20 - PAGE_SHIFT))

/* every claim, keyed by pfn; claims never overlap */
static struct rb_root_cached lazy_cma_claims = RB_ROOT_CACHED;
static DEFINE_SPINLOCK(lazy_cma_claims_lock);

/*
 * The memory block between MEM_GOING_OFFLINE and MEM_OFFLINE or
 * MEM_CANCEL_OFFLINE, if any (nr 0: none); under lazy_cma_claims_lock.
 */
static struct {
	unsigned long start;
	unsigned long nr;
} lazy_cma_offlining;

/*
 * [lo, hi): every range on which alloc_contig_range() failed since the last
 * MEM_GOING_OFFLINE (empty: lo == hi); under lazy_cma_claims_lock.  Its
 * failure path undoes the isolation of the whole range, including pageblocks
 * that an offlining isolated before its MEM_GOING_OFFLINE: that offlining
 * would then wait forever for pages it no longer holds.  It is vetoed instead.
 */
static unsigned long lazy_cma_failed_lo, lazy_cma_failed_hi;

static void lazy_cma_note_failed(unsigned long pfn, unsigned long nr_pages)
{
	spin_lock(&lazy_cma_claims_lock);
	if (lazy_cma_failed_lo == lazy_cma_failed_hi) {
		lazy_cma_failed_lo = pfn;
		lazy_cma_failed_hi = pfn + nr_pages;
	} else {
		lazy_cma_failed_lo = min(lazy_cma_failed_lo, pfn);
		lazy_cma_failed_hi = max(lazy_cma_failed_hi, pfn + nr_pages);
	}
	spin_unlock(&lazy_cma_claims_lock);
}

/*
 * The lowest start of the claims and the offlining that overlap
 * [pfn, pfn + nr_pages), ULONG_MAX if none.  It may lie below @pfn: a search
 * going down steps below the whole claim at once, not one window at a time.
 */
static unsigned long lazy_cma_held(unsigned long pfn, unsigned long nr_pages)
{
	unsigned long last = pfn + nr_pages - 1, lowest = ULONG_MAX;
	struct interval_tree_node *it;

	lockdep_assert_held(&lazy_cma_claims_lock);
	/* the first overlapping claim in pfn order has the lowest start */
	it = interval_tree_iter_first(&lazy_cma_claims, pfn, last);
	if (it)
		lowest = it->start;
	if (lazy_cma_offlining.nr && lazy_cma_offlining.start <= last &&
	    pfn < lazy_cma_offlining.start + lazy_cma_offlining.nr)
		lowest = min(lowest, lazy_cma_offlining.start);
	return lowest;
}

/*
 * Claim [pfn, pfn + nr_pages) unless part of it is claimed already or going
 * offline; false, with the start of the lowest such claim in *bad, if so.
 */
static bool lazy_cma_try_claim(struct lazy_cma_claim *claim, unsigned long pfn,
			       unsigned long nr_pages, unsigned long *bad)
{
	spin_lock(&lazy_cma_claims_lock);
	*bad = lazy_cma_held(pfn, nr_pages);
	if (*bad == ULONG_MAX) {
		claim->it.start = pfn;
		claim->it.last = pfn + nr_pages - 1;
		interval_tree_insert(&claim->it, &lazy_cma_claims);
	}
	spin_unlock(&lazy_cma_claims_lock);
	return *bad == ULONG_MAX;
}

static void lazy_cma_unclaim(struct lazy_cma_claim *claim)
{
	spin_lock(&lazy_cma_claims_lock);
	interval_tree_remove(&claim->it, &lazy_cma_claims);
	spin_unlock(&lazy_cma_claims_lock);
}

/* @claim now covers @nr_pages; @merged (right after it, or NULL) goes */
static void lazy_cma_claim_resize(struct lazy_cma_claim *claim,
				  unsigned long nr_pages,
				  struct lazy_cma_claim *merged)
{
	/* the subtree maxima depend on .last: take it out to change it */
	spin_lock(&lazy_cma_claims_lock);
	if (merged)
		interval_tree_remove(&merged->it, &lazy_cma_claims);
	interval_tree_remove(&claim->it, &lazy_cma_claims);
	claim->it.last = claim->it.start + nr_pages - 1;
	interval_tree_insert(&claim->it, &lazy_cma_claims);
	spin_unlock(&lazy_cma_claims_lock);
}

/* called with mem_hotplug_lock held for writing (see the top of the file) */
static int lazy_cma_memory_notify(struct notifier_block *nb,
				  unsigned long action, void *arg)
{
	struct memory_notify *mn = arg;
	int ret = NOTIFY_OK;
	bool failed;

	spin_lock(&lazy_cma_claims_lock);
	switch (action) {
	case MEM_GOING_OFFLINE:
		failed = lazy_cma_failed_lo < mn->start_pfn + mn->nr_pages &&
			 mn->start_pfn < lazy_cma_failed_hi;
		lazy_cma_failed_lo = 0;
		lazy_cma_failed_hi = 0;
		if (failed ||
		    interval_tree_iter_first(&lazy_cma_claims, mn->start_pfn,
					     mn->start_pfn + mn->nr_pages - 1)) {
			ret = notifier_from_errno(-EBUSY);
			break;
		}
		lazy_cma_offlining.start = mn->start_pfn;
		lazy_cma_offlining.nr = mn->nr_pages;
		break;
	case MEM_OFFLINE:
	case MEM_CANCEL_OFFLINE:
		lazy_cma_offlining.nr = 0;
		break;
	}
	spin_unlock(&lazy_cma_claims_lock);
	return ret;
}

static struct notifier_block lazy_cma_memory_nb = {
	.notifier_call = lazy_cma_memory_notify,
};

/* pages granted to requests not done yet, per node and zone (see below) */
static unsigned long *lazy_cma_inflight;
static DEFINE_SPINLOCK(lazy_cma_inflight_lock);

/*
 * Per-CPU, not concurrency managed: clearing runs on the CPUs it is given.
 * The pages of a request ended by a fatal signal are given back there too.
 */
static struct workqueue_struct *lazy_cma_clear_wq;

/*
 * Give-backs queued and not done, and how many were ever done: a request that
 * found nothing waits for the former, or searches again if the latter moved.
 */
static atomic_t lazy_cma_givebacks = ATOMIC_INIT(0);
static atomic_long_t lazy_cma_givebacks_done = ATOMIC_LONG_INIT(0);
static DECLARE_WAIT_QUEUE_HEAD(lazy_cma_giveback_wait);

int lazy_cma_alloc_init(void)
{
	int ret;

	lazy_cma_inflight = kcalloc(array_size(nr_node_ids, MAX_NR_ZONES),
				    sizeof(*lazy_cma_inflight), GFP_KERNEL);
	if (!lazy_cma_inflight)
		return -ENOMEM;
	ret = lazy_cma_pool_init();
	if (ret)
		goto err_inflight;
	lazy_cma_clear_wq = alloc_workqueue("lazy_cma_clear",
					    LAZY_CMA_WQ_PERCPU | WQ_CPU_INTENSIVE, 0);
	if (!lazy_cma_clear_wq) {
		ret = -ENOMEM;
		goto err_pool;
	}
	ret = register_memory_notifier(&lazy_cma_memory_nb);
	if (ret)
		goto err_wq;
	return 0;

err_wq:
	destroy_workqueue(lazy_cma_clear_wq);
err_pool:
	lazy_cma_pool_exit();
err_inflight:
	kfree(lazy_cma_inflight);
	return ret;
}

/* every range is freed by now; give-backs may still be queued */
void lazy_cma_alloc_exit(void)
{
	/* their claims keep vetoing offlining until their pages are free */
	flush_workqueue(lazy_cma_clear_wq);
	unregister_memory_notifier(&lazy_cma_memory_nb);
	lazy_cma_pool_exit();
	destroy_workqueue(lazy_cma_clear_wq);
	kfree(lazy_cma_inflight);
}

static const enum zone_type lazy_cma_zone_order[] = {
	ZONE_MOVABLE,
	ZONE_NORMAL,
#ifdef CONFIG_ZONE_DMA32
	ZONE_DMA32,
#endif
};

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
static bool lazy_cma_zone_grant(struct zone *zone, unsigned long nr_pages)
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
static void lazy_cma_zone_ungrant(struct zone *zone, unsigned long nr_pages)
{
	spin_lock(&lazy_cma_inflight_lock);
	*lazy_cma_zone_inflight(zone) -= nr_pages;
	spin_unlock(&lazy_cma_inflight_lock);
}

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
 * a hole, or not memory of @zone (alloc_contig_range() must never see those),
 * or, unless @naive, if the window straddles two System RAM resources, holds
 * a pageblock alloc_contig_range() refuses (lazy_cma_pageblock_refused()) or
 * a page that would stop it (lazy_cma_page_stuck()).  What
 * cannot be told from the descriptors is left to alloc_contig_range().
 */
static bool lazy_cma_window_usable(struct zone *zone, unsigned long start,
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
		if (!naive && (pfn == start || !(pfn & (pageblock_nr_pages - 1))) &&
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
static unsigned long lazy_cma_obstacle(struct zone *zone, unsigned long pfn,
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

/*
 * Clearing is the largest cost of a big request, and one CPU clears at a
 * fraction of the memory bandwidth: ranges of LAZY_CMA_PARALLEL_PAGES (32 MiB)
 * and more are split among up to LAZY_CMA_MAX_CLEARERS online CPUs that the
 * caller may run on (its cpuset and affinity), the caller doing the first part
 * and workers bound to the other CPUs the rest.
 */
#define LAZY_CMA_PARALLEL_PAGES	(32UL << (20 - PAGE_SHIFT))
#define LAZY_CMA_MAX_CLEARERS	8

/* what the caller and its workers share for one clearing */
struct lazy_cma_clear_ctl {
	atomic_t stop;		/* raised on a fatal signal: workers give up */
	atomic_t pending;	/* workers still clearing, +1 while queueing */
	struct completion done;	/* pending reached 0 */
};

struct lazy_cma_clear_part {
	struct work_struct work;
	unsigned long pfn;
	unsigned long nr_pages;
	struct lazy_cma_clear_ctl *ctl;
};

/* clear [pfn, pfn + nr_pages) unless *stop is raised; false if it was */
static bool lazy_cma_clear(unsigned long pfn, unsigned long nr_pages,
			   atomic_t *stop)
{
	unsigned long i;

	for (i = 0; i < nr_pages; i++) {
		clear_highpage(pfn_to_page(pfn + i));
		if ((i + 1) % LAZY_CMA_BATCH_PAGES == 0) {
			if (atomic_read(stop))
				return false;
			cond_resched();
		}
	}
	return true;
}

static void lazy_cma_clear_work(struct work_struct *work)
{
	struct lazy_cma_clear_part *part =
		container_of(work, struct lazy_cma_clear_part, work);
	struct lazy_cma_clear_ctl *ctl = part->ctl;

	lazy_cma_clear(part->pfn, part->nr_pages, &ctl->stop);
	if (atomic_dec_and_test(&ctl->pending))
		complete(&ctl->done);
}

/* the next online CPU after @cpu that the caller may use, but @self; wraps */
static int lazy_cma_next_cpu(int cpu, int self)
{
	int pass;

	for (pass = 0; pass < 2; pass++) {
		do {
			cpu = cpumask_next_and(cpu, current->cpus_ptr, cpu_online_mask);
		} while (cpu == self);
		if (cpu < nr_cpu_ids)
			return cpu;
		cpu = -1;
	}
	/* only @self is left (a CPU went offline since they were counted) */
	return self;
}

static int lazy_cma_zero_pages(unsigned long pfn, unsigned long nr_pages)
{
	struct lazy_cma_clear_part *parts = NULL;
	struct lazy_cma_clear_ctl ctl;
	unsigned int n = 1, queued = 0, i;
	unsigned long each, done, mine;
	int ret = 0, cpu, self;

	atomic_set(&ctl.stop, 0);
	atomic_set(&ctl.pending, 1);
	init_completion(&ctl.done);
	if (nr_pages >= LAZY_CMA_PARALLEL_PAGES) {
		n = 0;
		for_each_cpu_and(cpu, current->cpus_ptr, cpu_online_mask)
			if (++n == LAZY_CMA_MAX_CLEARERS)
				break;
		n = max(n, 1U);
	}
	if (n > 1)
		parts = kcalloc(n - 1, sizeof(*parts), GFP_KERNEL | __GFP_NOWARN);
	if (!parts)
		n = 1;
	each = ALIGN(DIV_ROUND_UP(nr_pages, n), LAZY_CMA_BATCH_PAGES);
	mine = min(each, nr_pages);
	/* the caller clears where it runs; the workers on its other CPUs */
	self = raw_smp_processor_id();
	cpu = -1;
	for (done = mine; done < nr_pages; done += each) {
		struct lazy_cma_clear_part *part = &parts[queued++];

		part->pfn = pfn + done;
		part->nr_pages = min(each, nr_pages - done);
		part->ctl = &ctl;
		INIT_WORK(&part->work, lazy_cma_clear_work);
		atomic_inc(&ctl.pending);
		cpu = lazy_cma_next_cpu(cpu, self);
		queue_work_on(cpu, lazy_cma_clear_wq, &part->work);
	}

	/* the caller's part, in batches that look for a fatal signal */
	for (done = 0; done < mine; done += LAZY_CMA_BATCH_PAGES) {
		if (fatal_signal_pending(current)) {
			atomic_set(&ctl.stop, 1);
			ret = -EINTR;
			break;
		}
		lazy_cma_clear(pfn + done, min(mine - done, LAZY_CMA_BATCH_PAGES),
			       &ctl.stop);
	}
	/*
	 * Workers that lag behind must not make a fatal signal wait for them:
	 * the wait for their parts can be killed, and then tells them to stop.
	 */
	if (!atomic_dec_and_test(&ctl.pending) && !ret &&
	    wait_for_completion_killable(&ctl.done)) {
		atomic_set(&ctl.stop, 1);
		ret = -EINTR;
	}
	/* the workers use @ctl and the pages: wait until every one is done */
	for (i = 0; i < queued; i++)
		flush_work(&parts[i].work);
	kfree(parts);
	return ret;
}

/*
 * Pages from alloc_contig_range() went through the page allocator's
 * post-allocation hook, which already cleared them when init_on_alloc is on
 * (Debian's default).  Clear them here otherwise: nobody may ever see what the
 * memory held before.
 */
static int lazy_cma_zero_new_pages(unsigned long pfn, unsigned long nr_pages)
{
	if (want_init_on_alloc(LAZY_CMA_GFP))
		return 0;
	return lazy_cma_zero_pages(pfn, nr_pages);
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

static void lazy_cma_res_init(struct lazy_cma_range *range, const char *name)
{
	memset(&range->res, 0, sizeof(range->res));
	range->res.name = name;
	range->res.start = PFN_PHYS(range->pfn);
	range->res.end = PFN_PHYS(range->pfn + range->nr_pages) - 1;
	range->res.flags = IORESOURCE_MEM | IORESOURCE_BUSY;
}

/* free_contig_range() does not yield: give back large ranges in chunks */
static void lazy_cma_free_pages(unsigned long pfn, unsigned long nr_pages)
{
	while (nr_pages) {
		unsigned long n = min(nr_pages, LAZY_CMA_CHUNK_PAGES);

		free_contig_range(pfn, n);
		pfn += n;
		nr_pages -= n;
		cond_resched();
	}
}

/* a request's pages, and its claim, handed to a worker (lazy_cma_give_back()) */
struct lazy_cma_giveback {
	struct work_struct work;
	struct lazy_cma_claim claim;
	unsigned long pfn;
	unsigned long nr_pages;
};

static void lazy_cma_giveback_work(struct work_struct *work)
{
	struct lazy_cma_giveback *gb =
		container_of(work, struct lazy_cma_giveback, work);

	lazy_cma_free_pages(gb->pfn, gb->nr_pages);
	lazy_cma_unclaim(&gb->claim);
	kfree(gb);
	atomic_long_inc(&lazy_cma_givebacks_done);
	if (atomic_dec_and_test(&lazy_cma_givebacks))
		wake_up_all(&lazy_cma_giveback_wait);
}

/*
 * Give back [pfn, pfn + nr_pages), which @claim covers, and drop the claim.
 * Freeing costs about what taking cost, and on a kernel with DEBUG_PAGEALLOC
 * and KASAN several times more (seconds for hundreds of MiB): a request
 * ended by a fatal signal leaves it to a worker, so that the task dies
 * promptly.  The claim goes with the pages, and comes off when they are
 * free; a request that finds no window meanwhile waits for them (see
 * lazy_cma_range_alloc()).  Only for a request's own pages: a range that
 * someone could have seen is freed in place.
 */
static void lazy_cma_give_back(struct lazy_cma_claim *claim, unsigned long pfn,
			       unsigned long nr_pages)
{
	struct lazy_cma_giveback *gb = NULL;

	if (nr_pages && fatal_signal_pending(current))
		gb = kmalloc(sizeof(*gb), GFP_KERNEL | __GFP_NOWARN);
	if (!gb) {
		lazy_cma_free_pages(pfn, nr_pages);
		lazy_cma_unclaim(claim);
		return;
	}
	gb->pfn = pfn;
	gb->nr_pages = nr_pages;
	gb->claim.it.start = claim->it.start;
	gb->claim.it.last = claim->it.last;
	/* counted first: a search that meets the claim will find it pending */
	atomic_inc(&lazy_cma_givebacks);
	/* in one step: no one may claim the pages in between */
	spin_lock(&lazy_cma_claims_lock);
	interval_tree_remove(&claim->it, &lazy_cma_claims);
	interval_tree_insert(&gb->claim.it, &lazy_cma_claims);
	spin_unlock(&lazy_cma_claims_lock);
	INIT_WORK(&gb->work, lazy_cma_giveback_work);
	queue_work(lazy_cma_clear_wq, &gb->work);
}

/*
 * A search that began when lazy_cma_givebacks_done was @seen found nothing:
 * wait until the pages of killed requests are given back.  Return: 1 once
 * they are free, or if some came free during the search (search again); 0
 * if none did; -EINTR on a fatal signal.
 */
static int lazy_cma_wait_givebacks(long seen)
{
	if (!atomic_read(&lazy_cma_givebacks))
		return atomic_long_read(&lazy_cma_givebacks_done) != seen;
	if (wait_event_killable(lazy_cma_giveback_wait,
				!atomic_read(&lazy_cma_givebacks)))
		return -EINTR;
	return 1;
}

/*
 * alloc_contig_range() over [pfn, pfn + nr) in chunks of LAZY_CMA_CHUNK_PAGES,
 * so that a fatal signal is noticed between chunks: the page allocator clears
 * every page (init_on_alloc) before alloc_contig_range() returns, which takes
 * seconds for a large range.  All or nothing, except on -EINTR: then the
 * first *@taken pages are held, for the caller to lazy_cma_give_back().
 */
static int lazy_cma_contig_range(unsigned long pfn, unsigned long nr,
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

/* give back the pages of a range of its own and its claim (no iomem entry) */
static void lazy_cma_range_free_held(struct lazy_cma_range *range)
{
	lazy_cma_free_pages(range->pfn, range->held);
	lazy_cma_unclaim(&range->claim);
}

/* give @range, whose pages are held, its /proc/iomem entry (if @name) */
static int lazy_cma_res_insert(struct lazy_cma_range *range, const char *name)
{
	if (!name)
		return 0;
	lazy_cma_res_init(range, name);
	/* the scan ruled out windows that straddle two System RAM entries */
	return insert_resource(&iomem_resource, &range->res) ? -EBUSY : 0;
}

/* what the search looks for: @held pages, and @want with the room after */
struct lazy_cma_want {
	unsigned long nr;	/* the request */
	unsigned long held;	/* taken: whole pageblocks */
	unsigned long want;	/* looked at: held, or more to leave room */
	const char *name;	/* /proc/iomem name, NULL for a pool chunk */
	bool naive;
};

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
static int lazy_cma_take(struct lazy_cma_range *range, struct zone *zone,
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
 * The naive strategy, kept as a baseline for the benchmark (naive=1):
 * top-down in pageblock steps, alloc_contig_range() at every step, without
 * the descriptor scan's guesses about what would fail.  What
 * alloc_contig_range() itself requires (every page online and of this zone)
 * is still checked, page by page, as in the default search.
 */
static int lazy_cma_zone_alloc_naive(struct lazy_cma_range *range, struct zone *zone,
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
static int lazy_cma_node_alloc_kernel(struct lazy_cma_range *range, int nid,
				      const struct lazy_cma_want *w)
{
	unsigned long n = w->held, pfn, bad;
	nodemask_t only = NODE_MASK_NONE;
	struct page *page = NULL;
	struct zone *zone = NULL;
	int i;

	node_set(nid, only);
	for (i = 0; i < ARRAY_SIZE(lazy_cma_zone_order) && !page; i++) {
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
static int lazy_cma_search(struct lazy_cma_range *range, int nid,
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

	for (i = 0; i < ARRAY_SIZE(lazy_cma_zone_order); i++) {
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

/*
 * @held pages (whole pageblocks, at most MAX_ORDER_NR_PAGES) straight from
 * the buddy allocator's free lists of @nid, if it has them: no reclaim, no
 * compaction, no migration, not even kswapd woken.  A non-movable
 * allocation comes from ZONE_NORMAL or ZONE_DMA32; never ZONE_DMA (as the
 * search), and the zone must keep its safety margin.
 */
static int lazy_cma_buddy_take(struct lazy_cma_range *range, int nid,
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

/*
 * Take w->nr pages of @nid as a range of its own (whole pageblocks held):
 * from the buddy allocator if it has them free and the range will not grow,
 * else by the window search.
 */
static int lazy_cma_node_take(struct lazy_cma_range *range, int nid,
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
