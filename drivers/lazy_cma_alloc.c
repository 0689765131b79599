// SPDX-License-Identifier: GPL-2.0
/*
 * lazy_cma allocator: find a window of one node's memory that
 * alloc_contig_range() can empty, take it, name it in /proc/iomem and zero it.
 *
 * Zones are tried in the order ZONE_MOVABLE, ZONE_NORMAL, ZONE_DMA32 (never
 * ZONE_DMA); within a zone, windows whose start is a multiple of the pageblock
 * size are tried from the top of the zone down.  A cheap scan of the page
 * descriptors rules out windows that cannot succeed (holes, offline or
 * reserved memory, slab, page tables, pages pinned for DMA) before
 * alloc_contig_range() migrates anything.  No lock is held here: requests on
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
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

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

/* lowest pfn of [pfn, pfn + nr_pages) that is claimed or going offline */
static unsigned long lazy_cma_held(unsigned long pfn, unsigned long nr_pages)
{
	unsigned long last = pfn + nr_pages - 1, lowest = ULONG_MAX;
	struct interval_tree_node *it;

	lockdep_assert_held(&lazy_cma_claims_lock);
	/* the first overlapping claim in pfn order has the lowest start */
	it = interval_tree_iter_first(&lazy_cma_claims, pfn, last);
	if (it)
		lowest = max(it->start, pfn);
	if (lazy_cma_offlining.nr && lazy_cma_offlining.start <= last &&
	    pfn < lazy_cma_offlining.start + lazy_cma_offlining.nr)
		lowest = min(lowest, max(lazy_cma_offlining.start, pfn));
	return lowest;
}

/*
 * Claim [pfn, pfn + nr_pages) unless part of it is claimed already or going
 * offline; false, with the lowest such pfn in *bad, if so.
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

/* per-CPU, not concurrency managed: clearing runs on the CPUs it is given */
static struct workqueue_struct *lazy_cma_clear_wq;

int lazy_cma_alloc_init(void)
{
	int ret;

	lazy_cma_clear_wq = alloc_workqueue("lazy_cma_clear",
					    LAZY_CMA_WQ_PERCPU | WQ_CPU_INTENSIVE, 0);
	if (!lazy_cma_clear_wq)
		return -ENOMEM;
	ret = register_memory_notifier(&lazy_cma_memory_nb);
	if (ret)
		destroy_workqueue(lazy_cma_clear_wq);
	return ret;
}

