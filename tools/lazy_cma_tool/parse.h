/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LAZY_CMA_TOOL_PARSE_H
#define LAZY_CMA_TOOL_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define LCT_NAME_MAX 64

int lct_parse_size(const char *s, uint64_t *bytes);
int lct_parse_addr(const char *s, uint64_t *addr);
int lct_parse_node(const char *s, int *node);
int lct_check_name(const char *s);
void lct_format_size(char *buf, size_t len, uint64_t bytes);
void lct_json_escape(char *buf, size_t len, const char *s);

#endif
