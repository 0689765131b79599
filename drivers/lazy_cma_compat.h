/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every kernel-version difference lazy_cma meets, in one place.  The
 * LAZY_CMA_HAVE_* switches come from probes in Kbuild that look at what the
 * kernel being built against provides, never at its version number.
 */
#ifndef _LAZY_CMA_COMPAT_H
#define _LAZY_CMA_COMPAT_H

#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/pageblock-flags.h>

/*
 * alloc_contig_range(): 7.x takes acr_flags_t (ACR_FLAGS_NONE for memory that
 * is not a CMA area), older kernels the migratetype to restore the range's
 * pageblocks to.
 */
#ifdef LAZY_CMA_HAVE_ACR_FLAGS
#define lazy_cma_alloc_contig_range(start, end, gfp) \
	alloc_contig_range(start, end, ACR_FLAGS_NONE, gfp)
#else
#define lazy_cma_alloc_contig_range(start, end, gfp) \
	alloc_contig_range(start, end, MIGRATE_MOVABLE, gfp)
#endif

/* vm_flags became read-only with setters in 6.3 */
static inline void lazy_cma_vm_flags_set(struct vm_area_struct *vma,
					 vm_flags_t flags)
{
#ifdef LAZY_CMA_HAVE_VM_FLAGS_SET
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

/* MODULE_IMPORT_NS() takes a string literal since 6.13 */
#ifdef LAZY_CMA_IMPORT_NS_IS_STRING
#define LAZY_CMA_IMPORT_NS(ns)	MODULE_IMPORT_NS(#ns)
#else
#define LAZY_CMA_IMPORT_NS(ns)	MODULE_IMPORT_NS(ns)
#endif

/*
 * Lazy kdump needs kexec with crash dumps, kprobes (to find crashk_res) and
 * x86-64 (the only architecture it was tested on).
 */
#if defined(CONFIG_X86_64) && IS_ENABLED(CONFIG_KEXEC_CORE) && \
	IS_ENABLED(CONFIG_CRASH_DUMP) && IS_ENABLED(CONFIG_KPROBES)
#define LAZY_CMA_KDUMP
#endif

/*
 * Workqueues say WQ_PERCPU or WQ_UNBOUND since 6.17 (and in 6.12.y); before,
 * a workqueue without WQ_UNBOUND was per-CPU.
 */
#ifdef LAZY_CMA_HAVE_WQ_PERCPU
#define LAZY_CMA_WQ_PERCPU	WQ_PERCPU
#else
#define LAZY_CMA_WQ_PERCPU	0
#endif

/*
 * The largest order the buddy allocator hands out: MAX_PAGE_ORDER since 6.8,
 * MAX_ORDER - 1 before (MAX_ORDER was the first order it did not).
 * alloc_contig_range() refuses hugetlb folios above it (gigantic pages).
 */
#ifdef LAZY_CMA_HAVE_MAX_PAGE_ORDER
#define LAZY_CMA_MAX_BUDDY_ORDER	MAX_PAGE_ORDER
#else
#define LAZY_CMA_MAX_BUDDY_ORDER	(MAX_ORDER - 1)
#endif

/* a page that migrates through movable_ops (zsmalloc, balloon, z3fold) */
static inline bool lazy_cma_page_movable_ops(struct page *page)
{
#ifdef LAZY_CMA_HAVE_MOVABLE_OPS
	return page_has_movable_ops(page);
#else
	return __folio_test_movable(page_folio(page));
#endif
}

/*
 * How many page tables map a small folio: folio_mapcount() is inline since
 * 6.x; before, it was out of line and not exported, page_mapcount() inline.
 */
static inline int lazy_cma_small_mapcount(struct folio *folio)
{
#ifdef LAZY_CMA_HAVE_INLINE_FOLIO_MAPCOUNT
	return folio_mapcount(folio);
#else
	return page_mapcount(&folio->page);
#endif
}

/*
 * Would alloc_contig_range(), for memory that is not a CMA area, refuse
 * @pfn's pageblock when it isolates it: a MIGRATE_CMA pageblock, or one that
 * is isolated already (an offlining, a CMA or gigantic-page allocation in
 * progress)?  The kernel's readers of the pageblock bits are not exported;
 * they are read here the way those readers do, from the usemap of @pfn's
 * section (SPARSEMEM, as on every x86-64 kernel), locklessly as well.  7.x
 * keeps isolation in a bit of its own (PAGEBLOCK_ISO_MASK); before, an
 * isolated pageblock had migratetype MIGRATE_ISOLATE.  @pfn must be online.
 */
static inline bool lazy_cma_pageblock_refused(unsigned long pfn)
{
#ifdef CONFIG_SPARSEMEM
	unsigned long *map = section_to_usemap(__pfn_to_section(pfn));
	unsigned long bit = ((pfn & (PAGES_PER_SECTION - 1)) >> pageblock_order) *
			    NR_PAGEBLOCK_BITS;
	unsigned long bits = READ_ONCE(map[bit / BITS_PER_LONG]) >>
			     (bit % BITS_PER_LONG);

#ifdef LAZY_CMA_HAVE_PB_ISO_BIT
	if (bits & PAGEBLOCK_ISO_MASK)
		return true;
	bits &= PAGEBLOCK_MIGRATETYPE_MASK;
#else
	/* the migratetype is the lowest PB_migratetype_bits bits */
	bits &= BIT(PB_migratetype_bits) - 1;
#ifdef CONFIG_MEMORY_ISOLATION
	if (bits == MIGRATE_ISOLATE)
		return true;
#endif
#endif
	return is_migrate_cma(bits);
#else
	return false;
#endif
}

/*
 * alloc_contig_pages() (the kernel's own search for a contiguous window) is
 * exported by 7.3 (as alloc_contig_pages_noprof() behind a macro); Debian's
 * 6.1 and 6.12 build it but export only alloc_contig_range().  Only the
 * benchmark's kernel_search baseline uses it.
 */
#ifdef LAZY_CMA_HAVE_ALLOC_CONTIG_PAGES
#define lazy_cma_alloc_contig_pages(nr, gfp, nid, mask) \
	alloc_contig_pages(nr, gfp, nid, mask)
#endif

#endif /* _LAZY_CMA_COMPAT_H */
