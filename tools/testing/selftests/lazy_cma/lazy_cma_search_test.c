// SPDX-License-Identifier: GPL-2.0
/*
 * The search for a window: it does not migrate for nothing, and it does not
 * miss windows.  A kprobe on alloc_contig_range() records every range the
 * driver hands it.
 * - a window in a gigantic hugetlb page, which alloc_contig_range() always
 *   refuses, is never handed to it, nor one in a CMA area (cma=, 7.3 only:
 *   Debian builds 6.1 and 6.12 without CONFIG_CMA);
 * - pages in use that are neither on an LRU list nor movable (pipe buffers)
 *   never make alloc_contig_range() fail outside ZONE_MOVABLE;
 * - a window that straddles two "System RAM" resources (two DIMMs side by
 *   side, run --node1-dimms 2) is never migrated, only to fail at
 *   insert_resource();
 * - after alloc_contig_range() fails on a page the descriptors cannot tell
 *   (held by a pipe), the windows below that page are tried, not only those
 *   a whole request length below;
 * - a page mapped a thousand times is not taken for a pinned one;
 * - a large region in the way is passed in one step (a kprobe on the
 *   driver's own lazy_cma_take() counts the windows tried).
 */
#include <elf.h>
#include <linux/dma-heap.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>

#include "lazy_cma_lib.h"
#include "kselftest_harness.h"

#define TRACING		"/sys/kernel/tracing"
#define ACR_EV		TRACING "/events/lazy_cma_search/acr/enable"
#define TAKE_EV		TRACING "/events/lazy_cma_search/take/enable"
#define RET_EV		TRACING "/events/lazy_cma_search/acrret/enable"
#define NAIVE		"/sys/module/lazy_cma/parameters/naive"
#define HP1G_NODE0	"/sys/devices/system/node/node0/hugepages/hugepages-1048576kB/nr_hugepages"
#define PB		SZ_2M	/* pageblock, x86-64 */
#define HEAP1		"/dev/dma_heap/lazy_cma-node1"
#define HEAP1_RES	"lazy_cma-node1 dma-buf"

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT	26
#endif
#ifndef MPOL_PREFERRED
#define MPOL_PREFERRED	1
#endif
#ifndef MPOL_BIND
#define MPOL_BIND	2
#endif

struct acr {
	uint64_t start, end;	/* physical addresses */
};

FIXTURE(search) {
	int fd;
};

FIXTURE_SETUP(search)
{
	/* a test killed at its timeout ran no teardown: undo what it set */
	write_str(NAIVE, "0");
	write_str(ACR_EV, "0");
	write_str(TAKE_EV, "0");
	write_str(RET_EV, "0");
	write_str(TRACING "/kprobe_events", "-:lazy_cma_search/acr");
	write_str(TRACING "/kprobe_events", "-:lazy_cma_search/acrret");
	write_str(TRACING "/kprobe_events", "-:lazy_cma_search/take");
	self->fd = lc_open();
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(search)
{
	write_str(ACR_EV, "0");
	write_str(TAKE_EV, "0");
	write_str(RET_EV, "0");
	write_str(TRACING "/kprobe_events", "-:lazy_cma_search/acr");
	write_str(TRACING "/kprobe_events", "-:lazy_cma_search/acrret");
	write_str(TRACING "/kprobe_events", "-:lazy_cma_search/take");
	write_str(NAIVE, "0");
	lc_free_all(self->fd);
	close(self->fd);
}

/* a kprobe event on alloc_contig_range(), by either of its names; on */
static int acr_probe_on(void)
{
	static const char *const names[] = {
		"alloc_contig_range_noprof", "alloc_contig_range",
	};
	char def[160];
	unsigned int i;
	int fd;

	for (i = 0; i < 2; i++) {
		snprintf(def, sizeof(def),
			 "p:lazy_cma_search/acr %s start=%%di:x64 end=%%si:x64", names[i]);
		if (!write_str(TRACING "/kprobe_events", def))
			break;
	}
	if (i == 2)
		return -1;
	fd = open(TRACING "/trace", O_WRONLY | O_TRUNC);	/* empties it */
	if (fd < 0)
		return -1;
	close(fd);
	return write_str(ACR_EV, "1");
}

/* the alloc_contig_range() calls since acr_probe_on(), at most @max */
static int acr_calls(struct acr *calls, int max)
{
	unsigned long long s, e;
	size_t size = 16 << 20;
	char *buf = calloc(1, size), *p;
	ssize_t n = 0, r;
	int fd, k = 0;

	write_str(ACR_EV, "0");
	fd = open(TRACING "/trace", O_RDONLY);
	if (!buf || fd < 0) {
		free(buf);
		return -1;
	}
	while ((r = read(fd, buf + n, size - 1 - n)) > 0)
		n += r;
	close(fd);
	for (p = buf; (p = strstr(p, "start=0x")) && k < max; p++)
		if (sscanf(p, "start=%llx end=%llx", &s, &e) == 2) {
			calls[k].start = s * SZ_4K;
			calls[k].end = e * SZ_4K;
			k++;
		}
	free(buf);
	return k;
}

/* node @node's zone @zone: [*lo, *hi) in bytes; 0 if found */
static int zone_span(int node, const char *zone, uint64_t *lo, uint64_t *hi)
{
	unsigned long long spanned = 0, start = 0;
	char line[256], z[32];
	bool in = false;
	FILE *f = fopen("/proc/zoneinfo", "r");
	int n;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Node ", 5)) {
			in = sscanf(line, "Node %d, zone %31s", &n, z) == 2 &&
			     n == node && !strcmp(z, zone);
			continue;
		}
		if (in) {
			sscanf(line, " spanned %llu", &spanned);
			sscanf(line, " start_pfn: %llu", &start);
		}
	}
	fclose(f);
	if (!spanned)
		return -1;
	*lo = start * SZ_4K;
	*hi = (start + spanned) * SZ_4K;
	return 0;
}

