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

unsigned int lazy_cma_reserve_mb = 64;
module_param_named(reserve_mb, lazy_cma_reserve_mb, uint, 0644);
MODULE_PARM_DESC(reserve_mb,
		 "MiB a node must keep free above its zones' high watermarks after an allocation (default 64)");

static int __init lazy_cma_init(void)
{
	int ret;

	ret = lazy_cma_alloc_init();
	if (ret)
		return ret;
	ret = lazy_cma_regions_init();
	if (ret)
		goto err_alloc;
	ret = lazy_cma_dev_register();
	if (ret) {
		pr_err("cannot register /dev/%s: %d\n", KBUILD_MODNAME, ret);
		goto err_regions;
	}
	return 0;

err_regions:
	lazy_cma_regions_exit();
err_alloc:
	lazy_cma_alloc_exit();
	return ret;
}

static void __exit lazy_cma_exit(void)
{
	lazy_cma_dev_unregister();
	lazy_cma_regions_free_all();
	lazy_cma_regions_exit();
	lazy_cma_alloc_exit();
}

module_init(lazy_cma_init);
module_exit(lazy_cma_exit);

MODULE_DESCRIPTION("Physically contiguous memory at run time, without a boot-time reservation");
MODULE_LICENSE("GPL");
