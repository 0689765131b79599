// SPDX-License-Identifier: GPL-2.0
/*
 * Allocator promises that need a setup of their own: a RESIZE whose answer
 * cannot be written back changes nothing, whichever way it would have gone
 * (moved, grown in place, shrunk); the CPUs that clear a large range are
 * ones the caller may run on; the safety margin (reserve_mb) holds for
 * requests that race for the last free memory of a node, and in the zone a
 * window is taken from (free pages of another zone do not pay for it); the benchmark's
 * kernel_search baseline exists exactly where the kernel exports
 * alloc_contig_pages(), and gives regions; heap buffers small enough for the
 * buddy allocator keep the margin too; pool pieces of a heap start on a
 * multiple of their size; a shrink gives the cut pages back to the node.
 */
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <sys/klog.h>
#include <sys/mman.h>

#include <linux/dma-heap.h>
#include <linux/mempolicy.h>

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

	/* regions of 2 MiB until one lies less than 8 MiB below another */
	for (n = 0; n < 16; n++) {
		ASSERT_EQ(0, lc_alloc(self->fd, SZ_2M, variant->node, "efault", &r[n]));
		for (i = 0; i < n; i++) {
			for (j = 0; j < n + 1; j++)
				if (j != i && (r[j] - r[i] < 8 * SZ_1M ||
					       r[i] - r[j] < 8 * SZ_1M))
					break;
			if (j < n + 1)
				break;
		}
		if (i < n)
			break;
	}
	ASSERT_GT(16, n) TH_LOG("no two of 16 regions are close");
	/* the higher one is in the way of the lower one growing to 8 MiB */
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

/* pages of [phys + from, phys + len) whose first word is not zero; -1: no map */
static long nonzero_pages(int fd, uint64_t phys, uint64_t from, uint64_t len)
{
	uint64_t *m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, phys);
	uint64_t w;
	long nz = 0;

	if (m == MAP_FAILED)
		return -1;
	for (w = from / 8; w < len / 8; w += 512)
		nz += m[w] != 0;
	munmap(m, len);
	return nz;
}

/*
 * Issue 11's goal: on an idle node, at least 90 % of RESIZEs to twice the
 * length stay in place, for regions of 2 MiB to 256 MiB, whole pageblocks
 * or not; and the two cases first seen moving (5 MiB to 6 MiB, 4 MiB to
 * 6 MiB) stay in place.  The old contents stay, the added part is zero.
 */
TEST_F_TIMEOUT(alloc, grow_twice_in_place, 600)
{
	static const uint64_t mib[] = { 2, 3, 4, 5, 6, 8, 12, 16, 24, 32, 48, 64,
					96, 128, 192, 256 };
	static const uint64_t cases[][2] = { { 5, 6 }, { 4, 6 } };
	unsigned long bad = 0;
	unsigned int i, n = sizeof(mib) / sizeof(mib[0]), in_place = 0;
	uint64_t phys, p, len;

	for (i = 0; i < n + 2; i++) {
		uint64_t from = i < n ? mib[i] : cases[i - n][0];
		uint64_t to = i < n ? 2 * mib[i] : cases[i - n][1];

		ASSERT_EQ(0, lc_alloc(self->fd, from * SZ_1M, variant->node, "grow2x", &phys))
			TH_LOG("%" PRIu64 " MiB", from);
		fill(self->fd, phys, from * SZ_1M, from, false, &bad);
		p = phys;
		len = to * SZ_1M;
		ASSERT_EQ(0, lc_resize(self->fd, &p, &len));
		fill(self->fd, p, from * SZ_1M, from, true, &bad);
		EXPECT_EQ(0, bad);
		EXPECT_EQ(0, nonzero_pages(self->fd, p, from * SZ_1M, len));
		if (i < n)
			in_place += p == phys;
		else
			EXPECT_EQ(phys, p) TH_LOG("%" PRIu64 " MiB to %" PRIu64 " MiB moved",
						  from, to);
		TH_LOG("%" PRIu64 " MiB to %" PRIu64 " MiB: %s", from, to,
		       p == phys ? "in place" : "moved");
		ASSERT_EQ(0, lc_free(self->fd, p));
	}
	TH_LOG("node %d: %u of %u doublings in place", variant->node, in_place, n);
	EXPECT_LE(9 * n, 10 * in_place);
}