static long set_mempolicy_pref(int node)
{
	unsigned long mask = 1UL << node;

	return syscall(SYS_set_mempolicy, node < 0 ? 0 : MPOL_PREFERRED,
		       node < 0 ? NULL : &mask, node < 0 ? 0 : 64);
}

/*
 * A gigantic (1 GiB) hugetlb page of node 0: alloc_contig_range() refuses
 * it on every kernel.  Regions of 64 MiB are taken from the top of node 0
 * down until one lies below the page: none of the ranges handed to
 * alloc_contig_range() meanwhile may touch it.
 */
TEST_F_TIMEOUT(search, gigantic_page_never_migrated, 600)
{
	uint64_t g, phys = 0, len = 64 * SZ_1M;
	struct acr *calls;
	int i, n, over = 0, tries;
	char *huge;

	ASSERT_EQ(0, access(HP1G_NODE0, W_OK));
	for (tries = 0; tries < 5 && read_long(HP1G_NODE0) < 1; tries++) {
		write_str("/proc/sys/vm/drop_caches", "3");
		write_str("/proc/sys/vm/compact_memory", "1");
		write_str(HP1G_NODE0, "1");
	}
	ASSERT_EQ(1, read_long(HP1G_NODE0)) TH_LOG("no 1 GiB hugetlb page on node 0");
	huge = mmap(NULL, SZ_1G, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | (30 << MAP_HUGE_SHIFT), -1, 0);
	ASSERT_NE(MAP_FAILED, huge);
	huge[0] = 1;
	g = self_pfn(huge) * SZ_4K;
	ASSERT_NE(0, g);
	ASSERT_EQ(0, phys_node(g));

	ASSERT_EQ(0, acr_probe_on());
	for (i = 0; i < 64; i++) {
		if (lc_alloc(self->fd, len, 0, "gigantic", &phys))
			break;
		if (phys < g)
			break;
	}
	calls = calloc(100000, sizeof(*calls));
	ASSERT_NE(NULL, calls);
	n = acr_calls(calls, 100000);
	ASSERT_LE(0, n);
	for (i = 0; i < n; i++)
		if (calls[i].start < g + SZ_1G && calls[i].end > g) {
			if (!over)
				TH_LOG("alloc_contig_range(%#llx-%#llx) inside the gigantic page at %#llx",
				       (unsigned long long)calls[i].start,
				       (unsigned long long)calls[i].end, (unsigned long long)g);
			over++;
		}
	TH_LOG("gigantic page at %#llx; last region at %#llx; %d alloc_contig_range() calls, %d inside it",
	       (unsigned long long)g, (unsigned long long)phys, n, over);
	ASSERT_NE(0, phys) TH_LOG("node 0 gave no region");
	ASSERT_GT(g, phys) TH_LOG("the regions never reached below the gigantic page");
	EXPECT_EQ(0, over);
	free(calls);
	lc_free_all(self->fd);
	munmap(huge, SZ_1G);
	write_str(HP1G_NODE0, "0");
}

