// SPDX-License-Identifier: GPL-2.0
/*
 * lazy_cma_bench: how often, how fast, and how fast "no" - measured in one
 * guest, reported as ratios (emulated guests make absolute times
 * meaningless).  Prints a table and, between @@BENCH_JSON@@ markers, JSON.
 *
 * Needs: lazy_cma loaded with heaps, node 1 (hot-plugged, 3 GiB for the
 * 2 GiB sizes), hugetlb 1 GiB pages, and a CMA heap over a cma= reservation
 * for the heap comparison.  "lazy_cma_bench scale [N]" measures only FREE
 * and lookup with up to N (10 000) live regions on node 1, which needs 2 MiB
 * of node 1 per region; "lazy_cma_bench search" only the impossible request
 * and the fragmentation part, default search only.
 */
#include <dirent.h>
#include <signal.h>
#include <linux/dma-heap.h>
#include <linux/mempolicy.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include "lazy_cma_lib.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int fd;
static FILE *js;

static void set_naive(int on)
{
	write_str("/sys/module/lazy_cma/parameters/naive", on ? "Y" : "N");
}

/* seconds for one ALLOC (then freed), or -errno */
static double time_alloc(uint64_t len, int node, uint64_t *keep)
{
	uint64_t phys;
	double t0 = now();
	int r = lc_alloc(fd, len, node, "bench", &phys);
	double t = now() - t0;

	if (r)
		return r;
	if (keep)
		*keep = phys;
	else
		lc_free(fd, phys);
	return t;
}

static double memset_bw(void)
{
	size_t len = 256 * SZ_1M;
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	double best = 1e9;
	int i;

	memset(m, 1, len);
	for (i = 0; i < 3; i++) {
		double t0 = now();

		memset(m, i, len);
		if (now() - t0 < best)
			best = now() - t0;
	}
	munmap(m, len);
	return len / best / 1e9;
}

#define HP1G_NODE0 "/sys/devices/system/node/node0/hugepages/hugepages-1048576kB/nr_hugepages"

static void settle(void)
{
	sync();
	write_str("/proc/sys/vm/drop_caches", "3");
	write_str("/proc/sys/vm/compact_memory", "1");
}

/*
 * One 1 GiB hugetlb page of node 0 (ZONE_MOVABLE cannot hold gigantic pages,
 * so node 1 is no use to it): grow the pool by one, fault the page in (the
 * fault clears it), give it back.  Up to three tries, settling memory
 * between them; *tries gets how many were needed.  Seconds of the one that
 * worked, or -1.
 */
static double hugetlb_1g(int *tries)
{
	for (*tries = 1; *tries <= 3; ++*tries) {
		double t0 = now(), t;
		char *m;

		if (write_str(HP1G_NODE0, "1") || read_long(HP1G_NODE0) != 1) {
			write_str(HP1G_NODE0, "0");
			settle();
			continue;
		}
		m = mmap(NULL, SZ_1G, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | (30 << MAP_HUGE_SHIFT), -1, 0);
		if (m == MAP_FAILED) {
			write_str(HP1G_NODE0, "0");
			continue;
		}
		m[0] = 1;	/* the fault-in clears the 1 GiB page */
		t = now() - t0;
		munmap(m, SZ_1G);
		write_str(HP1G_NODE0, "0");
		return t;
	}
	return -1;
}

static int heap_open(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/dev/dma_heap/%s", name);
	return open(path, O_RDWR | O_CLOEXEC);
}

/* 64 MiB buffers per second from heap @h (allocate, touch, close) */
static double heap_rate(int h, int n)
{
	double t0 = now();
	int i;

	for (i = 0; i < n; i++) {
		struct dma_heap_allocation_data d = { .len = 64 * SZ_1M, .fd_flags = O_RDWR };

		if (ioctl(h, DMA_HEAP_IOCTL_ALLOC, &d))
			return -errno;
		close((int)d.fd);
	}
	return n / (now() - t0);
}

static char cma_heap[sizeof(((struct dirent *)0)->d_name)];

static void find_cma_heap(void)
{
	DIR *d = opendir("/dev/dma_heap");
	struct dirent *e;

	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.' && strncmp(e->d_name, "lazy_cma", 8) &&
		    strcmp(e->d_name, "system"))
			snprintf(cma_heap, sizeof(cma_heap), "%s", e->d_name);
	if (d)
		closedir(d);
}

