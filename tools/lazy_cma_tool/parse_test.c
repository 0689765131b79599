// SPDX-License-Identifier: GPL-2.0
/* Host-side unit tests of lazy_cma_tool's parsing and formatting (TAP). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "parse.h"

static int n_pass, n_fail, n_test;

static void ok(int cond, const char *what)
{
	n_test++;
	if (cond)
		n_pass++;
	else
		n_fail++;
	printf("%s %d %s\n", cond ? "ok" : "not ok", n_test, what);
}

static void size_is(const char *s, int want_ret, unsigned long long want)
{
	uint64_t v = 0;
	int r = lct_parse_size(s, &v);
	char what[128];

	snprintf(what, sizeof(what), "size \"%s\" -> %d %llu", s, want_ret, want);
	ok(r == want_ret && (r || v == want), what);
}

static void addr_is(const char *s, int want_ret, unsigned long long want)
{
	uint64_t v = 0;
	int r = lct_parse_addr(s, &v);
	char what[128];

	snprintf(what, sizeof(what), "addr \"%s\" -> %d 0x%llx", s, want_ret, want);
	ok(r == want_ret && (r || v == want), what);
}

static void node_is(const char *s, int want_ret, int want)
{
	int v = 99, r = lct_parse_node(s, &v);
	char what[128];

	snprintf(what, sizeof(what), "node \"%s\" -> %d %d", s, want_ret, want);
	ok(r == want_ret && (r || v == want), what);
}

static void fmt_is(unsigned long long bytes, const char *want)
{
	char buf[64], what[128];

	lct_format_size(buf, sizeof(buf), bytes);
	snprintf(what, sizeof(what), "format %llu -> \"%s\"", bytes, want);
	ok(!strcmp(buf, want), what);
}

int main(void)
{
	char buf[64], name[80];

	printf("TAP version 13\n");
	size_is("256", 0, 256ULL << 20);
	size_is("256M", 0, 256ULL << 20);
	size_is("256MB", 0, 256ULL << 20);
	size_is("256MiB", 0, 256ULL << 20);
	size_is("1G", 0, 1ULL << 30);
	size_is("1g", 0, 1ULL << 30);
	size_is("4096K", 0, 4ULL << 20);
	size_is("1T", 0, 1ULL << 40);
	size_is("0", -ERANGE, 0);
	size_is("", -EINVAL, 0);
	size_is("-5", -EINVAL, 0);
	size_is("+5", -EINVAL, 0);
	size_is("12Q", -EINVAL, 0);
	size_is("12MX", -EINVAL, 0);
	size_is("abc", -EINVAL, 0);
	size_is("99999999999999999999", -EINVAL, 0);
	size_is("17179869184T", -ERANGE, 0);
	addr_is("0x100000000", 0, 0x100000000ULL);
	addr_is("4294967296", 0, 0x100000000ULL);
	addr_is("0x", -EINVAL, 0);
	addr_is("-0x1000", -EINVAL, 0);
	addr_is("0x1000zz", -EINVAL, 0);
	addr_is("", -EINVAL, 0);
	addr_is("0x10000000000000000", -EINVAL, 0);
	node_is("0", 0, 0);
	node_is("-1", 0, -1);
	node_is("2", 0, 2);
	node_is("-2", -EINVAL, 0);
	node_is("x", -EINVAL, 0);
	node_is("1x", -EINVAL, 0);
	node_is("70000", -EINVAL, 0);
	ok(lct_check_name("Crash kernel") == 0, "name \"Crash kernel\" ok");
	ok(lct_check_name("") == 0, "empty name ok");
	ok(lct_check_name("tab\there") == -EINVAL, "name with tab rejected");
	memset(name, 'x', 64);
	name[64] = '\0';
	ok(lct_check_name(name) == -ENAMETOOLONG, "64-character name rejected");
	name[63] = '\0';
	ok(lct_check_name(name) == 0, "63-character name ok");
	fmt_is(256ULL << 20, "256 MB");
	fmt_is(4096, "4 KB");
	fmt_is(100 << 10, "100 KB");
	fmt_is(1536ULL << 10, "1536 KB");
	fmt_is(12345, "12345 bytes");
	lct_json_escape(buf, sizeof(buf), "a\"b\\c\x01");
	ok(!strcmp(buf, "a\\\"b\\\\c\\u0001"), "json escape");
	printf("1..%d\n# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:0 error:0\n",
	       n_test, n_pass, n_fail);
	return n_fail ? 1 : 0;
}
