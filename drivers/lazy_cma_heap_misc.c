// SPDX-License-Identifier: GPL-2.0
/*
 * lazy_cma heaps for kernels that do not export dma_heap_add(): each heap is a
 * misc device whose node is /dev/dma_heap/<name>, answering the kernel's own
 * DMA_HEAP_IOCTL_ALLOC with the framework's checks - the command number
 * bounds-checked (EINVAL beyond it), the struct copied by the caller's size
 * with the rest zeroed, fd 0 on input, only O_CLOEXEC/O_ACCMODE fd_flags,
 * heap_flags 0, a length that is not 0 after page alignment.  Unlike the
 * framework, the fd is only installed once the answer has reached the caller,
 * so an EFAULT leaks no descriptor.  Unloadable once no buffer is alive: every
 * dma-buf holds a reference on the module.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-buf.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/nospec.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <uapi/linux/dma-heap.h>

#include "lazy_cma.h"

struct lazy_cma_heap_misc {
	struct miscdevice misc;
	struct lazy_cma_heap *heap;
	char nodename[LAZY_CMA_HEAP_NAME_MAX + 16];
};

static const unsigned int lazy_cma_heap_cmds[] = {
	DMA_HEAP_IOCTL_ALLOC,
};

static long lazy_cma_heap_ioctl_alloc(struct lazy_cma_heap *heap,
				      struct dma_heap_allocation_data *data,
				      void __user *uarg, unsigned int out_size)
{
	struct dma_buf *dmabuf;
	u64 len;
	int fd;

	if (data->fd)
		return -EINVAL;
	if (data->fd_flags & ~DMA_HEAP_VALID_FD_FLAGS)
		return -EINVAL;
	if (data->heap_flags & ~DMA_HEAP_VALID_HEAP_FLAGS)
		return -EINVAL;
	if (!data->len || data->len > ULONG_MAX - (PAGE_SIZE - 1))
		return -EINVAL;
	len = PAGE_ALIGN(data->len);

	fd = get_unused_fd_flags(data->fd_flags);
	if (fd < 0)
		return fd;
	dmabuf = lazy_cma_heap_allocate(heap, len, data->fd_flags, data->heap_flags);
	if (IS_ERR(dmabuf)) {
		put_unused_fd(fd);
		return PTR_ERR(dmabuf);
	}
	data->fd = fd;
	if (copy_to_user(uarg, data, out_size)) {
		put_unused_fd(fd);
		dma_buf_put(dmabuf);
		return -EFAULT;
	}
	fd_install(fd, dmabuf->file);
	return 0;
}

static long lazy_cma_heap_ioctl(struct file *file, unsigned int ucmd,
				unsigned long arg)
{
	struct lazy_cma_heap_misc *hm = container_of(file->private_data,
						     struct lazy_cma_heap_misc, misc);
	struct dma_heap_allocation_data data;
	unsigned int kcmd, in_size, out_size;
	unsigned int nr = _IOC_NR(ucmd);

	if (nr >= ARRAY_SIZE(lazy_cma_heap_cmds))
		return -EINVAL;
	nr = array_index_nospec(nr, ARRAY_SIZE(lazy_cma_heap_cmds));
	kcmd = lazy_cma_heap_cmds[nr];

	/* old and new struct sizes both work: copy what both sides know */
	in_size = _IOC_SIZE(ucmd);
	out_size = in_size;
	if (!(ucmd & kcmd & IOC_IN))
		in_size = 0;
	if (!(ucmd & kcmd & IOC_OUT))
		out_size = 0;
	in_size = min_t(unsigned int, in_size, sizeof(data));
	out_size = min_t(unsigned int, out_size, sizeof(data));

	memset(&data, 0, sizeof(data));
	if (copy_from_user(&data, (void __user *)arg, in_size))
		return -EFAULT;

	switch (kcmd) {
	case DMA_HEAP_IOCTL_ALLOC:
		return lazy_cma_heap_ioctl_alloc(hm->heap, &data, (void __user *)arg,
						 out_size);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations lazy_cma_heap_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = lazy_cma_heap_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

int lazy_cma_heap_register(struct lazy_cma_heap *heap)
{
	struct lazy_cma_heap_misc *hm;
	int ret;

	hm = kzalloc(sizeof(*hm), GFP_KERNEL);
	if (!hm)
		return -ENOMEM;
	snprintf(hm->nodename, sizeof(hm->nodename), "dma_heap/%s", heap->name);
	hm->heap = heap;
	hm->misc.minor = MISC_DYNAMIC_MINOR;
	hm->misc.name = heap->name;
	hm->misc.nodename = hm->nodename;
	/* as the kernel's own heaps: root only unless udev says otherwise */
	hm->misc.mode = 0600;
	hm->misc.fops = &lazy_cma_heap_fops;
	ret = misc_register(&hm->misc);
	if (ret) {
		kfree(hm);
		return ret;
	}
	heap->priv = hm;
	return 0;
}

void lazy_cma_heap_unregister(struct lazy_cma_heap *heap)
{
	struct lazy_cma_heap_misc *hm = heap->priv;

	misc_deregister(&hm->misc);
	kfree(hm);
	heap->priv = NULL;
}
