// SPDX-License-Identifier: GPL-2.0
/*
 * lazy_cma regions: address-keyed ranges that belong to no process.
 *
 * The registry is an rbtree keyed by first pfn (regions never overlap, so the
 * region holding a pfn is its predecessor-or-equal), under one rw_semaphore
 * that is only ever held for tree updates and short lookups: never across
 * alloc_contig_range(), zeroing, copying or unmap_mapping_range().  A region
 * being resized or freed is marked busy instead, and other operations on it
 * answer -EBUSY meanwhile.
 *
 * Mappings: every open of /dev/lazy_cma uses the address space of one
 * private inode (lazy_cma_mapping, on a pseudo filesystem of our own, as
 * /dev/mem does), with the physical address as file offset, so unmap_mapping_range()
 * on a physical range reaches every mapping of it, whatever device node or
 * process made it.  Each mmap() gets a view (shared by the VMAs that split
 * or fork from it) naming the region object it was made for and a limit no
 * fault may reach: a moved or freed region detaches its views (later faults
 * get SIGBUS, even if a new region appears at the same address), and a
 * shrink lowers the limit of every existing view (a later regrow in place
 * never shows through an old mapping).  Views are read and PTEs inserted under
 * the read lock, so once a writer has changed them and dropped the lock, one
 * unmap_mapping_range() removes every stale PTE for good.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/mount.h>
#include <linux/pseudo_fs.h>
#include <linux/rbtree.h>
#include <linux/rwsem.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>

#include "lazy_cma.h"
#include "lazy_cma_compat.h"
#include "lazy_cma_trace.h"

struct address_space *lazy_cma_mapping;

static DECLARE_RWSEM(lazy_cma_regions_lock);
static struct rb_root lazy_cma_regions = RB_ROOT;
static unsigned int lazy_cma_nr_regions;

/**
 * struct lazy_cma_view - what one mmap() of a region may see
 * @node:	in the region's list of views
 * @region:	the region; NULL once it was freed or moved
 * @limit:	first pfn that may never be faulted in through this view
 * @vmas:	VMAs using the view (splits and forks share it)
 */
struct lazy_cma_view {
	struct list_head node;
	struct lazy_cma_region *region;
	unsigned long limit;
	unsigned int vmas;
};

#define LAZY_CMA_FS_MAGIC	0x6c7a636d	/* "lzcm" */

static struct vfsmount *lazy_cma_mnt;
static struct inode *lazy_cma_inode;

static int lazy_cma_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, LAZY_CMA_FS_MAGIC) ? 0 : -ENOMEM;
}

/* no .owner: the internal mount must not pin the module */
static struct file_system_type lazy_cma_fs_type = {
	.name = KBUILD_MODNAME,
	.init_fs_context = lazy_cma_init_fs_context,
	.kill_sb = kill_anon_super,
};

int lazy_cma_regions_init(void)
{
	lazy_cma_mnt = kern_mount(&lazy_cma_fs_type);
	if (IS_ERR(lazy_cma_mnt))
		return PTR_ERR(lazy_cma_mnt);
	lazy_cma_inode = alloc_anon_inode(lazy_cma_mnt->mnt_sb);
	if (IS_ERR(lazy_cma_inode)) {
		kern_unmount(lazy_cma_mnt);
		return PTR_ERR(lazy_cma_inode);
	}
	lazy_cma_mapping = lazy_cma_inode->i_mapping;
	return 0;
}

void lazy_cma_regions_exit(void)
{
	iput(lazy_cma_inode);
	kern_unmount(lazy_cma_mnt);
}

static unsigned long region_end_pfn(const struct lazy_cma_region *region)
{
	return region->range.pfn + region->range.nr_pages;
}

/* the region with the largest start <= @pfn, or NULL */
static struct lazy_cma_region *region_floor(unsigned long pfn)
{
	struct rb_node *n = lazy_cma_regions.rb_node;
	struct lazy_cma_region *best = NULL;

	while (n) {
		struct lazy_cma_region *r = rb_entry(n, struct lazy_cma_region, node);

		if (r->range.pfn <= pfn) {
			best = r;
			n = n->rb_right;
		} else {
			n = n->rb_left;
		}
	}
	return best;
}

/* the region with the smallest start >= @pfn, or NULL */
static struct lazy_cma_region *region_ceil(unsigned long pfn)
{
	struct rb_node *n = lazy_cma_regions.rb_node;
	struct lazy_cma_region *best = NULL;

