// SPDX-License-Identifier: GPL-2.0
/*
 * Lazy kdump: one region at a time becomes the kernel's crash-kernel range,
 * so that kexec_load() and kexec_file_load() accept a capture kernel without
 * crashkernel= at boot.  x86-64 only.
 *
 * The kernel keeps that range in crashk_res, which is not exported.  Its
 * address comes from kallsyms through a kprobe lookup and is used only after
 * sprint_symbol() confirms that it is exactly the start of a symbol of that
 * name and size, and the structure holds what the kernel put there ("Crash
 * kernel", busy System RAM, IORES_DESC_CRASH_KERNEL).  crashk_res is changed
 * only under the kernel's kexec lock (__kexec_lock, found and checked the
 * same way), the lock every kexec load, unload and shrink takes: a load in
 * progress never sees the range change under it.
 *
 * While armed, crashk_res stands in /proc/iomem in place of the region's own
 * entry (kexec_file_load() looks for holes there, by descriptor), and the
 * kernel's kexec_crash_size file is replaced by one that reads the same but
 * refuses writes with -EBUSY: crash_shrink_memory() would hand the region's
 * pages to the page allocator.  The module pins itself while armed.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/errno.h>
#include <linux/ioport.h>
#include <linux/kallsyms.h>
#include <linux/kernel.h>
#include <linux/kernfs.h>
#include <linux/kexec.h>
#include <linux/kobject.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/version.h>

#include "lazy_cma.h"
#include "lazy_cma_compat.h"

#ifdef LAZY_CMA_KDUMP

/* how long arming or disarming waits for a kexec load in progress */
#define LAZY_CMA_KEXEC_WAIT_MS	5000

/*
 * The kernel series whose kexec locking (__kexec_lock, taken by every load,
 * unload and crash size change) and crashk_res handling were read in their
 * source and tested with this file (make check's kdump boots).  A later
 * series that kept the names but serialised kexec differently would be
 * armed without real exclusion: arming is refused there (-EOPNOTSUPP)
 * unless kdump_unverified=1.  A series goes on this list once its
 * kernel/kexec*.c and kernel/crash*.c have been read; make check fails
 * while it boots a series that is not on it.
 */
static const unsigned int lazy_cma_kdump_series[] = {
	KERNEL_VERSION(6, 1, 0),
	KERNEL_VERSION(6, 12, 0),
	KERNEL_VERSION(7, 3, 0),
};

static bool lazy_cma_kdump_unverified;
module_param_named(kdump_unverified, lazy_cma_kdump_unverified, bool, 0644);
MODULE_PARM_DESC(kdump_unverified,
		 "Arm kdump regions on a kernel series whose kexec locking lazy_cma was not checked against (unverified; default N)");

static DEFINE_MUTEX(lazy_cma_kdump_mutex);
static struct resource *lazy_cma_crashk_res;
static atomic_t *lazy_cma_kexec_lock;
static struct lazy_cma_range *lazy_cma_armed;

/* the kernel's crash size file, and ours in its place while armed */
static struct kobject *lazy_cma_size_dir;
static struct kobj_attribute *lazy_cma_size_orig;
static struct kobj_attribute lazy_cma_size_attr;

/*
 * Is @addr exactly the start of the kernel symbol @name, and is that symbol
 * at least @size bytes long (kallsyms counts up to the next symbol)?
 */
static bool lazy_cma_kdump_is_symbol(const void *addr, const char *name,
				     size_t size)
{
	char found[KSYM_SYMBOL_LEN];
	size_t len = strlen(name);
	unsigned long sz;

	sprint_symbol(found, (unsigned long)addr);
	if (strncmp(found, name, len) || strncmp(found + len, "+0x0/", 5) ||
	    kstrtoul(found + len + 5, 16, &sz) || sz < size) {
		pr_warn("kdump: %s resolved to %s\n", name, found);
		return false;
	}
	return true;
}