/*
 * Fragment node 0: fill it to 95 % with 1 MiB pieces of page cache (tmpfs
 * files), anonymous memory and slab (socket pairs), interleaved, then free
 * pieces of page cache and anonymous memory picked at random until only
 * @share of it is in use.  What is free is then scattered in 1 MiB holes
 * among pages that must be migrated, and unmovable slab sits among them.
 */
struct frag {
	char **anon;
	int nanon, nfiles, nsock;
	int *socks;
	bool *gone;	/* per piece: freed while punching holes */
	int npieces;
};

static long node0_used_pct(void)
{
	long total = node_meminfo_kb(0, "MemTotal");

	return total > 0 ? 100 - 100 * node_meminfo_kb(0, "MemFree") / total : 100;
}

static void fragment(struct frag *f, double share)
{
	long max = node_meminfo_kb(0, "MemTotal") / 1024, mb;
	char path[64], buf[SZ_1M / 16];
	unsigned int seed = 1;
	int i, k;

	memset(buf, 7, sizeof(buf));
	f->anon = calloc(max + 1, sizeof(char *));
	f->socks = calloc(2 * (max + 1) * 8, sizeof(int));
	f->gone = calloc(max + 1, sizeof(bool));
	mkdir("/tmp/frag", 0700);
	for (mb = 0; mb < max; mb++) {
		if (!(mb % 32) && node0_used_pct() >= 95)
			break;
		switch (mb % 3) {
		case 0:	/* page cache: a 1 MiB file on tmpfs */
			snprintf(path, sizeof(path), "/tmp/frag/%d", f->nfiles++);
			i = open(path, O_CREAT | O_WRONLY, 0600);
			for (k = 0; k < 16; k++)
				if (write(i, buf, sizeof(buf)) < 0)
					break;
			close(i);
			break;
		case 1:	/* anonymous memory */
			f->anon[f->nanon] = mmap(NULL, SZ_1M, PROT_READ | PROT_WRITE,
						 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			memset(f->anon[f->nanon++], 3, SZ_1M);
			break;
		default: /* slab: sockets, scattered among the rest */
			for (k = 0; k < 8; k++)
				if (!socketpair(AF_UNIX, SOCK_STREAM, 0, &f->socks[2 * f->nsock]))
					f->nsock++;
			break;
		}
	}
	f->npieces = mb;
	/* punch holes: random pieces of page cache and anonymous memory */
	for (k = 0; k < 100000 && node0_used_pct() > (long)(share * 100); k++) {
		for (i = 0; i < 32; i++) {
			mb = rand_r(&seed) % f->npieces;
			if (mb % 3 == 2 || f->gone[mb])
				continue;
			f->gone[mb] = true;
			if (mb % 3 == 0) {
				snprintf(path, sizeof(path), "/tmp/frag/%ld", mb / 3);
				unlink(path);
			} else {
				munmap(f->anon[mb / 3], SZ_1M);
			}
		}
	}
}

static void unfragment(struct frag *f)
{
	char path[64];
	int i;

	for (i = 0; i < f->npieces; i++) {
		if (f->gone[i] || i % 3 == 2)
			continue;
		if (i % 3 == 0) {
			snprintf(path, sizeof(path), "/tmp/frag/%d", i / 3);
			unlink(path);
		} else {
			munmap(f->anon[i / 3], SZ_1M);
		}
	}
	for (i = 0; i < 2 * f->nsock; i++)
		close(f->socks[i]);
	free(f->anon);
	free(f->socks);
	free(f->gone);
	memset(f, 0, sizeof(*f));
}

/*
 * @len allocations on node 0 until one fails or @limit seconds pass (the
 * naive strategy can take very long), in a child that reports each address;
 * all freed again.  Returns the count; *secs gets the time taken.
 */
static int count_allocs(uint64_t len, double limit, double *secs, bool *timed_out)
{
	uint64_t phys;
	int p[2], n = 0, status;
	double t0 = now();
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (!pid) {
		int cfd = lc_open();

		close(p[0]);
		while (n++ < 64 && !lc_alloc(cfd, len, 0, "bench", &phys))
			if (write(p[1], &phys, sizeof(phys)) != sizeof(phys))
				break;
		_exit(0);
	}
	close(p[1]);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	*timed_out = false;
	for (;;) {
		ssize_t r = read(p[0], &phys, sizeof(phys));

		if (r == sizeof(phys)) {
			/* kept until the child is done: the count is of coexisting regions */
			n++;
			continue;
		}
		if (r == 0)
			break;
		if (now() - t0 > limit) {
			kill(pid, SIGKILL);
			*timed_out = true;
			break;
		}
		usleep(10 * 1000);
	}
	waitpid(pid, &status, 0);
	/* a killed child may have made one more region: it is ours to free */
	while (read(p[0], &phys, sizeof(phys)) == sizeof(phys))
		n++;
	close(p[0]);
	/* every region the child made, counted or not */
	lc_free_all(fd);
	*secs = now() - t0;
	return n;
}

/*
 * "All candidates pinned": fill node 0's free memory with anonymous pages,
 * pin one of them (FOLL_LONGTERM, as io_uring fixed buffers, RDMA and VFIO
 * do) in every @stride of physical memory that holds one, and free the rest.
 * Returns the io_uring whose registered buffers hold the pins (closing it
 * unpins), or -errno.
 */
static int pin_node0_every(uint64_t stride)
{
	long kb = node_meminfo_kb(0, "MemFree") - 384 * 1024;
	size_t len = (size_t)(kb > 0 ? kb : 0) * 1024, pages = len / SZ_4K, i;
	unsigned long node0 = 1, nbuckets = 64 * 1024;
	char **pin = calloc(nbuckets, sizeof(char *));
	bool *seen = calloc(nbuckets, sizeof(bool));
	uint64_t *map = calloc(pages + 1, sizeof(*map));
	int pm, ring, n = 0;
	char *m;

	if (!pages || !pin || !seen || !map)
		return -ENOMEM;
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -errno;
	syscall(__NR_mbind, m, len, MPOL_BIND, &node0, 8 * sizeof(node0), 0);
	memset(m, 5, len);
	/* the whole filler's page frames at once: self_pfn() per page is slow */
	pm = open("/proc/self/pagemap", O_RDONLY);
	if (pm < 0 || pread(pm, map, pages * 8, (off_t)((uintptr_t)m / SZ_4K) * 8) !=
		      (ssize_t)(pages * 8))
		pages = 0;
	if (pm >= 0)
		close(pm);
	for (i = 0; i < pages && n < (int)nbuckets; i++) {
		uint64_t pfn = map[i] & ((1ULL << 55) - 1), b;

		if (!(map[i] >> 63) || !pfn)
			continue;
		b = pfn * SZ_4K / stride;
		if (b >= nbuckets || seen[b])
			continue;
		seen[b] = true;
		pin[n++] = m + i * SZ_4K;
	}
	ring = n ? pin_pages(pin, n) : -ENOENT;
	printf("pinned %d pages of node 0, one per %llu MiB of physical memory\n", n,
	       (unsigned long long)(stride >> 20));
	munmap(m, len);	/* the pinned pages stay, held by the ring */
	free(map);
	free(seen);
	free(pin);
	return ring;
}

static int count_hugetlb_1g(void)
{
	int n;

	write_str(HP1G_NODE0, "64");
	n = (int)read_long(HP1G_NODE0);
	write_str(HP1G_NODE0, "0");
	return n;
}

/* free + reclaimable (page cache that is not tmpfs) of node 0, in 256 MiB units */
static double possible_256(void)
{
	long kb = node_meminfo_kb(0, "MemFree") + node_meminfo_kb(0, "FilePages") -
		  node_meminfo_kb(0, "Shmem");

	return kb / 1024.0 / 256.0;
}

/*
 * FREE and lookup with many live regions: 4 KiB regions on @node (each takes
 * its own 2 MiB-aligned start, so 10 000 of them span 20 GiB: make bench runs
 * this part in a guest with a large node 1).  Lookup is LIST of one address;
 * FREE is timed alone, the region is made again untimed.
 */
static int scaling(int node, int max)
{
	static const int counts[] = { 10, 100, 1000, 10000 };
	uint64_t *phys = calloc(max, sizeof(*phys));
	int c, k, made = 0;
	double t_build = now();
	char json[1024] = "";

	printf("%8s %14s %14s %16s\n", "regions", "lookup us", "FREE us", "ALLOC 4K ms");
	for (c = 0; c < 4 && counts[c] <= max; c++) {
		double tl, tfr = 0, ta = 0, t0;
		int reps = 50;

		while (made < counts[c] && !lc_alloc(fd, SZ_4K, node, "many", &phys[made]))
			made++;
		if (made < counts[c])
			break;
		t0 = now();
		for (k = 0; k < 1000; k++) {
			struct lazy_cma_region_info info;

			lc_find(fd, phys[(k * 7919) % made], &info);
		}
		tl = (now() - t0) / 1000 * 1e6;
		for (k = 0; k < reps; k++) {
			int idx = (k * 7919) % made;

			t0 = now();
			lc_free(fd, phys[idx]);
			tfr += now() - t0;
			t0 = now();
			if (lc_alloc(fd, SZ_4K, node, "many", &phys[idx]))
				return -1;
			ta += now() - t0;
		}
		tfr = tfr / reps * 1e6;
		ta = ta / reps * 1e3;
		printf("%8d %14.1f %14.1f %16.2f\n", made, tl, tfr, ta);
		snprintf(json + strlen(json), sizeof(json) - strlen(json),
			 "%s{\"regions\": %d, \"lookup_us\": %.1f, \"free_us\": %.1f, \"alloc_4k_ms\": %.2f}",
			 c ? ", " : "", made, tl, tfr, ta);
	}
	printf("%d regions made and looked up in %.0f s\n", made, now() - t_build);
	fprintf(js, "@@BENCH_SCALING@@\n[%s]\n@@BENCH_SCALING_END@@\n", json);
	lc_free_all(fd);
	free(phys);
	return made;
}

/*
 * "lazy_cma_bench search": the two parts where the search strategy decides,
 * with the default search only (a quick before/after of a search change):
 * the impossible request on pinned node 0, then 256 MiB ALLOCs at 75 %
 * fragmentation.
 */
static int search_only(void)
{
	double fail_s, frag_s, possible;
	struct frag f = { 0 };
	long used;
	bool to;
	int ring, got, n;

	settle();
	ring = pin_node0_every(64 * SZ_1M);
	got = count_allocs(768 * SZ_1M, 60, &fail_s, &to);
	if (ring >= 0)
		close(ring);
	printf("%-44s %10.3f s%s\n", "impossible 768 MiB request fails in", fail_s,
	       ring < 0 ? "  [no pins: io_uring failed]" : got ? "  [it succeeded!]" : "");
	settle();
	fragment(&f, 0.75);
	used = node0_used_pct();
	possible = possible_256();
	n = count_allocs(256 * SZ_1M, 600, &frag_s, &to);
	printf("node 0 %ld %% used: %.2f x 256 MiB free+reclaimable\n", used, possible);
	printf("%-44s %10d  (ratio %.2f, %.1f s)%s\n", "lazy_cma 256 MiB ALLOCs", n,
	       n / possible, frag_s, to ? "  [stopped at the limit]" : "");
	unfragment(&f);
	return ring < 0 || got;
}

int main(int argc, char **argv)
{
	static const uint64_t sizes_mb[] = { 64, 128, 256, 512, 1024, 2048 };
	double mbw, t1g, thuge, zero_t, zbw, lazy_rate = 0, cma_rate = 0;
	double fail_smart, fail_naive, possible, frag_s, frag_naive_s;
	bool to, to_naive_frag, naive_capped, impossible_made = false;
	int i, heap1, cmah, n_smart, n_naive, n_huge, huge_tries;
	long used_pct, impossible_free_mib;
	struct frag f = { 0 };
	char kernel[128] = "", sizes_json[2048] = "";
	FILE *v;

	/* the fragmenter's sockets need many descriptors */
	{
		struct rlimit rl = { 65536, 65536 };

		setrlimit(RLIMIT_NOFILE, &rl);
	}
	fd = lc_open();
	if (fd < 0) {
		perror("/dev/lazy_cma");
		return 1;
	}
	js = stdout;
	if (argc > 1 && !strcmp(argv[1], "scale"))
		return scaling(1, argc > 2 ? atoi(argv[2]) : 10000) > 0 ? 0 : 1;
	if (argc > 1 && !strcmp(argv[1], "search"))
		return search_only();

	v = fopen("/proc/sys/kernel/osrelease", "r");
	if (v && fgets(kernel, sizeof(kernel), v))
		kernel[strcspn(kernel, "\n")] = '\0';
	if (v)
		fclose(v);

	mbw = memset_bw();
	/* zeroing: a 512 MiB ALLOC on empty, movable node 1 is nearly all zeroing */
	zero_t = time_alloc(512 * SZ_1M, 1, NULL);
	zbw = zero_t > 0 ? 512.0 * SZ_1M / zero_t / 1e9 : 0;
	printf("%-44s %10.3f GB/s\n", "memset bandwidth (user space, one thread)", mbw);
	printf("%-44s %10.3f GB/s  (ratio %.2f)\n", "ALLOC 512 MiB on node 1 (zeroing)", zbw, zbw / mbw);

	/* 1 GiB on node 0: hugetlb's gigantic pages cannot use ZONE_MOVABLE */
	settle();
	thuge = hugetlb_1g(&huge_tries);
	settle();
	t1g = time_alloc(SZ_1G, 0, NULL);
	printf("%-44s %10.3f s  (try %d)\n", "hugetlb 1 GiB page, node 0: allocate + fault in",
	       thuge, huge_tries);
	printf("%-44s %10.3f s  (ratio %.2f)\n", "lazy_cma ALLOC 1 GiB, node 0, incl. zeroing",
	       t1g, thuge > 0 ? t1g / thuge : -1);

	/* latency vs size on node 1, the hot-plugged memory the driver is for */
	printf("\n%8s %14s %14s %12s   (node 1)\n", "MiB", "ALLOC s", "heap s", "FREE s");
	heap1 = heap_open("lazy_cma-node1");
	for (i = 0; i < 6; i++) {
		uint64_t len = sizes_mb[i] * SZ_1M, phys = 0;
		double ta = time_alloc(len, 1, &phys), tf = 0, th = -1, t0;

		if (ta > 0) {
			t0 = now();
			lc_free(fd, phys);
			tf = now() - t0;
		}
		{
			struct dma_heap_allocation_data d = { .len = len, .fd_flags = O_RDWR };

			t0 = now();
			if (heap1 >= 0 && !ioctl(heap1, DMA_HEAP_IOCTL_ALLOC, &d)) {
				th = now() - t0;
				close((int)d.fd);
			}
		}
		printf("%8llu %14.3f %14.3f %12.4f\n", (unsigned long long)sizes_mb[i], ta, th, tf);
		snprintf(sizes_json + strlen(sizes_json), sizeof(sizes_json) - strlen(sizes_json),
			 "%s{\"mib\": %llu, \"alloc_s\": %.4f, \"heap_s\": %.4f, \"free_s\": %.5f}",
			 i ? ", " : "", (unsigned long long)sizes_mb[i], ta, th, tf);
	}

	/* heap throughput against the CMA heap: both on node 0, 64 MiB buffers */
	find_cma_heap();
	cmah = cma_heap[0] ? heap_open(cma_heap) : -1;
	{
		int heap0 = heap_open("lazy_cma-node0");

		if (heap0 >= 0)
			lazy_rate = heap_rate(heap0, 8);
		if (cmah >= 0)
			cma_rate = heap_rate(cmah, 8);
		if (heap0 >= 0)
			close(heap0);
	}
	printf("\n%-44s %10.2f /s\n", "lazy_cma heap node 0, 64 MiB buffers", lazy_rate);
	printf("%-44s %10.2f /s  (%s)\n", "CMA heap, 64 MiB buffers", cma_rate,
	       cma_heap[0] ? cma_heap : "no CMA heap");

	/*
	 * An impossible request: node 0 has far more than 768 MiB free, but a
	 * page pinned for DMA sits in every 64 MiB of it that is not the
	 * kernel's.  Both strategies meet the same pins.
	 */
	{
		bool to_smart, to_naive;
		int got, ring;

		settle();
		ring = pin_node0_every(64 * SZ_1M);
		impossible_free_mib = node_meminfo_kb(0, "MemFree") / 1024;
		got = count_allocs(768 * SZ_1M, 60, &fail_smart, &to_smart);
		set_naive(1);
		got += count_allocs(768 * SZ_1M, 60, &fail_naive, &to_naive);
		set_naive(0);
		if (ring >= 0)
			close(ring);
		naive_capped = to_naive;
		impossible_made = got > 0 || ring < 0;
		printf("%-44s %10.3f s (naive %s%.1f s; node 0 has %ld MiB free)%s\n",
		       "impossible 768 MiB request fails in", fail_smart,
		       to_naive ? "> " : "", fail_naive, impossible_free_mib,
		       ring < 0 ? "  [no pins: io_uring failed]" :
		       got ? "  [it succeeded!]" : "");
	}

	/* fragmentation: 75 % of node 0 in page cache, anonymous memory and slab */
	settle();
	fragment(&f, 0.75);
	used_pct = node0_used_pct();
	possible = possible_256();
	n_smart = count_allocs(256 * SZ_1M, 600, &frag_s, &to);
	set_naive(1);
	n_naive = count_allocs(256 * SZ_1M, 300, &frag_naive_s, &to_naive_frag);
	set_naive(0);
	n_huge = count_hugetlb_1g();
	printf("\nnode 0 %ld %% used (%d pieces, %d socket pairs): %.2f x 256 MiB free+reclaimable\n",
	       used_pct, f.npieces, f.nsock, possible);
	printf("%-44s %10d  (ratio %.2f, %.1f s)\n", "lazy_cma 256 MiB ALLOCs", n_smart,
	       n_smart / possible, frag_s);
	printf("%-44s %10d  (ratio %.2f, %.1f s)%s\n", "naive strategy", n_naive, n_naive / possible,
	       frag_naive_s, to_naive_frag ? "  [stopped at the limit]" : "");
	printf("%-44s %10d  (ratio %.2f, as 4 x 256 MiB each)\n", "hugetlb 1 GiB pages", n_huge,
	       4 * n_huge / possible);
	unfragment(&f);

	fprintf(js, "@@BENCH_JSON@@\n{\n");
	fprintf(js, "  \"kernel\": \"%s\",\n  \"guest_mem_mib\": %ld,\n", kernel,
		meminfo_kb("MemTotal") / 1024);
	fprintf(js, "  \"node0_mib\": %ld,\n  \"node1_mib\": %ld,\n",
		node_meminfo_kb(0, "MemTotal") / 1024, node_meminfo_kb(1, "MemTotal") / 1024);
	fprintf(js, "  \"memset_gbps\": %.3f,\n  \"zero_gbps\": %.3f,\n", mbw, zbw);
	fprintf(js, "  \"zero_bw_ratio\": %.3f,\n", zbw / mbw);
	fprintf(js, "  \"hugetlb_1g_s\": %.4f,\n  \"hugetlb_1g_tries\": %d,\n  \"lazy_1g_s\": %.4f,\n",
		thuge, huge_tries, t1g);
	fprintf(js, "  \"ratio_1g_vs_hugetlb\": %.3f,\n", thuge > 0 && t1g > 0 ? t1g / thuge : -1);
	fprintf(js, "  \"heap_rate_per_s\": %.3f,\n  \"cma_heap_rate_per_s\": %.3f,\n",
		lazy_rate, cma_rate);
	fprintf(js, "  \"heap_rate_vs_cma\": %.3f,\n", cma_rate > 0 ? lazy_rate / cma_rate : -1);
	fprintf(js, "  \"frag_node0_used_pct\": %ld,\n", used_pct);
	fprintf(js, "  \"frag_possible_256\": %.2f,\n", possible);
	fprintf(js, "  \"frag_allocs\": %d,\n  \"frag_allocs_naive\": %d,\n  \"frag_hugetlb_1g\": %d,\n",
		n_smart, n_naive, n_huge);
	fprintf(js, "  \"frag_success_ratio\": %.3f,\n", n_smart / possible);
	fprintf(js, "  \"frag_success_ratio_naive\": %.3f,\n", n_naive / possible);
	fprintf(js, "  \"frag_success_ratio_hugetlb\": %.3f,\n", 4 * n_huge / possible);
	fprintf(js, "  \"frag_seconds\": %.2f,\n  \"frag_seconds_naive\": %.2f,\n", frag_s,
		frag_naive_s);
	fprintf(js, "  \"frag_naive_stopped_at_limit\": %s,\n", to_naive_frag ? "true" : "false");
	fprintf(js, "  \"impossible_fail_seconds\": %.4f,\n", fail_smart);
	fprintf(js, "  \"impossible_fail_seconds_naive\": %.4f,\n", fail_naive);
	fprintf(js, "  \"impossible_naive_stopped_at_limit\": %s,\n", naive_capped ? "true" : "false");
	fprintf(js, "  \"impossible_request_succeeded\": %s,\n", impossible_made ? "true" : "false");
	fprintf(js, "  \"impossible_node0_free_mib\": %ld,\n", impossible_free_mib);
	fprintf(js, "  \"sizes\": [%s]\n}\n@@BENCH_JSON_END@@\n", sizes_json);
	return 0;
}