	while (n) {
		struct lazy_cma_region *r = rb_entry(n, struct lazy_cma_region, node);

		if (r->range.pfn >= pfn) {
			best = r;
			n = n->rb_left;
		} else {
			n = n->rb_right;
		}
	}
	return best;
}

static struct lazy_cma_region *region_containing(unsigned long pfn)
{
	struct lazy_cma_region *r = region_floor(pfn);

	return r && pfn < region_end_pfn(r) ? r : NULL;
}

static struct lazy_cma_region *region_at(unsigned long pfn)
{
	struct lazy_cma_region *r = region_floor(pfn);

	return r && r->range.pfn == pfn ? r : NULL;
}

static void region_insert(struct lazy_cma_region *region)
{
	struct rb_node **link = &lazy_cma_regions.rb_node, *parent = NULL;

	while (*link) {
		struct lazy_cma_region *r = rb_entry(*link, struct lazy_cma_region, node);

		parent = *link;
		if (region->range.pfn < r->range.pfn)
			link = &parent->rb_left;
		else
			link = &parent->rb_right;
	}
	rb_link_node(&region->node, parent, link);
	rb_insert_color(&region->node, &lazy_cma_regions);
	lazy_cma_nr_regions++;
}

static void region_erase(struct lazy_cma_region *region)
{
	rb_erase(&region->node, &lazy_cma_regions);
	lazy_cma_nr_regions--;
}

static void revoke_mappings(unsigned long pfn, unsigned long nr_pages)
{
	unmap_mapping_range(lazy_cma_mapping, PFN_PHYS(pfn),
			    PFN_PHYS(nr_pages), 1);
}

static void region_release(struct lazy_cma_region *region);
static void region_destroy(struct lazy_cma_region *region);

static struct lazy_cma_region *region_new(int nid, const char *name)
{
	struct lazy_cma_region *region;

	region = kzalloc(sizeof(*region), GFP_KERNEL);
	if (!region)
		return NULL;
	region->req_nid = nid;
	INIT_LIST_HEAD(&region->views);
	strscpy(region->name, name[0] ? name : KBUILD_MODNAME, sizeof(region->name));
	return region;
}

/**
 * lazy_cma_region_alloc() - create a region, busy until published
 * @nid: node, or NUMA_NO_NODE
 * @len: bytes, page-aligned, not 0
 * @name: /proc/iomem name ("" = "lazy_cma"), already validated
 * @phys: its physical start on success
 *
 * The region is listed at once but answers -EBUSY to RESIZE, FREE and mmap
 * until lazy_cma_region_publish(), or goes with lazy_cma_region_discard() if
 * its creator cannot be told the address.
 *
 * Return: the region, or an ERR_PTR() of the allocator's error.
 */
struct lazy_cma_region *lazy_cma_region_alloc(int nid, u64 len, const char *name,
					      u64 *phys)
{
	struct lazy_cma_region *region;
	int ret;

	region = region_new(nid, name);
	if (!region)
		return ERR_PTR(-ENOMEM);

	ret = lazy_cma_range_alloc(&region->range, nid, len >> PAGE_SHIFT, 0,
				   region->name, LAZY_CMA_RANGE_ROOM);
	if (ret) {
		kfree(region);
		return ERR_PTR(ret);
	}

	region->busy = true;
	*phys = lazy_cma_range_phys(&region->range);
	down_write(&lazy_cma_regions_lock);
	region_insert(region);
	up_write(&lazy_cma_regions_lock);
	return region;
}

void lazy_cma_region_publish(struct lazy_cma_region *region)
{
	region_release(region);
}

void lazy_cma_region_discard(struct lazy_cma_region *region)
{
	down_write(&lazy_cma_regions_lock);
	region_erase(region);
	up_write(&lazy_cma_regions_lock);
	region_destroy(region);
}

/* find the region starting at @phys and mark it busy */
static int region_claim(u64 phys, struct lazy_cma_region **out)
{
	struct lazy_cma_region *region;
	int ret = 0;

	if (!PAGE_ALIGNED(phys))
		return -ENOENT;

	down_write(&lazy_cma_regions_lock);
	region = region_at(PHYS_PFN(phys));
	if (!region)
		ret = -ENOENT;
	else if (region->busy || region->kdump)
		ret = -EBUSY;
	else
		region->busy = true;
	up_write(&lazy_cma_regions_lock);

	*out = region;
	return ret;
}

static void region_release(struct lazy_cma_region *region)
{
	down_write(&lazy_cma_regions_lock);
	region->busy = false;
	up_write(&lazy_cma_regions_lock);
}