/* the CMA area the kernel reserved at boot (cma=), from its log: 0 if found */
static int cma_area(uint64_t *base, uint64_t *size)
{
	unsigned long long b, mib;
	char line[512], *p;
	FILE *f = popen("dmesg", "r");
	int found = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if ((p = strstr(line, "cma: Reserved ")) &&
		    sscanf(p, "cma: Reserved %llu MiB at %llx", &mib, &b) == 2) {
			*base = b;
			*size = mib * SZ_1M;
			found = 0;
		}
	pclose(f);
	return found;
}

/*
 * The CMA area of cma= is made of MIGRATE_CMA pageblocks, which
 * alloc_contig_range() refuses outside a CMA allocation.  Regions of 64 MiB
 * are taken from the top of node 0 down until one lies below the area: none
 * of the ranges handed to alloc_contig_range() meanwhile may touch it.
 * With @naive, the benchmark's baseline search (naive=1), which skips the
 * scan's guesses but not the pageblock check: a failed isolation over a
 * pageblock that a CMA allocation has isolated can leave it MOVABLE, lost
 * to its CMA area for good.
 */
static void cma_area_untouched(struct __test_metadata *_metadata,
			       FIXTURE_DATA(search) *self, bool naive)
{
	uint64_t base, size, phys = 0, len = 64 * SZ_1M;
	struct acr *calls;
	int i, n, over = 0;

	if (cma_area(&base, &size))
		SKIP(return, "no cma= area");
	ASSERT_EQ(0, phys_node(base));
	if (naive)
		ASSERT_EQ(0, write_str(NAIVE, "1"));
	ASSERT_EQ(0, acr_probe_on());
	for (i = 0; i < 64; i++) {
		if (lc_alloc(self->fd, len, 0, "cma", &phys))
			break;
		if (phys < base)
			break;
	}
	calls = calloc(100000, sizeof(*calls));
	ASSERT_NE(NULL, calls);
	n = acr_calls(calls, 100000);
	ASSERT_LE(0, n);
	for (i = 0; i < n; i++)
		if (calls[i].start < base + size && calls[i].end > base) {
			if (!over)
				TH_LOG("alloc_contig_range(%#llx-%#llx) in the CMA area %#llx+%#llx",
				       (unsigned long long)calls[i].start,
				       (unsigned long long)calls[i].end,
				       (unsigned long long)base, (unsigned long long)size);
			over++;
		}
	TH_LOG("%sCMA area %#llx+%#llx; last region at %#llx; %d alloc_contig_range() calls, %d in it",
	       naive ? "naive=1: " : "", (unsigned long long)base, (unsigned long long)size,
	       (unsigned long long)phys, n, over);
	ASSERT_NE(0, phys) TH_LOG("node 0 gave no region");
	ASSERT_GT(base, phys) TH_LOG("the regions never reached below the CMA area");
	EXPECT_EQ(0, over);
	free(calls);
}

TEST_F_TIMEOUT(search, cma_area_never_tried, 600)
{
	cma_area_untouched(_metadata, self, false);
}

TEST_F_TIMEOUT(search, cma_area_never_tried_naive, 600)
{
	cma_area_untouched(_metadata, self, true);
}

/* the span of node @node's zones, [*lo, *hi) in bytes; 0 if it has any */
static int node_span(int node, uint64_t *lo, uint64_t *hi)
{
	static const char *const zones[] = { "DMA", "DMA32", "Normal", "Movable" };
	uint64_t l, h;
	unsigned int i;

	*lo = UINT64_MAX;
	*hi = 0;
	for (i = 0; i < ARRAY_SIZE(zones); i++)
		if (!zone_span(node, zones[i], &l, &h)) {
			*lo = l < *lo ? l : *lo;
			*hi = h > *hi ? h : *hi;
		}
	return *hi ? 0 : -1;
}

/* what each pipe's page starts with: who wrote it, and which pipe it is */
struct pipe_mark {
	char magic[16];
	uint64_t nonce;
	uint64_t idx;
};

#define PIPE_MAGIC	"lazy_cma pipe"

/*
 * The pages of [lo, hi) that start with a pipe mark of @nonce, read through
 * /proc/kcore (the kernel's direct map): their addresses in @pa (at most
 * @max, ascending), their number returned, -1 if kcore cannot be read.
 * Pages the kernel will not show (unmapped, not RAM) read as zero.
 */
