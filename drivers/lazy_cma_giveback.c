// SPDX-License-Identifier: GPL-2.0
/*
 * lazy_cma give-back: pages go back to the page allocator here, in chunks
 * that yield (lazy_cma_free_pages()), with the claim that covered them.
 *
 * A request ended by a fatal signal hands the pages it took, with their
 * claim, to a worker that frees them (lazy_cma_give_back()): the task dies
 * without waiting for that, and a request that finds no window while such
 * pages are on their way back waits for them once and searches again
 * (lazy_cma_wait_givebacks()).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/gfp.h>
#include <linux/minmax.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "lazy_cma_pageblocks.h"

/*
 * Give-backs queued and not done, and how many were ever done: a request that
 * found nothing waits for the former, or searches again if the latter moved.
 */
static atomic_t lazy_cma_givebacks = ATOMIC_INIT(0);
atomic_long_t lazy_cma_givebacks_done = ATOMIC_LONG_INIT(0);
static DECLARE_WAIT_QUEUE_HEAD(lazy_cma_giveback_wait);

/* free_contig_range() does not yield: give back large ranges in chunks */
void lazy_cma_free_pages(unsigned long pfn, unsigned long nr_pages)
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
void lazy_cma_give_back(struct lazy_cma_claim *claim, unsigned long pfn,
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
	lazy_cma_claim_hand_over(claim, &gb->claim);
	INIT_WORK(&gb->work, lazy_cma_giveback_work);
	queue_work(lazy_cma_clear_wq, &gb->work);
}

/*
 * A search that began when lazy_cma_givebacks_done was @seen found nothing:
 * wait until the pages of killed requests are given back.  Return: 1 once
 * they are free, or if some came free during the search (search again); 0
 * if none did; -EINTR on a fatal signal.
 */
int lazy_cma_wait_givebacks(long seen)
{
	if (!atomic_read(&lazy_cma_givebacks))
		return atomic_long_read(&lazy_cma_givebacks_done) != seen;
	if (wait_event_killable(lazy_cma_giveback_wait,
				!atomic_read(&lazy_cma_givebacks)))
		return -EINTR;
	return 1;
}

/* give back the pages of a range of its own and its claim (no iomem entry) */
void lazy_cma_range_free_held(struct lazy_cma_range *range)
{
	lazy_cma_free_pages(range->pfn, range->held);
	lazy_cma_unclaim(&range->claim);
}
