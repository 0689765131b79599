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
