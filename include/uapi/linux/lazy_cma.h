/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * lazy_cma: physically contiguous memory at run time, without a boot-time
 * reservation.  The user ABI of /dev/lazy_cma.
 *
 * All commands need CAP_SYS_ADMIN.  Regions are keyed by their physical start
 * address; they belong to no process and live until LAZY_CMA_IOCTL_FREE or
 * module unload.  See README.md for every errno.
 */
#ifndef _UAPI_LINUX_LAZY_CMA_H
#define _UAPI_LINUX_LAZY_CMA_H

#include <linux/ioctl.h>
#include <linux/const.h>
#include <linux/types.h>

#define LAZY_CMA_IOC_MAGIC	'H'
#define LAZY_CMA_NAME_MAX	64

/**
 * struct lazy_cma_allocation_data - argument of LAZY_CMA_IOCTL_ALLOC
 * @len:	in: bytes, rounded up to whole pages; must not be 0
 * @phys_addr:	out: physical start address of the new region
 * @node:	in: NUMA node to allocate from, or -1 for any (nearest first)
 * @flags:	in: must be 0 (reserved for extensions)
 * @name:	in: NUL-terminated printable name shown in /proc/iomem;
 *		"" means "lazy_cma".  Names of the kernel's own entries are
 *		refused (EINVAL), in any case: any beginning "System RAM",
 *		and "Kernel code", "Kernel rodata", "Kernel data", "Kernel
 *		bss", "Reserved", "ACPI Tables", "ACPI Non-volatile Storage",
 *		"Persistent Memory", "Persistent Memory (legacy)", "Soft
 *		Reserved" and "GART"; "Crash kernel" is allowed
 */
struct lazy_cma_allocation_data {
	__u64 len;
	__u64 phys_addr;
	__s32 node;
	__u32 flags;
	char name[LAZY_CMA_NAME_MAX];
};

/**
 * struct lazy_cma_resize_data - argument of LAZY_CMA_IOCTL_RESIZE
 * @phys_addr:	in: start of the region; out: its (possibly new) start
 * @len:	in: new length in bytes (rounded up to pages, not 0);
 *		out: the new length, page-aligned
 */
struct lazy_cma_resize_data {
	__u64 phys_addr;
	__u64 len;
};

/**
 * struct lazy_cma_region_info - one live region, as LAZY_CMA_IOCTL_LIST reports it
 * @phys_addr:	physical start address
 * @len:	length in bytes (a multiple of the page size)
 * @node:	NUMA node the region's memory belongs to
 * @map_count:	number of user mappings (VMAs) of the region; 0 = not mapped
 * @name:	its name (while armed for kdump, /proc/iomem shows the kernel's
 *		"Crash kernel" entry in its place)
 * @flags:	LAZY_CMA_REGION_* (since entry size 96)
 * @reserved:	0
 *
 * New fields are only ever appended; the caller says which size it knows in
 * &lazy_cma_list_data.entry_size.
 */
struct lazy_cma_region_info {
	__u64 phys_addr;
	__u64 len;
	__s32 node;
	__u32 map_count;
	char name[LAZY_CMA_NAME_MAX];
	__u32 flags;
	__u32 reserved;
};

/* the first published size of struct lazy_cma_region_info */
#define LAZY_CMA_REGION_INFO_SIZE_VER0	88
/* with flags */
#define LAZY_CMA_REGION_INFO_SIZE_VER1	96

/* the region is the kernel's crash-kernel range (LAZY_CMA_IOCTL_KDUMP) */
#define LAZY_CMA_REGION_KDUMP		_BITUL(0)
/* ... and a crash kernel is loaded into it (kexec -p) */
#define LAZY_CMA_REGION_KDUMP_LOADED	_BITUL(1)

/**
 * struct lazy_cma_list_data - argument of LAZY_CMA_IOCTL_LIST
 * @entry_size:	in: sizeof(struct lazy_cma_region_info) as the caller knows
 *		it; at least LAZY_CMA_REGION_INFO_SIZE_VER0, at most 4096.
 *		Bytes the kernel does not know are zeroed.
 * @max_entries: in: room at @entries, in entries (0 = only count)
 * @nr_entries:	out: entries written
 * @nr_regions:	out: live regions in all
 * @start:	in: report regions whose physical start is >= @start, in
 *		ascending address order (pass last start + 1 to page on)
 * @entries:	in: user pointer to @max_entries entries of @entry_size bytes
 */
struct lazy_cma_list_data {
	__u32 entry_size;
	__u32 max_entries;
	__u32 nr_entries;
	__u32 nr_regions;
	__u64 start;
	__u64 entries;
};

#define LAZY_CMA_IOCTL_ALLOC	_IOWR(LAZY_CMA_IOC_MAGIC, 0x0, struct lazy_cma_allocation_data)
#define LAZY_CMA_IOCTL_RESIZE	_IOWR(LAZY_CMA_IOC_MAGIC, 0x1, struct lazy_cma_resize_data)
#define LAZY_CMA_IOCTL_FREE	_IOW(LAZY_CMA_IOC_MAGIC, 0x2, __u64)
#define LAZY_CMA_IOCTL_LIST	_IOWR(LAZY_CMA_IOC_MAGIC, 0x3, struct lazy_cma_list_data)
/*
 * LAZY_CMA_IOCTL_KDUMP: allocate a region as ALLOC does and arm it as the
 * kernel's crash-kernel range (crashk_res), so that kexec -p can load a
 * capture kernel into it.  At most one region is armed.  x86-64 only.
 */
#define LAZY_CMA_IOCTL_KDUMP	_IOWR(LAZY_CMA_IOC_MAGIC, 0x4, struct lazy_cma_allocation_data)

#endif /* _UAPI_LINUX_LAZY_CMA_H */