/*
 * The address of the kernel object @name of at least @size bytes, or NULL.
 * register_kprobe() resolves the name through kallsyms and then refuses an
 * address outside kernel text, leaving the address it found behind.
 */
static void *lazy_cma_kdump_symbol(const char *name, size_t size)
{
	struct kprobe kp = { .symbol_name = name };

	if (!register_kprobe(&kp)) {
		/* text: not the object we are looking for */
		unregister_kprobe(&kp);
		return NULL;
	}
	if (!kp.addr || !lazy_cma_kdump_is_symbol(kp.addr, name, size))
		return NULL;
	return kp.addr;
}

static bool lazy_cma_kexec_trylock(void)
{
	return atomic_cmpxchg_acquire(lazy_cma_kexec_lock, 0, 1) == 0;
}

/* the kexec lock, waiting a while for a load in progress; false if busy */
static bool lazy_cma_kexec_lock_wait(void)
{
	unsigned int ms;

	for (ms = 0; ms < LAZY_CMA_KEXEC_WAIT_MS; ms += 20) {
		if (lazy_cma_kexec_trylock())
			return true;
		msleep(20);
	}
	return false;
}

static void lazy_cma_kexec_unlock(void)
{
	atomic_set_release(lazy_cma_kexec_lock, 0);
}

/* the sysfs file of the kernel's crash size, in whichever place it lives */
static int lazy_cma_kdump_find_size_file(void)
{
	static const struct {
		const char *dir, *file, *symbol;
	} places[] = {
		{ "kexec", "crash_size", "crash_size_attr" },	/* newer kernels */
		{ NULL, "kexec_crash_size", "kexec_crash_size_attr" },
	};
	struct kernfs_node *dir, *file;
	struct attribute *attr;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(places); i++) {
		struct kobject *kobj = kernel_kobj;

		if (places[i].dir) {
			dir = kernfs_find_and_get(kernel_kobj->sd, places[i].dir);
			if (!dir)
				continue;
			/* a sysfs directory's private data is its kobject */
			kobj = kernfs_type(dir) == KERNFS_DIR ? dir->priv : NULL;
			kernfs_put(dir);
			if (!kobj)
				continue;
		}
		file = kernfs_find_and_get(kobj->sd, places[i].file);
		if (!file)
			continue;
		/* a sysfs file's private data is its attribute */
		attr = kernfs_type(file) == KERNFS_FILE ? file->priv : NULL;
		kernfs_put(file);
		if (!attr)
			continue;
		if (!lazy_cma_kdump_is_symbol(attr, places[i].symbol,
					      sizeof(struct kobj_attribute)) ||
		    strcmp(attr->name, places[i].file))
			return -EOPNOTSUPP;
		lazy_cma_size_dir = kobj;
		lazy_cma_size_orig = container_of(attr, struct kobj_attribute, attr);
		return 0;
	}
	return -EOPNOTSUPP;
}

/* is this kernel of a series on lazy_cma_kdump_series[]? */
static bool lazy_cma_kdump_series_listed(void)
{
	unsigned int i, series = KERNEL_VERSION(LINUX_VERSION_MAJOR, LINUX_VERSION_PATCHLEVEL, 0);

	for (i = 0; i < ARRAY_SIZE(lazy_cma_kdump_series); i++)
		if (lazy_cma_kdump_series[i] == series)
			return true;
	return false;
}

/* a listed series, or the operator's kdump_unverified=1 */
static int lazy_cma_kdump_series_check(void)
{
	if (lazy_cma_kdump_series_listed() || READ_ONCE(lazy_cma_kdump_unverified))
		return 0;
	pr_warn_ratelimited("kdump: refused: kernel %d.%d is not a series whose kexec locking lazy_cma was checked against; kdump_unverified=1 arms anyway (unverified)\n",
			    LINUX_VERSION_MAJOR, LINUX_VERSION_PATCHLEVEL);
	return -EOPNOTSUPP;
}

