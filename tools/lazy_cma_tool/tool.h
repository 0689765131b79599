/* SPDX-License-Identifier: GPL-2.0 */
/* lazy_cma_tool: what the operation files share with lazy_cma_tool.c */
#ifndef LAZY_CMA_TOOL_TOOL_H
#define LAZY_CMA_TOOL_TOOL_H

#include <linux/lazy_cma.h>

#define EXIT_USAGE	1
#define EXIT_FAILED	2

extern const char *dev_path;

int open_dev(void);
void explain(const char *what, int err, int node);
struct lazy_cma_region_info *get_regions(int fd, unsigned int *count);

/* apply.c: --apply FILE [--prune] */
int do_apply(const char *path, int prune);
/* status.c: --status [--json] */
int do_status(int json);

#endif
