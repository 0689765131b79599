/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lazy_cma tracepoints: events/lazy_cma/ in tracefs.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM lazy_cma

#if !defined(_LAZY_CMA_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _LAZY_CMA_TRACE_H

#include <linux/tracepoint.h>

TRACE_EVENT(lazy_cma_alloc,
	    TP_PROTO(int nid, unsigned long pfn, unsigned long nr_pages,
		     const char *zone, u64 duration_ns),
	    TP_ARGS(nid, pfn, nr_pages, zone, duration_ns),
	    TP_STRUCT__entry(__field(int, nid)
			     __field(unsigned long, pfn)
			     __field(unsigned long, nr_pages)
			     __array(char, zone, 8)
			     __field(u64, duration_ns)),
	    TP_fast_assign(__entry->nid = nid;
			   __entry->pfn = pfn;
			   __entry->nr_pages = nr_pages;
			   strscpy(__entry->zone, zone, sizeof(__entry->zone));
			   __entry->duration_ns = duration_ns;),
	    TP_printk("node=%d pfn=0x%lx len=%lu zone=%s duration_ns=%llu",
		      __entry->nid, __entry->pfn, __entry->nr_pages << PAGE_SHIFT,
		      __entry->zone, __entry->duration_ns)
);

TRACE_EVENT(lazy_cma_alloc_fail,
	    TP_PROTO(int nid, unsigned long nr_pages, int err, u64 duration_ns),
	    TP_ARGS(nid, nr_pages, err, duration_ns),
	    TP_STRUCT__entry(__field(int, nid)
			     __field(unsigned long, nr_pages)
			     __field(int, err)
			     __field(u64, duration_ns)),
	    TP_fast_assign(__entry->nid = nid;
			   __entry->nr_pages = nr_pages;
			   __entry->err = err;
			   __entry->duration_ns = duration_ns;),
	    TP_printk("node=%d len=%lu errno=%d duration_ns=%llu",
		      __entry->nid, __entry->nr_pages << PAGE_SHIFT, -__entry->err,
		      __entry->duration_ns)
);

TRACE_EVENT(lazy_cma_free,
	    TP_PROTO(int nid, unsigned long pfn, unsigned long nr_pages),
	    TP_ARGS(nid, pfn, nr_pages),
	    TP_STRUCT__entry(__field(int, nid)
			     __field(unsigned long, pfn)
			     __field(unsigned long, nr_pages)),
	    TP_fast_assign(__entry->nid = nid;
			   __entry->pfn = pfn;
			   __entry->nr_pages = nr_pages;),
	    TP_printk("node=%d pfn=0x%lx len=%lu", __entry->nid, __entry->pfn,
		      __entry->nr_pages << PAGE_SHIFT)
);

TRACE_EVENT(lazy_cma_resize,
	    TP_PROTO(unsigned long old_pfn, unsigned long old_nr, unsigned long new_pfn,
		     unsigned long new_nr, const char *how, int err, u64 duration_ns),
	    TP_ARGS(old_pfn, old_nr, new_pfn, new_nr, how, err, duration_ns),
	    TP_STRUCT__entry(__field(unsigned long, old_pfn)
			     __field(unsigned long, old_nr)
			     __field(unsigned long, new_pfn)
			     __field(unsigned long, new_nr)
			     __array(char, how, 8)
			     __field(int, err)
			     __field(u64, duration_ns)),
	    TP_fast_assign(__entry->old_pfn = old_pfn;
			   __entry->old_nr = old_nr;
			   __entry->new_pfn = new_pfn;
			   __entry->new_nr = new_nr;
			   strscpy(__entry->how, how, sizeof(__entry->how));
			   __entry->err = err;
			   __entry->duration_ns = duration_ns;),
	    TP_printk("pfn=0x%lx len=%lu -> pfn=0x%lx len=%lu how=%s errno=%d duration_ns=%llu",
		      __entry->old_pfn, __entry->old_nr << PAGE_SHIFT, __entry->new_pfn,
		      __entry->new_nr << PAGE_SHIFT, __entry->how, -__entry->err,
		      __entry->duration_ns)
);

#endif /* _LAZY_CMA_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE lazy_cma_trace
#include <trace/define_trace.h>