static int lazy_cma_kdump_resolve(void)
{
	struct resource *res;
	int ret;

	ret = lazy_cma_kdump_series_check();
	if (ret)
		return ret;
	if (lazy_cma_crashk_res)
		return 0;
	res = lazy_cma_kdump_symbol("crashk_res", sizeof(*res));
	lazy_cma_kexec_lock = lazy_cma_kdump_symbol("__kexec_lock", sizeof(atomic_t));
	if (!res || !lazy_cma_kexec_lock)
		return -EOPNOTSUPP;
	/* the kexec lock is an atomic_t that is 0 or 1, nothing else */
	if ((unsigned int)atomic_read(lazy_cma_kexec_lock) > 1) {
		pr_warn("kdump: __kexec_lock does not look like the kexec lock\n");
		return -EOPNOTSUPP;
	}
	if (!res->name || strcmp(res->name, "Crash kernel") ||
	    res->flags != (IORESOURCE_BUSY | IORESOURCE_SYSTEM_RAM) ||
	    res->desc != IORES_DESC_CRASH_KERNEL) {
		pr_warn("kdump: crashk_res does not look like the crash kernel's resource\n");
		return -EOPNOTSUPP;
	}
	if (lazy_cma_kdump_find_size_file())
		return -EOPNOTSUPP;
	lazy_cma_crashk_res = res;
	return 0;
}

/* reads as the kernel's file does; writing would free the armed region */
static ssize_t lazy_cma_size_show(struct kobject *kobj,
				  struct kobj_attribute *attr, char *buf)
{
	return lazy_cma_size_orig->show(kobj, lazy_cma_size_orig, buf);
}

static ssize_t lazy_cma_size_store(struct kobject *kobj,
				   struct kobj_attribute *attr,
				   const char *buf, size_t count)
{
	return -EBUSY;
}

/* put our crash size file in place of the kernel's; removal drains writers */
static int lazy_cma_size_file_swap(void)
{
	int ret;

	lazy_cma_size_attr.attr.name = lazy_cma_size_orig->attr.name;
	lazy_cma_size_attr.attr.mode = 0644;
	lazy_cma_size_attr.show = lazy_cma_size_show;
	lazy_cma_size_attr.store = lazy_cma_size_store;
	sysfs_remove_file(lazy_cma_size_dir, &lazy_cma_size_orig->attr);
	ret = sysfs_create_file(lazy_cma_size_dir, &lazy_cma_size_attr.attr);
	if (ret)
		WARN_ON(sysfs_create_file(lazy_cma_size_dir,
					  &lazy_cma_size_orig->attr));
	return ret;
}

static void lazy_cma_size_file_restore(void)
{
	sysfs_remove_file(lazy_cma_size_dir, &lazy_cma_size_attr.attr);
	if (sysfs_create_file(lazy_cma_size_dir, &lazy_cma_size_orig->attr))
		pr_warn("kdump: cannot restore the kernel's %s file\n",
			lazy_cma_size_orig->attr.name);
}

/**
 * lazy_cma_kdump_arm() - make @range the kernel's crash-kernel range
 * @range: a live range nobody maps, not resized or freed meanwhile
 *
 * Return: 0; -EALREADY if a region is armed; -EEXIST if the kernel already
 * has a crash-kernel range (crashkernel= at boot); -EOPNOTSUPP if crashk_res
 * or the kexec lock cannot be found and verified, or the kernel is of a
 * series not on lazy_cma_kdump_series[] (and not kdump_unverified=1);
 * -EBUSY if a kexec load
 * held the kexec lock for seconds.
 */