static int find_pipe_pages(uint64_t lo, uint64_t hi, uint64_t nonce, uint64_t *pa, int max)
{
	enum { CHUNK = 1 << 20 };
	struct { uint64_t pa, off, len; } seg[64];
	int fd = open("/proc/kcore", O_RDONLY | O_CLOEXEC), nseg = 0, n = 0, i;
	char *buf = malloc(CHUNK);
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	uint64_t a;

	if (fd < 0 || !buf || pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG))
		goto fail;
	for (i = 0; i < eh.e_phnum && nseg < 64; i++) {
		if (pread(fd, &ph, sizeof(ph), eh.e_phoff + (off_t)i * eh.e_phentsize) != sizeof(ph))
			goto fail;
		/* RAM (and the kernel text) has its physical address; the rest -1 */
		if (ph.p_type == PT_LOAD && ph.p_paddr != (Elf64_Addr)-1 && ph.p_filesz)
			seg[nseg++] = (typeof(seg[0])){ ph.p_paddr, ph.p_offset, ph.p_filesz };
	}
	for (a = lo; a < hi; ) {
		uint64_t len = hi - a < CHUNK ? hi - a : CHUNK, off;
		ssize_t r;

		for (i = 0; i < nseg; i++)
			if (a >= seg[i].pa && a < seg[i].pa + seg[i].len)
				break;
		if (i == nseg) {	/* a hole: on to the next segment above */
			uint64_t next = hi;

			for (i = 0; i < nseg; i++)
				if (seg[i].pa > a && seg[i].pa < next)
					next = seg[i].pa;
			a = next;
			continue;
		}
		if (len > seg[i].pa + seg[i].len - a)
			len = seg[i].pa + seg[i].len - a;
		r = pread(fd, buf, len, seg[i].off + (a - seg[i].pa));
		if (r <= 0)
			r = 0;
		for (off = 0; off + sizeof(struct pipe_mark) <= (uint64_t)r; off += SZ_4K) {
			const struct pipe_mark *m = (const void *)(buf + off);

			if (!strcmp(m->magic, PIPE_MAGIC) && m->nonce == nonce && n < max)
				pa[n++] = a + off;
		}
		/* a page that cannot be read ends the read: go on after it */
		a += r > 0 ? ((uint64_t)r + SZ_4K - 1) / SZ_4K * SZ_4K : SZ_4K;
	}
	free(buf);
	close(fd);
	return n;
fail:
	free(buf);
	if (fd >= 0)
		close(fd);
	return -1;
}

/*
 * Pages in use that are neither on an LRU list nor movable (a pipe's
 * buffers: 4000 pipes holding a page each) are refused by the kernel's
 * isolation outside ZONE_MOVABLE.  Each pipe's page starts with a mark, and
 * /proc/kcore shows where those pages are on node 0.  The page allocator
 * hands out the low memory of a node first, where the kernel's own pages
 * already make every window unusable: the pipes are filled while all but
 * 384 MiB of node 0 is held by this process's anonymous pages, so that
 * theirs come from the high memory that is left, which is freed again
 * before the search.  Regions of 64 MiB are
 * taken from node 0 (from the top down) until one lies below the highest
 * pipe page: the windows the search went through held pipe pages (at least
 * one lies between the lowest region and the top of node 0).  No
 * alloc_contig_range() call may fail (a kretprobe reads its return value:
 * every region took at least one call, so there are calls to read) or be
 * handed a range with a pipe page in it (a kprobe reads its arguments).
 * On the debug kernel the fill and the kcore read take minutes (15 s each
 * on stock 7.3), and three lanes on two cores slow it further: 1200 s.
 */