#define TRACE		"/sys/kernel/tracing"
#define WQ_QUEUE	TRACE "/events/workqueue/workqueue_queue_work/enable"
#define WQ_EXEC		TRACE "/events/workqueue/workqueue_execute_start/enable"

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
 * Does the page allocator clear the pages it hands out (init_on_alloc)?  The
 * kernel says so once at boot ("mem auto-init: ..., heap alloc:on, ..."),
 * whatever set it (config, command line, or page poisoning overriding it):
 * 1 if it does, 0 if not, -1 if the kernel log does not say.
 */
static int page_allocator_clears(void)
{
	int size = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0), n, ret = -1;
	char *buf, *p;

	if (size <= 0)
		return -1;
	buf = calloc(1, size + 1);
	if (!buf)
		return -1;
	n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, size);
	p = n > 0 ? strstr(buf, "mem auto-init: ") : NULL;
	if (p) {
		p[strcspn(p, "\n")] = '\0';
		if (strstr(p, "heap alloc:on"))
			ret = 1;
		else if (strstr(p, "heap alloc:off"))
			ret = 0;
	}
	free(buf);
	return ret;
}

/* the CPU of a trace line ("task-pid [003] ..."), -1 if there is none */
static int trace_line_cpu(const char *line, const char *end)
{
	const char *p;
	int cpu;

	for (p = line; p < end && (p = memchr(p, '[', end - p)); p++)
		if (sscanf(p, "[%d]", &cpu) == 1)
			return cpu;
	return -1;
}

struct clearing {
	int queued;	/* clearing works queued */
	int ran;	/* clearing works that started */
	int outside;	/* queued for, or run on, a CPU not in the allowed set */
};

/*
 * Allocate 64 MiB with the workqueue tracepoints on, and read what the
 * driver did with its clearing works: how many it queued and how many ran,
 * and how many were queued for or ran on a CPU outside @allowed.
 */
static int clear_workers(struct __test_metadata *_metadata, int fd, int node,
			 const cpu_set_t *allowed, struct clearing *c)
{
	char *buf, *p, *line, *eol;
	ssize_t r, len = 0;
	uint64_t phys;
	int tfd, cpu;

	memset(c, 0, sizeof(*c));
	if (trace_clear() || write_str(WQ_QUEUE, "1") || write_str(WQ_EXEC, "1"))
		return -1;
	EXPECT_EQ(0, lc_alloc(fd, 64 * SZ_1M, node, "cpus", &phys));
	write_str(WQ_QUEUE, "0");
	write_str(WQ_EXEC, "0");
	if (phys)
		EXPECT_EQ(0, lc_free(fd, phys));

	buf = calloc(1, 4 << 20);
	tfd = open(TRACE "/trace", O_RDONLY);
	if (!buf || tfd < 0) {
		free(buf);
		if (tfd >= 0)
			close(tfd);
		return -1;
	}
	while ((r = read(tfd, buf + len, (4 << 20) - 1 - len)) > 0)
		len += r;
	close(tfd);
	for (line = buf; *line; line = *eol ? eol + 1 : eol) {
		eol = line + strcspn(line, "\n");
		p = memmem(line, eol - line, "lazy_cma_clear_work", 19);
		if (!p)
			continue;
		if (memmem(line, eol - line, "workqueue_queue_work:", 21)) {
			/* queued for req_cpu, by the caller on the line's CPU */
			char *rc = memmem(line, eol - line, "req_cpu=", 8);

			c->queued++;
			cpu = rc ? atoi(rc + 8) : -1;
		} else if (memmem(line, eol - line, "workqueue_execute_start:", 24)) {
			c->ran++;
			cpu = trace_line_cpu(line, eol);
		} else {
			continue;
		}
		if (cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, allowed)) {
			if (!c->outside)
				TH_LOG("clearing work outside the allowed CPUs: %.*s",
				       (int)(eol - line), line);
			c->outside++;
		}
	}
	free(buf);
	return 0;
}