void lazy_cma_alloc_exit(void)
{
	unregister_memory_notifier(&lazy_cma_memory_nb);
	destroy_workqueue(lazy_cma_clear_wq);
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
 * Would taking @nr_pages leave the node with at least its zones' high
 * watermarks plus the reserve_mb safety margin free?
 */
static bool lazy_cma_node_has_room(int nid, unsigned long nr_pages)
{
	pg_data_t *pgdat = NODE_DATA(nid);
	unsigned long keep = (unsigned long)READ_ONCE(lazy_cma_reserve_mb) <<
			     (20 - PAGE_SHIFT);
	unsigned long free = 0;
	int i;

	for (i = 0; i < MAX_NR_ZONES; i++) {
		struct zone *zone = &pgdat->node_zones[i];

		if (!populated_zone(zone))
			continue;
		free += zone_page_state(zone, NR_FREE_PAGES);
		keep += high_wmark_pages(zone);
	}
	return free >= keep && free - keep >= nr_pages;
}

/*
 * Look at every page of [start, start + nr), a window the caller has claimed:
 * false, with the lowest offending pfn in *bad, if a page there is offline,
 * a hole, or not memory of @zone (alloc_contig_range() must never see those),
 * or, unless @naive, can never be migrated (reserved, slab, page tables,
 * PageOffline, or pinned for DMA).  What cannot be told from the descriptors
 * is left to alloc_contig_range().
 */
static bool lazy_cma_window_usable(struct zone *zone, unsigned long start,
				   unsigned long nr, bool naive,
				   unsigned long *bad)
{
	unsigned long pfn, end = start + nr;

	for (pfn = start; pfn < end; pfn++) {
		struct page *page = pfn_to_online_page(pfn);

		if (!page || page_zone(page) != zone)
			goto bad;
		/* pinned for DMA (FOLL_LONGTERM): migration would fail after retries */
		if (!naive &&
		    (PageReserved(page) || PageSlab(page) || PageTable(page) ||
		     PageOffline(page) ||
		     folio_maybe_dma_pinned(page_folio(page))))
			goto bad;
		if (!(pfn & (LAZY_CMA_BATCH_PAGES * 16 - 1)))
			cond_resched();
	}
	return true;
bad:
	*bad = pfn;
	return false;
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

/*
 * alloc_contig_range() over [pfn, pfn + nr) in chunks of LAZY_CMA_CHUNK_PAGES,
 * so that a fatal signal is noticed between chunks: the page allocator clears
 * every page (init_on_alloc) before alloc_contig_range() returns, which takes
 * seconds for a large range.  All or nothing.
 */
static int lazy_cma_contig_range(unsigned long pfn, unsigned long nr)
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
	if (ret && done)
		lazy_cma_free_pages(pfn, done);
	return ret;
}

/*
 * Claim [pfn, pfn + nr), check every page of it, take it and give it its
 * /proc/iomem entry.  Return: 0; -EAGAIN, with the lowest pfn that rules the
 * window out in *bad, if it is claimed, going offline or not usable (nothing
 * was migrated); -EBUSY if alloc_contig_range() or insert_resource() failed;
 * -EINTR.  On failure the window is unclaimed again.
 */
static int lazy_cma_take(struct lazy_cma_range *range, struct zone *zone,
			 unsigned long pfn, unsigned long nr, const char *name,
			 bool naive, unsigned long *bad)
{
	int ret;

	if (!lazy_cma_try_claim(&range->claim, pfn, nr, bad))
		return -EAGAIN;
	if (!lazy_cma_window_usable(zone, pfn, nr, naive, bad)) {
		ret = -EAGAIN;
		goto out_unclaim;
	}
	ret = lazy_cma_contig_range(pfn, nr);
	if (ret)
		goto out_unclaim;

	range->pfn = pfn;
	range->nr_pages = nr;
	range->nid = pfn_to_nid(pfn);
	lazy_cma_res_init(range, name);
	/* fails only for a window that straddles two System RAM entries */
	ret = insert_resource(&iomem_resource, &range->res);
	if (ret) {
		lazy_cma_free_pages(pfn, nr);
		ret = -EBUSY;
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
				     unsigned long nr, const char *name)
{
	unsigned long align = pageblock_nr_pages;
	unsigned long lo = ALIGN(zone->zone_start_pfn, align);
	unsigned long hi = zone_end_pfn(zone);
	unsigned long start, bad;
	int ret;

	if (hi < nr || hi - nr < lo)
		return -ENOMEM;
	for (start = ALIGN_DOWN(hi - nr, align); ; start -= align) {
		if (fatal_signal_pending(current))
			return -EINTR;
		ret = lazy_cma_take(range, zone, start, nr, name, true, &bad);
		if (!ret || ret == -EINTR)
			return ret;
		cond_resched();
		if (start < lo + align)
			return -ENOMEM;
	}
}

#ifdef LAZY_CMA_HAVE_ALLOC_CONTIG_PAGES
/*
 * The kernel's own search, kept as a baseline for the benchmark
 * (kernel_search=1): alloc_contig_pages() walks the node's zones from
 * ZONE_MOVABLE down (ZONE_DMA included), bottom-up in steps of the request's
 * length, and takes the first window its own scan accepts.  It chooses the
 * window itself, so the claim can only come after: a window that overlaps
 * another claim or an offlining in progress is given back (-EBUSY), which
 * also lets that offlining finish.  Its failed attempts may have undone an
 * offlining's isolation anywhere in the node, so the whole node counts as
 * failed (see lazy_cma_failed_lo).  Requests shorter than a pageblock take a
 * whole one, the rest of it is given back; a window that does not start on a
 * pageblock boundary (lengths that are not a power of two) is given back too.
 */
static int lazy_cma_node_alloc_kernel(struct lazy_cma_range *range, int nid,
				      unsigned long nr, const char *name)
{
	unsigned long n = max(nr, pageblock_nr_pages), pfn, bad;
	nodemask_t only = NODE_MASK_NONE;
	struct page *page;

	node_set(nid, only);
	page = lazy_cma_alloc_contig_pages(n, LAZY_CMA_GFP | __GFP_HIGHMEM |
					   __GFP_MOVABLE, nid, &only);
	lazy_cma_note_failed(node_start_pfn(nid), node_spanned_pages(nid));
	if (!page)
		return fatal_signal_pending(current) ? -EINTR : -ENOMEM;
	pfn = page_to_pfn(page);
	if (n > nr)
		lazy_cma_free_pages(pfn + nr, n - nr);
	if (!IS_ALIGNED(pfn, pageblock_nr_pages) ||
	    !lazy_cma_try_claim(&range->claim, pfn, nr, &bad))
		goto out_free;

	range->pfn = pfn;
	range->nr_pages = nr;
	range->nid = nid;
	lazy_cma_res_init(range, name);
	if (!insert_resource(&iomem_resource, &range->res))
		return 0;
	/* given back before the claim goes, as in lazy_cma_take() */
	lazy_cma_free_pages(pfn, nr);
	lazy_cma_unclaim(&range->claim);
	return -EBUSY;

out_free:
	lazy_cma_free_pages(pfn, nr);
	return -EBUSY;
}
#endif

static int lazy_cma_zone_alloc(struct lazy_cma_range *range, struct zone *zone,
			       unsigned long nr, const char *name)
{
	unsigned long align = pageblock_nr_pages;
	unsigned long lo = ALIGN(zone->zone_start_pfn, align);
	unsigned long hi = zone_end_pfn(zone);
	unsigned long start, bad;
	int ret;

	if (READ_ONCE(lazy_cma_naive))
		return lazy_cma_zone_alloc_naive(range, zone, nr, name);
	if (hi < nr || hi - nr < lo)
		return -ENOMEM;

	start = ALIGN_DOWN(hi - nr, align);
	for (;;) {
		if (fatal_signal_pending(current))
			return -EINTR;

		ret = lazy_cma_take(range, zone, start, nr, name, false, &bad);
		if (!ret || ret == -EINTR)
			return ret;
		if (ret == -EAGAIN) {
			/* the next window must end at or below the bad page */
			if (bad < lo + nr)
				return -ENOMEM;
			start = ALIGN_DOWN(bad - nr, align);
			continue;
		}

		/* busy (pinned or unmovable pages): try the windows below */
		if (start < lo + nr)
			return -ENOMEM;
		start = ALIGN_DOWN(start - nr, align);
	}
}

static int lazy_cma_node_alloc(struct lazy_cma_range *range, int nid,
			       unsigned long nr, const char *name)
{
	pg_data_t *pgdat = NODE_DATA(nid);
	int i, ret;

	if (!lazy_cma_node_has_room(nid, nr))
		return -ENOMEM;
#ifdef LAZY_CMA_HAVE_ALLOC_CONTIG_PAGES
	if (READ_ONCE(lazy_cma_kernel_search))
		return lazy_cma_node_alloc_kernel(range, nid, nr, name);
#endif

	for (i = 0; i < ARRAY_SIZE(lazy_cma_zone_order); i++) {
		struct zone *zone = &pgdat->node_zones[lazy_cma_zone_order[i]];

		if (!populated_zone(zone))
			continue;
		ret = lazy_cma_zone_alloc(range, zone, nr, name);
		if (ret != -ENOMEM)
			return ret;
	}
	return -ENOMEM;
}

/* nodes with memory, nearest to the calling CPU first */
static int lazy_cma_any_node_alloc(struct lazy_cma_range *range,
				   unsigned long nr, const char *name)
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

		ret = lazy_cma_node_alloc(range, best, nr, name);
		if (ret != -ENOMEM)
			return ret;
	}
}

