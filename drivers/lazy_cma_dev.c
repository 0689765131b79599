// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/lazy_cma: the ioctl and mmap interface to address-keyed regions.
 * Argument checking lives here; the work is in lazy_cma_region.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "lazy_cma.h"

/* regions described per trip through the registry lock */
#define LAZY_CMA_LIST_BATCH	32
/* largest entry_size LIST accepts */
#define LAZY_CMA_LIST_ENTRY_MAX	4096

/* bytes -> page-aligned bytes; 0 for 0 or a length that would wrap */
static u64 lazy_cma_page_len(u64 len)
{
	if (!len || len > U64_MAX - (PAGE_SIZE - 1))
		return 0;
	len = PAGE_ALIGN(len);
	/* must fit a page count in an unsigned long */
	if ((len >> PAGE_SHIFT) > ULONG_MAX)
		return 0;
	return len;
}

/*
 * Names of the kernel's own /proc/iomem entries, which kexec-tools,
 * makedumpfile and the kernel's walkers parse (some of them ignoring case):
 * a region named like one of them would be taken for it.  Any name
 * beginning "System RAM" (also "System RAM (kmem)"), and these whole
 * names, in any case.  "Crash kernel" stays allowed: a region by that name
 * is how an operator marks memory for kdump.
 */
static const char *const lazy_cma_reserved_names[] = {
	"Kernel code", "Kernel rodata", "Kernel data", "Kernel bss", "Reserved",
	"ACPI Tables", "ACPI Non-volatile Storage", "Persistent Memory",
	"Persistent Memory (legacy)", "Soft Reserved", "GART",
};

/*
 * NUL-terminated within the array, printable ASCII (spaces allowed), and
 * not a name of the kernel's own
 */