/*
 * Where the page allocator does not clear (init_on_alloc=0: a boot option,
 * or a kernel built without it, like the debug kernel), the driver clears a
 * 64 MiB range itself, split among the CPUs the caller may run on: an
 * unpinned caller of a machine with CPUs to spare queues one clearing work
 * per other CPU it may use (up to seven), each for, and run on, one of them.
 * A caller pinned to one CPU queues none: it may use no other CPU, and the
 * driver must not count CPUs it may not run on (a worker queued for the
 * caller's own CPU is that mistake too).  Where the page allocator clears,
 * the driver must not clear again, and the test has nothing more to see.
 */
TEST_F(alloc, clearing_stays_on_allowed_cpus)
{
	int clears = page_allocator_clears(), want, cpu;
	cpu_set_t one, saved;
	struct clearing c;

	ASSERT_LE(0, clears) TH_LOG("the kernel log says nothing of init_on_alloc (mem auto-init)");
	ASSERT_EQ(0, access(WQ_QUEUE, F_OK));
	ASSERT_EQ(0, access(WQ_EXEC, F_OK));
	ASSERT_EQ(0, sched_getaffinity(0, sizeof(saved), &saved));
	ASSERT_EQ(0, clear_workers(_metadata, self->fd, variant->node, &saved, &c));
	TH_LOG("init_on_alloc %s; %d allowed CPUs: %d clearing works queued, %d ran, %d outside them",
	       clears ? "on" : "off", CPU_COUNT(&saved), c.queued, c.ran, c.outside);
	if (clears) {
		ASSERT_EQ(0, c.queued) TH_LOG("the driver clears what the page allocator cleared");
		SKIP(return, "the page allocator clears: init_on_alloc=1 (mem auto-init: heap alloc:on)");
	}
	ASSERT_LE(2, CPU_COUNT(&saved)) TH_LOG("one CPU: nothing to split among");
	want = CPU_COUNT(&saved) < 8 ? CPU_COUNT(&saved) - 1 : 7;
	EXPECT_EQ(want, c.queued) TH_LOG("init_on_alloc=0: the range is not split among the caller's CPUs");
	EXPECT_EQ(c.queued, c.ran);
	EXPECT_EQ(0, c.outside);

	cpu = sched_getcpu();
	ASSERT_LE(0, cpu);
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(one), &one));
	ASSERT_EQ(0, clear_workers(_metadata, self->fd, variant->node, &one, &c));
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(saved), &saved));
	TH_LOG("pinned to CPU %d: %d clearing works queued, %d ran, %d outside it",
	       cpu, c.queued, c.ran, c.outside);
	EXPECT_EQ(0, c.queued) TH_LOG("a caller that may use one CPU got clearing works");
	EXPECT_EQ(0, c.ran);
	EXPECT_EQ(0, c.outside);
}

#define RESERVE_PARAM	"/sys/module/lazy_cma/parameters/reserve_mb"
#define MEMDIR		"/sys/devices/system/memory"
#define PAGES_PER_MB	((long)(SZ_1M / SZ_4K))

struct zone_stat {
	long free;		/* "pages free" */
	long high;		/* high watermark */
	long protection;	/* largest lowmem_reserve ("protection: (...)") */
	long start, spanned;	/* pfns */
};

