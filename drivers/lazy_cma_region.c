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
 * process made it.  Each mapping remembers the incarnation (gen) of the region
 * it was made for; a fault is served only while that incarnation lives and
 * covers the address.  Lookups and PTE insertion happen under the read lock,
 * so once a writer has retired an incarnation or shortened a region and
 * dropped the lock, one unmap_mapping_range() removes every PTE for good.
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
/* incarnation numbers; 0 means "none" (a region that is moving) */
static unsigned long lazy_cma_last_gen;

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

static struct lazy_cma_region *region_new(int nid, const char *name)
{
	struct lazy_cma_region *region;

	region = kzalloc(sizeof(*region), GFP_KERNEL);
	if (!region)
		return NULL;
	region->req_nid = nid;
	strscpy(region->name, name[0] ? name : KBUILD_MODNAME, sizeof(region->name));
	return region;
}

/**
 * lazy_cma_region_alloc() - create a region
 * @nid: node, or NUMA_NO_NODE
 * @len: bytes, page-aligned, not 0
 * @name: /proc/iomem name ("" = "lazy_cma"), already validated
 * @phys: its physical start on success
 *
 * Return: 0 or the allocator's error.
 */
int lazy_cma_region_alloc(int nid, u64 len, const char *name, u64 *phys)
{
	struct lazy_cma_region *region;
	int ret;

	region = region_new(nid, name);
	if (!region)
		return -ENOMEM;

	ret = lazy_cma_range_alloc(&region->range, nid, len >> PAGE_SHIFT,
				   region->name);
	if (ret) {
		kfree(region);
		return ret;
	}

	down_write(&lazy_cma_regions_lock);
	region->gen = ++lazy_cma_last_gen;
	region_insert(region);
	up_write(&lazy_cma_regions_lock);

	*phys = lazy_cma_range_phys(&region->range);
	return 0;
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
	else if (region->busy)
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

static void region_destroy(struct lazy_cma_region *region)
{
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
 * Return: 0, -ENOENT if no region starts there, -EBUSY if another RESIZE or
 * FREE of it is in progress.
 */
int lazy_cma_region_free(u64 phys)
{
	struct lazy_cma_region *region;
	int ret = 0;

	if (!PAGE_ALIGNED(phys))
		return -ENOENT;

	down_write(&lazy_cma_regions_lock);
	region = region_at(PHYS_PFN(phys));
	if (!region)
		ret = -ENOENT;
	else if (region->busy)
		ret = -EBUSY;
	else
		region_erase(region);
	up_write(&lazy_cma_regions_lock);
	if (ret)
		return ret;

	revoke_mappings(region->range.pfn, region->range.nr_pages);
	region_destroy(region);
	return 0;
}

static int region_shrink(struct lazy_cma_region *region, unsigned long nr_pages)
{
	unsigned long old_nr = region->range.nr_pages;

	down_write(&lazy_cma_regions_lock);
	region->range.nr_pages = nr_pages;
	up_write(&lazy_cma_regions_lock);

	revoke_mappings(region->range.pfn + nr_pages, old_nr - nr_pages);
	lazy_cma_range_release_tail(&region->range, old_nr);
	return 0;
}

/* take a new range, copy, and swap it in; the old address stops existing */
static int region_move(struct lazy_cma_region *region, unsigned long nr_pages,
		       struct lazy_cma_region **moved)
{
	struct lazy_cma_region *new;
	int ret;

	new = region_new(region->req_nid, region->name);
	if (!new)
		return -ENOMEM;
	ret = lazy_cma_range_alloc(&new->range, region->req_nid, nr_pages,
				   new->name);
	if (ret) {
		kfree(new);
		return ret;
	}

	/* from here on nothing can fail: retire the old incarnation */
	down_write(&lazy_cma_regions_lock);
	region->gen = 0;
	region->map_count = 0;
	up_write(&lazy_cma_regions_lock);
	revoke_mappings(region->range.pfn, region->range.nr_pages);

	lazy_cma_copy_pages(new->range.pfn, region->range.pfn,
			    region->range.nr_pages);

	down_write(&lazy_cma_regions_lock);
	region_erase(region);
	new->gen = ++lazy_cma_last_gen;
	region_insert(new);
	up_write(&lazy_cma_regions_lock);

	region_destroy(region);
	*moved = new;
	return 0;
}

/**
 * lazy_cma_region_resize() - change the length of the region at *@phys
 * @phys: in: its start; out: its start afterwards
 * @len: in: new length in bytes, page-aligned, not 0; out: the same
 *
 * Shrinking frees the tail.  Growing takes the memory right after the region
 * when it can, else a new range on the node asked at ALLOC, copies the
 * contents there and frees the old one.  Added bytes are zero.  Mappings of
 * whatever stops being the region are revoked first.
 *
 * Return: 0; -ENOENT, -EBUSY as for free; the allocator's error if neither
 * way of growing worked, and then the region is exactly as before.
 */
int lazy_cma_region_resize(u64 *phys, u64 *len)
{
	unsigned long nr_pages = *len >> PAGE_SHIFT, old_pfn, old_nr;
	struct lazy_cma_region *region, *moved;
	const char *how = "same";
	u64 t0 = ktime_get_ns();
	int ret;

	ret = region_claim(*phys, &region);
	if (ret)
		return ret;
	old_pfn = region->range.pfn;
	old_nr = region->range.nr_pages;

	if (nr_pages == old_nr) {
		ret = 0;
	} else if (nr_pages < old_nr) {
		how = "shrink";
		ret = region_shrink(region, nr_pages);
	} else {
		how = "inplace";
		ret = lazy_cma_range_grow(&region->range, nr_pages);
		if (!ret) {
			down_write(&lazy_cma_regions_lock);
			region->range.nr_pages = nr_pages;
			up_write(&lazy_cma_regions_lock);
		} else if (ret != -EINTR) {
			how = "moved";
			ret = region_move(region, nr_pages, &moved);
			if (!ret) {
				*phys = lazy_cma_range_phys(&moved->range);
				trace_lazy_cma_resize(old_pfn, old_nr, moved->range.pfn,
						      nr_pages, how, 0, ktime_get_ns() - t0);
				return 0;
			}
		}
	}
	trace_lazy_cma_resize(old_pfn, old_nr, region->range.pfn,
			      region->range.nr_pages, how, ret, ktime_get_ns() - t0);
	region_release(region);
	return ret;
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
		out[i].map_count = r->map_count;
		strscpy(out[i].name, r->name, sizeof(out[i].name));
	}
	up_read(&lazy_cma_regions_lock);
	return i;
}

static struct lazy_cma_region *vma_region(struct vm_area_struct *vma,
					  unsigned long pfn)
{
	struct lazy_cma_region *r = region_containing(pfn);

	return r && r->gen == (unsigned long)vma->vm_private_data ? r : NULL;
}

static void lazy_cma_vm_open(struct vm_area_struct *vma)
{
	struct lazy_cma_region *r;

	down_write(&lazy_cma_regions_lock);
	r = vma_region(vma, vma->vm_pgoff);
	if (r)
		r->map_count++;
	up_write(&lazy_cma_regions_lock);
}

static void lazy_cma_vm_close(struct vm_area_struct *vma)
{
	struct lazy_cma_region *r;

	down_write(&lazy_cma_regions_lock);
	r = vma_region(vma, vma->vm_pgoff);
	if (r && r->map_count)
		r->map_count--;
	up_write(&lazy_cma_regions_lock);
}

static vm_fault_t lazy_cma_vm_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	vm_fault_t ret = VM_FAULT_SIGBUS;

	down_read(&lazy_cma_regions_lock);
	if (vma_region(vma, vmf->pgoff))
		ret = vmf_insert_pfn(vma, vmf->address, vmf->pgoff);
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
 * one live region, -EBUSY while the region is being resized or freed.
 */
int lazy_cma_region_mmap(struct vm_area_struct *vma)
{
	unsigned long first = vma->vm_pgoff, last;
	struct lazy_cma_region *r;
	int ret = 0;

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (check_add_overflow(first, vma_pages(vma) - 1, &last))
		return -ENXIO;

	down_write(&lazy_cma_regions_lock);
	r = region_containing(first);
	if (!r || last >= region_end_pfn(r)) {
		ret = -ENXIO;
	} else if (r->busy) {
		ret = -EBUSY;
	} else {
		vma->vm_private_data = (void *)r->gen;
		r->map_count++;
	}
	up_write(&lazy_cma_regions_lock);
	if (ret)
		return ret;

	lazy_cma_vm_flags_set(vma, VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &lazy_cma_vm_ops;
	return 0;
}

/* module unload: no file is open, so nothing maps any region */
void lazy_cma_regions_free_all(void)
{
	struct rb_node *n;

	down_write(&lazy_cma_regions_lock);
	while ((n = rb_first(&lazy_cma_regions))) {
		struct lazy_cma_region *r = rb_entry(n, struct lazy_cma_region, node);

		region_erase(r);
		region_destroy(r);
	}
	up_write(&lazy_cma_regions_lock);
}
