// SPDX-License-Identifier: GPL-2.0
/*
 * lazy_cma_bench: how often, how fast, and how fast "no" - measured in a
 * guest, reported as ratios of two things measured in the same guest run
 * (emulated guests make absolute times meaningless).  Every ratio is taken
 * REPS times (5 by default); tools/testing/vm/bench keeps the median, the
 * minimum and the maximum.  One part per run:
 *
 *   lazy_cma_bench main [REPS]      1 GiB vs hugetlb, heaps vs the system
 *                                   heap, latency vs size, the impossible
 *                                   request (a stock kernel: 6 GiB node 0,
 *                                   3 GiB node 1, 1 GiB hugetlb pages)
 *   lazy_cma_bench frag PREFIX MIB PCT [REPS]
 *                                   MIB-sized ALLOCs on node 0 made PCT %
 *                                   used and fragmented, rebuilt from one
 *                                   seed before every strategy (default,
 *                                   naive, kernel_search, hugetlb)
 *   lazy_cma_bench debug [REPS]     the driver's own clearing (a kernel with
 *                                   init_on_alloc off) against memset with as
 *                                   many threads, and the 64 MiB heap rate
 *                                   against the CMA heap (cma=)
 *   lazy_cma_bench scale [N]        FREE and lookup with up to N (10 000)
 *                                   live regions on node 1 (2 MiB of node 1
 *                                   per region)
 *
 * Results are lines for the script: "@@K key median min max n" (a measured
 * quantity, REPS samples), "@@V key value" (one value) and "@@S ..." (latency
 * vs size); every other line is the human-readable table.
 */
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <linux/dma-heap.h>
#include <linux/mempolicy.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include "lazy_cma_lib.h"

#define MAX_REPS	15

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int fd;
static int reps = 5;

/* ---- samples: median, minimum, maximum ---- */

struct samples {
	double v[MAX_REPS];
	int n;
};

static void add(struct samples *s, double v)
{
	if (s->n < MAX_REPS)
		s->v[s->n++] = v;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* the median (mean of the middle two for an even count); -1 if empty */
static double median(const struct samples *s)
{
	double v[MAX_REPS];

	if (!s->n)
		return -1;
	memcpy(v, s->v, sizeof(v));
	qsort(v, s->n, sizeof(double), cmp_double);
	return s->n % 2 ? v[s->n / 2] : (v[s->n / 2 - 1] + v[s->n / 2]) / 2;
}

static double smin(const struct samples *s)
{
	double m = s->n ? s->v[0] : -1;
	int i;

	for (i = 1; i < s->n; i++)
		m = s->v[i] < m ? s->v[i] : m;
	return m;
}

static double smax(const struct samples *s)
{
	double m = s->n ? s->v[0] : -1;
	int i;

	for (i = 1; i < s->n; i++)
		m = s->v[i] > m ? s->v[i] : m;
	return m;
}

/* a result for the script */
static void key(const char *name, const struct samples *s)
{
	printf("@@K %s %.4f %.4f %.4f %d\n", name, median(s), smin(s), smax(s), s->n);
}

static void value(const char *name, double v)
{
	printf("@@V %s %.4f\n", name, v);
}

/* a table line: median [min - max] */
static void row(const char *label, const struct samples *s, const char *unit)
{
	printf("%-46s %9.3f %-4s [%.3f - %.3f, n=%d]\n", label, median(s), unit, smin(s),
	       smax(s), s->n);
}

/* ratio samples a[i] / b[i] (pairs where either is not positive are skipped) */
static struct samples ratios(const struct samples *a, const struct samples *b)
{
	struct samples r = { .n = 0 };
	int i;

	for (i = 0; i < a->n && i < b->n; i++)
		if (a->v[i] > 0 && b->v[i] > 0)
			add(&r, a->v[i] / b->v[i]);
	return r;
}

static void set_param(const char *name, bool on)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/lazy_cma/parameters/%s", name);
	write_str(path, on ? "Y" : "N");
}