TEST_F_TIMEOUT(search, unmovable_pages_never_tried, 1200)
{
	enum { NPIPE = 4000, NREG = 48, NPA = 2 * NPIPE };
	struct rlimit rl = { 2 * NPIPE + 64, 2 * NPIPE + 64 };
	int (*pipes)[2], i, j, fd, n = 0, failed = 0, got = 0, npa, held = 0, over = 0, ncalls = 0;
	uint64_t phys, lowest = UINT64_MAX, lo, hi, nonce, *pa;
	struct pipe_mark page[SZ_4K / sizeof(struct pipe_mark)];
	struct acr *calls;
	char *buf, *p;
	ssize_t len = 0, r;

	unsigned long node0 = 1UL;
	time_t t0 = time(NULL), t_fill, t_kcore;
	size_t fill_len;
	char *fill;
	long free_kb;

	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	ASSERT_EQ(0, node_span(0, &lo, &hi));
	free_kb = node_meminfo_kb(0, "MemFree");
	ASSERT_LT(1024 * 1024, free_kb);
	fill_len = (size_t)(free_kb - 384 * 1024) * 1024;
	fill = mmap(NULL, fill_len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, fill);
	madvise(fill, fill_len, MADV_NOHUGEPAGE);
	ASSERT_EQ(0, syscall(SYS_mbind, fill, fill_len, MPOL_BIND, &node0, 64, 0));
	for (i = 0; (size_t)i < fill_len / SZ_4K; i++)
		fill[(size_t)i * SZ_4K] = 1;
	pipes = calloc(NPIPE, sizeof(*pipes));
	pa = calloc(NPA, sizeof(*pa));
	calls = calloc(100000, sizeof(*calls));
	ASSERT_TRUE(pipes && pa && calls);
	nonce = ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL);
	memset(page, 7, sizeof(page));
	for (i = 0; i < NPIPE; i++) {
		strcpy(page[0].magic, PIPE_MAGIC);
		page[0].nonce = nonce;
		page[0].idx = i;
		ASSERT_EQ(0, pipe(pipes[i]));
		ASSERT_EQ(sizeof(page), write(pipes[i][1], page, sizeof(page)));
	}
	memset(page, 0, sizeof(page));	/* the only copy of a mark outside a pipe */
	munmap(fill, fill_len);
	/* each phase says how long it took: a timeout names the slow one */
	t_fill = time(NULL);
	TH_LOG("filled and piped in %lld s", (long long)(t_fill - t0));
	npa = find_pipe_pages(lo, hi, nonce, pa, NPA);
	t_kcore = time(NULL);
	ASSERT_LE(0, npa) TH_LOG("/proc/kcore cannot be read");
	TH_LOG("node 0 %#llx-%#llx (%ld MiB free, %zu MiB filled): %d of %d pipe pages there, from %#llx to %#llx (kcore read in %lld s)",
	       (unsigned long long)lo, (unsigned long long)hi, free_kb >> 10, fill_len >> 20,
	       npa, NPIPE, npa ? (unsigned long long)pa[0] : 0ULL,
	       npa ? (unsigned long long)pa[npa - 1] : 0ULL, (long long)(t_kcore - t_fill));
	ASSERT_LT(0, npa) TH_LOG("no pipe page on node 0");
	ASSERT_GE(NPIPE, npa) TH_LOG("more marked pages than pipes");

	ASSERT_EQ(0, acr_probe_on());
	ASSERT_EQ(0, write_str(TRACING "/kprobe_events",
			       "r:lazy_cma_search/acrret alloc_contig_range_noprof ret=$retval:s32") &&
		     write_str(TRACING "/kprobe_events",
			       "r:lazy_cma_search/acrret alloc_contig_range ret=$retval:s32"));
	ASSERT_EQ(0, write_str(RET_EV, "1"));
	for (i = 0; i < NREG && lowest > pa[npa - 1]; i++) {
		if (lc_alloc(self->fd, 64 * SZ_1M, 0, "unmovable", &phys))
			break;
		got++;
		lowest = phys < lowest ? phys : lowest;
	}
	ASSERT_EQ(0, write_str(RET_EV, "0"));
	ASSERT_EQ(0, write_str(ACR_EV, "0"));

	buf = calloc(1, 16 << 20);
	ASSERT_NE(NULL, buf);
	fd = open(TRACING "/trace", O_RDONLY);
	ASSERT_LE(0, fd);
	while ((r = read(fd, buf + len, (16 << 20) - 1 - len)) > 0)
		len += r;
	close(fd);
	for (p = buf; (p = strstr(p, " ret=")); p++) {
		n++;
		failed += atoi(p + 5) != 0;
	}
	for (p = buf; (p = strstr(p, "start=0x")) && ncalls < 100000; p++) {
		unsigned long long s, e;

		if (sscanf(p, "start=%llx end=%llx", &s, &e) == 2)
			calls[ncalls++] = (struct acr){ s * SZ_4K, e * SZ_4K };
	}
	free(buf);
	for (j = 0; j < npa; j++) {
		held += pa[j] >= lowest;
		for (i = 0; i < ncalls; i++)
			if (calls[i].start <= pa[j] && pa[j] < calls[i].end) {
				if (!over)
					TH_LOG("alloc_contig_range(%#llx-%#llx) over the pipe page at %#llx",
					       (unsigned long long)calls[i].start,
					       (unsigned long long)calls[i].end,
					       (unsigned long long)pa[j]);
				over++;
			}
	}
	TH_LOG("%d regions of 64 MiB, the lowest at %#llx, %d pipe pages above it: %d alloc_contig_range() calls (%d returns), %d failed, %d over a pipe page (search and trace in %lld s)",
	       got, (unsigned long long)lowest, held, ncalls, n, failed, over,
	       (long long)(time(NULL) - t_kcore));
	ASSERT_LT(0, got);
	EXPECT_LT(0, held) TH_LOG("no window the search went through held a pipe page");
	EXPECT_LE(got, n) TH_LOG("a region without a traced alloc_contig_range() return");
	EXPECT_EQ(ncalls, n);
	EXPECT_EQ(0, failed);
	EXPECT_EQ(0, over);
	for (i = 0; i < NPIPE; i++) {
		close(pipes[i][0]);
		close(pipes[i][1]);
	}
	free(pipes);
	free(pa);
	free(calls);
}