static bool lazy_cma_name_ok(const char *name)
{
	size_t i, n = strnlen(name, LAZY_CMA_NAME_MAX);

	if (n == LAZY_CMA_NAME_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (name[i] < 0x20 || name[i] > 0x7e)
			return false;
	if (!strncasecmp(name, "System RAM", strlen("System RAM")))
		return false;
	for (i = 0; i < ARRAY_SIZE(lazy_cma_reserved_names); i++)
		if (!strcasecmp(name, lazy_cma_reserved_names[i]))
			return false;
	return true;
}

/* ALLOC, and KDUMP (@kdump): the same, armed as the crash-kernel range */
static long lazy_cma_ioctl_alloc(void __user *uarg, bool kdump)
{
	struct lazy_cma_allocation_data a;
	struct lazy_cma_region *region;
	u64 len;
	int ret;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	len = lazy_cma_page_len(a.len);
	if (!len || a.flags || !lazy_cma_name_ok(a.name))
		return -EINVAL;
	ret = lazy_cma_check_node(a.node);
	if (ret)
		return ret;

	region = lazy_cma_region_alloc(a.node, len, a.name, &a.phys_addr);
	if (IS_ERR(region))
		return PTR_ERR(region);
	if (kdump) {
		ret = lazy_cma_region_arm(region);
		if (ret) {
			lazy_cma_region_discard(region);
			return ret;
		}
	}

	if (copy_to_user(uarg, &a, sizeof(a))) {
		/*
		 * The caller could not learn the address: do not keep it, unless
		 * a crash kernel was loaded into it meanwhile (see LIST)
		 */
		if (!kdump || !lazy_cma_region_unarm(region)) {
			lazy_cma_region_discard(region);
			return -EFAULT;
		}
		lazy_cma_region_publish(region);
		return -EFAULT;
	}
	lazy_cma_region_publish(region);
	return 0;
}

/* the answer of a RESIZE reaches the caller before the resize is committed */
static int lazy_cma_resize_report(void __user *uarg, u64 phys, u64 len)
{
	struct lazy_cma_resize_data r = { .phys_addr = phys, .len = len };

	return copy_to_user(uarg, &r, sizeof(r)) ? -EFAULT : 0;
}

static long lazy_cma_ioctl_resize(void __user *uarg)
{
	struct lazy_cma_resize_data r;
	u64 len;

	if (copy_from_user(&r, uarg, sizeof(r)))
		return -EFAULT;
	len = lazy_cma_page_len(r.len);
	if (!len)
		return -EINVAL;
	r.len = len;

	return lazy_cma_region_resize(&r.phys_addr, &r.len, lazy_cma_resize_report,
				      uarg);
}

static long lazy_cma_ioctl_free(void __user *uarg)
{
	u64 phys;

	if (copy_from_user(&phys, uarg, sizeof(phys)))
		return -EFAULT;
	return lazy_cma_region_free(phys);
}

static long lazy_cma_ioctl_list(void __user *uarg)
{
	struct lazy_cma_region_info *batch;
	struct lazy_cma_list_data ld;
	u8 __user *dst;
	size_t copy, pad;
	u64 cursor;
	unsigned int total = 0, n, i;
	long ret = 0;

	if (copy_from_user(&ld, uarg, sizeof(ld)))
		return -EFAULT;
	if (ld.entry_size < LAZY_CMA_REGION_INFO_SIZE_VER0 ||
	    ld.entry_size > LAZY_CMA_LIST_ENTRY_MAX)
		return -EINVAL;
	ld.nr_entries = 0;

	batch = kmalloc_array(LAZY_CMA_LIST_BATCH, sizeof(*batch), GFP_KERNEL);
	if (!batch)
		return -ENOMEM;

	copy = min_t(size_t, ld.entry_size, sizeof(*batch));
	pad = ld.entry_size - copy;
	dst = u64_to_user_ptr(ld.entries);
	cursor = ld.start;
	do {
		n = min_t(unsigned int, LAZY_CMA_LIST_BATCH, ld.max_entries - ld.nr_entries);
		n = lazy_cma_region_snapshot(cursor, batch, n, &total);
		for (i = 0; i < n; i++) {
			u8 __user *e = dst + (size_t)ld.nr_entries * ld.entry_size;

			if (copy_to_user(e, &batch[i], copy) ||
			    (pad && clear_user(e + copy, pad))) {
				ret = -EFAULT;
				goto out;
			}
			ld.nr_entries++;
		}
		if (n)
			cursor = batch[n - 1].phys_addr + 1;
	} while (n && ld.nr_entries < ld.max_entries);

	ld.nr_regions = total;
	if (copy_to_user(uarg, &ld, sizeof(ld)))
		ret = -EFAULT;
out:
	kfree(batch);
	return ret;
}

static long lazy_cma_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	/* type, number, direction and size must all be ours: else -ENOTTY */
	switch (cmd) {
	case LAZY_CMA_IOCTL_ALLOC:
	case LAZY_CMA_IOCTL_RESIZE:
	case LAZY_CMA_IOCTL_FREE:
	case LAZY_CMA_IOCTL_LIST:
	case LAZY_CMA_IOCTL_KDUMP:
		break;
	default:
		return -ENOTTY;
	}
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;

	switch (cmd) {
	case LAZY_CMA_IOCTL_ALLOC:
		return lazy_cma_ioctl_alloc(uarg, false);
	case LAZY_CMA_IOCTL_KDUMP:
		return lazy_cma_ioctl_alloc(uarg, true);
	case LAZY_CMA_IOCTL_RESIZE:
		return lazy_cma_ioctl_resize(uarg);
	case LAZY_CMA_IOCTL_FREE:
		return lazy_cma_ioctl_free(uarg);
	default:
		return lazy_cma_ioctl_list(uarg);
	}
}

static int lazy_cma_mmap(struct file *file, struct vm_area_struct *vma)
{
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	return lazy_cma_region_mmap(vma);
}

/*
 * Set once module init can no longer fail.  Until then open() refuses, so a
 * failing init leaves no open file on the module's freed code: misc_open()
 * calls open() under the lock misc_deregister() takes.
 */
static bool lazy_cma_dev_ready;

static int lazy_cma_open(struct inode *inode, struct file *file)
{
	if (!READ_ONCE(lazy_cma_dev_ready))
		return -ENODEV;
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	/* one address space for every opener: revocation reaches them all */
	file->f_mapping = lazy_cma_mapping;
	return 0;
}

static const struct file_operations lazy_cma_fops = {
	.owner = THIS_MODULE,
	.open = lazy_cma_open,
	.unlocked_ioctl = lazy_cma_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = lazy_cma_mmap,
	.llseek = noop_llseek,
};

static struct miscdevice lazy_cma_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = KBUILD_MODNAME,
	.fops = &lazy_cma_fops,
	.mode = 0600,
};

int lazy_cma_dev_register(void)
{
	return misc_register(&lazy_cma_miscdev);
}

void lazy_cma_dev_enable(void)
{
	WRITE_ONCE(lazy_cma_dev_ready, true);
}

void lazy_cma_dev_unregister(void)
{
	misc_deregister(&lazy_cma_miscdev);
}