/* node @nid's zone @name ("Normal", "Movable") from /proc/zoneinfo */
static int zone_stat(int nid, const char *name, struct zone_stat *z)
{
	char line[512], want[64];
	FILE *f = fopen("/proc/zoneinfo", "r");
	bool in = false;
	long v;

	if (!f)
		return -1;
	memset(z, 0, sizeof(*z));
	z->free = z->high = -1;
	snprintf(want, sizeof(want), "Node %d, zone", nid);
	while (fgets(line, sizeof(line), f)) {
		char zn[32], *p;

		if (!strncmp(line, "Node ", 5)) {
			in = !strncmp(line, want, strlen(want)) &&
			     sscanf(line + strlen(want), "%31s", zn) == 1 && !strcmp(zn, name);
			continue;
		}
		if (!in)
			continue;
		if (sscanf(line, " pages free %ld", &v) == 1)
			z->free = v;
		else if (sscanf(line, " high %ld", &v) == 1)
			z->high = v;
		else if (sscanf(line, " spanned %ld", &v) == 1)
			z->spanned = v;
		else if (sscanf(line, " start_pfn: %ld", &v) == 1)
			z->start = v;
		else if ((p = strstr(line, "protection: (")))
			for (p += 13; *p && *p != ')'; p += strspn(p, ", ")) {
				char *end;

				v = strtol(p, &end, 10);
				if (end == p)
					break;
				z->protection = v > z->protection ? v : z->protection;
				p = end;
			}
	}
	fclose(f);
	return z->free < 0 || z->high < 0 ? -1 : 0;
}

/* what the zone must keep free with reserve_mb @reserve_mb, in pages */
static long zone_keep(const struct zone_stat *z, long reserve_mb)
{
	return z->high + z->protection + reserve_mb * PAGES_PER_MB;
}

static int set_reserve_mb(long mb)
{
	char val[32];

	snprintf(val, sizeof(val), "%ld", mb);
	return write_str(RESERVE_PARAM, val);
}

#define RACERS		16
#define RACE_LEN	(32 * SZ_1M)

struct racer {
	int fd;
	pthread_barrier_t *go;
	uint64_t phys;
	int ret;
};

static void *race_for_the_rest(void *arg)
{
	struct racer *r = arg;

	pthread_barrier_wait(r->go);
	r->ret = lc_alloc(r->fd, RACE_LEN, 1, "racer", &r->phys);
	return NULL;
}

/*
 * Fill node 1 with this process's anonymous pages (migratable), leaving
 * about @leave bytes free; the mapping, or MAP_FAILED.
 */
static void *fill_node1(size_t leave, size_t *len)
{
	unsigned long mask = 1UL << 1;
	long free_kb = node_meminfo_kb(1, "MemFree");
	char *m;

	if (free_kb < 0 || (size_t)free_kb * 1024 <= leave)
		return MAP_FAILED;
	*len = ((size_t)free_kb * 1024 - leave) & ~(SZ_2M - 1);
	m = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return m;
	/* base pages: a window holds many of them, each migrated on its own */
	madvise(m, *len, MADV_NOHUGEPAGE);
	if (syscall(__NR_mbind, m, *len, MPOL_PREFERRED, &mask, 8 * sizeof(mask), 0)) {
		munmap(m, *len);
		return MAP_FAILED;
	}
	memset(m, 0x5a, *len);
	return m;
}

/*
 * Each test changes reserve_mb and may fill node 1: the teardown puts both
 * back, whatever failed.
 */
FIXTURE(margin) {
	int fd;
	long saved_reserve_mb;
	void *fill;
	size_t fill_len;
	int normal_block;	/* node 1's block onlined to ZONE_NORMAL, or -1 */
};

FIXTURE_SETUP(margin)
{
	self->fd = lc_open();
	ASSERT_LE(0, self->fd);
	self->saved_reserve_mb = read_long(RESERVE_PARAM);
	ASSERT_LE(0, self->saved_reserve_mb);
	self->fill = MAP_FAILED;
	self->normal_block = -1;
}

static int block_set(int block, const char *state);
static bool block_movable(int block);

FIXTURE_TEARDOWN(margin)
{
	lc_free_all(self->fd);
	EXPECT_EQ(0, set_reserve_mb(self->saved_reserve_mb));
	if (self->fill != MAP_FAILED)
		munmap(self->fill, self->fill_len);
	/* node 1 as the other tests and suites know it: all ZONE_MOVABLE */
	if (self->normal_block >= 0) {
		EXPECT_EQ(0, block_set(self->normal_block, "offline"));
		EXPECT_EQ(0, block_set(self->normal_block, "online_movable"));
		EXPECT_TRUE(block_movable(self->normal_block))
			TH_LOG("node 1's block %d is not back in ZONE_MOVABLE", self->normal_block);
	}
	close(self->fd);
}

