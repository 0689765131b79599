// SPDX-License-Identifier: GPL-2.0
/*
 * The C example of lazy_cma's original description, compiled unchanged
 * against include/uapi/linux/lazy_cma.h.  lazy_cma_test runs it and checks
 * what it did.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/lazy_cma.h>

int main(void)
{
	int fd = open("/dev/lazy_cma", O_RDWR);
	/* Allocate */
	struct lazy_cma_allocation_data alloc = {
	.len = 256 * 1024 * 1024,
	.node = -1, /* -1 = any node, or specify e.g. 2 for CXL */
	};
	strncpy(alloc.name, "Crash kernel", LAZY_CMA_NAME_MAX - 1);
	ioctl(fd, LAZY_CMA_IOCTL_ALLOC, &alloc);
	printf("phys_addr: 0x%llx\n", alloc.phys_addr);
	/* Resize */
	struct lazy_cma_resize_data resize = {
	.phys_addr = alloc.phys_addr,
	.len = 512 * 1024 * 1024,
	};
	ioctl(fd, LAZY_CMA_IOCTL_RESIZE, &resize);
	/* Free */
	__u64 addr = resize.phys_addr;
	ioctl(fd, LAZY_CMA_IOCTL_FREE, &addr);
	return 0;
}
