// SPDX-License-Identifier: GPL-2.0
/*
 * Memory pressure: allocate until ENOMEM on each node while a canary process
 * holds and keeps touching memory of its own.  The canary must never be
 * OOM-killed, each node must keep its safety margin (reserve_mb above the
 * watermarks), and the system must stay responsive: a fork+exec+wait
 * round trip with every node down to its margin is about as quick as with
 * nothing taken.
 *
 * The round trips are compared with each other, in the same run, never with
 * an absolute time: a guest whose host is busy, or a slower machine, is
 * slower at both.  Each comparison uses the median of ROUND_TRIPS round
 * trips, so that a few the host delayed do not decide it; a system that
 * must reclaim or compact memory for each fork is slow at every one.
 */
#include <signal.h>
#include <sys/mman.h>
#include <time.h>

#include "lazy_cma_lib.h"
#include "kselftest_harness.h"

#define CANARY_MB	128
#define CHUNK		(64 * SZ_1M)
#define ROUND_TRIPS	9
/* at the margin, the median round trip may take this many times longer */
#define SLOWDOWN	4

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long node_free_kb(int node)
{
	return node_meminfo_kb(node, "MemFree");
}

static void canary(int beat)
{
	size_t len = CANARY_MB * SZ_1M, i;
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned long round = 0;

	if (m == MAP_FAILED)
		_exit(1);
	for (;;) {
		for (i = 0; i < len; i += 4096)
			m[i] = (char)round;
		round++;
		if (write(beat, &round, sizeof(round)) != sizeof(round))
			_exit(2);
		usleep(50 * 1000);
	}
}

/* OOM kills so far (/proc/vmstat oom_kill), -1 if unknown */
static long oom_kills(void)
{
	char line[128];
	long n = -1;
	FILE *f = fopen("/proc/vmstat", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "oom_kill %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

/*
 * Is the canary still running?  kill(pid, 0) would also succeed on a zombie:
 * reap it instead, and say how it ended if it did.
 */
static bool canary_alive(struct __test_metadata *_metadata, pid_t pid)
{
	int status;
	pid_t r = waitpid(pid, &status, WNOHANG);

	if (r == 0)
		return true;
	if (r == pid && WIFSIGNALED(status))
		TH_LOG("the canary was killed by signal %d", WTERMSIG(status));
	else if (r == pid)
		TH_LOG("the canary exited with status %d", WEXITSTATUS(status));
	else
		TH_LOG("waitpid: %s", strerror(errno));
	return false;
}

/* a fork+exec+wait round trip, in seconds */
static double responsiveness(void)
{
	double t0 = now();
	int status;
	pid_t pid = fork();

	if (!pid) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	return now() - t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* the median of ROUND_TRIPS round trips; the slowest in *@worst */
static double round_trips(double *worst)
{
	double t[ROUND_TRIPS];
	int i;

	for (i = 0; i < ROUND_TRIPS; i++)
		t[i] = responsiveness();
	qsort(t, ROUND_TRIPS, sizeof(t[0]), cmp_double);
	if (t[ROUND_TRIPS - 1] > *worst)
		*worst = t[ROUND_TRIPS - 1];
	return t[ROUND_TRIPS / 2];
}

FIXTURE(pressure) {
	int fd;
};

FIXTURE_SETUP(pressure)
{
	self->fd = lc_open();
	ASSERT_LE(0, self->fd);
	lc_free_all(self->fd);
}

FIXTURE_TEARDOWN(pressure)
{
	lc_free_all(self->fd);
	close(self->fd);
}

TEST_F_TIMEOUT(pressure, until_enomem_with_a_canary, 900)
{
	long reserve_kb = read_long("/sys/module/lazy_cma/parameters/reserve_mb") * 1024;
	long oom_before = oom_kills();
	int pipefd[2], node, status;
	unsigned long beats = 0, last = 0;
	double worst = 0, idle, idle_after, margin[2] = { 0, 0 };
	pid_t pid;

	ASSERT_LT(0, reserve_kb);
	ASSERT_LE(0, oom_before);
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(pipefd[0]);
		canary(pipefd[1]);
	}
	close(pipefd[1]);
	/* the canary is up and has touched all its memory once */
	ASSERT_EQ(sizeof(last), read(pipefd[0], &last, sizeof(last)));
	/* the round trip with nothing taken */
	idle = round_trips(&worst);

	for (node = 0; node < 2; node++) {
		uint64_t phys, total = 0;
		int r, n = 0;
		double t;

		if (access("/sys/devices/system/node/node1", F_OK) && node == 1)
			break;
		while ((r = lc_alloc(self->fd, CHUNK, node, "pressure", &phys)) == 0) {
			total += CHUNK;
			n++;
			t = responsiveness();
			if (t > worst)
				worst = t;
		}
		EXPECT_EQ(-ENOMEM, r);
		/* down to the margin: smaller pieces until even 4 MiB fails */
		while (lc_alloc(self->fd, 4 * SZ_1M, node, "pressure", &phys) == 0)
			total += 4 * SZ_1M;
		TH_LOG("node %d: %d x 64 MiB + 4 MiB pieces = %llu MiB taken, %ld MiB free left",
		       node, n, (unsigned long long)(total >> 20), node_free_kb(node) / 1024);
		/* the margin holds: the node kept at least reserve_mb free */
		EXPECT_LE(reserve_kb, node_free_kb(node));
		/* the round trip with this node (and node 0) at its margin */
		margin[node] = round_trips(&worst);
		ASSERT_TRUE(canary_alive(_metadata, pid));
	}
	/* and with nothing taken again: the host may have been busier now */
	lc_free_all(self->fd);
	idle_after = round_trips(&worst);
	if (idle_after > idle)
		idle = idle_after;
	/* the canary kept running through it all */
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	while (read(pipefd[0], &last, sizeof(last)) == sizeof(last))
		beats++;
	EXPECT_LT(0, beats);
	ASSERT_TRUE(canary_alive(_metadata, pid));
	TH_LOG("canary beat %lu times meanwhile", beats);
	TH_LOG("fork+exec+wait, median of %d: %.3f s with nothing taken, %.3f s and %.3f s with node 0 and node 1 at the margin; slowest of all %.3f s",
	       ROUND_TRIPS, idle, margin[0], margin[1], worst);
	for (node = 0; node < 2 && margin[node] > 0; node++) {
		EXPECT_GE(SLOWDOWN * idle, margin[node])
			TH_LOG("node %d at its margin: fork+exec %.1f times slower, more than %d",
			       node, margin[node] / idle, SLOWDOWN);
	}
	/* the OOM killer uses SIGKILL: end the canary with another signal */
	kill(pid, SIGTERM);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(killed_by(status, SIGTERM)) TH_LOG("canary status 0x%x", status);
	EXPECT_EQ(oom_before, oom_kills()) TH_LOG("the OOM killer ran");
	lc_free_all(self->fd);
	EXPECT_EQ(0, iomem_count("pressure"));
}

TEST_HARNESS_MAIN
