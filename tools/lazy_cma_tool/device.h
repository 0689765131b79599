/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lazy_cma_tool: the device /dev/lazy_cma, shared by every command - open
 * it, list its live regions or find one, and say why an operation on it
 * failed.  It calls nothing of the commands.
 */
#ifndef LAZY_CMA_TOOL_DEVICE_H
#define LAZY_CMA_TOOL_DEVICE_H

#include <stdint.h>

#include <linux/lazy_cma.h>

/* the device node; main() takes $LAZY_CMA_DEV instead when it is set */
extern const char *dev_path;

int open_dev(void);
void explain(const char *what, int err, int node);
struct lazy_cma_region_info *get_regions(int fd, unsigned int *count);
int get_region(int fd, uint64_t addr, struct lazy_cma_region_info *info);

#endif
