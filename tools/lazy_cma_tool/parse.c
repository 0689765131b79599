// SPDX-License-Identifier: GPL-2.0
/*
 * lazy_cma_tool: argument parsing and message formatting, kept apart from the
 * device so that they can be unit-tested on the host.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

/*
 * "256" = 256 MiB (a bare number is MiB, as the original tool had it);
 * suffixes K, M, G, T (binary, optional trailing "B" or "iB").
 */
int lct_parse_size(const char *s, uint64_t *bytes)
{
	unsigned long long v;
	uint64_t mult = 1ULL << 20;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K':
		mult = 1ULL << 10; end++;
		break;
	case 'm': case 'M':
		mult = 1ULL << 20; end++;
		break;
	case 'g': case 'G':
		mult = 1ULL << 30; end++;
		break;
	case 't': case 'T':
		mult = 1ULL << 40; end++;
		break;
	default:
		return -EINVAL;
	}
	if (*end == 'i' && end[1] == 'B')
		end += 2;
	else if (*end == 'B')
		end++;
	if (*end)
		return -EINVAL;
	if (v == 0 || v > UINT64_MAX / mult)
		return -ERANGE;
	*bytes = v * mult;
	return 0;
}

/* a physical address: hex with 0x, or decimal; no sign, no junk */
int lct_parse_addr(const char *s, uint64_t *addr)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end)
		return -EINVAL;
	*addr = v;
	return 0;
}

int lct_parse_node(const char *s, int *node)
{
	long v;
	char *end;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < -1 || v > 65535)
		return -EINVAL;
	*node = (int)v;
	return 0;
}

int lct_check_name(const char *s)
{
	size_t i, n = strlen(s);

	if (n >= LCT_NAME_MAX)
		return -ENAMETOOLONG;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return -EINVAL;
	return 0;
}

/* "256 MB" when whole MiB, else "100 KB" / "12345 bytes" */
void lct_format_size(char *buf, size_t len, uint64_t bytes)
{
	if (bytes && !(bytes & ((1ULL << 20) - 1)))
		snprintf(buf, len, "%" PRIu64 " MB", bytes >> 20);
	else if (bytes && !(bytes & ((1ULL << 10) - 1)))
		snprintf(buf, len, "%" PRIu64 " KB", bytes >> 10);
	else
		snprintf(buf, len, "%" PRIu64 " bytes", bytes);
}

/* JSON string body: escapes quote, backslash and control characters */
void lct_json_escape(char *buf, size_t len, const char *s)
{
	size_t o = 0;

	for (; *s && o + 7 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20) {
			o += (size_t)snprintf(buf + o, len - o, "\\u%04x", c);
		} else {
			buf[o++] = (char)c;
		}
	}
	buf[o] = '\0';
}
