// SPDX-License-Identifier: GPL-2.0
/*
 * lazy_cma_tool: allocate, resize, free, list, load and dump lazy_cma regions.
 * This file is the command line and those small commands; --apply is in
 * apply.c, --status in status.c, and the device they all use in device.c.
 *
 * Exit status: 0 done, 1 usage error, 2 the operation failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/lazy_cma.h>

#include "device.h"
#include "parse.h"
#include "tool.h"

#ifndef LAZY_CMA_TOOL_VERSION
#define LAZY_CMA_TOOL_VERSION "dev"
#endif

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: lazy_cma_tool -a SIZE [-n NAME] [-N NODE]   allocate a region\n"
		"       lazy_cma_tool -r ADDR SIZE                  resize the region at ADDR\n"
		"       lazy_cma_tool -f ADDR                       free the region at ADDR\n"
		"       lazy_cma_tool --kdump SIZE [-n NAME] [-N NODE]\n"
		"                                                   allocate a region as the kernel's\n"
		"                                                   crash-kernel range (for kexec -p)\n"
		"       lazy_cma_tool -l [--json]                   list live regions\n"
		"       lazy_cma_tool -w ADDR FILE                  copy FILE into the region at ADDR\n"
		"       lazy_cma_tool -d ADDR FILE [LEN]            copy the region (or LEN bytes) to FILE\n"
		"       lazy_cma_tool --apply FILE [--prune]        make the regions match FILE\n"
		"       lazy_cma_tool --status [--json]             module, nodes, regions, heaps\n"
		"\n"
		"SIZE is MB when a bare number; K, M, G and T suffixes are binary (4096K, 1G).\n"
		"ADDR is a physical address (0x100000000).  NODE is a NUMA node, -1 = any.\n"
		"Options: --alloc --kdump --resize --free --list --json --write --dump --name --node\n"
		"         --apply --prune --status --help --version.  Exit status: 0 ok, 1 usage, 2 failed.\n");
}

/* -a, or --kdump (@kdump): allocate and arm as the crash-kernel range */
static int do_alloc(uint64_t bytes, const char *name, int node, int kdump)
{
	struct lazy_cma_allocation_data a;
	char sz[32];
	int fd;

	memset(&a, 0, sizeof(a));
	a.len = bytes;
	a.node = node;
	if (!name && kdump)
		name = "Crash kernel";
	if (name)
		strncpy(a.name, name, LAZY_CMA_NAME_MAX - 1);
	fd = open_dev();
	if (fd < 0)
		return EXIT_FAILED;
	if (ioctl(fd, kdump ? LAZY_CMA_IOCTL_KDUMP : LAZY_CMA_IOCTL_ALLOC, &a)) {
		explain(kdump ? "kdump allocation" : "allocation", errno, node);
		close(fd);
		return EXIT_FAILED;
	}
	close(fd);
	lct_format_size(sz, sizeof(sz), (bytes + 4095) & ~4095ULL);
	printf("%s %s at 0x%" PRIx64 "\n", kdump ? "armed for kdump" : "allocated", sz,
	       (uint64_t)a.phys_addr);
	return 0;
}

static int do_resize(uint64_t addr, uint64_t bytes)
{
	struct lazy_cma_resize_data r = { .phys_addr = addr, .len = bytes };
	char sz[32];
	int fd = open_dev();

	if (fd < 0)
		return EXIT_FAILED;
	if (ioctl(fd, LAZY_CMA_IOCTL_RESIZE, &r)) {
		explain("resize", errno, -2);
		close(fd);
		return EXIT_FAILED;
	}
	close(fd);
	lct_format_size(sz, sizeof(sz), r.len);
	printf("resized to %s at 0x%" PRIx64 "\n", sz, (uint64_t)r.phys_addr);
	return 0;
}

static int do_free(uint64_t addr)
{
	__u64 a = addr;
	int fd = open_dev();

	if (fd < 0)
		return EXIT_FAILED;
	if (ioctl(fd, LAZY_CMA_IOCTL_FREE, &a)) {
		explain("free", errno, -2);
		close(fd);
		return EXIT_FAILED;
	}
	close(fd);
	printf("freed allocation at 0x%" PRIx64 "\n", addr);
	return 0;
}

