// SPDX-License-Identifier: GPL-2.0
/*
 * Allocator promises that need a setup of their own: a RESIZE whose answer
 * cannot be written back changes nothing, whichever way it would have gone
 * (moved, grown in place, shrunk); the CPUs that clear a large range are
 * ones the caller may run on; the benchmark's kernel_search baseline exists
 * exactly where the kernel exports alloc_contig_pages(), and gives regions.
 */
#include <sched.h>
#include <sys/mman.h>

#include "lazy_cma_lib.h"
#include "kselftest_harness.h"

FIXTURE(alloc) {
	int fd;
	/* a page holding a RESIZE argument, readable but not writable */
	struct lazy_cma_resize_data *ro;
};

FIXTURE_VARIANT(alloc) {
	int node;
};

FIXTURE_VARIANT_ADD(alloc, node0) { .node = 0 };
FIXTURE_VARIANT_ADD(alloc, node1) { .node = 1 };

FIXTURE_SETUP(alloc)
{
	self->fd = lc_open();
	ASSERT_LE(0, self->fd);
	self->ro = mmap(NULL, SZ_4K, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->ro);
}

FIXTURE_TEARDOWN(alloc)
{
	lc_free_all(self->fd);
	munmap(self->ro, SZ_4K);
	close(self->fd);
}

static void fill(int fd, uint64_t phys, uint64_t len, uint64_t seed, bool check,
		 unsigned long *bad)
{
	uint64_t *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, phys);
	uint64_t i;

	if (m == MAP_FAILED) {
		(*bad)++;
		return;
	}
	for (i = 0; i < len / 8; i += 512) {
		if (!check)
			m[i] = pattern(i, seed);
		else if (m[i] != pattern(i, seed))
			(*bad)++;
	}
	munmap(m, len);
}

/*
 * RESIZE @phys to @len with the argument in a read-only page: EFAULT, and
 * the region is where it was, as long, with the same contents.
 */
static void resize_unwritable(struct __test_metadata *_metadata,
			      FIXTURE_DATA(alloc) *self, uint64_t phys,
			      uint64_t len, uint64_t new_len)
{
	struct lazy_cma_region_info info;
	int regions = lc_count(self->fd);
	unsigned long bad = 0;

	fill(self->fd, phys, len, phys, false, &bad);
	ASSERT_EQ(0, bad);
	self->ro->phys_addr = phys;
	self->ro->len = new_len;
	ASSERT_EQ(0, mprotect(self->ro, SZ_4K, PROT_READ));
	EXPECT_EQ(-1, ioctl(self->fd, LAZY_CMA_IOCTL_RESIZE, self->ro));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(0, mprotect(self->ro, SZ_4K, PROT_READ | PROT_WRITE));

	ASSERT_EQ(0, lc_find(self->fd, phys, &info))
		TH_LOG("the region left %#llx", (unsigned long long)phys);
	EXPECT_EQ(len, info.len);
	EXPECT_EQ(regions, lc_count(self->fd));
	EXPECT_TRUE(iomem_has(phys, phys + len - 1, "efault"));
	fill(self->fd, phys, len, phys, true, &bad);
	EXPECT_EQ(0, bad);
}

/* a grow that must move: the region right after it is taken */
TEST_F(alloc, resize_efault_moving)
{
	uint64_t r[16];
	int i, j, n;

	/* regions of 2 MiB until one lies right below another */
	for (n = 0; n < 16; n++) {
		ASSERT_EQ(0, lc_alloc(self->fd, SZ_2M, variant->node, "efault", &r[n]));
		for (i = 0; i < n; i++) {
			for (j = 0; j < n + 1; j++)
				if (r[i] + SZ_2M == r[j] || r[j] + SZ_2M == r[i])
					break;
			if (j < n + 1)
				break;
		}
		if (i < n)
			break;
	}
	ASSERT_GT(16, n) TH_LOG("no two of 16 regions are adjacent");
	/* r[i] and r[j] are adjacent: grow the lower one */
	resize_unwritable(_metadata, self, r[i] < r[j] ? r[i] : r[j], SZ_2M, 8 * SZ_1M);
}

/* a grow with nothing in its way, and a shrink */
TEST_F(alloc, resize_efault_in_place)
{
	uint64_t phys;

	ASSERT_EQ(0, lc_alloc(self->fd, 8 * SZ_1M, variant->node, "efault", &phys));
	resize_unwritable(_metadata, self, phys, 8 * SZ_1M, 16 * SZ_1M);
	resize_unwritable(_metadata, self, phys, 8 * SZ_1M, 4 * SZ_1M);
	resize_unwritable(_metadata, self, phys, 8 * SZ_1M, 8 * SZ_1M);
	EXPECT_EQ(0, lc_free(self->fd, phys));
}

#define TRACE		"/sys/kernel/tracing"
#define WQ_EVENT	TRACE "/events/workqueue/workqueue_execute_start/enable"