/* the region goes away or moves: its mappings can never fault in again */
static void region_detach_views(struct lazy_cma_region *region)
{
	struct lazy_cma_view *v, *tmp;

	lockdep_assert_held_write(&lazy_cma_regions_lock);
	list_for_each_entry_safe(v, tmp, &region->views, node) {
		list_del_init(&v->node);
		v->region = NULL;
	}
}

static void region_destroy(struct lazy_cma_region *region)
{
	WARN_ON(!list_empty(&region->views));
	lazy_cma_range_free(&region->range);
	kfree(region);
}

/**
 * lazy_cma_region_free() - free the region starting at @phys
 * @phys: its physical start
 *
 * Mappings of it are revoked before the memory goes back: later access
 * through them gets SIGBUS.
 *
 * A region armed for kdump is disarmed first, which fails while a crash
 * kernel is loaded into it.
 *
 * Return: 0, -ENOENT if no region starts there, -EBUSY if another RESIZE or
 * FREE of it is in progress, or a crash kernel is loaded into it.
 */
int lazy_cma_region_free(u64 phys)
{
	struct lazy_cma_region *region;
	bool armed = false;
	int ret = 0;

	if (!PAGE_ALIGNED(phys))
		return -ENOENT;

	down_write(&lazy_cma_regions_lock);
	region = region_at(PHYS_PFN(phys));
	if (!region) {
		ret = -ENOENT;
	} else if (region->busy) {
		ret = -EBUSY;
	} else if (region->kdump) {
		region->busy = true;
		armed = true;
	} else {
		region_erase(region);
		region_detach_views(region);
	}
	up_write(&lazy_cma_regions_lock);
	if (ret)
		return ret;

	if (armed) {
		ret = lazy_cma_kdump_disarm(&region->range);
		down_write(&lazy_cma_regions_lock);
		region->busy = false;
		if (!ret) {
			region->kdump = false;
			region_erase(region);
			region_detach_views(region);
		}
		up_write(&lazy_cma_regions_lock);
		if (ret)
			return ret;
	}

	revoke_mappings(region->range.pfn, region->range.nr_pages);
	region_destroy(region);
	return 0;
}

static int region_shrink(struct lazy_cma_region *region, unsigned long nr_pages)
{
	unsigned long old_nr = region->range.nr_pages;
	struct lazy_cma_view *v;

	down_write(&lazy_cma_regions_lock);
	region->range.nr_pages = nr_pages;
	list_for_each_entry(v, &region->views, node)
		v->limit = min(v->limit, region_end_pfn(region));
	up_write(&lazy_cma_regions_lock);

	revoke_mappings(region->range.pfn + nr_pages, old_nr - nr_pages);
	lazy_cma_range_release_tail(&region->range);
	return 0;
}

/*
 * Take a new range, report it, copy, and swap it in; the old address stops
 * existing.  If @report fails, the new range goes and the region stays.
 */
static int region_move(struct lazy_cma_region *region, unsigned long nr_pages,
		       u64 *phys, lazy_cma_report_t report,
		       void __user *uarg)
{
	struct lazy_cma_region *new;
	int ret;

	new = region_new(region->req_nid, region->name);
	if (!new)
		return -ENOMEM;
	/* the old contents are copied over the first pages: clear only the rest */
	ret = lazy_cma_range_alloc(&new->range, region->req_nid, nr_pages,
				   region->range.nr_pages, new->name,
				   LAZY_CMA_RANGE_ROOM);
	if (ret) {
		kfree(new);
		return ret;
	}
	ret = report(uarg, lazy_cma_range_phys(&new->range), PFN_PHYS(nr_pages));
	if (ret) {
		region_destroy(new);
		return ret;
	}

	/* from here on nothing can fail: old mappings stop here */
	down_write(&lazy_cma_regions_lock);
	region_detach_views(region);
	up_write(&lazy_cma_regions_lock);
	revoke_mappings(region->range.pfn, region->range.nr_pages);

	lazy_cma_copy_pages(new->range.pfn, region->range.pfn,
			    region->range.nr_pages);

	*phys = lazy_cma_range_phys(&new->range);
	down_write(&lazy_cma_regions_lock);
	region_erase(region);
	region_insert(new);
	up_write(&lazy_cma_regions_lock);

	region_destroy(region);
	return 0;
}

/**
 * lazy_cma_region_arm() - make a new region the kernel's crash-kernel range
 * @region: from lazy_cma_region_alloc(), not yet published (so busy, and
 *	    never mapped)
 *
 * Return: 0 or the error of lazy_cma_kdump_arm().
 */
