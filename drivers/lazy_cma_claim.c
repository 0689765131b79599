// SPDX-License-Identifier: GPL-2.0
/*
 * lazy_cma claims: which pages the allocator holds or is taking, and the
 * memory notifier that keeps them from going offline.
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

#include <linux/interval_tree.h>
#include <linux/memory.h>
#include <linux/minmax.h>
#include <linux/notifier.h>
#include <linux/spinlock.h>

#include "lazy_cma_pageblocks.h"

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

void lazy_cma_note_failed(unsigned long pfn, unsigned long nr_pages)
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
bool lazy_cma_try_claim(struct lazy_cma_claim *claim, unsigned long pfn,
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

void lazy_cma_unclaim(struct lazy_cma_claim *claim)
{
	spin_lock(&lazy_cma_claims_lock);
	interval_tree_remove(&claim->it, &lazy_cma_claims);
	spin_unlock(&lazy_cma_claims_lock);
}

/* @claim now covers @nr_pages; @merged (right after it, or NULL) goes */
void lazy_cma_claim_resize(struct lazy_cma_claim *claim,
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

/*
 * Hand @claim's pages over to @to, which covers the same pages: in one step,
 * so that no one may claim the pages in between.
 */
void lazy_cma_claim_hand_over(struct lazy_cma_claim *claim,
			      struct lazy_cma_claim *to)
{
	spin_lock(&lazy_cma_claims_lock);
	interval_tree_remove(&claim->it, &lazy_cma_claims);
	interval_tree_insert(&to->it, &lazy_cma_claims);
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

int lazy_cma_claims_init(void)
{
	return register_memory_notifier(&lazy_cma_memory_nb);
}

void lazy_cma_claims_exit(void)
{
	unregister_memory_notifier(&lazy_cma_memory_nb);
}