static bool have_kernel_search(void)
{
	return !access("/sys/module/lazy_cma/parameters/kernel_search", W_OK);
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

/* ---- zeroing ---- */

struct memset_arg {
	char *m;
	size_t len;
	pthread_barrier_t *go;
};

static void *memset_thread(void *p)
{
	struct memset_arg *a = p;

	pthread_barrier_wait(a->go);
	memset(a->m, 9, a->len);
	return NULL;
}

/*
 * GB/s of @threads threads each clearing its own share of 512 MiB (already
 * faulted in), one sample; the threads start together.
 */
static double memset_bw(int threads)
{
	size_t len = 512 * SZ_1M, each = len / threads;
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct memset_arg a[16];
	pthread_t t[16];
	pthread_barrier_t go;
	double t0;
	int i;

	if (m == MAP_FAILED || threads > 16)
		return -1;
	memset(m, 1, len);
	pthread_barrier_init(&go, NULL, threads + 1);
	for (i = 0; i < threads; i++) {
		a[i] = (struct memset_arg){ m + i * each, each, &go };
		pthread_create(&t[i], NULL, memset_thread, &a[i]);
	}
	t0 = now();
	pthread_barrier_wait(&go);
	for (i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	t0 = now() - t0;
	pthread_barrier_destroy(&go);
	munmap(m, len);
	return len / t0 / 1e9;
}

/* GB/s of a 512 MiB ALLOC on empty, movable node 1: nearly all clearing */
static double alloc_clear_bw(void)
{
	double t = time_alloc(512 * SZ_1M, 1, NULL);

	return t > 0 ? 512.0 * SZ_1M / t / 1e9 : -1;
}

static void on_cpus(int ncpus)
{
	cpu_set_t set;
	int i;

	CPU_ZERO(&set);
	for (i = 0; i < ncpus; i++)
		CPU_SET(i, &set);
	sched_setaffinity(0, sizeof(set), &set);
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
 * between them.  Seconds of the one that worked, or -1.
 */
static double hugetlb_1g(void)
{
	int tries;

	for (tries = 1; tries <= 3; tries++) {
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

/* ---- heaps ---- */

static int heap_open(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/dev/dma_heap/%s", name);
	return open(path, O_RDWR | O_CLOEXEC);
}

/*
 * Buffers of @len per second from heap @h: up to @max of them allocated and
 * kept (as a pipeline holds its buffers), stopping after @secs seconds, then
 * all closed (not timed).  -errno if the first one fails.
 */
static double heap_rate(int h, uint64_t len, int max, double secs)
{
	int *fds = calloc(max, sizeof(int)), n = 0, i;
	double t0 = now(), t;

	while (n < max && now() - t0 < secs) {
		struct dma_heap_allocation_data d = { .len = len, .fd_flags = O_RDWR };

		if (ioctl(h, DMA_HEAP_IOCTL_ALLOC, &d))
			break;
		fds[n++] = (int)d.fd;
	}
	t = now() - t0;
	for (i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
	return n ? n / t : -errno;
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

/* ---- fragmentation ---- */

/*
 * Fragment node 0: fill it to 95 % with 1 MiB pieces of page cache (tmpfs
 * files), anonymous memory and slab (socket pairs), interleaved, then free
 * pieces of page cache and anonymous memory picked at random (seed 1, so
 * the same pieces every time) until only @share of it is in use.  What is
 * free is then scattered in 1 MiB holes among pages that must be migrated,
 * and unmovable slab sits among them all over the node.
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
 * @len allocations on node 0 until one fails, @max succeeded or @limit
 * seconds passed (the
 * naive strategy can take very long), in a child that reports each address;
 * all freed again.  Returns the count; *last gets the time from the start to
 * the last success (0 if none).
 */
static int count_allocs(uint64_t len, int max, double limit, double *last, bool *timed_out)
{
	uint64_t phys;
	int p[2], n = 0, status;
	double t0 = now();
	pid_t pid;

	*last = 0;
	if (pipe(p))
		return -1;
	pid = fork();
	if (!pid) {
		int cfd = lc_open();

		close(p[0]);
		while (n++ < max && !lc_alloc(cfd, len, 0, "bench", &phys))
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
			*last = now() - t0;
			continue;
		}
		if (r == 0)
			break;
		if (now() - t0 > limit) {
			kill(pid, SIGKILL);
			*timed_out = true;
			break;
		}
		usleep(2 * 1000);
	}
	waitpid(pid, &status, 0);
	/* a killed child may have made one more region: it is ours to free */
	while (read(p[0], &phys, sizeof(phys)) == sizeof(phys)) {
		n++;
		*last = now() - t0;
	}
	close(p[0]);
	/* every region the child made, counted or not */
	lc_free_all(fd);
	return n;
}

/* 1 GiB hugetlb pages node 0 can get now, and *secs for getting them */
static int count_hugetlb_1g(double *secs)
{
	double t0 = now();
	int n;

	write_str(HP1G_NODE0, "64");
	n = (int)read_long(HP1G_NODE0);
	*secs = now() - t0;
	write_str(HP1G_NODE0, "0");
	return n;
}

/* free + reclaimable (page cache that is not tmpfs) of node 0, in MiB */
static double node0_possible_mib(void)
{
	long kb = node_meminfo_kb(0, "MemFree") + node_meminfo_kb(0, "FilePages") -
		  node_meminfo_kb(0, "Shmem");

	return kb / 1024.0;
}

/*
 * What could any search get out of node 0 as it is, under the driver's
 * rules?  Two upper bounds, both read from the kernel's own accounts:
 *  - memory: what every zone the driver takes from (ZONE_MOVABLE,
 *    ZONE_NORMAL, ZONE_DMA32) has free above what it must keep (its high
 *    watermark, its largest lowmem_reserve, "protection", and reserve_mb),
 *    plus the node's reclaimable page cache;
 *  - obstacles: a window must start on a pageblock and may not hold a page
 *    that cannot be migrated: slab, page tables, reserved, offline or
 *    poisoned pages, holes, and pages mapped to user space that are neither
 *    on an LRU list nor anonymous or shmem memory on its way there, and it
 *    must lie inside one "System RAM" entry of /proc/iomem (the driver
 *    gives it an entry of its own there); so every run of clean pageblocks
 *    of a zone inside one such entry holds floor(run / size) windows.
 *    Holes must be read from /proc/iomem: on 7.3 /proc/kpageflags shows
 *    the PCI hole below 4 GiB, inside ZONE_DMA32's span, as pages without
 *    a single flag, so they would pass for free memory.
 *    /proc/kpageflags shows no flag for a page the kernel took straight
 *    from the page allocator (vmalloc, stacks): such pages count as clean,
 *    which can only make the bound higher.
 * The smaller one is the bound; how many windows each zone alone could
 * hold above its margin is printed too (migration may move pages between
 * zones, so that sum is no bound).
 */
struct zinfo {
	char name[16];
	long free, high, prot, start, spanned, managed;
};

#define KPF_LRU		5
#define KPF_SLAB	7
#define KPF_ANON	12
#define KPF_SWAPBACKED	14
#define KPF_HWPOISON	19
#define KPF_NOPAGE	20
#define KPF_THP		22
#define KPF_OFFLINE	23
#define KPF_PGTABLE	26
#define KPF_RESERVED	32	/* a kernel-hacking flag: not in the uapi header */
#define KPF_STUCK	(1ULL << KPF_SLAB | 1ULL << KPF_HWPOISON | 1ULL << KPF_NOPAGE | \
			 1ULL << KPF_OFFLINE | 1ULL << KPF_PGTABLE | 1ULL << KPF_RESERVED)
#define KPF_MOVES	(1ULL << KPF_LRU | 1ULL << KPF_ANON | 1ULL << KPF_SWAPBACKED | \
			 1ULL << KPF_THP)

static int node0_zones(struct zinfo *z, int max)
{
	FILE *f = fopen("/proc/zoneinfo", "r");
	char line[512], name[16];
	int n = -1, node;
	long v;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *p;

		if (sscanf(line, "Node %d, zone %15s", &node, name) == 2) {
			/* node 0's zones come first */
			if (node != 0 || n + 1 >= max)
				break;
			n++;
			memset(&z[n], 0, sizeof(z[n]));
			snprintf(z[n].name, sizeof(z[n].name), "%s", name);
			continue;
		}
		if (n < 0)
			continue;
		if (sscanf(line, " pages free %ld", &v) == 1)
			z[n].free = v;
		else if (sscanf(line, " high %ld", &v) == 1)
			z[n].high = v;
		else if (sscanf(line, " spanned %ld", &v) == 1)
			z[n].spanned = v;
		else if (sscanf(line, " managed %ld", &v) == 1)
			z[n].managed = v;
		else if (sscanf(line, " start_pfn: %ld", &v) == 1)
			z[n].start = v;
		else if ((p = strstr(line, "protection: ("))) {
			for (p += 13; *p && *p != ')'; p++) {
				v = strtol(p, &p, 10);
				z[n].prot = v > z[n].prot ? v : z[n].prot;
				if (*p == ')')
					break;
			}
		}
	}
	fclose(f);
	return n + 1;
}

static bool driver_zone(const struct zinfo *z)
{
	return z->managed > 0 && (!strcmp(z->name, "Normal") || !strcmp(z->name, "DMA32") ||
				  !strcmp(z->name, "Movable"));
}

#define MAX_RAM	64
static struct { long lo, hi; } ram[MAX_RAM];	/* pfns [lo, hi) */
static int nram;

/* the top-level "System RAM" entries of /proc/iomem (root sees addresses) */
static void read_system_ram(void)
{
	FILE *f = fopen("/proc/iomem", "r");
	unsigned long long lo, hi;
	char line[256];

	nram = 0;
	while (f && fgets(line, sizeof(line), f))
		if (line[0] != ' ' && strstr(line, ": System RAM") &&
		    sscanf(line, "%llx-%llx", &lo, &hi) == 2 && hi > lo) {
			if (nram == MAX_RAM) {
				/* a bound from part of them would be too low */
				printf("# more than %d System RAM entries: no bound\n", MAX_RAM);
				nram = 0;
				break;
			}
			ram[nram].lo = (long)((lo + 4095) / 4096);
			ram[nram++].hi = (long)((hi + 1) / 4096);
		}
	if (f)
		fclose(f);
}

/* the System RAM entry [pfn, pfn + n) lies in, or -1 */
static int ram_entry(long pfn, long n)
{
	int i;

	for (i = 0; i < nram; i++)
		if (ram[i].lo <= pfn && pfn + n <= ram[i].hi)
			return i;
	return -1;
}

/* windows of @pages pages among the clean pageblocks of @z */
static long zone_clean_windows(const struct zinfo *z, long pages, int kf, int kc)
{
	long pb = 512, pfn = (z->start + pb - 1) / pb * pb, end = z->start + z->spanned;
	long run = 0, wins = 0;
	uint64_t flags[512], count[512];
	int in = -1;

	for (; pfn + pb <= end; pfn += pb) {
		int e = ram_entry(pfn, pb);
		bool clean = e >= 0 &&
			     pread(kf, flags, sizeof(flags), pfn * 8) == sizeof(flags) &&
			     pread(kc, count, sizeof(count), pfn * 8) == sizeof(count);
		int i;

		/* a window cannot straddle two entries, even side by side */
		if (e != in) {
			wins += run / pages;
			run = 0;
			in = e;
		}

		for (i = 0; clean && i < pb; i++) {
			uint64_t k = flags[i];

			/* kpagecount: how often the page is mapped */
			if (k & KPF_STUCK || (count[i] && !(k & KPF_MOVES)))
				clean = false;
		}
		if (clean) {
			run += pb;
			continue;
		}
		wins += run / pages;
		run = 0;
	}
	return wins + run / pages;
}

/* the smaller of the two bounds, in windows of @mib; both printed */
static long node0_bound(uint64_t mib)
{
	long pages = (long)mib * 256, keep_mb = read_long("/sys/module/lazy_cma/parameters/reserve_mb");
	long free = 0, wins = 0, per_zone = 0, mem;
	struct zinfo z[8];
	int n = node0_zones(z, 8), kf = open("/proc/kpageflags", O_RDONLY);
	int kc = open("/proc/kpagecount", O_RDONLY), i;

	read_system_ram();
	if (kf < 0 || kc < 0 || keep_mb < 0 || !nram) {
		close(kf);
		close(kc);
		return -1;
	}
	printf("# node 0 zones: free, keep (high + protection + reserve_mb), windows\n");
	for (i = 0; i < n; i++) {
		long k = z[i].high + z[i].prot + keep_mb * 256, w;

		if (!driver_zone(&z[i]))
			continue;
		w = zone_clean_windows(&z[i], pages, kf, kc);
		printf("#   %-8s free %6ld MiB, keep %4ld MiB, %ld windows among clean pageblocks, %ld above its margin\n",
		       z[i].name, z[i].free / 256, k / 256, w,
		       z[i].free > k ? (z[i].free - k) / pages : 0);
		/* a zone below its margin gives nothing, and takes nothing from the others */
		free += z[i].free > k ? z[i].free - k : 0;
		wins += w;
		per_zone += z[i].free > k ? (z[i].free - k) / pages : 0;
	}
	close(kf);
	close(kc);
	/* the reclaimable page cache, in pages, of the node as a whole */
	free += (node_meminfo_kb(0, "FilePages") - node_meminfo_kb(0, "Shmem")) / 4;
	mem = free / pages;
	printf("# bounds: memory above the margins %ld, clean windows %ld (per zone alone %ld)\n",
	       mem, wins, per_zone);
	return mem < wins ? mem : wins;
}

enum { S_DEFAULT, S_NAIVE, S_KERNEL, S_HUGETLB, NSTRAT };
static const char *const strat_name[NSTRAT] = { "", "_naive", "_kernel", "_hugetlb" };
static const char *const strat_label[NSTRAT] = {
	"lazy_cma (default search)", "naive search", "kernel's alloc_contig_pages()",
	"hugetlb 1 GiB pages",
};

/*
 * PREFIX MIB PCT: for every repetition and every strategy, rebuild node 0's
 * fragmented state from the same seed, then count MIB-sized successes
 * against floor((free + reclaimable) / MIB) and time the last success.  The
 * naive search runs in the first repetition only (it takes minutes), and
 * stops after 10.5 x the default search's whole run in that repetition,
 * its failed last request and the freeing included (at least 30 s, at most
 * 240 s): if it has not got as many by then, the default search was more
 * than 10 times faster, which is the goal; more would only cost time.
 */
static int frag_main(const char *prefix, uint64_t mib, int pct)
{
	struct samples cnt[NSTRAT] = { 0 }, ratio[NSTRAT] = { 0 }, last[NSTRAT] = { 0 };
	struct samples ideal = { 0 }, used = { 0 }, bound = { 0 }, vs_bound = { 0 };
	struct samples clean = { 0 }, build = { 0 }, spent = { 0 };
	bool capped[NSTRAT] = { false };
	char name[96], label[96];
	double naive_limit = 0;
	int r, s;

	for (r = 0; r < reps; r++) {
		for (s = 0; s < NSTRAT; s++) {
			struct frag f = { 0 };
			double t = 0, t0, limit = 600, id, bd = -1;
			bool to = false;
			int n;

			if ((s == S_KERNEL && !have_kernel_search()) || (s == S_NAIVE && r))
				continue;
			if (s == S_NAIVE) {
				/*
				 * the default's whole run, its failed last
				 * request included: never 0, even where it
				 * got nothing
				 */
				limit = 10.5 * median(&spent);
				limit = limit < 30 ? 30 : limit > 240 ? 240 : limit;
				naive_limit = limit;
			}
			settle();
			t = now();
			fragment(&f, pct / 100.0);
			if (s == S_DEFAULT)
				add(&build, now() - t);
			t = 0;
			id = (double)(long)(node0_possible_mib() / mib);
			if (s == S_DEFAULT) {
				add(&ideal, id);
				add(&used, node0_used_pct());
				bd = node0_bound(mib);
				if (bd >= 0)
					add(&bound, bd);
				else
					printf("# %s rep %d: no bound (not root?)\n", prefix, r + 1);
			}
			if (s == S_HUGETLB) {
				n = count_hugetlb_1g(&t) * (int)(1024 / mib);
			} else {
				set_param("naive", s == S_NAIVE);
				if (s == S_KERNEL)
					set_param("kernel_search", true);
				t0 = now();
				n = count_allocs(mib * SZ_1M, 64, limit, &t, &to);
				if (s == S_DEFAULT)
					add(&spent, now() - t0);
				set_param("naive", false);
				if (s == S_KERNEL)
					set_param("kernel_search", false);
			}
			capped[s] |= to;
			add(&cnt[s], n);
			add(&ratio[s], id > 0 ? n / id : -1);
			add(&last[s], t);
			unfragment(&f);
			printf("# %s rep %d %-30s %3d of %.0f in %.1f s%s\n", prefix, r + 1,
			       strat_label[s], n, id, t, to ? " [stopped at the limit]" : "");
			if (s == S_DEFAULT && bd > 0)
				add(&vs_bound, n / bd);
			if (s == S_DEFAULT && bd >= 0 && n > bd)
				printf("# %s rep %d: %d regions above a bound of %.0f: the bound is wrong\n",
				       prefix, r + 1, n, bd);
			/*
			 * As many on the same node without fragmentation: the
			 * time that migration is not to blame for (clearing,
			 * isolation), a floor for every strategy.
			 */
			if (s == S_DEFAULT && n > 0) {
				double tc;
				bool tco;
				int nc;

				settle();
				nc = count_allocs(mib * SZ_1M, n, limit, &tc, &tco);
				if (nc == n) {
					add(&clean, tc);
					printf("# %s rep %d %d on node 0 unfragmented in %.1f s\n",
					       prefix, r + 1, n, tc);
				} else {
					printf("# %s rep %d only %d of %d on node 0 unfragmented\n",
					       prefix, r + 1, nc, n);
				}
			}
			fflush(stdout);
		}
	}
	printf("\nnode 0 %.0f %% used, %llu MiB requests: ", median(&used),
	       (unsigned long long)mib);
	printf("floor((free+reclaimable) / %llu MiB) = %.0f [%.0f - %.0f]\n",
	       (unsigned long long)mib, median(&ideal), smin(&ideal), smax(&ideal));
	snprintf(name, sizeof(name), "%s_ideal", prefix);
	key(name, &ideal);
	snprintf(name, sizeof(name), "%s_used_pct", prefix);
	key(name, &used);
	printf("bound: min(memory above the zones' margins, clean windows) = %.0f [%.0f - %.0f]\n",
	       median(&bound), smin(&bound), smax(&bound));
	row("rebuilding the fragmented state", &build, "s");
	snprintf(name, sizeof(name), "%s_bound", prefix);
	key(name, &bound);
	snprintf(name, sizeof(name), "%s_success_ratio_bound", prefix);
	key(name, &vs_bound);
	if (clean.n) {
		row("default's count on the node unfragmented", &clean, "s");
		snprintf(name, sizeof(name), "%s_seconds_clean", prefix);
		key(name, &clean);
	}
	snprintf(name, sizeof(name), "%s_naive_limit_s", prefix);
	value(name, naive_limit);
	for (s = 0; s < NSTRAT; s++) {
		if (!cnt[s].n) {
			snprintf(name, sizeof(name), "%s_success_ratio%s", prefix, strat_name[s]);
			value(name, -1);
			continue;
		}
		snprintf(label, sizeof(label), "%s: successes", strat_label[s]);
		row(label, &cnt[s], "");
		snprintf(label, sizeof(label), "  ÷ floored ideal%s",
			 capped[s] ? " (stopped at limit)" : "");
		row(label, &ratio[s], "");
		row("  time to the last success", &last[s], "s");
		snprintf(name, sizeof(name), "%s_allocs%s", prefix, strat_name[s]);
		key(name, &cnt[s]);
		snprintf(name, sizeof(name), "%s_success_ratio%s", prefix, strat_name[s]);
		key(name, &ratio[s]);
		snprintf(name, sizeof(name), "%s_seconds%s", prefix, strat_name[s]);
		key(name, &last[s]);
		snprintf(name, sizeof(name), "%s_stopped_at_limit%s", prefix, strat_name[s]);
		value(name, capped[s]);
	}
	return 0;
}

/* ---- the impossible request ---- */

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

/*
 * An impossible request: node 0 has far more than 768 MiB free, but a page
 * pinned for DMA sits in every 64 MiB of it that is not the kernel's.  Both
 * searches meet the same pins: the default one REPS times, the naive one
 * once.
 */
static void impossible_request(void)
{
	struct samples smart = { 0 }, naive = { 0 };
	bool capped = false;
	int got = 0, ring, r;

	settle();
	ring = pin_node0_every(64 * SZ_1M);
	value("impossible_node0_free_mib", node_meminfo_kb(0, "MemFree") / 1024);
	for (r = 0; r < reps; r++) {
		double t0 = now();

		if (!lc_alloc(fd, 768 * SZ_1M, 0, "bench", NULL))
			got++;
		add(&smart, now() - t0);
		lc_free_all(fd);
	}
	/* the naive search takes up to a minute here: one sample */
	set_param("naive", true);
	for (r = 0; r < 1; r++) {
		double t0 = now();

		if (!lc_alloc(fd, 768 * SZ_1M, 0, "bench", NULL))
			got++;
		add(&naive, now() - t0);
		lc_free_all(fd);
		capped |= now() - t0 > 60;
	}
	set_param("naive", false);
	if (ring >= 0)
		close(ring);
	row("impossible 768 MiB request fails in", &smart, "s");
	row("  the same, naive search", &naive, "s");
	if (ring < 0 || got)
		printf("  %s\n", ring < 0 ? "[no pins: io_uring failed]" : "[it succeeded!]");
	key("impossible_fail_seconds", &smart);
	key("impossible_fail_seconds_naive", &naive);
	value("impossible_naive_stopped_at_limit", capped);
	value("impossible_request_succeeded", got > 0 || ring < 0);
}

/* ---- the parts ---- */

static int main_part(void)
{
	static const uint64_t sizes_mb[] = { 64, 128, 256, 512, 1024, 2048 };
	static const struct { uint64_t len; const char *name; } small[] = {
		{ SZ_4K, "4k" }, { 64 * 1024, "64k" }, { SZ_1M, "1m" },
	};
	struct samples mset1 = { 0 }, clr = { 0 }, huge = { 0 }, lazy = { 0 }, r;
	int heap0 = heap_open("lazy_cma-node0"), sys = heap_open("system");
	int heap1 = heap_open("lazy_cma-node1");
	char name[96], label[96];
	int i, k;

	/* clearing: here the page allocator clears (init_on_alloc), one CPU */
	for (k = 0; k < reps; k++) {
		add(&mset1, memset_bw(1));
		add(&clr, alloc_clear_bw());
	}
	row("memset, one thread", &mset1, "GB/s");
	row("ALLOC 512 MiB on node 1 (init_on_alloc clears)", &clr, "GB/s");
	r = ratios(&clr, &mset1);
	row("  ratio", &r, "");
	key("memset_gbps_1thread", &mset1);
	key("alloc_clear_gbps", &clr);
	key("alloc_clear_ratio_1thread", &r);

	/* 1 GiB on node 0: hugetlb's gigantic pages cannot use ZONE_MOVABLE */
	for (k = 0; k < reps; k++) {
		settle();
		add(&huge, hugetlb_1g());
		settle();
		add(&lazy, time_alloc(SZ_1G, 0, NULL));
	}
	row("hugetlb 1 GiB page, node 0: allocate + fault in", &huge, "s");
	row("lazy_cma ALLOC 1 GiB, node 0, incl. clearing", &lazy, "s");
	r = ratios(&lazy, &huge);
	row("  ratio", &r, "");
	key("hugetlb_1g_s", &huge);
	key("lazy_1g_s", &lazy);
	key("ratio_1g_vs_hugetlb", &r);

	/* small buffers: up to 256 kept per run, 1 s at most; node 0 both */
	for (i = 0; i < 3; i++) {
		struct samples l = { 0 }, s = { 0 };

		for (k = 0; k < reps; k++) {
			add(&l, heap0 >= 0 ? heap_rate(heap0, small[i].len, 256, 1) : -1);
			add(&s, sys >= 0 ? heap_rate(sys, small[i].len, 256, 1) : -1);
		}
		snprintf(label, sizeof(label), "lazy_cma heap node 0, %s buffers", small[i].name);
		row(label, &l, "/s");
		snprintf(label, sizeof(label), "system heap, %s buffers", small[i].name);
		row(label, &s, "/s");
		r = ratios(&l, &s);
		row("  ratio", &r, "");
		snprintf(name, sizeof(name), "small_heap_rate_%s_per_s", small[i].name);
		key(name, &l);
		snprintf(name, sizeof(name), "system_heap_rate_%s_per_s", small[i].name);
		key(name, &s);
		snprintf(name, sizeof(name), "small_heap_rate_vs_system_%s", small[i].name);
		key(name, &r);
	}
	{
		struct samples l = { 0 };

		for (k = 0; k < reps; k++)
			add(&l, heap0 >= 0 ? heap_rate(heap0, 64 * SZ_1M, 8, 10) : -1);
		row("lazy_cma heap node 0, 64 MiB buffers", &l, "/s");
		key("heap_rate_per_s_stock", &l);
	}

	/* latency vs size on node 1, the hot-plugged memory the driver is for */
	printf("\n%8s %22s %22s %22s   (node 1, median [min - max])\n", "MiB", "ALLOC s",
	       "heap s", "FREE s");
	for (i = 0; i < 6; i++) {
		uint64_t len = sizes_mb[i] * SZ_1M;
		struct samples ta = { 0 }, th = { 0 }, tf = { 0 };

		for (k = 0; k < reps; k++) {
			struct dma_heap_allocation_data d = { .len = len, .fd_flags = O_RDWR };
			uint64_t phys = 0;
			double t = time_alloc(len, 1, &phys), t0;

			add(&ta, t);
			if (t > 0) {
				t0 = now();
				lc_free(fd, phys);
				add(&tf, now() - t0);
			}
			t0 = now();
			if (heap1 >= 0 && !ioctl(heap1, DMA_HEAP_IOCTL_ALLOC, &d)) {
				add(&th, now() - t0);
				close((int)d.fd);
			}
		}
		printf("%8llu %8.3f [%.3f-%.3f] %8.3f [%.3f-%.3f] %8.4f [%.4f-%.4f]\n",
		       (unsigned long long)sizes_mb[i], median(&ta), smin(&ta), smax(&ta),
		       median(&th), smin(&th), smax(&th), median(&tf), smin(&tf), smax(&tf));
		printf("@@S %llu %.4f %.4f %.4f %.4f %.4f %.4f %.5f %.5f %.5f\n",
		       (unsigned long long)sizes_mb[i], median(&ta), smin(&ta), smax(&ta),
		       median(&th), smin(&th), smax(&th), median(&tf), smin(&tf), smax(&tf));
	}
	printf("\n");
	impossible_request();
	return 0;
}

static int debug_part(void)
{
	int cpus = (int)sysconf(_SC_NPROCESSORS_ONLN), k;
	struct samples m1 = { 0 }, mn = { 0 }, z1 = { 0 }, zn = { 0 }, l = { 0 }, c = { 0 }, r;
	int heap0 = heap_open("lazy_cma-node0"), cmah;

	cpus = cpus > 16 ? 16 : cpus;
	/*
	 * The driver clears (init_on_alloc is off here) on every CPU the caller
	 * may run on: all of them, then only the first.  memset the same.
	 */
	for (k = 0; k < reps; k++) {
		on_cpus(cpus);
		add(&mn, memset_bw(cpus));
		add(&zn, alloc_clear_bw());
		on_cpus(1);
		add(&m1, memset_bw(1));
		add(&z1, alloc_clear_bw());
	}
	on_cpus(cpus);
	printf("%d CPUs\n", cpus);
	row("memset, all CPUs", &mn, "GB/s");
	row("ALLOC 512 MiB on node 1, driver clears, all CPUs", &zn, "GB/s");
	r = ratios(&zn, &mn);
	row("  ratio", &r, "");
	key("memset_gbps", &mn);
	key("zero_gbps", &zn);
	key("zero_bw_ratio", &r);
	row("memset, one thread", &m1, "GB/s");
	row("ALLOC 512 MiB on node 1, driver clears, one CPU", &z1, "GB/s");
	r = ratios(&z1, &m1);
	row("  ratio", &r, "");
	key("memset_gbps_1thread_debug", &m1);
	key("zero_gbps_1thread", &z1);
	key("zero_bw_ratio_1thread", &r);
	value("cpus", cpus);

	/* 64 MiB heap buffers, node 0, against the CMA heap (cma=) */
	find_cma_heap();
	cmah = cma_heap[0] ? heap_open(cma_heap) : -1;
	for (k = 0; k < reps; k++) {
		add(&l, heap0 >= 0 ? heap_rate(heap0, 64 * SZ_1M, 8, 10) : -1);
		add(&c, cmah >= 0 ? heap_rate(cmah, 64 * SZ_1M, 8, 10) : -1);
	}
	row("lazy_cma heap node 0, 64 MiB buffers", &l, "/s");
	printf("CMA heap: %s\n", cma_heap[0] ? cma_heap : "none");
	row("CMA heap, 64 MiB buffers", &c, "/s");
	r = ratios(&l, &c);
	row("  ratio", &r, "");
	key("heap_rate_per_s", &l);
	key("cma_heap_rate_per_s", &c);
	key("heap_rate_vs_cma", &r);
	return 0;
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

	printf("%8s %14s %14s %16s\n", "regions", "lookup us", "FREE us", "ALLOC 4K ms");
	for (c = 0; c < 4 && counts[c] <= max; c++) {
		double tl, tfr = 0, ta = 0, t0;
		int n = 50;

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
		for (k = 0; k < n; k++) {
			int idx = (k * 7919) % made;

			t0 = now();
			lc_free(fd, phys[idx]);
			tfr += now() - t0;
			t0 = now();
			if (lc_alloc(fd, SZ_4K, node, "many", &phys[idx]))
				return -1;
			ta += now() - t0;
		}
		tfr = tfr / n * 1e6;
		ta = ta / n * 1e3;
		printf("%8d %14.1f %14.1f %16.2f\n", made, tl, tfr, ta);
		printf("@@R %d %.1f %.1f %.2f\n", made, tl, tfr, ta);
	}
	printf("%d regions made and looked up in %.0f s\n", made, now() - t_build);
	lc_free_all(fd);
	free(phys);
	return made;
}

int main(int argc, char **argv)
{
	char kernel[128] = "";
	FILE *v;

	/* the fragmenter's sockets need many descriptors */
	{
		struct rlimit rl = { 65536, 65536 };

		setrlimit(RLIMIT_NOFILE, &rl);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
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
	printf("@@KERNEL %s\n", kernel);
	printf("@@V node0_mib %ld\n@@V node1_mib %ld\n", node_meminfo_kb(0, "MemTotal") / 1024,
	       node_meminfo_kb(1, "MemTotal") / 1024);

	if (argc > 1 && !strcmp(argv[1], "scale"))
		return scaling(1, argc > 2 ? atoi(argv[2]) : 10000) > 0 ? 0 : 1;
	if (argc > 1 && !strcmp(argv[1], "main")) {
		reps = argc > 2 ? atoi(argv[2]) : reps;
	} else if (argc > 1 && !strcmp(argv[1], "debug")) {
		reps = argc > 2 ? atoi(argv[2]) : reps;
	} else if (argc > 5 && !strcmp(argv[1], "frag")) {
		reps = atoi(argv[5]);
	} else if (argc > 4 && !strcmp(argv[1], "frag")) {
		;
	} else {
		fprintf(stderr, "usage: see the top of lazy_cma_bench.c\n");
		return 2;
	}
	reps = reps < 1 ? 1 : reps > MAX_REPS ? MAX_REPS : reps;
	if (!strcmp(argv[1], "main"))
		return main_part();
	if (!strcmp(argv[1], "debug"))
		return debug_part();
	return frag_main(argv[2], strtoull(argv[3], NULL, 0), atoi(argv[4]));
}