int lazy_cma_region_arm(struct lazy_cma_region *region)
{
	int ret;

	ret = lazy_cma_kdump_arm(&region->range);
	if (ret)
		return ret;
	down_write(&lazy_cma_regions_lock);
	region->kdump = true;
	up_write(&lazy_cma_regions_lock);
	return 0;
}

/**
 * lazy_cma_region_unarm() - disarm a region lazy_cma_region_arm() armed
 * @region: not yet published
 *
 * Return: 0, or -EBUSY if a crash kernel was loaded into it meanwhile.
 */
int lazy_cma_region_unarm(struct lazy_cma_region *region)
{
	int ret;

	ret = lazy_cma_kdump_disarm(&region->range);
	if (ret)
		return ret;
	down_write(&lazy_cma_regions_lock);
	region->kdump = false;
	up_write(&lazy_cma_regions_lock);
	return 0;
}

/**
 * lazy_cma_region_resize() - change the length of the region at *@phys
 * @phys: in: its start; out: its start afterwards
 * @len: in: new length in bytes, page-aligned, not 0; out: the same
 * @report: told the start and length the region will have, once they are
 *	    certain and before anything is done that cannot be undone; if it
 *	    fails, the region is left exactly as before and its error returned
 * @uarg: the caller's argument, for @report
 *
 * Shrinking frees the tail.  Growing takes the memory right after the region
 * when it can, else a new range on the node asked at ALLOC, copies the
 * contents there and frees the old one.  Added bytes are zero.  Mappings of
 * whatever stops being the region are revoked first.
 *
 * Return: 0; -ENOENT, -EBUSY as for free; the allocator's error if neither
 * way of growing worked, and then the region is exactly as before.
 */
int lazy_cma_region_resize(u64 *phys, u64 *len, lazy_cma_report_t report,
			   void __user *uarg)
{
	unsigned long nr_pages = *len >> PAGE_SHIFT, old_pfn, old_nr;
	struct lazy_cma_region *region;
	const char *how = "same";
	u64 t0 = ktime_get_ns();
	int ret;

	ret = region_claim(*phys, &region);
	if (ret)
		return ret;
	old_pfn = region->range.pfn;
	old_nr = region->range.nr_pages;

	if (nr_pages == old_nr) {
		ret = report(uarg, *phys, *len);
	} else if (nr_pages < old_nr) {
		how = "shrink";
		ret = report(uarg, *phys, *len);
		if (!ret)
			ret = region_shrink(region, nr_pages);
	} else {
		how = "inplace";
		ret = lazy_cma_range_grow(&region->range, nr_pages);
		if (!ret) {
			ret = report(uarg, *phys, *len);
			/* nothing could see the added pages yet: give them back */
			if (ret)
				lazy_cma_range_release_tail(&region->range);
		}
		if (!ret) {
			down_write(&lazy_cma_regions_lock);
			region->range.nr_pages = nr_pages;
			up_write(&lazy_cma_regions_lock);
		} else if (ret != -EINTR && ret != -EFAULT) {
			/* the old region object is gone once this succeeds */
			how = "moved";
			ret = region_move(region, nr_pages, phys, report, uarg);
			trace_lazy_cma_resize(old_pfn, old_nr, ret ? old_pfn : PHYS_PFN(*phys),
					      ret ? old_nr : nr_pages, how, ret,
					      ktime_get_ns() - t0);
			if (!ret)
				return 0;
			region_release(region);
			return ret;
		}
	}
	trace_lazy_cma_resize(old_pfn, old_nr, old_pfn, ret ? old_nr : nr_pages, how,
			      ret, ktime_get_ns() - t0);
	region_release(region);
	return ret;
}

static unsigned int region_map_count(struct lazy_cma_region *region)
{
	struct lazy_cma_view *v;
	unsigned int n = 0;

	list_for_each_entry(v, &region->views, node)
		n += v->vmas;
	return n;
}

/**
 * lazy_cma_region_snapshot() - describe live regions starting at or after @start
 * @start: physical address
 * @out: room for @max entries
 * @max: how many to describe at most
 * @total: number of live regions in all
 *
 * Return: entries written, in ascending address order.
 */
