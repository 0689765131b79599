// SPDX-License-Identifier: GPL-2.0
/*
 * Churn: threads allocating, mapping, resizing, checking and freeing regions
 * on both nodes; processes passing heap buffers to each other over a unix
 * socket; and a process trying to rmmod the module the whole time (it must
 * always be refused while anything is open).  Afterwards nothing is left.
 * LAZY_CMA_CHURN_SECONDS sets the length (default 30).
 */
#include <linux/dma-heap.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>

#include "lazy_cma_lib.h"
#include "kselftest_harness.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double churn_seconds(void)
{
	const char *s = getenv("LAZY_CMA_CHURN_SECONDS");

	return s ? atof(s) : 30;
}

/* node 1 has memory: has_memory reads "0-1" or lists 1 */
static bool has_node1(void)
{
	char buf[64] = "";
	FILE *f = fopen("/sys/devices/system/node/has_memory", "r");

	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
	}
	return strstr(buf, "0-1") || strstr(buf, ",1") || strstr(buf, "1-");
}

struct worker {
	int fd, node, id;
	double until;
	long rounds, moved, errors;
	char why[128];
};

static void *region_worker(void *arg)
{
	struct worker *w = arg;
	unsigned int seed = (unsigned int)w->id * 7919u;

	while (now() < w->until) {
		uint64_t phys, p, len = (1 + rand_r(&seed) % 8) * SZ_1M, nlen, i;
		uint64_t *m;
		int r;

		r = lc_alloc(w->fd, len, w->node, "churn", &phys);
		if (r == -ENOMEM)
			continue;
		if (r) {
			snprintf(w->why, sizeof(w->why), "alloc: %d", r);
			w->errors++;
			break;
		}
		m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, w->fd, (off_t)phys);
		if (m == MAP_FAILED) {
			snprintf(w->why, sizeof(w->why), "mmap: %d", errno);
			w->errors++;
			break;
		}
		for (i = 0; i < len / 8; i += 512)
			m[i] = pattern(i, phys);
		munmap(m, len);

		p = phys;
		nlen = (1 + rand_r(&seed) % 12) * SZ_1M;
		r = lc_resize(w->fd, &p, &nlen);
		if (r && r != -ENOMEM) {
			snprintf(w->why, sizeof(w->why), "resize: %d", r);
			w->errors++;
		}
		if (r)
			nlen = len;
		w->moved += p != phys;
		m = mmap(NULL, nlen, PROT_READ, MAP_SHARED, w->fd, (off_t)p);
		if (m == MAP_FAILED) {
			snprintf(w->why, sizeof(w->why), "mmap after resize: %d", errno);
			w->errors++;
			break;
		}
		for (i = 0; i < (nlen < len ? nlen : len) / 8; i += 512)
			if (m[i] != pattern(i, phys)) {
				snprintf(w->why, sizeof(w->why), "contents lost at %llu",
					 (unsigned long long)i);
				w->errors++;
				break;
			}
		munmap(m, nlen);
		if (lc_free(w->fd, p)) {
			snprintf(w->why, sizeof(w->why), "free: %d", errno);
			w->errors++;
		}
		w->rounds++;
	}
	return NULL;
}

static int send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 }, c = 'x';
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 }, c;
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, 0) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* producer: heap buffers, filled and sent; exits 0 when all went well */
static int heap_producer(int sock, double until)
{
	int heap = open("/dev/dma_heap/lazy_cma-node0", O_RDWR | O_CLOEXEC), n = 0;

	if (heap < 0)
		return 1;
	while (now() < until) {
		struct dma_heap_allocation_data d = { .len = (1 + n % 4) * SZ_1M,
						      .fd_flags = O_RDWR | O_CLOEXEC };
		uint64_t *m;

		if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &d)) {
			if (errno == ENOMEM)
				continue;
			return 2;
		}
		m = mmap(NULL, d.len, PROT_READ | PROT_WRITE, MAP_SHARED, (int)d.fd, 0);
		if (m == MAP_FAILED)
			return 3;
		m[0] = (uint64_t)n;
		m[d.len / 8 - 1] = ~(uint64_t)n;
		munmap(m, d.len);
		if (send_fd(sock, (int)d.fd))
			return 4;
		close((int)d.fd);
		n++;
	}
	close(sock);
	return 0;
}

