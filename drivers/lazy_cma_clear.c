// SPDX-License-Identifier: GPL-2.0
/*
 * lazy_cma clearing: zero the pages of a new range, on several CPUs at once
 * for a large one (lazy_cma_zero_pages()), or not at all where the page
 * allocator already cleared them (lazy_cma_zero_new_pages()).  Its
 * workqueue also runs the give-back worker (lazy_cma_giveback.c).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "lazy_cma_pageblocks.h"

/*
 * Per-CPU, not concurrency managed: clearing runs on the CPUs it is given.
 * The pages of a request ended by a fatal signal are given back there too.
 */
struct workqueue_struct *lazy_cma_clear_wq;

int lazy_cma_clear_init(void)
{
	lazy_cma_clear_wq = alloc_workqueue("lazy_cma_clear",
					    LAZY_CMA_WQ_PERCPU | WQ_CPU_INTENSIVE, 0);
	if (!lazy_cma_clear_wq)
		return -ENOMEM;
	return 0;
}

void lazy_cma_clear_exit(void)
{
	destroy_workqueue(lazy_cma_clear_wq);
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

int lazy_cma_zero_pages(unsigned long pfn, unsigned long nr_pages)
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
int lazy_cma_zero_new_pages(unsigned long pfn, unsigned long nr_pages)
{
	if (want_init_on_alloc(LAZY_CMA_GFP))
		return 0;
	return lazy_cma_zero_pages(pfn, nr_pages);
}