/* two "System RAM" resources of node 1 side by side: the boundary, or 0 */
static uint64_t ram_boundary_node1(void)
{
	unsigned long long s, e, prev_end = 0;
	char line[256], name[64];
	FILE *f = fopen("/proc/iomem", "r");
	uint64_t b = 0;

	if (!f)
		return 0;
	while (!b && fgets(line, sizeof(line), f)) {
		if (line[0] == ' ' ||
		    sscanf(line, "%llx-%llx : %63[^\n]", &s, &e, name) != 3)
			continue;
		if (!strcmp(name, "System RAM") && prev_end && s == prev_end + 1 &&
		    phys_node(s) == 1 && phys_node(prev_end) == 1)
			b = s;
		prev_end = strcmp(name, "System RAM") ? 0 : e;
	}
	fclose(f);
	return b;
}

/*
 * Node 1 as two DIMMs side by side (run --node1-dimms 2): a region above
 * the boundary leaves 128 MiB free above it, so the first window of a
 * 256 MiB request straddles the boundary.  It must not be migrated: every
 * range alloc_contig_range() sees is part of the region finally taken.
 */
TEST_F_TIMEOUT(search, straddling_window_never_migrated, 300)
{
	uint64_t x = ram_boundary_node1(), lo, hi, top, phys, len = 256 * SZ_1M;
	struct acr calls[64];
	int i, n, outside = 0;

	if (!x)
		SKIP(return, "node 1 is one DIMM");
	ASSERT_EQ(0, zone_span(1, "Movable", &lo, &hi));
	ASSERT_LE(x + 128 * SZ_1M + PB, hi);
	ASSERT_EQ(0, lc_alloc(self->fd, hi - x - 128 * SZ_1M, 1, "above", &top));
	ASSERT_EQ(x + 128 * SZ_1M, top) TH_LOG("the first region is not at the top of node 1");

	ASSERT_EQ(0, acr_probe_on());
	ASSERT_EQ(0, lc_alloc(self->fd, len, 1, "straddle", &phys));
	n = acr_calls(calls, 64);
	ASSERT_LT(0, n);
	EXPECT_TRUE(phys + len <= x || phys >= x);
	for (i = 0; i < n; i++)
		if (calls[i].start < phys || calls[i].end > phys + len) {
			TH_LOG("alloc_contig_range(%#llx-%#llx) outside the region %#llx-%#llx (boundary %#llx)",
			       (unsigned long long)calls[i].start,
			       (unsigned long long)calls[i].end,
			       (unsigned long long)phys,
			       (unsigned long long)(phys + len), (unsigned long long)x);
			outside++;
		}
	TH_LOG("boundary %#llx, region %#llx, %d alloc_contig_range() calls, %d outside it",
	       (unsigned long long)x, (unsigned long long)phys, n, outside);
	EXPECT_EQ(0, outside);
}

/*
 * Fill most of node 1's free memory with pages (MAP_SHARED memfd when
 * @shared, anonymous otherwise); the one with the highest address in
 * [@lo, @below): its offset in *idx, its address in *pa.  The memory is the
 * caller's to unmap.
 */
static char *fill_node1(size_t len, bool shared, int *memfd, uint64_t lo,
			uint64_t below, size_t *idx, uint64_t *pa)
{
	size_t i, n = len / SZ_4K;
	uint64_t *pm;
	char *m;
	int fd;

	*memfd = -1;
	*pa = 0;
	if (shared) {
		*memfd = memfd_create("lazy_cma_search", 0);
		if (*memfd < 0 || ftruncate(*memfd, len))
			return MAP_FAILED;
	}
	if (set_mempolicy_pref(1))
		return MAP_FAILED;
	m = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 shared ? MAP_SHARED : MAP_PRIVATE | MAP_ANONYMOUS, *memfd, 0);
	if (m != MAP_FAILED) {
		madvise(m, len, MADV_NOHUGEPAGE);
		for (i = 0; i < len; i += SZ_4K)
			m[i] = (char)(i >> 12) | 1;
	}
	set_mempolicy_pref(-1);
	if (m == MAP_FAILED)
		return m;
	/* where each page is, in one read of pagemap */
	pm = calloc(n, sizeof(*pm));
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pm && fd >= 0 &&
	    pread(fd, pm, n * sizeof(*pm), (off_t)((uintptr_t)m / SZ_4K) * 8) ==
	    (ssize_t)(n * sizeof(*pm)))
		for (i = 0; i < n; i++) {
			uint64_t p = (pm[i] >> 63) ? (pm[i] & ((1ULL << 55) - 1)) * SZ_4K : 0;

			if (p >= lo && p < below && p > *pa) {
				*pa = p;
				*idx = i * SZ_4K;
			}
		}
	if (fd >= 0)
		close(fd);
	free(pm);
	return m;
}