static int do_list(int json)
{
	struct lazy_cma_region_info *v;
	unsigned int n, i;
	int fd = open_dev();

	if (fd < 0)
		return EXIT_FAILED;
	v = get_regions(fd, &n);
	if (!v) {
		explain("list", errno, -2);
		close(fd);
		return EXIT_FAILED;
	}
	close(fd);
	if (json) {
		printf("[");
		for (i = 0; i < n; i++) {
			char name[LAZY_CMA_NAME_MAX * 6 + 1];

			lct_json_escape(name, sizeof(name), v[i].name);
			printf("%s\n  {\"start\": %" PRIu64 ", \"end\": %" PRIu64
			       ", \"size\": %" PRIu64 ", \"node\": %d, \"name\": \"%s\", \"mapped\": %u"
			       ", \"kdump\": %s, \"kdump_loaded\": %s}",
			       i ? "," : "", (uint64_t)v[i].phys_addr,
			       (uint64_t)(v[i].phys_addr + v[i].len - 1), (uint64_t)v[i].len,
			       v[i].node, name, v[i].map_count,
			       v[i].flags & LAZY_CMA_REGION_KDUMP ? "true" : "false",
			       v[i].flags & LAZY_CMA_REGION_KDUMP_LOADED ? "true" : "false");
		}
		printf("%s]\n", n ? "\n" : "");
	} else {
		printf("%-18s %-18s %10s %4s %6s  %s\n", "START", "END", "SIZE", "NODE",
		       "MAPPED", "NAME");
		for (i = 0; i < n; i++) {
			char sz[32];

			lct_format_size(sz, sizeof(sz), v[i].len);
			printf("0x%016" PRIx64 " 0x%016" PRIx64 " %10s %4d %6u  %s%s\n",
			       (uint64_t)v[i].phys_addr,
			       (uint64_t)(v[i].phys_addr + v[i].len - 1), sz, v[i].node,
			       v[i].map_count, v[i].name,
			       !(v[i].flags & LAZY_CMA_REGION_KDUMP) ? "" :
			       v[i].flags & LAZY_CMA_REGION_KDUMP_LOADED ? " [kdump, loaded]" :
			       " [kdump]");
		}
	}
	free(v);
	return 0;
}

/* the length of the region starting at @addr, or 0 with errno set */
static uint64_t region_len(int fd, uint64_t addr)
{
	struct lazy_cma_region_info info;

	if (get_region(fd, addr, &info))
		return 0;
	return info.len;
}

/* -w (to_region) or -d: stream between FILE and the region through mmap */
static int do_copy(uint64_t addr, const char *path, int to_region, const char *len_arg)
{
	uint64_t rlen, len;
	struct stat st;
	void *map;
	int fd, ffd, ret = EXIT_FAILED;
	size_t done = 0;

	fd = open_dev();
	if (fd < 0)
		return EXIT_FAILED;
	rlen = region_len(fd, addr);
	if (!rlen) {
		explain(to_region ? "write" : "dump", errno, -2);
		goto out_dev;
	}
	if (to_region) {
		ffd = open(path, O_RDONLY | O_CLOEXEC);
		if (ffd < 0 || fstat(ffd, &st)) {
			fprintf(stderr, "lazy_cma_tool: %s: %s\n", path, strerror(errno));
			goto out_dev;
		}
		len = (uint64_t)st.st_size;
		if (len > rlen) {
			fprintf(stderr,
				"lazy_cma_tool: %s is %" PRIu64 " bytes, the region only %" PRIu64 "; resize it first (-r)\n",
				path, len, rlen);
			goto out_file;
		}
	} else {
		len = rlen;
		if (len_arg && (lct_parse_addr(len_arg, &len) || !len || len > rlen)) {
			fprintf(stderr, "lazy_cma_tool: LEN must be 1..%" PRIu64 " bytes\n", rlen);
			ret = EXIT_USAGE;
			goto out_dev;
		}
		ffd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (ffd < 0) {
			fprintf(stderr, "lazy_cma_tool: %s: %s\n", path, strerror(errno));
			goto out_dev;
		}
	}
	if (!len) {
		ret = 0;
		goto out_done;
	}
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)addr);
	if (map == MAP_FAILED) {
		explain("mmap", errno, -2);
		goto out_file;
	}
	while (done < len) {
		ssize_t n = to_region ? read(ffd, (char *)map + done, len - done)
				      : write(ffd, (char *)map + done, len - done);

		if (n <= 0) {
			fprintf(stderr, "lazy_cma_tool: %s: %s\n", path,
				n ? strerror(errno) : "unexpected end of file");
			break;
		}
		done += (size_t)n;
	}
	munmap(map, len);
	if (done < len)
		goto out_file;
	ret = 0;
out_done:
	printf("%s %" PRIu64 " bytes %s 0x%" PRIx64 "\n", to_region ? "wrote" : "dumped",
	       len, to_region ? "to" : "from", addr);
