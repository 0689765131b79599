// SPDX-License-Identifier: GPL-2.0
/*
 * lazy_cma: physically contiguous memory at run time, like CMA but without a
 * boot-time reservation.  Pages are migrated out of any zone on demand with
 * alloc_contig_range(), per NUMA node, including memory onlined after boot.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>

#include "lazy_cma.h"
#include "lazy_cma_pool.h"

static bool lazy_cma_heaps_on = true;
module_param_named(heaps, lazy_cma_heaps_on, bool, 0444);
MODULE_PARM_DESC(heaps,
		 "Register a dma-buf heap per node (default Y). Where the kernel's heap framework is used, registered heaps pin the module: load with heaps=0 to keep it unloadable");

static int __init lazy_cma_init(void)
{
	int ret;

	/* the layers bottom up: pageblocks, pool, regions */
	ret = lazy_cma_pageblocks_init();
	if (ret)
		return ret;
	ret = lazy_cma_pool_init();
	if (ret)
		goto err_pageblocks;
	ret = lazy_cma_regions_init();
	if (ret)
		goto err_pool;
	ret = lazy_cma_dev_register();
	if (ret) {
		pr_err("cannot register /dev/%s: %d\n", KBUILD_MODNAME, ret);
		goto err_regions;
	}
	if (lazy_cma_heaps_on) {
		ret = lazy_cma_heaps_init();
		if (ret)
			goto err_dev;
	}
	/* nothing fails from here on: /dev/lazy_cma may be opened */
	lazy_cma_dev_enable();
	return 0;

err_dev:
	lazy_cma_dev_unregister();
err_regions:
	lazy_cma_regions_exit();
err_pool:
	lazy_cma_pool_exit();
err_pageblocks:
	lazy_cma_pageblocks_exit();
	return ret;
}

static void __exit lazy_cma_exit(void)
{
	if (lazy_cma_heaps_on)
		lazy_cma_heaps_exit();
	lazy_cma_dev_unregister();
	lazy_cma_regions_free_all();
	lazy_cma_regions_exit();
	lazy_cma_pool_exit();
	lazy_cma_pageblocks_exit();
}

module_init(lazy_cma_init);
module_exit(lazy_cma_exit);

MODULE_DESCRIPTION("Physically contiguous memory at run time, without a boot-time reservation");
MODULE_LICENSE("GPL");
MODULE_VERSION(LAZY_CMA_VERSION);
