// SPDX-License-Identifier: GPL-2.0
/*
 * json_check: exit 0 if stdin is one well-formed JSON value (RFC 8259
 * syntax), 1 otherwise.  The guest has no JSON tooling; the tool tests use
 * this to check lazy_cma_tool --json.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *p;

static void ws(void)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
}

static int value(int depth);

static int string(void)
{
	if (*p++ != '"')
		return 0;
	while (*p && *p != '"') {
		if ((unsigned char)*p < 0x20)
			return 0;
		if (*p == '\\') {
			p++;
			if (*p == 'u') {
				int i;

				for (i = 1; i <= 4; i++)
					if (!isxdigit((unsigned char)p[i]))
						return 0;
				p += 4;
			} else if (!strchr("\"\\/bfnrt", *p)) {
				return 0;
			}
		}
		p++;
	}
	return *p++ == '"';
}

static int number(void)
{
	const char *s = p;

	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (isdigit((unsigned char)*p))
		while (isdigit((unsigned char)*p))
			p++;
	else
		return 0;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return 0;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!isdigit((unsigned char)*p))
			return 0;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return p > s;
}

static int members(int depth, char close, int keyed)
{
	p++;
	ws();
	if (*p == close) {
		p++;
		return 1;
	}
	for (;;) {
		ws();
		if (keyed) {
			if (!string())
				return 0;
			ws();
			if (*p++ != ':')
				return 0;
		}
		if (!value(depth + 1))
			return 0;
		ws();
		if (*p == ',') {
			p++;
			continue;
		}
		return *p++ == close;
	}
}

static int value(int depth)
{
	if (depth > 64)
		return 0;
	ws();
	switch (*p) {
	case '{':
		return members(depth, '}', 1);
	case '[':
		return members(depth, ']', 0);
	case '"':
		return string();
	case 't':
		return !strncmp(p, "true", 4) ? (p += 4, 1) : 0;
	case 'f':
		return !strncmp(p, "false", 5) ? (p += 5, 1) : 0;
	case 'n':
		return !strncmp(p, "null", 4) ? (p += 4, 1) : 0;
	default:
		return number();
	}
}

int main(void)
{
	static char buf[1 << 20];
	size_t n = fread(buf, 1, sizeof(buf) - 1, stdin);

	buf[n] = '\0';
	p = buf;
	if (!value(0))
		return 1;
	ws();
	return *p ? 1 : 0;
}
