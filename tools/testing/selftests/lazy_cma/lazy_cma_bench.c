// SPDX-License-Identifier: GPL-2.0
/*
 * lazy_cma_bench: how often, how fast, and how fast "no" - measured in one
 * guest, reported as ratios (emulated guests make absolute times
 * meaningless).  Prints a table and, between @@BENCH_JSON@@ markers, JSON.
 *
 * Needs: lazy_cma loaded with heaps, node 1 (hot-plugged), hugetlb 1 GiB
 * pages, and a CMA heap over a cma= reservation for the heap comparison.
 */
#include <dirent.h>
#include <signal.h>
#include <linux/dma-heap.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include "lazy_cma_lib.h"

#define HP1G "/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages"

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

static double hugetlb_1g(void)
{
	double t0 = now(), t;
	char *m;

	if (write_str(HP1G, "1") || read_long(HP1G) != 1)
		return -1;
	m = mmap(NULL, SZ_1G, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | (30 << MAP_HUGE_SHIFT), -1, 0);
	if (m == MAP_FAILED) {
		write_str(HP1G, "0");
		return -1;
	}
	m[0] = 1;	/* the fault-in clears the 1 GiB page */
	t = now() - t0;
	munmap(m, SZ_1G);
	write_str(HP1G, "0");
	return t;
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

/* fill @share of node 0 with page cache (tmpfs), anonymous memory and slab */
struct frag {
	char **anon;
	int nanon, nfiles, nsock;
	int *socks;
};

static void fragment(struct frag *f, double share)
{
	/* a share of the memory that is free now (the CMA area and kernel excluded) */
	long total_mb = meminfo_kb("MemFree") / 1024, target = (long)(total_mb * share), mb;
	char path[64], buf[SZ_1M / 16];
	int i;

	memset(buf, 7, sizeof(buf));
	f->anon = calloc(target + 1, sizeof(char *));
	f->socks = calloc(2 * (target + 1) * 16, sizeof(int));
	mkdir("/tmp/frag", 0700);
	for (mb = 0; mb < target; mb++) {
		switch (mb % 3) {
		case 0:	/* page cache: a 1 MiB file on tmpfs */
			snprintf(path, sizeof(path), "/tmp/frag/%d", f->nfiles++);
			i = open(path, O_CREAT | O_WRONLY, 0600);
			for (int k = 0; k < 16; k++)
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
			for (int k = 0; k < 8; k++)
				if (!socketpair(AF_UNIX, SOCK_STREAM, 0, &f->socks[2 * f->nsock]))
					f->nsock++;
			break;
		}
	}
}

static void unfragment(struct frag *f)
{
	char path[64];
	int i;

	for (i = 0; i < f->nanon; i++)
		munmap(f->anon[i], SZ_1M);
	for (i = 0; i < f->nfiles; i++) {
		snprintf(path, sizeof(path), "/tmp/frag/%d", i);
		unlink(path);
	}
	for (i = 0; i < 2 * f->nsock; i++)
		close(f->socks[i]);
	free(f->anon);
	free(f->socks);
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

static int count_256(double limit, bool *timed_out)
{
	double secs;

	return count_allocs(256 * SZ_1M, limit, &secs, timed_out);
}

static int count_hugetlb_1g(void)
{
	int n;

	write_str(HP1G, "64");
	n = (int)read_long(HP1G);
	write_str(HP1G, "0");
	return n;
}

/* free + reclaimable page cache of node 0, in 256 MiB units */
static double possible_256(void)
{
	long kb = meminfo_kb("MemFree") + meminfo_kb("Cached") - meminfo_kb("Shmem");

	return kb / 1024.0 / 256.0;
}

int main(int argc, char **argv)
{
	static const uint64_t sizes_mb[] = { 64, 128, 256, 512, 1024, 2048 };
	double mbw, t1g, thuge, zero_t, zbw, lazy_rate = 0, cma_rate = 0;
	double fail_smart, fail_naive, possible;
	bool to, to_naive_frag, naive_capped;
	int i, heap0, cmah, n_smart, n_naive, n_huge;
	struct frag f = { 0 };
	char kernel[128] = "";
	FILE *v;

	(void)argc;
	(void)argv;
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
	v = fopen("/proc/sys/kernel/osrelease", "r");
	if (v && fgets(kernel, sizeof(kernel), v))
		kernel[strcspn(kernel, "\n")] = '\0';
	if (v)
		fclose(v);
	js = stdout;

	mbw = memset_bw();
	/* zeroing: a 512 MiB ALLOC on empty, movable node 1 is nearly all zeroing */
	zero_t = time_alloc(512 * SZ_1M, 1, NULL);
	zbw = zero_t > 0 ? 512.0 * SZ_1M / zero_t / 1e9 : 0;
	printf("%-44s %10.2f GB/s\n", "memset bandwidth (user space)", mbw);
	printf("%-44s %10.2f GB/s  (ratio %.2f)\n", "ALLOC 512 MiB on node 1 (zeroing)", zbw, zbw / mbw);

	thuge = hugetlb_1g();
	t1g = time_alloc(SZ_1G, 0, NULL);
	printf("%-44s %10.3f s\n", "hugetlb 1 GiB page: allocate + fault in", thuge);
	printf("%-44s %10.3f s  (ratio %.2f)\n", "lazy_cma ALLOC 1 GiB incl. zeroing", t1g, t1g / thuge);

	printf("\n%8s %14s %14s %12s\n", "MiB", "ALLOC s", "heap s", "FREE s");
	heap0 = heap_open("lazy_cma-node0");
	fprintf(stderr, "# sizes\n");
	char sizes_json[2048] = "";
	for (i = 0; i < 6; i++) {
		uint64_t len = sizes_mb[i] * SZ_1M, phys = 0;
		double ta = time_alloc(len, 0, &phys), tf = 0, th = -1, t0;

		if (ta > 0) {
			t0 = now();
			lc_free(fd, phys);
			tf = now() - t0;
		}
		{
			struct dma_heap_allocation_data d = { .len = len, .fd_flags = O_RDWR };

			t0 = now();
			if (heap0 >= 0 && !ioctl(heap0, DMA_HEAP_IOCTL_ALLOC, &d)) {
				th = now() - t0;
				close((int)d.fd);
			}
		}
		printf("%8llu %14.3f %14.3f %12.4f\n", (unsigned long long)sizes_mb[i], ta, th, tf);
		snprintf(sizes_json + strlen(sizes_json), sizeof(sizes_json) - strlen(sizes_json),
			 "%s{\"mib\": %llu, \"alloc_s\": %.4f, \"heap_s\": %.4f, \"free_s\": %.5f}",
			 i ? ", " : "", (unsigned long long)sizes_mb[i], ta, th, tf);
	}

	find_cma_heap();
	cmah = cma_heap[0] ? heap_open(cma_heap) : -1;
	if (heap0 >= 0)
		lazy_rate = heap_rate(heap0, 8);
	if (cmah >= 0)
		cma_rate = heap_rate(cmah, 8);
	printf("\n%-44s %10.2f /s\n", "lazy_cma heap, 64 MiB buffers", lazy_rate);
	printf("%-44s %10.2f /s  (%s)\n", "CMA heap, 64 MiB buffers", cma_rate,
	       cma_heap[0] ? cma_heap : "no CMA heap");

	/* an impossible request: every 2.5 GiB window of node 0 holds the kernel */
	{
		bool to_smart, to_naive;
		int got;

		got = count_allocs(2560 * SZ_1M, 60, &fail_smart, &to_smart);
		set_naive(1);
		got += count_allocs(2560 * SZ_1M, 60, &fail_naive, &to_naive);
		set_naive(0);
		naive_capped = to_naive;
		printf("\n%-44s %10.3f s (naive %s%.1f s)%s\n", "impossible 2.5 GiB request fails in",
		       fail_smart, to_naive ? "> " : "", fail_naive,
		       got ? "  [it succeeded!]" : "");
	}

	/* fragmentation: 75 % of memory in page cache, anonymous memory and slab */
	fragment(&f, 0.75);
	possible = possible_256();
	n_smart = count_256(600, &to);
	set_naive(1);
	n_naive = count_256(120, &to_naive_frag);
	set_naive(0);
	n_huge = count_hugetlb_1g();
	printf("\nwith 75 %% of free memory fragmented: %.1f x 256 MiB possible\n", possible);
	printf("%-44s %10d  (ratio %.2f)\n", "lazy_cma 256 MiB ALLOCs", n_smart, n_smart / possible);
	printf("%-44s %10d  (ratio %.2f)%s\n", "naive strategy", n_naive, n_naive / possible,
	       to_naive_frag ? "  [stopped after 120 s]" : "");
	printf("%-44s %10d  (ratio %.2f, as 4 x 256 MiB each)\n", "hugetlb 1 GiB pages", n_huge,
	       4 * n_huge / possible);
	unfragment(&f);

	/* FREE and lookup with many live regions */
	char scale_json[512] = "";
	{
		static const int counts[] = { 10, 100, 1000 };
		static uint64_t phys[1000];
		int c, k, made = 0;

		printf("\n%8s %14s %14s\n", "regions", "lookup us", "FREE us");
		for (c = 0; c < 3; c++) {
			double tl, tfr, t0;

			while (made < counts[c] && !lc_alloc(fd, SZ_4K, -1, "many", &phys[made]))
				made++;
			t0 = now();
			for (k = 0; k < 200; k++) {
				struct lazy_cma_region_info info;

				lc_find(fd, phys[k % made], &info);
			}
			tl = (now() - t0) / 200 * 1e6;
			t0 = now();
			lc_free(fd, phys[made - 1]);
			lc_alloc(fd, SZ_4K, -1, "many", &phys[made - 1]);
			tfr = (now() - t0) * 1e6;
			printf("%8d %14.1f %14.1f\n", made, tl, tfr);
			snprintf(scale_json + strlen(scale_json), sizeof(scale_json) - strlen(scale_json),
				 "%s{\"regions\": %d, \"lookup_us\": %.1f, \"free_alloc_us\": %.1f}",
				 c ? ", " : "", made, tl, tfr);
		}
		lc_free_all(fd);
	}

	fprintf(js, "@@BENCH_JSON@@\n{\n");
	fprintf(js, "  \"kernel\": \"%s\",\n  \"guest_mem_mib\": %ld,\n", kernel,
		meminfo_kb("MemTotal") / 1024);
	fprintf(js, "  \"memset_gbps\": %.3f,\n  \"zero_gbps\": %.3f,\n", mbw, zbw);
	fprintf(js, "  \"zero_bw_ratio\": %.3f,\n", zbw / mbw);
	fprintf(js, "  \"hugetlb_1g_s\": %.4f,\n  \"lazy_1g_s\": %.4f,\n", thuge, t1g);
	fprintf(js, "  \"ratio_1g_vs_hugetlb\": %.3f,\n", thuge > 0 ? t1g / thuge : -1);
	fprintf(js, "  \"heap_rate_per_s\": %.3f,\n  \"cma_heap_rate_per_s\": %.3f,\n",
		lazy_rate, cma_rate);
	fprintf(js, "  \"heap_rate_vs_cma\": %.3f,\n", cma_rate > 0 ? lazy_rate / cma_rate : -1);
	fprintf(js, "  \"frag_possible_256\": %.2f,\n", possible);
	fprintf(js, "  \"frag_success_ratio\": %.3f,\n", n_smart / possible);
	fprintf(js, "  \"frag_success_ratio_naive\": %.3f,\n", n_naive / possible);
	fprintf(js, "  \"frag_success_ratio_hugetlb\": %.3f,\n", 4 * n_huge / possible);
	fprintf(js, "  \"impossible_fail_seconds\": %.4f,\n", fail_smart);
	fprintf(js, "  \"impossible_fail_seconds_naive\": %.4f,\n", fail_naive);
	fprintf(js, "  \"impossible_naive_stopped_at_limit\": %s,\n", naive_capped ? "true" : "false");
	fprintf(js, "  \"frag_naive_stopped_at_limit\": %s,\n", to_naive_frag ? "true" : "false");
	fprintf(js, "  \"sizes\": [%s],\n", sizes_json);
	fprintf(js, "  \"scaling\": [%s]\n}\n@@BENCH_JSON_END@@\n", scale_json);
	return 0;
}
