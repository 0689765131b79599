// SPDX-License-Identifier: GPL-2.0
/*
 * lazy_cma_tool: the device /dev/lazy_cma - opening it, listing its live
 * regions or finding one, and explaining an operation's errno (with the
 * nodes' free memory from sysfs where that is the reason).  Used by every
 * command; it uses none of them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "device.h"

const char *dev_path = "/dev/lazy_cma";

/* MemFree of a node from sysfs, in MB, or -1 */
static long node_free_mb(int node)
{
	char path[96], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo", node);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "MemFree:");

		if (p) {
			kb = strtol(p + 8, NULL, 10);
			break;
		}
	}
	fclose(f);
	return kb < 0 ? -1 : kb / 1024;
}

static void read_sys(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	buf[0] = '\0';
	if (!f)
		return;
	if (!fgets(buf, (int)len, f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
}

/* explain errno from an operation on @node (-1 = any, -2 = not a node call) */
void explain(const char *what, int err, int node)
{
	char nodes[128];

	fprintf(stderr, "lazy_cma_tool: %s failed: %s\n", what, strerror(err));
	switch (err) {
	case EBUSY:
		if (node == -2) {
			fprintf(stderr,
				"  the region is being resized or freed, or it is armed for kdump: no resize,\n"
				"  no mmap, and no free while a crash kernel is loaded (kexec -p -u unloads it)\n");
			break;
		}
		/* fall through */
	case ENOMEM:
		if (node >= 0) {
			fprintf(stderr,
				"  node %d is too fragmented or has too little free memory (%ld MB free);\n",
				node, node_free_mb(node));
		} else {
			int n;

			fprintf(stderr, "  no node could supply it; free memory:");
			read_sys("/sys/devices/system/node/has_memory", nodes, sizeof(nodes));
			for (n = 0; n < 64; n++) {
				long mb = node_free_mb(n);

				if (mb >= 0)
					fprintf(stderr, " node %d %ld MB", n, mb);
			}
			fprintf(stderr, ";\n");
		}
		fprintf(stderr,
			"  try a smaller size, another node (-N), or drop caches (echo 3 > /proc/sys/vm/drop_caches)\n");
		if (err == EBUSY)
			fprintf(stderr, "  (EBUSY can also mean another resize or free of that region is running)\n");
		break;
	case ENODEV:
		read_sys("/sys/devices/system/node/has_memory", nodes, sizeof(nodes));
		fprintf(stderr, "  node %d has no memory; nodes with memory: %s\n",
			node, nodes[0] ? nodes : "(unknown)");
		break;
	case EPERM:
	case EACCES:
		fprintf(stderr, "  this needs root (CAP_SYS_ADMIN)\n");
		break;
	case ENOENT:
		fprintf(stderr, "  no region starts at that address; see lazy_cma_tool -l\n");
		break;
	case EINVAL:
		fprintf(stderr,
			"  the kernel rejected an argument (size, node or name; a name may not be\n"
			"  one of the kernel's own /proc/iomem names, such as \"System RAM\")\n");
		break;
	case ENXIO:
		fprintf(stderr, "  that range is not inside one live region; see lazy_cma_tool -l\n");
		break;
	case EALREADY:
		fprintf(stderr, "  a region is already armed for kdump (see lazy_cma_tool -l); free it first\n");
		break;
	case EEXIST:
		fprintf(stderr,
			"  the kernel already has a crash-kernel range (crashkernel= at boot; see\n"
			"  \"Crash kernel\" in /proc/iomem): use that one\n");
		break;
	case EOPNOTSUPP:
		fprintf(stderr,
			"  this kernel does not let lazy_cma find and verify its crash-kernel range\n"
			"  (it needs x86-64, kexec with crash dumps, kprobes and kallsyms of data),\n"
			"  or its series is not one lazy_cma was checked against (see dmesg; the\n"
			"  module parameter kdump_unverified=1 arms anyway, unverified)\n");
		break;
	default:
		break;
	}
}

int open_dev(void)
{
	int fd = open(dev_path, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		int err = errno;

		if (err == ENOENT)
			fprintf(stderr,
				"lazy_cma_tool: %s does not exist: the lazy_cma module is not loaded (insmod lazy_cma.ko)\n",
				dev_path);
		else
			explain("open " "/dev/lazy_cma", err, -2);
	}
	return fd;
}

/* every live region, or NULL with errno set; *count gets their number */
struct lazy_cma_region_info *get_regions(int fd, unsigned int *count)
{
	struct lazy_cma_region_info *v = NULL;
	struct lazy_cma_list_data ld;
	unsigned int n = 0;

	for (;;) {
		struct lazy_cma_region_info *nv;

		nv = realloc(v, (n + 64) * sizeof(*v));
		if (!nv) {
			free(v);
			errno = ENOMEM;
			return NULL;
		}
		v = nv;
		memset(&ld, 0, sizeof(ld));
		ld.entry_size = sizeof(*v);
		ld.max_entries = 64;
		ld.start = n ? v[n - 1].phys_addr + 1 : 0;
		ld.entries = (uintptr_t)(v + n);
		if (ioctl(fd, LAZY_CMA_IOCTL_LIST, &ld)) {
			free(v);
			return NULL;
		}
		n += ld.nr_entries;
		if (ld.nr_entries < 64)
			break;
	}
	*count = n;
	return v;
}

/* the live region that starts at @addr, into @info; 0, or -1 with errno set */
int get_region(int fd, uint64_t addr, struct lazy_cma_region_info *info)
{
	struct lazy_cma_list_data ld;

	memset(&ld, 0, sizeof(ld));
	ld.entry_size = sizeof(*info);
	ld.max_entries = 1;
	ld.start = addr;
	ld.entries = (uintptr_t)info;
	if (ioctl(fd, LAZY_CMA_IOCTL_LIST, &ld))
		return -1;
	if (!ld.nr_entries || info->phys_addr != addr) {
		errno = ENOENT;
		return -1;
	}
	return 0;
}