/*
 * Node 1 (ZONE_MOVABLE only) is filled with anonymous pages until about
 * 256 MiB are left free, and reserve_mb is set so that its zone has room for
 * one and a half requests of 32 MiB above its high watermark plus
 * reserve_mb.  Sixteen threads then ask for 32 MiB each at the same moment.
 * Every window they can find holds anonymous pages, so alloc_contig_range()
 * migrates for a while before the pages leave the free count: a check that
 * only looks at the free count lets them all through.  The zone must keep
 * its margin: at the end it has at least its high watermark, protection and
 * reserve_mb free, one request got its region (there is room for one) and
 * the others failed with ENOMEM.  The free count drifts a little while the
 * threads run (per-CPU lists, the kernel's own allocations), more so on a
 * busy host: a second region is tolerated, since the room of one and a half
 * requests is then in fact that of two; the margin check decides.  Ignoring
 * the requests in flight lets many more through, below the margin.
 */
TEST_F_TIMEOUT(margin, racing_threads, 300)
{
	int i, taken = 0, refused = 0;
	struct racer r[RACERS];
	pthread_t t[RACERS];
	pthread_barrier_t go;
	struct zone_stat z;
	long reserve_mb;

	self->fill = fill_node1(256 * SZ_1M, &self->fill_len);
	ASSERT_NE(MAP_FAILED, self->fill);
	ASSERT_EQ(0, zone_stat(1, "Movable", &z));
	/* free - (high + reserve) = 48 MiB: one request of 32 MiB, not two */
	reserve_mb = (z.free - z.high - z.protection) / PAGES_PER_MB - 48;
	ASSERT_LT(0, reserve_mb) TH_LOG("node 1 Movable: %ld pages free", z.free);
	ASSERT_EQ(0, set_reserve_mb(reserve_mb));
	TH_LOG("filled: %ld pages free, reserve_mb %ld", z.free, reserve_mb);

	ASSERT_EQ(0, pthread_barrier_init(&go, NULL, RACERS));
	for (i = 0; i < RACERS; i++) {
		r[i] = (struct racer){ .fd = self->fd, .go = &go };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, race_for_the_rest, &r[i]));
	}
	for (i = 0; i < RACERS; i++) {
		pthread_join(t[i], NULL);
		if (!r[i].ret)
			taken++;
		else if (r[i].ret == -ENOMEM)
			refused++;
		else
			TH_LOG("racer %d: %s", i, strerror(-r[i].ret));
	}
	pthread_barrier_destroy(&go);
	ASSERT_EQ(0, zone_stat(1, "Movable", &z));
	TH_LOG("%d of %d racing regions of 32 MiB taken; node 1 Movable: %ld pages free, must keep %ld (high %ld, reserve_mb %ld)",
	       taken, RACERS, z.free, zone_keep(&z, reserve_mb), z.high, reserve_mb);
	EXPECT_LE(zone_keep(&z, reserve_mb), z.free);
	EXPECT_LE(1, taken) TH_LOG("room for one request, and none got it");
	EXPECT_GE(2, taken) TH_LOG("room for one request, and %d got it", taken);
	EXPECT_EQ(RACERS - taken, refused);
}

/* write @state to memory block @block's state, retrying while it is busy */
static int block_set(int block, const char *state)
{
	char path[128];
	int i, ret = 0;

	snprintf(path, sizeof(path), MEMDIR "/memory%d/state", block);
	for (i = 0; i < 50; i++) {
		ret = write_str(path, state);
		if (!ret)
			return 0;
		usleep(100 * 1000);
	}
	return ret;
}

