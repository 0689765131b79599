// SPDX-License-Identifier: GPL-2.0
/*
 * Memory pressure: allocate until ENOMEM on each node while a canary process
 * holds and keeps touching memory of its own.  The canary must never be
 * OOM-killed, each node must keep its safety margin (reserve_mb above the
 * watermarks), and the system must stay responsive (a fork+exec+wait
 * round trip stays short).
 */
#include <signal.h>
#include <sys/mman.h>
#include <time.h>

#include "lazy_cma_lib.h"
#include "kselftest_harness.h"

#define CANARY_MB	128
#define CHUNK		(64 * SZ_1M)

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
	double worst = 0;
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
		ASSERT_TRUE(canary_alive(_metadata, pid));
	}
	/* the canary kept running through it all */
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	while (read(pipefd[0], &last, sizeof(last)) == sizeof(last))
		beats++;
	EXPECT_LT(0, beats);
	ASSERT_TRUE(canary_alive(_metadata, pid));
	TH_LOG("canary beat %lu times meanwhile; worst fork+exec %.2f s", beats, worst);
	EXPECT_GT(5.0, worst);
	/* the OOM killer uses SIGKILL: end the canary with another signal */
	kill(pid, SIGTERM);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(killed_by(status, SIGTERM)) TH_LOG("canary status 0x%x", status);
	EXPECT_EQ(oom_before, oom_kills()) TH_LOG("the OOM killer ran");
	lc_free_all(self->fd);
	EXPECT_EQ(0, iomem_count("pressure"));
}

TEST_HARNESS_MAIN
