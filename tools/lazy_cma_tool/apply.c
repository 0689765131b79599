// SPDX-License-Identifier: GPL-2.0
/*
 * lazy_cma_tool --apply FILE [--prune]: make the live regions match a
 * configuration file (normally /etc/lazy_cma.conf, applied at boot by
 * lazy-cma.service).  The format, one section per region:
 *
 *	# comment
 *	[firmware log]
 *	size = 256M
 *	node = 0
 *
 * The whole file is checked before anything is changed; every bad line gets
 * its own "FILE:LINE: ..." message and the exit status is 1.  Then missing
 * regions are made, regions that exist under their name are reported (and
 * resized if the size differs), and regions the file does not name are
 * reported as extra and kept, unless --prune frees them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/lazy_cma.h>

#include "device.h"
#include "parse.h"
#include "tool.h"

#define CONF_MAX_REGIONS 1024

struct conf_region {
	char name[LCT_NAME_MAX];
	uint64_t size;		/* bytes, rounded up to whole pages; 0 = not given */
	int node;		/* -1 = any */
	int line;		/* of the [NAME] line */
	int node_line;		/* of the node = line, 0 if none */
};

struct conf {
	struct conf_region *r;
	unsigned int n;
	int errors;
};

static void conf_error(struct conf *c, const char *path, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void conf_error(struct conf *c, const char *path, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "lazy_cma_tool: %s:%d: ", path, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	c->errors++;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		e--;
	*e = '\0';
	return s;
}

/* is @node in a sysfs node list such as "0-1,3"? */
static int nodelist_has(const char *list, int node)
{
	const char *p = list;

	while (*p) {
		char *end;
		long a = strtol(p, &end, 10), b;

		if (end == p)
			return 0;
		b = a;
		if (*end == '-') {
			p = end + 1;
			b = strtol(p, &end, 10);
			if (end == p)
				return 0;
		}
		if (node >= a && node <= b)
			return 1;
		p = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return 0;
	}
	return 0;
}

static void read_has_memory(char *buf, size_t len)
{
	FILE *f = fopen("/sys/devices/system/node/has_memory", "r");

	/* a kernel without NUMA has no node directory: node 0 has it all */
	snprintf(buf, len, "0");
	if (!f)
		return;
	if (!fgets(buf, (int)len, f))
		snprintf(buf, len, "0");
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
}

/* a section without a size line (one with a bad size line has its error) */
static void conf_check_section_end(struct conf *c, const char *path,
				   const struct conf_region *r, int size_bad)
{
	if (r && !r->size && !size_bad)
		conf_error(c, path, r->line, "region \"%s\" has no size", r->name);
}

/* parse and check the whole file; returns 0 or the number of errors */
static int conf_parse(FILE *f, const char *path, struct conf *c)
{
	char *buf = NULL, nodes[256];
	size_t cap = 0;
	int line = 0, in_section = 0, bad_section = 0, size_bad = 0;
	struct conf_region *cur = NULL;

	read_has_memory(nodes, sizeof(nodes));
	while (getline(&buf, &cap, f) >= 0) {
		char *s = trim(buf), *eq, *key, *val;

		line++;
		if (!*s || *s == '#')
			continue;
		if (*s == '[') {
			char *name = s + 1, *close = strrchr(s, ']');
			unsigned int i;
			size_t len;

			conf_check_section_end(c, path, cur, size_bad);
			size_bad = 0;
			in_section = 1;
			bad_section = 1;
			cur = NULL;
			if (!close || trim(close + 1)[0]) {
				conf_error(c, path, line, "a section is [NAME] alone on its line");
				continue;
			}
			*close = '\0';
			name = trim(name);
			len = strlen(name);
			if (!len) {
				conf_error(c, path, line, "empty region name");
				continue;
			}
			if (len >= LCT_NAME_MAX) {
				conf_error(c, path, line, "region name is %zu bytes, at most %d",
					   len, LCT_NAME_MAX - 1);
				continue;
			}
			if (lct_check_name(name)) {
				conf_error(c, path, line,
					   "region name must be printable ASCII");
				continue;
			}
			for (i = 0; i < c->n; i++) {
				if (!strcmp(c->r[i].name, name))
					break;
			}
			if (i < c->n) {
				conf_error(c, path, line,
					   "duplicate region name \"%s\" (first at line %d)",
					   name, c->r[i].line);
				continue;
			}
			if (c->n == CONF_MAX_REGIONS) {
				conf_error(c, path, line, "more than %d regions",
					   CONF_MAX_REGIONS);
				continue;
			}
			cur = &c->r[c->n++];
			memset(cur, 0, sizeof(*cur));
			snprintf(cur->name, sizeof(cur->name), "%s", name);
			cur->node = -1;
			cur->line = line;
			bad_section = 0;
			continue;
		}
		eq = strchr(s, '=');
		if (!eq) {
			conf_error(c, path, line, "expected [NAME] or KEY = VALUE");
			continue;
		}
		*eq = '\0';
		key = trim(s);
		val = trim(eq + 1);
		if (strcmp(key, "size") && strcmp(key, "node")) {
			conf_error(c, path, line, "unknown key \"%s\" (known: size, node)", key);
			continue;
		}
		if (!in_section) {
			conf_error(c, path, line, "\"%s\" before the first [NAME] section", key);
			continue;
		}
		if (bad_section)
			continue;	/* the section line got its error */
		if (!strcmp(key, "size")) {
			long page = sysconf(_SC_PAGESIZE);
			uint64_t bytes;
			size_t zeros;

			if (cur->size) {
				conf_error(c, path, line, "size given twice for \"%s\"", cur->name);
				continue;
			}
			zeros = strspn(val, "0");
			if (zeros && (!val[zeros] || zeros == strcspn(val, "KkMmGgTt"))) {
				size_bad = 1;
				conf_error(c, path, line, "size 0: a region needs at least one byte");
				continue;
			}
			if (lct_parse_size(val, &bytes) ||
			    bytes > UINT64_MAX - (uint64_t)page) {
				size_bad = 1;
				conf_error(c, path, line,
					   "bad size \"%s\" (more than 0: 256 (MB), 256M, 1G, 4096K)",
					   val);
				continue;
			}
			cur->size = (bytes + (uint64_t)page - 1) & ~((uint64_t)page - 1);
		} else {
			int node;

			if (cur->node_line) {
				conf_error(c, path, line, "node given twice for \"%s\"", cur->name);
				continue;
			}
			if (lct_parse_node(val, &node)) {
				conf_error(c, path, line, "bad node \"%s\" (a number, -1 = any)", val);
				continue;
			}
			if (node >= 0 && !nodelist_has(nodes, node)) {
				conf_error(c, path, line,
					   "node %d has no memory; nodes with memory: %s",
					   node, nodes);
				continue;
			}
			cur->node = node;
			cur->node_line = line;
		}
	}
	conf_check_section_end(c, path, cur, size_bad);
	free(buf);
	return c->errors;
}

static void describe(char *buf, size_t len, const struct lazy_cma_region_info *r)
{
	char sz[32];

	lct_format_size(sz, sizeof(sz), r->len);
	snprintf(buf, len, "\"%s\": %s on node %d at 0x%" PRIx64, r->name, sz, r->node,
		 (uint64_t)r->phys_addr);
}

static int apply_one(int fd, const char *path, struct conf_region *cr,
		     struct lazy_cma_region_info *live, unsigned int nlive, unsigned int *counts)
{
	struct lazy_cma_region_info info;
	char desc[LAZY_CMA_NAME_MAX + 96];
	unsigned int i;

	for (i = 0; i < nlive; i++) {
		if (live[i].len && !strcmp(live[i].name, cr->name))
			break;
	}
	if (i < nlive) {
		struct lazy_cma_resize_data rs;

		info = live[i];
		live[i].len = 0;	/* taken: not extra, not matched twice */
		if (cr->node >= 0 && info.node != cr->node) {
			describe(desc, sizeof(desc), &info);
			fprintf(stderr,
				"lazy_cma_tool: %s:%d: %s, the file says node %d; free it to make it anew\n",
				path, cr->node_line, desc, cr->node);
			return -1;
		}
		if (info.len == cr->size) {
			describe(desc, sizeof(desc), &info);
			printf("exists %s\n", desc);
			counts[1]++;
			return 0;
		}
		rs.phys_addr = info.phys_addr;
		rs.len = cr->size;
		if (ioctl(fd, LAZY_CMA_IOCTL_RESIZE, &rs)) {
			int err = errno;

			fprintf(stderr, "lazy_cma_tool: %s:%d: \"%s\" could not be had:\n",
				path, cr->line, cr->name);
			explain("resize", err, cr->node);
			return -1;
		}
		if (get_region(fd, rs.phys_addr, &info))
			return -1;
		describe(desc, sizeof(desc), &info);
		printf("resized %s\n", desc);
		counts[2]++;
		return 0;
	} else {
		struct lazy_cma_allocation_data a;

		memset(&a, 0, sizeof(a));
		a.len = cr->size;
		a.node = cr->node;
		snprintf(a.name, sizeof(a.name), "%s", cr->name);
		if (ioctl(fd, LAZY_CMA_IOCTL_ALLOC, &a)) {
			int err = errno;

			fprintf(stderr, "lazy_cma_tool: %s:%d: \"%s\" could not be had:\n",
				path, cr->line, cr->name);
			explain("allocation", err, cr->node);
			return -1;
		}
		if (get_region(fd, a.phys_addr, &info))
			return -1;
		describe(desc, sizeof(desc), &info);
		printf("created %s\n", desc);
		counts[0]++;
		return 0;
	}
}

int do_apply(const char *path, int prune)
{
	struct lazy_cma_region_info *live;
	/* created, existing, resized, extra, freed */
	unsigned int nlive, i, counts[5] = { 0 }, failed = 0;
	struct conf c = { 0 };
	FILE *f;
	int fd;

	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "lazy_cma_tool: %s: %s\n", path, strerror(errno));
		return EXIT_USAGE;
	}
	c.r = calloc(CONF_MAX_REGIONS, sizeof(*c.r));
	if (!c.r) {
		fclose(f);
		fprintf(stderr, "lazy_cma_tool: out of memory\n");
		return EXIT_FAILED;
	}
	conf_parse(f, path, &c);
	fclose(f);
	if (c.errors) {
		fprintf(stderr, "lazy_cma_tool: %s: %d error%s, nothing changed\n", path,
			c.errors, c.errors == 1 ? "" : "s");
		free(c.r);
		return EXIT_USAGE;
	}

	fd = open_dev();
	if (fd < 0) {
		free(c.r);
		return EXIT_FAILED;
	}
	live = get_regions(fd, &nlive);
	if (!live) {
		explain("list", errno, -2);
		close(fd);
		free(c.r);
		return EXIT_FAILED;
	}
	for (i = 0; i < c.n; i++) {
		if (apply_one(fd, path, &c.r[i], live, nlive, counts))
			failed++;
	}
	for (i = 0; i < nlive; i++) {
		char desc[LAZY_CMA_NAME_MAX + 96];
		__u64 addr = live[i].phys_addr;

		if (!live[i].len)
			continue;
		describe(desc, sizeof(desc), &live[i]);
		if (live[i].flags & LAZY_CMA_REGION_KDUMP) {
			/* the crash-kernel range is --kdump's, never pruned */
			printf("extra %s (armed for kdump; kept)\n", desc);
			counts[3]++;
			continue;
		}
		if (!prune) {
			printf("extra %s (not in %s; kept, --prune frees it)\n", desc, path);
			counts[3]++;
			continue;
		}
		if (ioctl(fd, LAZY_CMA_IOCTL_FREE, &addr)) {
			explain("free", errno, -2);
			failed++;
			continue;
		}
		printf("freed %s\n", desc);
		counts[4]++;
	}
	printf("%u created, %u existing, %u resized, %u extra, %u freed, %u failed\n",
	       counts[0], counts[1], counts[2], counts[3], counts[4], failed);
	free(live);
	close(fd);
	free(c.r);
	return failed ? EXIT_FAILED : 0;
}