/* is online block @block in ZONE_MOVABLE (its valid_zones: "Movable")? */
static bool block_movable(int block)
{
	char path[128], buf[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), MEMDIR "/memory%d/valid_zones", block);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return !strcmp(buf, "Movable\n");
}

/* the lowest memory block of node 1, -1 if none */
static int node1_lowest_block(void)
{
	DIR *d = opendir("/sys/devices/system/node/node1");
	struct dirent *e;
	int lowest = -1;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "memory", 6) || e->d_name[6] < '0' || e->d_name[6] > '9')
			continue;
		if (lowest < 0 || atoi(e->d_name + 6) < lowest)
			lowest = atoi(e->d_name + 6);
	}
	closedir(d);
	return lowest;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

#define ZONE_REQ	(64 * SZ_1M)
#define MAX_FILL	512

/*
 * Free pages of ZONE_MOVABLE may not pay for a window in ZONE_NORMAL.
 *
 * Node 1's lowest memory block is onlined to ZONE_NORMAL (online_kernel),
 * the rest of node 1 stays ZONE_MOVABLE.  With reserve_mb 0 node 1 is
 * filled with regions of 32 MiB, then of 2 MiB; those in ZONE_NORMAL are
 * given back, and every other one of 32 MiB in ZONE_MOVABLE: ZONE_MOVABLE
 * keeps hundreds of MiB free but no window of 64 MiB, ZONE_NORMAL is empty.
 * reserve_mb is set so that ZONE_NORMAL has room for less than 64 MiB above
 * its high watermark, protection and reserve_mb (but for more without the
 * protection), while the node as a whole has room for many times 64 MiB.
 * A request for 64 MiB on node 1 must fail with ENOMEM and leave ZONE_NORMAL
 * its margin.
 */