unsigned int lazy_cma_region_snapshot(u64 start,
				      struct lazy_cma_region_info *out,
				      unsigned int max, unsigned int *total)
{
	struct lazy_cma_region *r;
	struct rb_node *n;
	unsigned int i = 0;

	down_read(&lazy_cma_regions_lock);
	*total = lazy_cma_nr_regions;
	if (start > PFN_PHYS(ULONG_MAX >> PAGE_SHIFT) - PAGE_SIZE)
		r = NULL;
	else
		r = region_ceil(PHYS_PFN(start + PAGE_SIZE - 1));
	for (n = r ? &r->node : NULL; n && i < max; n = rb_next(n), i++) {
		r = rb_entry(n, struct lazy_cma_region, node);
		memset(&out[i], 0, sizeof(out[i]));
		out[i].phys_addr = lazy_cma_range_phys(&r->range);
		out[i].len = PFN_PHYS(r->range.nr_pages);
		out[i].node = r->range.nid;
		out[i].map_count = region_map_count(r);
		strscpy(out[i].name, r->name, sizeof(out[i].name));
		if (r->kdump)
			out[i].flags = LAZY_CMA_REGION_KDUMP |
				(lazy_cma_kdump_loaded() ? LAZY_CMA_REGION_KDUMP_LOADED : 0);
	}
	up_read(&lazy_cma_regions_lock);
	return i;
}

static void lazy_cma_vm_open(struct vm_area_struct *vma)
{
	struct lazy_cma_view *v = vma->vm_private_data;

	down_write(&lazy_cma_regions_lock);
	v->vmas++;
	up_write(&lazy_cma_regions_lock);
}

static void lazy_cma_vm_close(struct vm_area_struct *vma)
{
	struct lazy_cma_view *v = vma->vm_private_data;

	down_write(&lazy_cma_regions_lock);
	if (!--v->vmas) {
		if (v->region)
			list_del(&v->node);
		kfree(v);
	}
	up_write(&lazy_cma_regions_lock);
}

static vm_fault_t lazy_cma_vm_fault(struct vm_fault *vmf)
{
	struct lazy_cma_view *v = vmf->vma->vm_private_data;
	vm_fault_t ret = VM_FAULT_SIGBUS;
	struct lazy_cma_region *r;

	down_read(&lazy_cma_regions_lock);
	r = v->region;
	if (r && vmf->pgoff >= r->range.pfn && vmf->pgoff < region_end_pfn(r) &&
	    vmf->pgoff < v->limit)
		ret = vmf_insert_pfn(vmf->vma, vmf->address, vmf->pgoff);
	up_read(&lazy_cma_regions_lock);
	return ret;
}

static const struct vm_operations_struct lazy_cma_vm_ops = {
	.open = lazy_cma_vm_open,
	.close = lazy_cma_vm_close,
	.fault = lazy_cma_vm_fault,
};

/**
 * lazy_cma_region_mmap() - map part of a live region
 * @vma: file offset = physical address; must be shared and lie inside one
 *	 region
 *
 * Return: 0, -EINVAL for a private mapping, -ENXIO if the range is not inside
 * one live region, -EBUSY while the region is being resized or freed, or is
 * armed for kdump (the crash kernel's memory).
 */
int lazy_cma_region_mmap(struct vm_area_struct *vma)
{
	unsigned long first = vma->vm_pgoff, last;
	struct lazy_cma_view *v;
	struct lazy_cma_region *r;
	int ret = 0;

	/* MAP_SHARED (a read-only descriptor clears VM_SHARED, not VM_MAYSHARE) */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (check_add_overflow(first, vma_pages(vma) - 1, &last))
		return -ENXIO;

	v = kzalloc(sizeof(*v), GFP_KERNEL);
	if (!v)
		return -ENOMEM;

	down_write(&lazy_cma_regions_lock);
	r = region_containing(first);
	if (!r || last >= region_end_pfn(r)) {
		ret = -ENXIO;
	} else if (r->busy || r->kdump) {
		ret = -EBUSY;
	} else {
		v->region = r;
		v->limit = ULONG_MAX;
		v->vmas = 1;
		list_add(&v->node, &r->views);
	}
	up_write(&lazy_cma_regions_lock);
	if (ret) {
		kfree(v);
		return ret;
	}

	vma->vm_private_data = v;
	lazy_cma_vm_flags_set(vma, VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &lazy_cma_vm_ops;
	return 0;
}

/* module unload: no file is open, so nothing maps any region */
void lazy_cma_regions_free_all(void)
{
	for (;;) {
		struct lazy_cma_region *r = NULL;
		struct rb_node *n;

		down_write(&lazy_cma_regions_lock);
		n = rb_first(&lazy_cma_regions);
		if (n) {
			r = rb_entry(n, struct lazy_cma_region, node);
			region_erase(r);
			region_detach_views(r);
		}
		up_write(&lazy_cma_regions_lock);
		if (!r)
			break;
		region_destroy(r);
		cond_resched();
	}
}
