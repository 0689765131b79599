/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lazy_cma pageblock layer: whole pageblocks of one node, taken as a range
 * of the allocator's own (lazy_cma_pageblocks.c and the files it is made
 * of).  The bottom of the allocator: it calls no other part of the driver.
 * The pool (lazy_cma_pool.h) and the range API (lazy_cma_range.h) build on
 * it.
 */
#ifndef _LAZY_CMA_PAGEBLOCKS_H
#define _LAZY_CMA_PAGEBLOCKS_H

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/gfp.h>
#include <linux/interval_tree.h>
#include <linux/ioport.h>
#include <linux/mmzone.h>
#include <linux/types.h>

#include "lazy_cma_compat.h"

struct workqueue_struct;

/* pages zeroed or copied between two looks at the scheduler and signals */
#define LAZY_CMA_BATCH_PAGES	256

#define LAZY_CMA_GFP		(GFP_KERNEL | __GFP_NOWARN)

/* alloc_contig_range() calls are at most this long (64 MiB): lazy_cma_contig_range() */
#define LAZY_CMA_CHUNK_PAGES	(64UL << (20 - PAGE_SHIFT))

/**
 * struct lazy_cma_claim - pages the allocator holds or is taking
 * @it:	[it.start, it.last] in pfns, in the allocator's interval tree of
 *	claims (a window search asks it once per candidate, so it must stay
 *	cheap with many thousands of regions)
 *
 * Memory that holds a claim cannot be offlined: the allocator vetoes it.
 */
struct lazy_cma_claim {
	struct interval_tree_node it;
};

struct lazy_cma_chunk;

/**
 * struct lazy_cma_range - physically contiguous pages of one node
 * @pfn:	first page frame
 * @nr_pages:	number of pages
 * @held:	pages held from @pfn on, at least @nr_pages: a range of its own
 *		holds whole pageblocks, so that it can grow in place (see
 *		lazy_cma_range_grow()); a piece of a pool chunk holds @nr_pages
 * @nid:	NUMA node of every page
 * @chunk:	the pool chunk the pages belong to (lazy_cma_pool.c), or NULL
 *		for a range of its own
 * @res:	its /proc/iomem entry; res.name must outlive the range
 * @claim:	keeps the memory from being offlined while the range lives
 *		(a pool piece is covered by its chunk's claim)
 */
struct lazy_cma_range {
	unsigned long pfn;
	unsigned long nr_pages;
	unsigned long held;
	int nid;
	struct lazy_cma_chunk *chunk;
	struct resource res;
	struct lazy_cma_claim claim;
};

/* lazy_cma_range_alloc() flags, which the search obeys */
#define LAZY_CMA_RANGE_ROOM	BIT(0)	/* may grow: room after it, never pooled */

/* ---- lazy_cma_pageblocks.c: the layer's entry ---- */

/* what the search looks for: @held pages, and @want with the room after */
struct lazy_cma_want {
	unsigned long nr;	/* the request */
	unsigned long held;	/* taken: whole pageblocks */
	unsigned long want;	/* looked at: held, or more to leave room */
	const char *name;	/* /proc/iomem name, NULL for a pool chunk */
	bool naive;
};

int lazy_cma_pageblocks_init(void);
void lazy_cma_pageblocks_exit(void);
int lazy_cma_node_take(struct lazy_cma_range *range, int nid,
		       struct lazy_cma_want *w, unsigned int flags);
int lazy_cma_chunk_alloc(struct lazy_cma_range *chunk, int nid);
void lazy_cma_chunk_free(struct lazy_cma_range *chunk);

/* ---- lazy_cma_search.c: where a window is chosen ---- */

int lazy_cma_search(struct lazy_cma_range *range, int nid,
		    struct lazy_cma_want *w, unsigned int flags);

/* ---- lazy_cma_baseline.c: the benchmark's baselines ---- */

/* module parameters naive and kernel_search */
extern bool lazy_cma_naive;
extern bool lazy_cma_kernel_search;

int lazy_cma_zone_alloc_naive(struct lazy_cma_range *range, struct zone *zone,
			      const struct lazy_cma_want *w);
int lazy_cma_node_alloc_kernel(struct lazy_cma_range *range, int nid,
			       const struct lazy_cma_want *w);

/* ---- lazy_cma_take.c: where pages are taken ---- */

int lazy_cma_take(struct lazy_cma_range *range, struct zone *zone,
		  unsigned long pfn, const struct lazy_cma_want *w,
		  unsigned long *bad);
int lazy_cma_buddy_take(struct lazy_cma_range *range, int nid,
			unsigned long held);
int lazy_cma_contig_range(unsigned long pfn, unsigned long nr,
			  unsigned long *taken);
int lazy_cma_res_insert(struct lazy_cma_range *range, const char *name);

/* ---- lazy_cma_giveback.c: where pages go back ---- */

/* give-backs ever done: a request that found nothing compares it */
extern atomic_long_t lazy_cma_givebacks_done;

void lazy_cma_free_pages(unsigned long pfn, unsigned long nr_pages);
void lazy_cma_give_back(struct lazy_cma_claim *claim, unsigned long pfn,
			unsigned long nr_pages);
int lazy_cma_wait_givebacks(long seen);
void lazy_cma_range_free_held(struct lazy_cma_range *range);

/* ---- lazy_cma_clear.c: where pages are cleared ---- */

/* clearing's workers; the give-back worker runs there too */
extern struct workqueue_struct *lazy_cma_clear_wq;

int lazy_cma_clear_init(void);
void lazy_cma_clear_exit(void);
int lazy_cma_zero_pages(unsigned long pfn, unsigned long nr_pages);
int lazy_cma_zero_new_pages(unsigned long pfn, unsigned long nr_pages);

/* ---- lazy_cma_scan.c: the window scan ---- */

bool lazy_cma_window_usable(struct zone *zone, unsigned long start,
			    unsigned long nr, bool naive,
			    unsigned long *bad);
unsigned long lazy_cma_obstacle(struct zone *zone, unsigned long pfn,
				unsigned long nr);

/* ---- lazy_cma_margin.c: the zones tried, and what each must keep ---- */

/* module parameter reserve_mb */
extern unsigned int lazy_cma_reserve_mb;

/* the zones a node's search tries, in order, and how many (ZONE_DMA never) */
extern const enum zone_type lazy_cma_zone_order[];
extern const unsigned int lazy_cma_nr_zones_tried;

int lazy_cma_margin_init(void);
void lazy_cma_margin_exit(void);
bool lazy_cma_zone_grant(struct zone *zone, unsigned long nr_pages);
void lazy_cma_zone_ungrant(struct zone *zone, unsigned long nr_pages);

/* ---- lazy_cma_claim.c: claims and the memory notifier ---- */

int lazy_cma_claims_init(void);
void lazy_cma_claims_exit(void);
bool lazy_cma_try_claim(struct lazy_cma_claim *claim, unsigned long pfn,
			unsigned long nr_pages, unsigned long *bad);
void lazy_cma_unclaim(struct lazy_cma_claim *claim);
void lazy_cma_claim_resize(struct lazy_cma_claim *claim,
			   unsigned long nr_pages,
			   struct lazy_cma_claim *merged);
void lazy_cma_claim_hand_over(struct lazy_cma_claim *claim,
			      struct lazy_cma_claim *to);
void lazy_cma_note_failed(unsigned long pfn, unsigned long nr_pages);

#endif /* _LAZY_CMA_PAGEBLOCKS_H */