out_file:
	close(ffd);
out_dev:
	close(fd);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "alloc", required_argument, NULL, 'a' },
		{ "kdump", required_argument, NULL, 'k' },
		{ "resize", required_argument, NULL, 'r' },
		{ "free", required_argument, NULL, 'f' },
		{ "list", no_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "write", required_argument, NULL, 'w' },
		{ "dump", required_argument, NULL, 'd' },
		{ "name", required_argument, NULL, 'n' },
		{ "node", required_argument, NULL, 'N' },
		{ "apply", required_argument, NULL, 'A' },
		{ "prune", no_argument, NULL, 'P' },
		{ "status", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL, *arg = NULL;
	int op = 0, json = 0, prune = 0, node = -1, c, n_pos;
	uint64_t addr = 0, size = 0;

	if (getenv("LAZY_CMA_DEV"))
		dev_path = getenv("LAZY_CMA_DEV");
	while ((c = getopt_long(argc, argv, "a:r:f:lw:d:n:N:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'a': case 'k': case 'r': case 'f': case 'l': case 'w': case 'd':
		case 'A': case 'S':
			if (op) {
				fprintf(stderr,
					"lazy_cma_tool: give one of -a --kdump -r -f -l -w -d --apply --status\n");
				return EXIT_USAGE;
			}
			op = c;
			arg = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'P':
			prune = 1;
			break;
		case 'n':
			name = optarg;
			break;
		case 'N':
			if (lct_parse_node(optarg, &node)) {
				fprintf(stderr, "lazy_cma_tool: bad node '%s' (a number, -1 = any)\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("lazy_cma_tool %s\n", LAZY_CMA_TOOL_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	n_pos = argc - optind;
	if (!op) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if ((name || node != -1) && op != 'a' && op != 'k') {
		fprintf(stderr, "lazy_cma_tool: -n and -N only go with -a and --kdump\n");
		return EXIT_USAGE;
	}
	if (json && op != 'l' && op != 'S') {
		fprintf(stderr, "lazy_cma_tool: --json only goes with -l or --status\n");
		return EXIT_USAGE;
	}
	if (prune && op != 'A') {
		fprintf(stderr, "lazy_cma_tool: --prune only goes with --apply\n");
		return EXIT_USAGE;
	}
	if (op == 'A' || op == 'S') {
		if (n_pos) {
			usage(stderr);
			return EXIT_USAGE;
		}
		return op == 'A' ? do_apply(arg, prune) : do_status(json);
	}
	if (name && lct_check_name(name)) {
		fprintf(stderr,
			"lazy_cma_tool: name must be printable ASCII, at most %d characters\n",
			LCT_NAME_MAX - 1);
		return EXIT_USAGE;
	}
	if (op == 'r' || op == 'f' || op == 'w' || op == 'd') {
		if (lct_parse_addr(arg, &addr)) {
			fprintf(stderr, "lazy_cma_tool: bad address '%s' (e.g. 0x100000000)\n", arg);
			return EXIT_USAGE;
		}
	}
	switch (op) {
	case 'a':
	case 'k':
		if (n_pos || lct_parse_size(arg, &size)) {
			fprintf(stderr, "lazy_cma_tool: bad size '%s' (e.g. 256, 256M, 1G, 4096K)\n", arg);
			return EXIT_USAGE;
		}
		return do_alloc(size, name, node, op == 'k');
	case 'r':
		if (n_pos != 1 || lct_parse_size(argv[optind], &size)) {
			fprintf(stderr, "lazy_cma_tool: -r needs ADDR SIZE (e.g. -r 0x100000000 512)\n");
			return EXIT_USAGE;
		}
		return do_resize(addr, size);
	case 'f':
		if (n_pos) {
			usage(stderr);
			return EXIT_USAGE;
		}
		return do_free(addr);
	case 'l':
		if (n_pos) {
			usage(stderr);
			return EXIT_USAGE;
		}
		return do_list(json);
	case 'w':
		if (n_pos != 1) {
			fprintf(stderr, "lazy_cma_tool: -w needs ADDR FILE\n");
			return EXIT_USAGE;
		}
		return do_copy(addr, argv[optind], 1, NULL);
	default:
		if (n_pos < 1 || n_pos > 2) {
			fprintf(stderr, "lazy_cma_tool: -d needs ADDR FILE [LEN]\n");
			return EXIT_USAGE;
		}
		return do_copy(addr, argv[optind], 0, n_pos == 2 ? argv[optind + 1] : NULL);
	}
}