/* the start of @name's /proc/iomem entry that is not in @old[0..n) */
static uint64_t iomem_new(const char *name, const uint64_t *old, int n)
{
	unsigned long long a, b;
	char line[256], nm[128];
	uint64_t found = 0;
	FILE *f = fopen("/proc/iomem", "r");
	int i;

	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, " %llx-%llx : %127[^\n]", &a, &b, nm) != 3 || strcmp(nm, name))
			continue;
		for (i = 0; i < n && old[i] != a; i++)
			;
		if (i == n)
			found = a;
	}
	if (f)
		fclose(f);
	return found;
}

/*
 * A heap buffer of @len on node 1 (a buffer is placed by the search alone:
 * no room is left after it, as after a region): its fd, and its start in
 * *phys.  -1 on failure.
 */
static int heap1_alloc(uint64_t len, uint64_t *phys)
{
	struct dma_heap_allocation_data d = { .len = len, .fd_flags = O_RDWR | O_CLOEXEC };
	uint64_t old[64] = { 0 };
	int h, n = 0;

	*phys = 0;
	h = open(HEAP1, O_RDWR | O_CLOEXEC);
	if (h < 0)
		return -1;
	while (n < 64 && (old[n] = iomem_new(HEAP1_RES, old, n)))
		n++;
	if (ioctl(h, DMA_HEAP_IOCTL_ALLOC, &d)) {
		close(h);
		return -1;
	}
	close(h);
	*phys = iomem_new(HEAP1_RES, old, n);
	return (int)d.fd;
}

/*
 * A page of node 1 held by a pipe (vmsplice): alloc_contig_range() cannot
 * migrate it, and nothing in its descriptor says so.  A request whose first
 * window has that page in its middle fails there; the next window tried
 * must end at or below the page, not a whole request length below the
 * first window: the region taken overlaps the first window.
 */
TEST_F_TIMEOUT(search, resumes_below_failing_page, 300)
{
	uint64_t lo, hi, f, first, phys, len;
	size_t fill, idx = 0;
	struct iovec iov;
	int pipefd[2], memfd, buf;
	char *m;

	ASSERT_EQ(0, zone_span(1, "Movable", &lo, &hi));
	fill = (size_t)(node_meminfo_kb(1, "MemFree") - 160 * 1024) * 1024;
	ASSERT_LT(128 * SZ_1M, fill);
	m = fill_node1(fill, false, &memfd, lo, hi - 64 * SZ_1M, &idx, &f);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_NE(0, f);
	ASSERT_EQ(0, pipe(pipefd));
	iov.iov_base = m + idx;
	iov.iov_len = SZ_4K;
	ASSERT_EQ(SZ_4K, vmsplice(pipefd[1], &iov, 1, 0));
	munmap(m, fill);

	/* the page in the middle of the first window, [hi - len, hi) */
	len = 2 * (hi - (f & ~(PB - 1)));
	first = hi - len;
	TH_LOG("page held by a pipe at %#llx; node 1 %#llx-%#llx; request %llu MiB, first window %#llx",
	       (unsigned long long)f, (unsigned long long)lo, (unsigned long long)hi,
	       (unsigned long long)(len >> 20), (unsigned long long)first);
	ASSERT_LE(len, 512 * SZ_1M) TH_LOG("no page of the fill in the top 256 MiB of node 1");
	ASSERT_LE(lo + len, f & ~(PB - 1)) TH_LOG("no room below the page");

	buf = heap1_alloc(len, &phys);
	ASSERT_LE(0, buf);
	TH_LOG("buffer %#llx-%#llx", (unsigned long long)phys, (unsigned long long)(phys + len));
	EXPECT_TRUE(phys + len <= f || phys > f);
	EXPECT_LT(first, phys + len) TH_LOG("the windows between the page and the first window were skipped");
	close(buf);
	close(pipefd[0]);
	close(pipefd[1]);
}

