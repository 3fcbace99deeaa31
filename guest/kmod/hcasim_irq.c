// SPDX-License-Identifier: GPL-2.0
/*
 * hcasim_irq: the guest's interrupt path for the hcasim HCA.
 *
 * Models the one piece of a kernel driver that hcasim's userspace driver
 * cannot do itself: receiving MSI-X interrupts.  It binds the HCA's PCI
 * function (1234:4863), enables every MSI-X vector the function offers and
 * hands them to processes as eventfd signals, through a misc device per
 * function (/dev/hcasim-irq-<PCI address>).  Everything else stays in
 * userspace: BARs through sysfs resourceN, DMA through pinned pages, the
 * command queue and the data path through the device's rings.
 *
 * The ioctl ABI is abi/hcasim_irq.h.  A vector belongs to the open file
 * that bound it; closing the file (a process exiting or dying) releases it.
 * The handler only signals the bound eventfd, so any number of processes
 * wait on their own fds and a blocked waiter costs no CPU.
 *
 * The module does not request the BARs: userspace maps them through sysfs.
 */
#include <linux/eventfd.h>
#include <linux/fs.h>
#include <linux/interrupt.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>

#include "hcasim_irq.h"

#define HCASIM_VENDOR 0x1234
#define HCASIM_DEVICE 0x4863

struct hcasim_irq_vec {
	struct hcasim_irq_dev *dev;
	struct eventfd_ctx *ctx; /* under dev->lock; NULL when free */
	const void *owner;       /* the struct file that bound it */
	unsigned long fired;     /* interrupts seen, for debugging */
};

struct hcasim_irq_dev {
	struct pci_dev *pdev;
	struct miscdevice misc;
	char name[48];
	spinlock_t lock;
	int nvec;
	struct hcasim_irq_vec vec[];
};

static irqreturn_t hcasim_irq_handler(int irq, void *data)
{
	struct hcasim_irq_vec *v = data;
	unsigned long flags;

	spin_lock_irqsave(&v->dev->lock, flags);
	v->fired++;
	if (v->ctx)
		eventfd_signal(v->ctx);
	spin_unlock_irqrestore(&v->dev->lock, flags);
	return IRQ_HANDLED;
}

static struct hcasim_irq_dev *to_dev(struct file *f)
{
	struct miscdevice *m = f->private_data;

	return container_of(m, struct hcasim_irq_dev, misc);
}

static long hcasim_irq_bind(struct hcasim_irq_dev *d, struct file *f,
			    struct hcasim_irq_bind __user *arg)
{
	struct hcasim_irq_bind b;
	struct eventfd_ctx *ctx;
	unsigned long flags;
	int i;

	if (copy_from_user(&b, arg, sizeof(b)))
		return -EFAULT;
	ctx = eventfd_ctx_fdget(b.eventfd);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	spin_lock_irqsave(&d->lock, flags);
	for (i = 0; i < d->nvec; i++) {
		if (!d->vec[i].ctx) {
			d->vec[i].ctx = ctx;
			d->vec[i].owner = f;
			break;
		}
	}
	spin_unlock_irqrestore(&d->lock, flags);
	if (i == d->nvec) {
		eventfd_ctx_put(ctx);
		return -ENOSPC;
	}
	b.vector = i;
	if (copy_to_user(arg, &b, sizeof(b))) {
		spin_lock_irqsave(&d->lock, flags);
		d->vec[i].ctx = NULL;
		d->vec[i].owner = NULL;
		spin_unlock_irqrestore(&d->lock, flags);
		eventfd_ctx_put(ctx);
		return -EFAULT;
	}
	return 0;
}

/* Releases vector i if `f` owns it (any vector when f is NULL). */
static int hcasim_irq_release_vec(struct hcasim_irq_dev *d, struct file *f, int i)
{
	struct eventfd_ctx *ctx = NULL;
	unsigned long flags;

	spin_lock_irqsave(&d->lock, flags);
	if (d->vec[i].ctx && (!f || d->vec[i].owner == f)) {
		ctx = d->vec[i].ctx;
		d->vec[i].ctx = NULL;
		d->vec[i].owner = NULL;
	}
	spin_unlock_irqrestore(&d->lock, flags);
	if (!ctx)
		return -EINVAL;
	eventfd_ctx_put(ctx);
	return 0;
}