/**
 * lazy_cma_range_alloc() - take @nr_pages contiguous, zeroed pages
 * @range: filled in on success
 * @nid: node to take them from, or NUMA_NO_NODE for the nearest that can
 * @nr_pages: how many; the first is aligned to a pageblock
 * @nr_overwritten: how many of the first pages the caller overwrites before
 *	anyone can see the range (a moving RESIZE copies there): these are
 *	not cleared
 * @name: /proc/iomem name; must stay valid until the range is freed
 *
 * Return: 0; -EINVAL or -ENODEV for a bad @nid; -ENOMEM if no window could be
 * had or the node would drop below its watermarks plus the safety margin;
 * -EINTR if a fatal signal arrived (nothing is kept).
 */
int lazy_cma_range_alloc(struct lazy_cma_range *range, int nid,
			 unsigned long nr_pages, unsigned long nr_overwritten,
			 const char *name)
{
	u64 t0 = ktime_get_ns();
	int ret;

	ret = lazy_cma_check_node(nid);
	if (ret)
		goto out_fail;

	if (nid == NUMA_NO_NODE)
		ret = lazy_cma_any_node_alloc(range, nr_pages, name);
	else
		ret = lazy_cma_node_alloc(range, nid, nr_pages, name);
	if (ret)
		goto out_fail;

	ret = lazy_cma_zero_new_pages(range->pfn + nr_overwritten,
				      range->nr_pages - nr_overwritten);
	/* a dying caller could never learn of the range: do not keep it */
	if (!ret && fatal_signal_pending(current))
		ret = -EINTR;
	if (ret) {
		lazy_cma_range_free(range);
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
 * Return: 0 with the added pages zeroed; -EBUSY if the memory after the
 * range cannot be had; -ENOMEM if the node has no room; -EINTR on a fatal
 * signal.  On failure the range is as it was.
 */
int lazy_cma_range_grow(struct lazy_cma_range *range, unsigned long nr_pages)
{
	struct zone *zone = page_zone(pfn_to_page(range->pfn));
	struct lazy_cma_claim added;
	unsigned long start = range->pfn + range->nr_pages;
	unsigned long more = nr_pages - range->nr_pages;
	unsigned long end, bad;
	int ret;

	if (check_add_overflow(start, more, &end))
		return -EBUSY;
	if (!lazy_cma_node_has_room(range->nid, more))
		return -ENOMEM;
	if (!lazy_cma_try_claim(&added, start, more, &bad))
		return -EBUSY;
	if (!lazy_cma_window_usable(zone, start, more, false, &bad)) {
		ret = -EBUSY;
		goto out_unclaim;
	}
	ret = lazy_cma_contig_range(start, more);
	if (ret) {
		ret = ret == -EINTR ? ret : -EBUSY;
		goto out_unclaim;
	}

	ret = adjust_resource(&range->res, range->res.start, PFN_PHYS(nr_pages));
	if (ret) {
		ret = -EBUSY;
		goto out_free;
	}
	ret = lazy_cma_zero_new_pages(start, more);
	if (!ret && fatal_signal_pending(current))
		ret = -EINTR;
	if (ret)
		goto out_shrink;
	lazy_cma_claim_resize(&range->claim, nr_pages, &added);
	return 0;

out_shrink:
	WARN_ON(adjust_resource(&range->res, range->res.start,
				PFN_PHYS(range->nr_pages)));
out_free:
	lazy_cma_free_pages(start, more);
out_unclaim:
	lazy_cma_unclaim(&added);
	return ret;
}

/**
 * lazy_cma_range_release_tail() - give back what lies past @range's length
 * @range: a live range whose nr_pages has already been lowered
 * @old_nr_pages: its length before
 */
void lazy_cma_range_release_tail(struct lazy_cma_range *range,
				 unsigned long old_nr_pages)
{
	WARN_ON(adjust_resource(&range->res, range->res.start,
				PFN_PHYS(range->nr_pages)));
	lazy_cma_free_pages(range->pfn + range->nr_pages,
			    old_nr_pages - range->nr_pages);
	lazy_cma_claim_resize(&range->claim, range->nr_pages, NULL);
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
	lazy_cma_free_pages(range->pfn, range->nr_pages);
	lazy_cma_unclaim(&range->claim);
}