/*
 * A page of node 1 mapped 1100 times (over GUP_PIN_COUNTING_BIAS references,
 * no pin) is migratable: a request whose only first window holds it takes
 * that window, and the page moves with its contents.
 */
TEST_F_TIMEOUT(search, shared_page_is_not_pinned, 300)
{
	enum { NMAP = 1100 };
	uint64_t lo, hi, s, phys, len;
	size_t fill, idx = 0;
	char **maps;
	int memfd, i, buf;
	char *m;

	ASSERT_EQ(0, zone_span(1, "Movable", &lo, &hi));
	fill = (size_t)(node_meminfo_kb(1, "MemFree") - 160 * 1024) * 1024;
	ASSERT_LT(128 * SZ_1M, fill);
	m = fill_node1(fill, true, &memfd, lo, hi - 64 * SZ_1M, &idx, &s);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_NE(0, s);
	maps = calloc(NMAP, sizeof(*maps));
	ASSERT_NE(NULL, maps);
	for (i = 0; i < NMAP; i++) {
		maps[i] = mmap(NULL, SZ_4K, PROT_READ, MAP_SHARED | MAP_POPULATE, memfd, idx);
		ASSERT_NE(MAP_FAILED, maps[i]);
	}
	munmap(m, fill);
	/* only the shared page stays in the file */
	if (idx)
		ASSERT_EQ(0, fallocate(memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, idx));
	ASSERT_EQ(0, fallocate(memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       idx + SZ_4K, fill - idx - SZ_4K));
	ASSERT_EQ(s, self_pfn(maps[0]) * SZ_4K);

	len = hi - (s & ~(PB - 1));
	TH_LOG("page mapped %d times at %#llx; request %llu MiB", NMAP,
	       (unsigned long long)s, (unsigned long long)(len >> 20));
	buf = heap1_alloc(len, &phys);
	ASSERT_LE(0, buf);
	EXPECT_EQ(s & ~(PB - 1), phys) TH_LOG("buffer at %#llx", (unsigned long long)phys);
	EXPECT_NE(s, self_pfn(maps[NMAP - 1]) * SZ_4K);
	EXPECT_EQ((char)(idx >> 12) | 1, maps[NMAP - 1][0]);
	for (i = 0; i < NMAP; i++)
		munmap(maps[i], SZ_4K);
	free(maps);
	close(buf);
	close(memfd);
}

/*
 * A 512 MiB region at the top of node 1, then a 2 MiB request there: the
 * search steps below the whole region at once.  lazy_cma_take() (one call
 * per window tried) is called for the window under the region's top and
 * for the one right below the region (with room: 4 MiB), and no more.
 */
TEST_F_TIMEOUT(search, passes_a_claim_in_one_step, 120)
{
	uint64_t lo, hi, big, phys;
	char *buf, *p;
	int fd, n = 0;
	ssize_t len = 0, r;

	ASSERT_EQ(0, zone_span(1, "Movable", &lo, &hi));
	ASSERT_EQ(0, lc_alloc(self->fd, 512 * SZ_1M, 1, "claim", &big));
	ASSERT_EQ(hi - 512 * SZ_1M, big) TH_LOG("the region is not at the top of node 1");

	ASSERT_EQ(0, write_str(TRACING "/kprobe_events",
			       "p:lazy_cma_search/take lazy_cma:lazy_cma_take pfn=%dx:x64"))
		TH_LOG("no kprobe on lazy_cma_take");
	fd = open(TRACING "/trace", O_WRONLY | O_TRUNC);
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(0, write_str(TAKE_EV, "1"));
	ASSERT_EQ(0, lc_alloc(self->fd, SZ_2M, 1, "below", &phys));
	ASSERT_EQ(0, write_str(TAKE_EV, "0"));

	buf = calloc(1, 8 << 20);
	ASSERT_NE(NULL, buf);
	fd = open(TRACING "/trace", O_RDONLY);
	ASSERT_LE(0, fd);
	while ((r = read(fd, buf + len, (8 << 20) - 1 - len)) > 0)
		len += r;
	close(fd);
	for (p = buf; (p = strstr(p, "pfn=0x")); p++)
		n++;
	free(buf);
	TH_LOG("region %#llx under the one at %#llx: %d windows tried",
	       (unsigned long long)phys, (unsigned long long)big, n);
	/* a region of 2 MiB leaves 2 MiB of room after it */
	EXPECT_EQ(big - 2 * SZ_2M, phys);
	EXPECT_EQ(2, n) TH_LOG("the window under the region's top and the one below it");
}

TEST_HARNESS_MAIN
