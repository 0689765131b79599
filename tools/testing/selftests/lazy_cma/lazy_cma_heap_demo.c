// SPDX-License-Identifier: GPL-2.0
/*
 * lazy_cma_heap_demo: what a GPU/media pipeline does with a lazy_cma heap -
 * allocate a contiguous dma-buf from /dev/dma_heap/lazy_cma-node<N>, fill it
 * through mmap, import it into a DRM device (vgem) with PRIME, and show where
 * it lives.  Used by "make demo".
 *
 * Usage: lazy_cma_heap_demo [NODE [MiB]]
 */
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xf86drm.h>

int main(int argc, char **argv)
{
	int node = argc > 1 ? atoi(argv[1]) : 0;
	unsigned long long mib = argc > 2 ? strtoull(argv[2], NULL, 0) : 64;
	struct dma_heap_allocation_data d = { .len = mib << 20, .fd_flags = O_RDWR | O_CLOEXEC };
	struct dma_buf_sync sync = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE };
	char path[64], line[256], name[64];
	uint32_t handle;
	int heap, card;
	char *m;
	FILE *f;

	snprintf(path, sizeof(path), "/dev/dma_heap/lazy_cma-node%d", node);
	heap = open(path, O_RDWR | O_CLOEXEC);
	if (heap < 0 || ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &d)) {
		perror(path);
		return 1;
	}
	printf("allocated a %llu MiB dma-buf from %s (fd %u)\n", mib, path, d.fd);

	m = mmap(NULL, d.len, PROT_READ | PROT_WRITE, MAP_SHARED, (int)d.fd, 0);
	if (m == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	ioctl((int)d.fd, DMA_BUF_IOCTL_SYNC, &sync);
	strcpy(m, "frame 0");
	sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE;
	ioctl((int)d.fd, DMA_BUF_IOCTL_SYNC, &sync);
	printf("wrote \"%s\" through mmap (with DMA_BUF_IOCTL_SYNC)\n", m);

	card = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
	if (card < 0 || drmPrimeFDToHandle(card, (int)d.fd, &handle)) {
		perror("PRIME import into /dev/dri/card0");
		return 1;
	}
	{
		drmVersionPtr v = drmGetVersion(card);

		printf("imported into DRM driver \"%s\" as GEM handle %u (drmPrimeFDToHandle)\n",
		       v ? v->name : "?", handle);
		drmFreeVersion(v);
	}

	snprintf(name, sizeof(name), "lazy_cma-node%d dma-buf", node);
	f = fopen("/proc/iomem", "r");
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, name))
			printf("/proc/iomem: %s", line);
	if (f)
		fclose(f);

	drmCloseBufferHandle(card, handle);
	munmap(m, d.len);
	close((int)d.fd);
	printf("closed: the buffer and its /proc/iomem line are gone\n");
	return 0;
}