/* consumer: checks each buffer it is handed, then drops it */
static int heap_consumer(int sock)
{
	int fd, n = 0;

	while ((fd = recv_fd(sock)) >= 0) {
		off_t len = lseek(fd, 0, SEEK_END);
		uint64_t *m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);

		if (m == MAP_FAILED)
			return 5;
		if (m[0] != (uint64_t)n || m[len / 8 - 1] != ~(uint64_t)n)
			return 6;
		munmap(m, len);
		close(fd);
		n++;
	}
	return n ? 0 : 7;
}

/* tries rmmod until @until; exits 0 if it was refused every time */
static int rmmod_looper(double until)
{
	long tries = 0;

	while (now() < until) {
		if (!syscall(__NR_delete_module, "lazy_cma", O_NONBLOCK))
			return 10;
		if (errno != EWOULDBLOCK && errno != EBUSY)
			return 11;
		tries++;
		usleep(20 * 1000);
	}
	return tries ? 0 : 12;
}

/* run fn(arg, until) in a child that first closes @other (-1: none) */
static pid_t spawn(int (*fn)(int, double), int arg, int other, double until)
{
	pid_t pid = fork();

	if (!pid) {
		if (other >= 0)
			close(other);
		_exit(fn(arg, until));
	}
	return pid;
}

static int producer_main(int sock, double until)
{
	return heap_producer(sock, until);
}

static int consumer_main(int sock, double until)
{
	(void)until;
	return heap_consumer(sock);
}

static int rmmod_main(int unused, double until)
{
	(void)unused;
	return rmmod_looper(until);
}

FIXTURE(churn) {
	int fd;
};

FIXTURE_SETUP(churn)
{
	self->fd = lc_open();
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(churn)
{
	lc_free_all(self->fd);
	close(self->fd);
}

TEST_F_TIMEOUT(churn, threads_processes_and_rmmod, 900)
{
	double secs = churn_seconds(), until = now() + secs;
	struct worker w[4];
	pthread_t t[4];
	int sv[2], i, status;
	pid_t prod, cons, rm;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
	/* each end lives in one process only, so the consumer sees the end */
	prod = spawn(producer_main, sv[0], sv[1], until);
	cons = spawn(consumer_main, sv[1], sv[0], until);
	close(sv[0]);
	close(sv[1]);
	rm = spawn(rmmod_main, 0, -1, until);

	for (i = 0; i < 4; i++) {
		w[i] = (struct worker){ .fd = self->fd, .id = i, .until = until,
					.node = has_node1() ? i % 2 : 0 };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, region_worker, &w[i]));
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, w[i].errors) TH_LOG("worker %d: %s", i, w[i].why);
		TH_LOG("worker %d (node %d): %ld rounds, %ld moved by resize", i, w[i].node,
		       w[i].rounds, w[i].moved);
		EXPECT_LT(0, w[i].rounds);
	}
	ASSERT_EQ(prod, waitpid(prod, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status)) TH_LOG("producer 0x%x", status);
	ASSERT_EQ(cons, waitpid(cons, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status)) TH_LOG("consumer 0x%x", status);
	ASSERT_EQ(rm, waitpid(rm, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status)) TH_LOG("rmmod loop 0x%x", status);

	/* nothing left behind */
	EXPECT_EQ(0, lc_count(self->fd));
	EXPECT_EQ(0, iomem_count("churn"));
	EXPECT_EQ(0, iomem_count("lazy_cma-node0 dma-buf"));
	TH_LOG("%.0f s of churn", secs);
}

TEST_HARNESS_MAIN