int lazy_cma_kdump_arm(struct lazy_cma_range *range)
{
	struct resource *crashk;
	int ret;

	mutex_lock(&lazy_cma_kdump_mutex);
	if (lazy_cma_armed) {
		ret = -EALREADY;
		goto out;
	}
	ret = lazy_cma_kdump_resolve();
	if (ret)
		goto out;
	crashk = lazy_cma_crashk_res;
	/*
	 * A range of the kernel's own (crashkernel= at boot) is refused before
	 * the kernel's crash size file is touched: swapping it there would
	 * make a shrink racing with us fail.  Only a shrink changes the range
	 * meanwhile, and the check under the kexec lock below is the one that
	 * counts; this one only spares the file.
	 */
	if (data_race(crashk->end || crashk->parent)) {
		ret = -EEXIST;
		goto out;
	}
	/* first the file: a shrink in progress finishes before we go on */
	ret = lazy_cma_size_file_swap();
	if (ret)
		goto out;
	if (!lazy_cma_kexec_lock_wait()) {
		ret = -EBUSY;
		goto out_file;
	}
	if (crashk->end || crashk->parent || kexec_crash_loaded()) {
		ret = -EEXIST;
		goto out_unlock;
	}
	remove_resource(&range->res);
	crashk->start = range->res.start;
	crashk->end = range->res.end;
	ret = insert_resource(&iomem_resource, crashk);
	if (ret) {
		crashk->start = 0;
		crashk->end = 0;
		WARN_ON(insert_resource(&iomem_resource, &range->res));
		ret = -EBUSY;
		goto out_unlock;
	}
	lazy_cma_kexec_unlock();
	lazy_cma_armed = range;
	__module_get(THIS_MODULE);
	pr_info("kdump: crash kernel range %pR\n", crashk);
	if (!lazy_cma_kdump_series_listed())
		pr_warn_once("kdump: armed on kernel %d.%d, a series whose kexec locking lazy_cma was not checked against (kdump_unverified=1)\n",
			     LINUX_VERSION_MAJOR, LINUX_VERSION_PATCHLEVEL);
	mutex_unlock(&lazy_cma_kdump_mutex);
	return 0;

out_unlock:
	lazy_cma_kexec_unlock();
out_file:
	lazy_cma_size_file_restore();
out:
	mutex_unlock(&lazy_cma_kdump_mutex);
	return ret;
}

/**
 * lazy_cma_kdump_disarm() - give the crash-kernel range back
 * @range: the armed range
 *
 * Return: 0, the range is empty again and @range has its own iomem entry;
 * -EBUSY while a crash kernel is loaded into it (or a load held the kexec
 * lock for seconds); -EIO if the range was changed behind our back.
 */
int lazy_cma_kdump_disarm(struct lazy_cma_range *range)
{
	struct resource *crashk = lazy_cma_crashk_res;
	int ret = 0;

	mutex_lock(&lazy_cma_kdump_mutex);
	if (WARN_ON(lazy_cma_armed != range)) {
		ret = -EINVAL;
		goto out;
	}
	if (!lazy_cma_kexec_lock_wait()) {
		ret = -EBUSY;
		goto out;
	}
	if (kexec_crash_loaded()) {
		lazy_cma_kexec_unlock();
		ret = -EBUSY;
		goto out;
	}
	/*
	 * Nothing but us may change the range while armed; if something did
	 * (a shrink has freed pages of it), keep the region for good rather
	 * than free its pages twice.
	 */
	if (WARN_ON(!crashk->parent || crashk->start != range->res.start ||
		    crashk->end != range->res.end)) {
		lazy_cma_kexec_unlock();
		ret = -EIO;
		goto out;
	}
	release_resource(crashk);
	crashk->start = 0;
	crashk->end = 0;
	lazy_cma_kexec_unlock();

	WARN_ON(insert_resource(&iomem_resource, &range->res));
	lazy_cma_size_file_restore();
	lazy_cma_armed = NULL;
	module_put(THIS_MODULE);
	pr_info("kdump: crash kernel range released\n");
out:
	mutex_unlock(&lazy_cma_kdump_mutex);
	return ret;
}

bool lazy_cma_kdump_loaded(void)
{
	return kexec_crash_loaded();
}

#endif /* LAZY_CMA_KDUMP */
