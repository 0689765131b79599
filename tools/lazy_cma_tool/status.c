// SPDX-License-Identifier: GPL-2.0
/*
 * lazy_cma_tool --status [--json]: the module's state in one screen - loaded
 * or not, its parameters, per node the free memory, the largest free block
 * and an upper bound of the largest allocation, the live regions and the
 * heap counters.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/lazy_cma.h>

#include "device.h"
#include "parse.h"
#include "tool.h"

#define MAX_NODES	1024
#define MAX_PARAMS	32
#define MAX_HEAPS	64
#define PAGEBLOCK	(2ULL << 20)

#define SYS_MODULE	"/sys/module/lazy_cma"
#define HEAP_STATS	"/sys/kernel/debug/lazy_cma/heaps"

struct node_stat {
	int present;
	int has_memory;
	uint64_t total, free;		/* bytes */
	uint64_t largest_block;		/* bytes: largest free buddy block now */
	uint64_t estimate;		/* bytes: upper bound of one allocation */
};

struct param {
	char name[64];
	char value[64];
};

struct heap_stat {
	char name[64];
	long buffers, bytes, allocs, failures;
};

static struct node_stat nodes[MAX_NODES];

static uint64_t meminfo_kb(const char *text, const char *key)
{
	const char *p = strstr(text, key);

	return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

/* what node @n's zone (pages: free, high watermark, protection) can give */
static void zone_estimate(int n, uint64_t free, uint64_t high, uint64_t prot,
			  uint64_t reserve, long page)
{
	uint64_t keep = (high + prot) * page + reserve, e;

	if (n < 0 || free * page <= keep)
		return;
	e = (free * page - keep) & ~(PAGEBLOCK - 1);
	if (e > nodes[n].estimate)
		nodes[n].estimate = e;
}

static void read_nodes(uint64_t reserve)
{
	uint64_t zfree = 0, zhigh = 0, zprot = 0;
	char path[128], buf[4096], zone[32];
	long page = sysconf(_SC_PAGESIZE);
	FILE *f;
	int n;

	for (n = 0; n < MAX_NODES; n++) {
		size_t len;

		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo", n);
		f = fopen(path, "r");
		if (!f)
			continue;
		len = fread(buf, 1, sizeof(buf) - 1, f);
		buf[len] = '\0';
		fclose(f);
		nodes[n].present = 1;
		nodes[n].total = meminfo_kb(buf, "MemTotal:") << 10;
		nodes[n].free = meminfo_kb(buf, "MemFree:") << 10;
		nodes[n].has_memory = nodes[n].total > 0;
	}
	/* "Node 0, zone   Normal  c0 c1 ... c10": free blocks per order */
	f = fopen("/proc/buddyinfo", "r");
	while (f && fgets(buf, sizeof(buf), f)) {
		int off, order = 0, best = -1;
		char *p;

		if (sscanf(buf, "Node %d, zone %31s%n", &n, zone, &off) != 2 ||
		    n < 0 || n >= MAX_NODES)
			continue;
		p = buf + off;
		for (;;) {
			char *end;
			unsigned long c = strtoul(p, &end, 10);

			if (end == p)
				break;
			if (c)
				best = order;
			order++;
			p = end;
		}
		if (best >= 0 && ((uint64_t)page << best) > nodes[n].largest_block)
			nodes[n].largest_block = (uint64_t)page << best;
	}
	if (f)
		fclose(f);
	/*
	 * The module takes a region from one zone, and only if that zone keeps
	 * its free pages at or above its high watermark, its largest
	 * protection (lowmem_reserve) and reserve_mb: per zone, what is free
	 * above that; the node's estimate is the best zone's, in whole
	 * pageblocks.  An upper bound: unmovable pages in the way, free CMA
	 * pages and the high-atomic reserve make the real figure smaller.
	 * ZONE_DMA is never used.
	 */
	f = fopen("/proc/zoneinfo", "r");
	n = -1;
	while (f && fgets(buf, sizeof(buf), f)) {
		uint64_t v;
		char *p;
		int nn;

		if (sscanf(buf, "Node %d, zone %31s", &nn, zone) == 2) {
			zone_estimate(n, zfree, zhigh, zprot, reserve, page);
			n = nn >= 0 && nn < MAX_NODES && strcmp(zone, "DMA") ? nn : -1;
			zfree = zhigh = zprot = 0;
			continue;
		}
		if (n < 0)
			continue;
		if (sscanf(buf, " pages free %" SCNu64, &v) == 1)
			zfree = v;
		else if (sscanf(buf, " high %" SCNu64, &v) == 1)
			zhigh = v;
		else if ((p = strstr(buf, "protection: (")))
			for (p += 13; *p && *p != ')'; p += strspn(p, ", ")) {
				char *end;

				v = strtoull(p, &end, 10);
				if (end == p)
					break;
				if (v > zprot)
					zprot = v;
				p = end;
			}
	}
	zone_estimate(n, zfree, zhigh, zprot, reserve, page);
	if (f)
		fclose(f);
}

static int read_params(struct param *p)
{
	DIR *d = opendir(SYS_MODULE "/parameters");
	struct dirent *de;
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)) && n < MAX_PARAMS) {
		char path[384];
		FILE *f;

		if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof(p[n].name))
			continue;
		snprintf(path, sizeof(path), SYS_MODULE "/parameters/%s", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		memcpy(p[n].name, de->d_name, strlen(de->d_name) + 1);
		if (!fgets(p[n].value, sizeof(p[n].value), f))
			p[n].value[0] = '\0';
		p[n].value[strcspn(p[n].value, "\n")] = '\0';
		fclose(f);
		n++;
	}
	closedir(d);
	/* a stable order */
	for (int i = 1; i < n; i++) {
		for (int j = i; j > 0 && strcmp(p[j - 1].name, p[j].name) > 0; j--) {
			struct param t = p[j];

			p[j] = p[j - 1];
			p[j - 1] = t;
		}
	}
	return n;
}