static long hcasim_irq_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	struct hcasim_irq_dev *d = to_dev(f);
	struct hcasim_irq_bind b;

	switch (cmd) {
	case HCASIM_IRQ_BIND:
		return hcasim_irq_bind(d, f, (struct hcasim_irq_bind __user *)arg);
	case HCASIM_IRQ_UNBIND:
		if (copy_from_user(&b, (void __user *)arg, sizeof(b)))
			return -EFAULT;
		if (b.vector >= (u32)d->nvec)
			return -EINVAL;
		return hcasim_irq_release_vec(d, f, b.vector);
	default:
		return -ENOTTY;
	}
}

static int hcasim_irq_file_release(struct inode *inode, struct file *f)
{
	struct hcasim_irq_dev *d = to_dev(f);
	int i;

	for (i = 0; i < d->nvec; i++)
		hcasim_irq_release_vec(d, f, i);
	return 0;
}

static const struct file_operations hcasim_irq_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = hcasim_irq_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.release = hcasim_irq_file_release,
};

static int hcasim_irq_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct hcasim_irq_dev *d;
	int nvec, i, ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	pci_set_master(pdev);
	nvec = pci_msix_vec_count(pdev);
	if (nvec <= 0)
		return -ENODEV;
	d = devm_kzalloc(&pdev->dev, struct_size(d, vec, nvec), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	d->pdev = pdev;
	d->nvec = nvec;
	spin_lock_init(&d->lock);
	ret = pci_alloc_irq_vectors(pdev, nvec, nvec, PCI_IRQ_MSIX);
	if (ret < 0)
		return ret;
	for (i = 0; i < nvec; i++) {
		d->vec[i].dev = d;
		ret = devm_request_irq(&pdev->dev, pci_irq_vector(pdev, i),
				       hcasim_irq_handler, 0, "hcasim-irq", &d->vec[i]);
		if (ret)
			goto fail;
	}
	snprintf(d->name, sizeof(d->name), HCASIM_IRQ_DEV_PREFIX "%s", pci_name(pdev));
	d->misc.minor = MISC_DYNAMIC_MINOR;
	d->misc.name = d->name;
	d->misc.fops = &hcasim_irq_fops;
	d->misc.parent = &pdev->dev;
	d->misc.mode = 0666;
	ret = misc_register(&d->misc);
	if (ret)
		goto fail;
	pci_set_drvdata(pdev, d);
	dev_info(&pdev->dev, "hcasim_irq: %d MSI-X vectors on /dev/%s\n", nvec, d->name);
	return 0;
fail:
	for (i = 0; i < nvec; i++)
		if (d->vec[i].dev)
			devm_free_irq(&pdev->dev, pci_irq_vector(pdev, i), &d->vec[i]);
	pci_free_irq_vectors(pdev);
	return ret;
}

static void hcasim_irq_remove(struct pci_dev *pdev)
{
	struct hcasim_irq_dev *d = pci_get_drvdata(pdev);
	int i;

	misc_deregister(&d->misc);
	for (i = 0; i < d->nvec; i++) {
		devm_free_irq(&pdev->dev, pci_irq_vector(pdev, i), &d->vec[i]);
		hcasim_irq_release_vec(d, NULL, i);
	}
	pci_free_irq_vectors(pdev);
}

static const struct pci_device_id hcasim_irq_ids[] = {
	{ PCI_DEVICE(HCASIM_VENDOR, HCASIM_DEVICE) },
	{ 0 }
};
MODULE_DEVICE_TABLE(pci, hcasim_irq_ids);

static struct pci_driver hcasim_irq_driver = {
	.name = "hcasim_irq",
	.id_table = hcasim_irq_ids,
	.probe = hcasim_irq_probe,
	.remove = hcasim_irq_remove,
};
module_pci_driver(hcasim_irq_driver);

MODULE_DESCRIPTION("hcasim HCA: MSI-X interrupts to userspace eventfds");
MODULE_LICENSE("GPL");