TEST_F_TIMEOUT(margin, per_zone, 300)
{
	unsigned long long bs = 0;
	uint64_t normal_lo, normal_hi, big[MAX_FILL], small[MAX_FILL], phys;
	int block = node1_lowest_block(), nbig = 0, nsmall = 0, i, ret;
	long reserve_mb, room_mb, v;
	struct zone_stat n, m;
	char buf[64];
	FILE *f;

	ASSERT_LE(0, block);
	f = fopen(MEMDIR "/block_size_bytes", "r");
	ASSERT_NE(NULL, f);
	if (fgets(buf, sizeof(buf), f))
		bs = strtoull(buf, NULL, 16);
	fclose(f);
	ASSERT_NE(0, bs);
	normal_lo = block * bs;
	normal_hi = normal_lo + bs;

	ASSERT_TRUE(block_movable(block)) TH_LOG("node 1's block %d is not in ZONE_MOVABLE", block);
	ASSERT_EQ(0, block_set(block, "offline"));
	/* from here on the teardown puts it back, whatever fails */
	self->normal_block = block;
	ASSERT_EQ(0, block_set(block, "online_kernel"));
	ASSERT_EQ(0, zone_stat(1, "Normal", &n));
	ASSERT_EQ(normal_lo / SZ_4K, (uint64_t)n.start);

	ASSERT_EQ(0, set_reserve_mb(0));
	while (nbig < MAX_FILL && !lc_alloc(self->fd, ZONE_REQ / 2, 1, "zone", &big[nbig]))
		nbig++;
	while (nsmall < MAX_FILL && !lc_alloc(self->fd, SZ_2M, 1, "zone", &small[nsmall]))
		nsmall++;
	for (i = 0; i < nsmall; i++)
		if (small[i] >= normal_lo && small[i] < normal_hi) {
			EXPECT_EQ(0, lc_free(self->fd, small[i]));
		}
	qsort(big, nbig, sizeof(big[0]), cmp_u64);
	for (i = 0, v = 0; i < nbig; i++) {
		bool normal = big[i] >= normal_lo && big[i] < normal_hi;

		if (normal || v++ % 2) {
			EXPECT_EQ(0, lc_free(self->fd, big[i]));
		}
	}

	ASSERT_EQ(0, zone_stat(1, "Normal", &n));
	ASSERT_EQ(0, zone_stat(1, "Movable", &m));
	/*
	 * Room in ZONE_NORMAL: 8 MiB and half its protection short of the
	 * request.  Ignoring the protection (lowmem_reserve) would make it
	 * fit, as soon as that is above 16 MiB (ZONE_MOVABLE of 1 GiB: 28).
	 */
	room_mb = ZONE_REQ / SZ_1M - n.protection / PAGES_PER_MB / 2 - 8;
	reserve_mb = (n.free - n.high - n.protection) / PAGES_PER_MB - room_mb;
	TH_LOG("%d + %d regions; Normal %ld free (high %ld, protection %ld), Movable %ld free (high %ld); reserve_mb %ld: room for %ld MiB in Normal",
	       nbig, nsmall, n.free, n.high, n.protection, m.free, m.high, reserve_mb, room_mb);
	ASSERT_LT(0, reserve_mb);
	/* the node as a whole has room: a node-wide check lets the request by */
	ASSERT_LT(zone_keep(&n, reserve_mb) + m.high + 4 * (long)(ZONE_REQ / SZ_4K),
		  n.free + m.free);
	ASSERT_EQ(0, set_reserve_mb(reserve_mb));

	ret = lc_alloc(self->fd, ZONE_REQ, 1, "zone", &phys);
	ASSERT_EQ(0, zone_stat(1, "Normal", &n));
	TH_LOG("64 MiB on node 1: %s at %#llx; Normal now %ld free, must keep %ld",
	       ret ? strerror(-ret) : "taken", (unsigned long long)phys, n.free,
	       zone_keep(&n, reserve_mb));
	EXPECT_LE(zone_keep(&n, reserve_mb), n.free);
	EXPECT_EQ(-ENOMEM, ret);
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
 * node 1 the two differ.  Where the kernel does not export the function
 * (Debian's 6.1 and 6.12), the parameter does not exist, and the test is
 * skipped: nothing of it can run there.
 */
TEST_F(alloc, kernel_search_strategy)
{
	static const uint64_t lens[] = { 64 * 1024, 4 * SZ_1M };
	uint64_t phys, own;
	int i;

	ASSERT_EQ(exports_alloc_contig_pages(), access(KSEARCH, F_OK) == 0);
	if (access(KSEARCH, F_OK))
		SKIP(return, "the kernel does not export alloc_contig_pages()");
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

#define HEAP_DEV	"/dev/dma_heap/lazy_cma-node%d"
#define HEAP_RES	"lazy_cma-node%d dma-buf"

/* a dma-buf of @len from @heap: its fd, or -errno */
static int heap_buf(int heap, uint64_t len)
{
	struct dma_heap_allocation_data d = {
		.len = len, .fd_flags = O_RDWR | O_CLOEXEC,
	};

	if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &d))
		return -errno;
	return (int)d.fd;
}

static int heap_open(int node)
{
	char path[64];

	snprintf(path, sizeof(path), HEAP_DEV, node);
	return open(path, O_RDWR | O_CLOEXEC);
}

/*
 * Heap buffers of 2 and 4 MiB are small enough to come from the buddy
 * allocator's free lists (or make a pool chunk) rather than from
 * alloc_contig_range(): that path keeps the zone's margin as well.  With
 * reserve_mb far above the memory of the machine both fail with ENOMEM.
 * (A buffer of 4 KiB may rightly come from a chunk the pool already holds.)
 */
TEST_F(margin, heap_buffers)
{
	static const uint64_t lens[] = { SZ_2M, 2 * SZ_2M };
	int heap = heap_open(0), buf;
	unsigned int i;

	ASSERT_LE(0, heap) TH_LOG(HEAP_DEV ": %s", 0, strerror(errno));
	ASSERT_EQ(0, set_reserve_mb(1000000));
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		buf = heap_buf(heap, lens[i]);
		EXPECT_EQ(-ENOMEM, buf)
			TH_LOG("a heap buffer of %llu KiB with reserve_mb 1000000",
			       (unsigned long long)lens[i] >> 10);
		if (buf >= 0)
			close(buf);
	}
	close(heap);
}

