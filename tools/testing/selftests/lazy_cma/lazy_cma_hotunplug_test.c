// SPDX-License-Identifier: GPL-2.0
/*
 * Memory that goes offline while lazy_cma allocates from its node.
 *
 * - naive=1 never hands alloc_contig_range() a window that holds an offline
 *   block: a kprobe on alloc_contig_range() must never see a range that
 *   overlaps it.
 * - Node 1's blocks are offlined and onlined in a loop while threads
 *   allocate, grow and free regions and heap buffers on node 1: every call
 *   succeeds on online memory of node 1 (checked in sysfs while the region
 *   lives) or fails with a documented errno, and the kernel reports nothing
 *   (the debug kernel's checkers are what catch a walk over an offline
 *   block's memmap).  A region held through the whole loop makes its
 *   block's offlining fail at once with EBUSY each time it is tried: the
 *   module's veto.  Regions, grows, heap buffers, offlined blocks and
 *   refusals must all have happened.
 * - Where alloc_contig_range() failed (a page of node 1 held by a pipe), the
 *   block's next offlining is refused once (EBUSY), and the one after it
 *   goes through.
 * - An offlining that is interrupted after it started (MEM_CANCEL_OFFLINE)
 *   leaves its block claimable: regions are taken from it afterwards.
 *
 * Node 1 is onlined (online_movable) first if it is not; it is left online.
 * LAZY_CMA_STRESS_SECONDS sets the length of the loop (default 120; the gate
 * runs 20, which still gives dozens of each count on the debug kernel).
 */
#include <linux/dma-heap.h>
#include <dirent.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <time.h>

#include "lazy_cma_lib.h"
#include "kselftest_harness.h"

#define MEMDIR		"/sys/devices/system/memory"
#define TRACING		"/sys/kernel/tracing"
#define NAIVE_PARAM	"/sys/module/lazy_cma/parameters/naive"
#define KPROBE_EV	TRACING "/events/lazy_cma_test/acr/enable"
#define HEAP1		"/dev/dma_heap/lazy_cma-node1"
#define MAX_BLOCKS	256
#define WORKERS		3

static unsigned long long block_bytes(void)
{
	char buf[64] = "";
	FILE *f = fopen(MEMDIR "/block_size_bytes", "r");

	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return strtoull(buf, NULL, 16);
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* node 1's memory block numbers, ascending */
static int node1_blocks(int *out)
{
	DIR *d = opendir("/sys/devices/system/node/node1");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) && n < MAX_BLOCKS) {
		if (strncmp(e->d_name, "memory", 6) || e->d_name[6] < '0' || e->d_name[6] > '9')
			continue;
		out[n++] = atoi(e->d_name + 6);
	}
	closedir(d);
	qsort(out, n, sizeof(*out), cmp_int);
	return n;
}

static int block_set(int block, const char *state)
{
	char path[128];

	snprintf(path, sizeof(path), MEMDIR "/memory%d/state", block);
	return write_str(path, state);
}

static void block_state(int block, char *buf, int size)
{
	char path[128];
	FILE *f;

	buf[0] = 0;
	snprintf(path, sizeof(path), MEMDIR "/memory%d/state", block);
	f = fopen(path, "r");
	if (!f)
		return;
	if (!fgets(buf, size, f))
		buf[0] = 0;
	fclose(f);
}

static bool block_online(int block)
{
	char buf[32];

	block_state(block, buf, sizeof(buf));
	return !strcmp(buf, "online\n");
}

/*
 * Online, and staying so, while the caller holds memory in it: an offlining
 * that is being refused shows "going-offline" until the refusal.
 */
static bool block_stays_online(int block)
{
	char buf[32];
	int i;

	for (i = 0; i < 1000; i++) {
		block_state(block, buf, sizeof(buf));
		if (strcmp(buf, "going-offline\n"))
			break;
		usleep(10 * 1000);
	}
	return !strcmp(buf, "online\n");
}

/* online @block, retrying a transient failure */
static int block_bring_online(int block)
{
	int i, ret = 0;

	for (i = 0; i < 50; i++) {
		if (block_online(block))
			return 0;
		ret = block_set(block, "online_movable");
		if (!ret)
			return 0;
		usleep(20 * 1000);
	}
	return ret;
}

