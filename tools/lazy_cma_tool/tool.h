/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lazy_cma_tool: the commands that have a file of their own, called by
 * main() in lazy_cma_tool.c, and the exit status every command returns.
 * The device they all use is device.h's.
 */
#ifndef LAZY_CMA_TOOL_TOOL_H
#define LAZY_CMA_TOOL_TOOL_H

#define EXIT_USAGE	1
#define EXIT_FAILED	2

/* apply.c: --apply FILE [--prune] */
int do_apply(const char *path, int prune);
/* status.c: --status [--json] */
int do_status(int json);

#endif