/* the start of the /proc/iomem entry named @name that is not in @seen */
static int iomem_new(const char *name, const uint64_t *seen, int nr_seen,
		     uint64_t *start, uint64_t *len)
{
	char line[256], nm[128];
	unsigned long long s, e;
	int i, found = 0;
	FILE *f = fopen("/proc/iomem", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " %llx-%llx : %127[^\n]", &s, &e, nm) != 3 || strcmp(nm, name))
			continue;
		for (i = 0; i < nr_seen && seen[i] != s; i++)
			;
		if (i == nr_seen) {
			*start = s;
			*len = e - s + 1;
			found++;
		}
	}
	fclose(f);
	return found;
}

/*
 * A heap buffer of 4 KiB is kept, so the next ones come from a pool chunk
 * that already has a piece taken: buffers of 8, 16 and 64 KiB must each
 * start on a multiple of their size (their own /proc/iomem entry tells
 * where), as a device that maps them with large pages needs.
 */
TEST(pool_pieces_naturally_aligned)
{
	static const uint64_t lens[] = { SZ_4K, 2 * SZ_4K, 4 * SZ_4K, 16 * SZ_4K };
	int heap = heap_open(1), bufs[ARRAY_SIZE(lens)];
	uint64_t seen[ARRAY_SIZE(lens)], len;
	char res[64];
	unsigned int i;

	ASSERT_LE(0, heap) TH_LOG(HEAP_DEV ": %s", 1, strerror(errno));
	snprintf(res, sizeof(res), HEAP_RES, 1);
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		bufs[i] = heap_buf(heap, lens[i]);
		ASSERT_LE(0, bufs[i]);
		ASSERT_EQ(1, iomem_new(res, seen, i, &seen[i], &len));
		TH_LOG("%llu KiB at %#llx", (unsigned long long)lens[i] >> 10,
		       (unsigned long long)seen[i]);
		EXPECT_EQ(lens[i], len);
		EXPECT_EQ(0, seen[i] % lens[i])
			TH_LOG("a piece of %llu KiB at %#llx",
			       (unsigned long long)lens[i] >> 10, (unsigned long long)seen[i]);
	}
	while (i--)
		close(bufs[i]);
	close(heap);
}

/* free memory of node @nid, kB: MemFree and the per-CPU lists of its zones */
static long node_free_kb(int nid)
{
	long kb = node_meminfo_kb(nid, "MemFree"), n;
	char line[256];
	int node = -1;
	FILE *f = fopen("/proc/zoneinfo", "r");

	if (kb < 0 || !f) {
		if (f)
			fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node %d, zone", &node) == 1)
			continue;
		if (node == nid && sscanf(line, " count: %ld", &n) == 1)
			kb += n * (long)(SZ_4K >> 10);
	}
	fclose(f);
	return kb;
}

/*
 * A region of 16 MiB on node 1 shrunk to 4 MiB gives the 12 MiB it no
 * longer covers back to the page allocator: node 1's free memory (with its
 * per-CPU lists) rises by at least 8 MiB; the rest is slack for the
 * kernel's own use of the node meanwhile.
 */
TEST(shrink_frees_the_tail)
{
	uint64_t phys, len = 4 * SZ_1M;
	long before, after;
	int fd = lc_open(), ret;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, lc_alloc(fd, 16 * SZ_1M, 1, "shrink", &phys));
	before = node_free_kb(1);
	ret = lc_resize(fd, &phys, &len);
	after = node_free_kb(1);
	/* the region goes whatever failed: later tests expect none */
	EXPECT_EQ(0, lc_free(fd, phys));
	EXPECT_EQ(0, ret);
	EXPECT_EQ(4 * SZ_1M, len);
	close(fd);
	ASSERT_LE(0, before);
	TH_LOG("node 1 free %ld -> %ld kB after shrinking 16 MiB to 4 MiB", before, after);
	EXPECT_LE(8 * 1024, after - before);
}

TEST_HARNESS_MAIN