/* empty the trace buffer: only an open with O_TRUNC does */
static int trace_clear(void)
{
	int fd = open(TRACE "/trace", O_WRONLY | O_TRUNC);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/*
 * Allocate 64 MiB with the workqueue tracepoint on; count the clearing
 * workers that ran, and those that ran on a CPU other than @cpu (-1: any).
 */
static int clear_workers(struct __test_metadata *_metadata, int fd, int node,
			 int cpu, int *elsewhere)
{
	char *buf, *p, want[16];
	ssize_t r, len = 0;
	uint64_t phys;
	int n = 0, tfd;

	*elsewhere = 0;
	if (trace_clear() || write_str(WQ_EVENT, "1"))
		return -1;
	EXPECT_EQ(0, lc_alloc(fd, 64 * SZ_1M, node, "cpus", &phys));
	write_str(WQ_EVENT, "0");
	if (phys)
		EXPECT_EQ(0, lc_free(fd, phys));

	buf = calloc(1, 4 << 20);
	tfd = open(TRACE "/trace", O_RDONLY);
	if (!buf || tfd < 0)
		return -1;
	while ((r = read(tfd, buf + len, (4 << 20) - 1 - len)) > 0)
		len += r;
	close(tfd);
	snprintf(want, sizeof(want), "[%03d]", cpu);
	for (p = buf; (p = strstr(p, "lazy_cma_clear_work")); p++) {
		char *line = p;

		while (line > buf && line[-1] != '\n')
			line--;
		n++;
		if (cpu >= 0 && !memmem(line, p - line, want, strlen(want))) {
			if (!*elsewhere)
				TH_LOG("clearing outside CPU %d: %.*s", cpu,
				       (int)(p - line) + 19, line);
			(*elsewhere)++;
		}
	}
	free(buf);
	return n;
}

/*
 * A caller whose range the driver clears (init_on_alloc=0: the page
 * allocator does not) gets workers on its other CPUs, and none on a CPU it
 * may not run on.
 */
TEST_F(alloc, clearing_stays_on_allowed_cpus)
{
	cpu_set_t one, saved;
	int n, elsewhere, cpu;

	ASSERT_EQ(0, access(WQ_EVENT, F_OK));
	ASSERT_EQ(0, sched_getaffinity(0, sizeof(saved), &saved));
	if (CPU_COUNT(&saved) < 2)
		SKIP(return, "one CPU");
	n = clear_workers(_metadata, self->fd, variant->node, -1, &elsewhere);
	ASSERT_LE(0, n);
	if (!n)
		SKIP(return, "the page allocator clears (init_on_alloc=1)");

	cpu = sched_getcpu();
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(one), &one));
	n = clear_workers(_metadata, self->fd, variant->node, cpu, &elsewhere);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(saved), &saved));
	TH_LOG("pinned to CPU %d: %d clearing workers, %d elsewhere", cpu, n, elsewhere);
	EXPECT_EQ(0, elsewhere);
}

#define KSEARCH "/sys/module/lazy_cma/parameters/kernel_search"

/* does the running kernel export alloc_contig_pages()? */
static bool exports_alloc_contig_pages(void)
{
	FILE *f = fopen("/proc/kallsyms", "r");
	char line[256];
	bool found = false;

	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, " __ksymtab_alloc_contig_pages\n") ||
			strstr(line, " __ksymtab_alloc_contig_pages_noprof\n");
	if (f)
		fclose(f);
	return found;
}

/* words of [phys, phys + len) that are not zero (all if it cannot be mapped) */
static uint64_t nonzero(int fd, uint64_t phys, uint64_t len)
{
	uint64_t *m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, phys), i, n = 0;

	if (m == MAP_FAILED)
		return len / 8;
	for (i = 0; i < len / 8; i++)
		n += m[i] != 0;
	munmap(m, len);
	return n;
}

/*
 * kernel_search=Y: the kernel's alloc_contig_pages() picks the window, and
 * the result is a region like any other (node, alignment, /proc/iomem,
 * zeroed).  The kernel searches bottom-up, the driver top-down: on idle
 * node 1 the two differ.  Where the kernel does not export the function,
 * the parameter does not exist.
 */
TEST_F(alloc, kernel_search_strategy)
{
	static const uint64_t lens[] = { 64 * 1024, 4 * SZ_1M };
	uint64_t phys, own;
	int i;

	ASSERT_EQ(exports_alloc_contig_pages(), access(KSEARCH, F_OK) == 0);
	if (access(KSEARCH, F_OK))
		return;
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, write_str(KSEARCH, "Y"));
		EXPECT_EQ(0, lc_alloc(self->fd, lens[i], variant->node, "ksearch", &phys));
		ASSERT_EQ(0, write_str(KSEARCH, "N"));
		ASSERT_NE(0, phys);
		TH_LOG("kernel_search %llu KiB: %#llx", (unsigned long long)lens[i] >> 10,
		       (unsigned long long)phys);
		EXPECT_EQ(variant->node, phys_node(phys));
		EXPECT_EQ(0, phys % SZ_2M);
		EXPECT_TRUE(iomem_has(phys, phys + lens[i] - 1, "ksearch"));
		EXPECT_EQ(0, nonzero(self->fd, phys, lens[i]));
		ASSERT_EQ(0, lc_alloc(self->fd, lens[i], variant->node, "own", &own));
		if (variant->node == 1)
			EXPECT_LT(phys, own);
		EXPECT_EQ(0, lc_free(self->fd, phys));
		EXPECT_EQ(0, lc_free(self->fd, own));
	}
}

TEST_HARNESS_MAIN