/* the counters of debugfs, -1 if they cannot be read (debugfs not mounted) */
static int read_heaps(struct heap_stat *h)
{
	FILE *f = fopen(HEAP_STATS, "r");
	char line[256];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f) && n < MAX_HEAPS) {
		if (sscanf(line, "%63s %ld %ld %ld %ld", h[n].name, &h[n].buffers, &h[n].bytes,
			   &h[n].allocs, &h[n].failures) == 5)
			n++;
	}
	fclose(f);
	return n;
}

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return 0;
	}
	return 1;
}

static void mb(char *buf, size_t len, uint64_t bytes)
{
	snprintf(buf, len, "%" PRIu64 " MB", bytes >> 20);
}

int do_status(int json)
{
	struct lazy_cma_region_info *regions = NULL;
	struct heap_stat heaps[MAX_HEAPS];
	struct param params[MAX_PARAMS];
	unsigned int nregions = 0, i;
	int loaded, nparams, nheaps = -1, n, first;
	uint64_t reserve = 64ULL << 20;
	char a[32], b[32], c[32], d[32], e[32];

	loaded = access(SYS_MODULE, F_OK) == 0;
	nparams = loaded ? read_params(params) : 0;
	for (n = 0; n < nparams; n++) {
		if (!strcmp(params[n].name, "reserve_mb"))
			reserve = strtoull(params[n].value, NULL, 10) << 20;
	}
	read_nodes(reserve);
	if (loaded) {
		int fd = open_dev();

		if (fd < 0)
			return EXIT_FAILED;
		regions = get_regions(fd, &nregions);
		if (!regions) {
			explain("list", errno, -2);
			close(fd);
			return EXIT_FAILED;
		}
		close(fd);
		nheaps = read_heaps(heaps);
	}

	if (json) {
		printf("{\n  \"module\": {\"loaded\": %s, \"parameters\": {",
		       loaded ? "true" : "false");
		for (n = 0; n < nparams; n++) {
			char v[sizeof(params[n].value) * 6 + 1];

			lct_json_escape(v, sizeof(v), params[n].value);
			if (all_digits(params[n].value))
				printf("%s\"%s\": %s", n ? ", " : "", params[n].name, v);
			else
				printf("%s\"%s\": \"%s\"", n ? ", " : "", params[n].name, v);
		}
		printf("}},\n  \"nodes\": [");
		for (n = 0, first = 1; n < MAX_NODES; n++) {
			struct node_stat *s = &nodes[n];

			if (!s->present)
				continue;
			printf("%s\n    {\"node\": %d, \"has_memory\": %s, \"total\": %" PRIu64
			       ", \"free\": %" PRIu64 ", \"largest_free_block\": %" PRIu64
			       ", \"max_alloc_estimate\": %" PRIu64 "}",
			       first ? "" : ",", n, s->has_memory ? "true" : "false", s->total,
			       s->free, s->largest_block, s->estimate);
			first = 0;
		}
		printf("\n  ],\n  \"regions\": [");
		for (i = 0; i < nregions; i++) {
			char name[LAZY_CMA_NAME_MAX * 6 + 1];

			lct_json_escape(name, sizeof(name), regions[i].name);
			printf("%s\n    {\"start\": %" PRIu64 ", \"end\": %" PRIu64
			       ", \"size\": %" PRIu64 ", \"node\": %d, \"name\": \"%s\", \"mapped\": %u}",
			       i ? "," : "", (uint64_t)regions[i].phys_addr,
			       (uint64_t)(regions[i].phys_addr + regions[i].len - 1),
			       (uint64_t)regions[i].len, regions[i].node, name, regions[i].map_count);
		}
		printf("%s],\n  \"heaps\": ", nregions ? "\n  " : "");
		if (nheaps < 0) {
			printf("null\n}\n");
		} else {
			printf("[");
			for (n = 0; n < nheaps; n++)
				printf("%s\n    {\"name\": \"%s\", \"buffers\": %ld, \"bytes\": %ld"
				       ", \"allocs\": %ld, \"failures\": %ld}",
				       n ? "," : "", heaps[n].name, heaps[n].buffers,
				       heaps[n].bytes, heaps[n].allocs, heaps[n].failures);
			printf("%s]\n}\n", nheaps ? "\n  " : "");
		}
		free(regions);
		return 0;
	}

	printf("module:     %s\n", loaded ? "loaded" : "not loaded (modprobe lazy_cma)");
	if (loaded) {
		printf("parameters:");
		for (n = 0; n < nparams; n++)
			printf(" %s=%s", params[n].name, params[n].value);
		printf("\n");
	}
	printf("\n%4s %10s %10s %14s %14s\n", "NODE", "TOTAL", "FREE", "LARGEST_BLOCK",
	       "MAX_ALLOC(est)");
	for (n = 0; n < MAX_NODES; n++) {
		struct node_stat *s = &nodes[n];

		if (!s->present)
			continue;
		mb(a, sizeof(a), s->total);
		mb(b, sizeof(b), s->free);
		lct_format_size(c, sizeof(c), s->largest_block);
		mb(d, sizeof(d), s->estimate);
		printf("%4d %10s %10s %14s %14s%s\n", n, a, b, s->largest_block ? c : "-", d,
		       s->has_memory ? "" : "  (no memory)");
	}
	if (!loaded)
		return 0;
	printf("\nregions:    %u\n", nregions);
	if (nregions)
		printf("%-18s %10s %4s %6s  %s\n", "START", "SIZE", "NODE", "MAPPED", "NAME");
	for (i = 0; i < nregions; i++) {
		lct_format_size(e, sizeof(e), regions[i].len);
		printf("0x%016" PRIx64 " %10s %4d %6u  %s\n", (uint64_t)regions[i].phys_addr, e,
		       regions[i].node, regions[i].map_count, regions[i].name);
	}
	free(regions);
	if (nheaps < 0) {
		printf("\nheaps:      counters need debugfs (mount -t debugfs none /sys/kernel/debug)\n");
		return 0;
	}
	printf("\nheaps:      %d\n", nheaps);
	if (nheaps)
		printf("%-20s %10s %14s %10s %10s\n", "HEAP", "BUFFERS", "BYTES", "ALLOCS",
		       "FAILURES");
	for (n = 0; n < nheaps; n++)
		printf("%-20s %10ld %14ld %10ld %10ld\n", heaps[n].name, heaps[n].buffers,
		       heaps[n].bytes, heaps[n].allocs, heaps[n].failures);
	return 0;
}