static int node1_online(int *blocks, int n)
{
	int i, ret;

	for (i = 0; i < n; i++) {
		ret = block_bring_online(blocks[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/* offline @block, retrying while its pages are still being migrated away */
static int block_take_offline(int block)
{
	int i, ret = 0;

	for (i = 0; i < 50; i++) {
		ret = block_set(block, "offline");
		if (!ret)
			return 0;
		usleep(100 * 1000);
	}
	return ret;
}

FIXTURE(unplug) {
	int fd;
	int blocks[MAX_BLOCKS];
	int nr_blocks;
	unsigned long long bs;
};

FIXTURE_SETUP(unplug)
{
	self->fd = lc_open();
	ASSERT_LE(0, self->fd);
	self->bs = block_bytes();
	ASSERT_NE(0, self->bs);
	self->nr_blocks = node1_blocks(self->blocks);
	ASSERT_LE(4, self->nr_blocks) TH_LOG("node 1 needs at least 4 memory blocks");
	ASSERT_EQ(0, node1_online(self->blocks, self->nr_blocks));
}

FIXTURE_TEARDOWN(unplug)
{
	write_str(NAIVE_PARAM, "N");
	write_str(KPROBE_EV, "0");
	write_str(TRACING "/kprobe_events", "");
	node1_online(self->blocks, self->nr_blocks);
	close(self->fd);
}

/*
 * Offline the second-highest block of node 1, then ask the naive search for
 * two blocks' worth: the windows from the top down straddle the offline block
 * (online first and last page) until they are below it.  None of them may
 * reach alloc_contig_range() (whose work on a range starts with the memmap
 * of its first and last pageblocks).
 */
/* a kprobe event lazy_cma_test/acr on alloc_contig_range(), by any of its names */
static int probe_alloc_contig_range(void)
{
	static const char *const names[] = {
		"alloc_contig_range_noprof", "alloc_contig_range",
	};
	char def[160];
	unsigned int i;

	for (i = 0; i < 2; i++) {
		snprintf(def, sizeof(def), "p:lazy_cma_test/acr %s start=%%di:x64 end=%%si:x64",
			 names[i]);
		if (!write_str(TRACING "/kprobe_events", def))
			return 0;
	}
	return -1;
}

TEST_F_TIMEOUT(unplug, naive_skips_offline_block, 600)
{
	int hole = self->blocks[self->nr_blocks - 2];
	unsigned long long hole_lo = hole * self->bs / SZ_4K;
	unsigned long long hole_hi = hole_lo + self->bs / SZ_4K;
	unsigned long long start, end, seen = 0, bad = 0;
	uint64_t phys = 0, len = 2 * self->bs;
	char *buf, *p;
	ssize_t n;
	int fd;

	ASSERT_EQ(0, probe_alloc_contig_range()) TH_LOG("no kprobe events in %s", TRACING);
	ASSERT_EQ(0, block_take_offline(hole));

	fd = open(TRACING "/trace", O_WRONLY | O_TRUNC);	/* empties it */
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(0, write_str(KPROBE_EV, "1"));
	ASSERT_EQ(0, write_str(NAIVE_PARAM, "Y"));
	EXPECT_EQ(0, lc_alloc(self->fd, len, 1, "naive", &phys));
	ASSERT_EQ(0, write_str(NAIVE_PARAM, "N"));
	ASSERT_EQ(0, write_str(KPROBE_EV, "0"));
	if (phys) {
		EXPECT_EQ(1, phys_node(phys));
		EXPECT_TRUE(phys + len <= hole_lo * SZ_4K || phys >= hole_hi * SZ_4K)
			TH_LOG("region %#llx+%#llx holds offline block %d",
			       (unsigned long long)phys, (unsigned long long)len, hole);
		EXPECT_EQ(0, lc_free(self->fd, phys));
	}

	buf = calloc(1, 8 << 20);
	ASSERT_NE(NULL, buf);
	fd = open(TRACING "/trace", O_RDONLY);
	ASSERT_LE(0, fd);
	n = 0;
	for (;;) {
		ssize_t r = read(fd, buf + n, (8 << 20) - 1 - n);

		if (r <= 0)
			break;
		n += r;
	}
	close(fd);
	for (p = buf; (p = strstr(p, "start=0x")); p++) {
		if (sscanf(p, "start=%llx end=%llx", &start, &end) != 2)
			continue;
		seen++;
		if (start < hole_hi && end > hole_lo) {
			if (!bad)
				TH_LOG("alloc_contig_range() over offline block %d (pfn %#llx-%#llx): %.120s",
				       hole, hole_lo, hole_hi, p);
			bad++;
		}
	}
	free(buf);
	TH_LOG("%llu alloc_contig_range() tests, %llu over the offline block %d (pfn %#llx-%#llx); region at %#llx",
	       seen, bad, hole, hole_lo, hole_hi, (unsigned long long)phys);
	EXPECT_LT(0, seen);
	EXPECT_EQ(0, bad);
	EXPECT_EQ(0, block_bring_online(hole));
}

struct stress {
	struct __test_metadata *md;
	int fd;
	int *blocks;
	int nr_blocks;
	unsigned long long bs;
	time_t deadline;
	pthread_mutex_t lock;
	int heap_fd;			/* node 1's heap, opened before the loop */
	char error[256];		/* the first thing that went wrong */
	unsigned long allocs, alloc_fail, grows, grow_fail, heap, heap_fail;
	unsigned long offlined, offline_busy;
	uint64_t held;			/* a region that lives through the loop */
	unsigned long held_refused;	/* offlinings of its block refused */
};

static void stress_error(struct stress *s, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&s->lock);
	if (!s->error[0]) {
		va_start(ap, fmt);
		vsnprintf(s->error, sizeof(s->error), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&s->lock);
}

static void stress_count(struct stress *s, unsigned long *c)
{
	pthread_mutex_lock(&s->lock);
	(*c)++;
	pthread_mutex_unlock(&s->lock);
}

/* [phys, phys + len) lies in online blocks of node 1 and reads as zero */
static void check_region(struct stress *s, uint64_t phys, uint64_t len, const char *what)
{
	unsigned long long b;
	char *m;

	for (b = phys / s->bs; b <= (phys + len - 1) / s->bs; b++)
		if (!block_stays_online(b))
			stress_error(s, "%s %#llx+%#llx: block %llu is not online", what,
				     (unsigned long long)phys, (unsigned long long)len, b);
	if (phys_node(phys) != 1 || phys_node(phys + len - 1) != 1)
		stress_error(s, "%s %#llx+%#llx: not on node 1", what,
			     (unsigned long long)phys, (unsigned long long)len);
	m = mmap(NULL, SZ_4K, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd,
		 phys + len - SZ_4K);
	if (m == MAP_FAILED) {
		stress_error(s, "%s: mmap: %s", what, strerror(errno));
		return;
	}
	if (m[0] || m[SZ_4K - 1])
		stress_error(s, "%s %#llx: last page not zero", what, (unsigned long long)phys);
	memset(m, 0x5a, SZ_4K);
	munmap(m, SZ_4K);
}

static void *stress_worker(void *arg)
{
	static const uint64_t sizes[] = { SZ_2M, 6 * SZ_1M, 30 * SZ_1M, 64 * SZ_1M,
					  130 * SZ_1M };
	struct stress *s = arg;
	unsigned int seed = (unsigned int)(uintptr_t)&seed;

	while (time(NULL) < s->deadline) {
		uint64_t len = sizes[rand_r(&seed) % 5], phys = 0, p, l;
		int ret;

		ret = lc_alloc(s->fd, len, 1, "unplug", &phys);
		if (ret) {
			if (ret != -ENOMEM && ret != -ENODEV)
				stress_error(s, "ALLOC %llu: %s", (unsigned long long)len,
					     strerror(-ret));
			stress_count(s, &s->alloc_fail);
		} else {
			stress_count(s, &s->allocs);
			check_region(s, phys, len, "ALLOC");
			p = phys;
			l = 2 * len;
			ret = lc_resize(s->fd, &p, &l);
			if (ret) {
				if (ret != -ENOMEM && ret != -ENODEV)
					stress_error(s, "RESIZE %llu: %s",
						     (unsigned long long)l, strerror(-ret));
				stress_count(s, &s->grow_fail);
			} else {
				stress_count(s, &s->grows);
				check_region(s, p, l, "RESIZE");
			}
			ret = lc_free(s->fd, p);
			if (ret)
				stress_error(s, "FREE %#llx: %s", (unsigned long long)p,
					     strerror(-ret));
		}

		{
			struct dma_heap_allocation_data d = {
				.len = sizes[rand_r(&seed) % 4], .fd_flags = O_RDWR,
			};

			if (ioctl(s->heap_fd, DMA_HEAP_IOCTL_ALLOC, &d)) {
				if (errno != ENOMEM && errno != ENODEV)
					stress_error(s, "heap ALLOC: %s", strerror(errno));
				stress_count(s, &s->heap_fail);
			} else {
				stress_count(s, &s->heap);
				close((int)d.fd);
			}
		}
	}
	return NULL;
}

static void *stress_offliner(void *arg)
{
	struct stress *s = arg;
	unsigned int seed = 1;

	while (time(NULL) < s->deadline) {
		int b = s->held / s->bs, ret;

		/*
		 * First the block of the region that lives through the loop:
		 * lazy_cma must refuse it at once (EBUSY).  Without the veto
		 * the offlining would wait until that region is freed after the
		 * loop, and then succeed.
		 */
		ret = block_set(b, "offline");
		if (ret == -EBUSY) {
			stress_count(s, &s->held_refused);
		} else {
			stress_error(s, "offline block %d under the live region %#llx: %s",
				     b, (unsigned long long)s->held,
				     ret ? strerror(-ret) : "it went offline");
			if (!ret && block_bring_online(b))
				stress_error(s, "online block %d failed", b);
		}

		/* then any block of node 1 */
		b = s->blocks[rand_r(&seed) % s->nr_blocks];
		ret = block_set(b, "offline");
		if (!ret) {
			stress_count(s, &s->offlined);
			usleep(10 * 1000);
		} else if (ret == -EBUSY) {
			stress_count(s, &s->offline_busy);
		} else {
			stress_error(s, "offline block %d: %s", b, strerror(-ret));
		}
		ret = block_bring_online(b);
		if (ret)
			stress_error(s, "online block %d: %s", b, strerror(-ret));
	}
	return NULL;
}

TEST_F_TIMEOUT(unplug, offline_online_while_allocating, 1500)
{
	const char *env = getenv("LAZY_CMA_STRESS_SECONDS");
	pthread_t workers[WORKERS], offliner;
	struct stress s = {
		.md = _metadata, .fd = self->fd, .blocks = self->blocks,
		.nr_blocks = self->nr_blocks, .bs = self->bs,
		.lock = PTHREAD_MUTEX_INITIALIZER,
	};
	int i;

	/* the heap half is half of the test: no heap, no test */
	s.heap_fd = open(HEAP1, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, s.heap_fd) TH_LOG("%s: %s", HEAP1, strerror(errno));
	ASSERT_EQ(0, lc_alloc(self->fd, SZ_2M, 1, "held", &s.held));
	s.deadline = time(NULL) + (env ? atoi(env) : 120);
	ASSERT_EQ(0, pthread_create(&offliner, NULL, stress_offliner, &s));
	for (i = 0; i < WORKERS; i++)
		ASSERT_EQ(0, pthread_create(&workers[i], NULL, stress_worker, &s));
	for (i = 0; i < WORKERS; i++)
		pthread_join(workers[i], NULL);
	/* an offlining that waits for the held region ends now */
	EXPECT_EQ(0, lc_free(self->fd, s.held));
	pthread_join(offliner, NULL);

	TH_LOG("regions %lu (failed %lu), grown %lu (failed %lu), heap buffers %lu (failed %lu), blocks offlined %lu (refused %lu), the held region's block refused %lu times",
	       s.allocs, s.alloc_fail, s.grows, s.grow_fail, s.heap, s.heap_fail,
	       s.offlined, s.offline_busy, s.held_refused);
	close(s.heap_fd);
	EXPECT_STREQ("", s.error);
	/*
	 * Both sides must really have run against each other: regions were
	 * taken and grown, heap buffers were taken, blocks went offline, and
	 * offlining was refused (EBUSY) because lazy_cma held memory in the
	 * block: that veto is what the loop is about (the held region's block
	 * every time it was tried, other blocks when a region was there).
	 */
	EXPECT_LT(0, s.allocs);
	EXPECT_LT(0, s.grows);
	EXPECT_LT(0, s.heap);
	EXPECT_LT(0, s.offlined);
	EXPECT_LT(0, s.held_refused);
	EXPECT_EQ(0, lc_count(self->fd));
}

/*
 * A page of node 1 held by a pipe (vmsplice): it can be neither migrated nor
 * freed while the pipe is open, so alloc_contig_range() fails on any window
 * that holds it, and offlining its block waits for it.  Its block number,
 * or -1 (and p[] closed).
 */
struct held_page {
	char *page;
	int p[2];
};

static void release_page(struct held_page *h)
{
	if (h->p[0] >= 0)
		close(h->p[0]);
	if (h->p[1] >= 0)
		close(h->p[1]);
	h->p[0] = -1;
	h->p[1] = -1;
	if (h->page != MAP_FAILED)
		munmap(h->page, SZ_4K);
	h->page = MAP_FAILED;
}

static int hold_node1_page(struct held_page *h, unsigned long long bs)
{
	unsigned long mask = 1UL << 1;
	struct iovec iov;
	uint64_t pfn;

	h->p[0] = -1;
	h->p[1] = -1;
	h->page = mmap(NULL, SZ_4K, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (h->page == MAP_FAILED)
		return -1;
	if (syscall(__NR_mbind, h->page, SZ_4K, 1 /* MPOL_PREFERRED */, &mask,
		    8 * sizeof(mask), 0))
		goto out;
	h->page[0] = 1;
	iov.iov_base = h->page;
	iov.iov_len = SZ_4K;
	if (pipe(h->p) || vmsplice(h->p[1], &iov, 1, 0) != SZ_4K)
		goto out;
	pfn = self_pfn(h->page);
	if (pfn && phys_node(pfn * SZ_4K) == 1)
		return (int)(pfn * SZ_4K / bs);
out:
	release_page(h);
	return -1;
}

/* take regions of 2 MiB on node 1 until it has none left; how many in @block */
static int fill_node1_2m(int fd, unsigned long long bs, int block, int *total)
{
	uint64_t phys;
	int in_block = 0;

	*total = 0;
	while (*total < 8192 && !lc_alloc(fd, SZ_2M, 1, "fill", &phys)) {
		(*total)++;
		in_block += (int)(phys / bs) == block;
	}
	return in_block;
}

/*
 * A page of node 1 is held by a pipe, node 1 is filled with regions of 2 MiB
 * (alloc_contig_range() fails on the windows that hold the page), they are
 * freed, and the pipe is closed.  The module remembers the failed range: a
 * failed alloc_contig_range() undoes the isolation an offlining relies on,
 * so the next offlining of that block is refused (EBUSY), once; the one
 * after it goes through.
 */
TEST_F_TIMEOUT(unplug, offline_refused_after_failed_range, 300)
{
	struct held_page h;
	int block, total, ret;

	block = hold_node1_page(&h, self->bs);
	ASSERT_LE(0, block) TH_LOG("no page of node 1 held by a pipe");
	fill_node1_2m(self->fd, self->bs, block, &total);
	lc_free_all(self->fd);
	release_page(&h);
	TH_LOG("%d regions of 2 MiB on node 1; the pipe's page in memory%d", total, block);
	ASSERT_LT(0, total);

	ret = block_set(block, "offline");
	EXPECT_EQ(-EBUSY, ret)
		TH_LOG("memory%d offlined (%d) after alloc_contig_range() failed in it",
		       block, ret);
	EXPECT_EQ(0, block_take_offline(block));
	EXPECT_EQ(0, block_bring_online(block));
}

static void offline_until_alarm(void *arg)
{
	alarm(2);
	block_set(*(int *)arg, "offline");
}

/*
 * A page of node 1 is held by a pipe, and an offlining of its block is
 * started and killed while it waits for that page (it had begun:
 * MEM_GOING_OFFLINE, then MEM_CANCEL_OFFLINE).  The pipe is closed and node
 * 1 filled with regions of 2 MiB: some of them must lie in that block (an
 * offlining the module still takes as in progress keeps it out of reach).
 */
TEST_F_TIMEOUT(unplug, cancelled_offline_block_claimable, 300)
{
	struct held_page h;
	int block, total, in_block, status;

	block = hold_node1_page(&h, self->bs);
	ASSERT_LE(0, block) TH_LOG("no page of node 1 held by a pipe");
	status = in_child(offline_until_alarm, &block);
	release_page(&h);
	ASSERT_TRUE(killed_by(status, SIGALRM))
		TH_LOG("the offlining of memory%d was not interrupted (status %#x)",
		       block, status);
	ASSERT_TRUE(block_stays_online(block));

	in_block = fill_node1_2m(self->fd, self->bs, block, &total);
	lc_free_all(self->fd);
	TH_LOG("%d regions of 2 MiB on node 1, %d in memory%d", total, in_block, block);
	EXPECT_LT(0, in_block);
}

TEST_HARNESS_MAIN
