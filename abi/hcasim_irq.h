/*
 * hcasim interrupt ABI: the contract between the guest kernel module
 * hcasim_irq (guest/kmod/hcasim_irq.c) and the userspace driver (verbs/,
 * transport_pci.cpp).
 *
 * In a guest, userspace cannot receive MSI-X interrupts by itself (Debian's
 * kernel has no vfio no-IOMMU mode, and uio_pci_generic is INTx-only, which
 * makes QEMU trap every BAR access after the first interrupt).  hcasim_irq
 * binds the HCA's PCI function, enables its HCASIM_MSIX_VECTORS MSI-X
 * vectors and lets each process route vectors to eventfds of its own:
 *
 *   fd = open("/dev/hcasim-irq-DDDD:BB:SS.F", O_RDWR)   (the function's
 *        PCI address, as in /sys/bus/pci/devices; one node per function)
 *   ioctl(fd, HCASIM_IRQ_BIND, &b)   b.eventfd in; b.vector out: a vector
 *        no other binding holds.  Each interrupt on it adds 1 to the eventfd
 *        (eventfd_signal).  Errors: EBADF/EINVAL for a bad eventfd, ENOSPC
 *        when every vector is bound.
 *   ioctl(fd, HCASIM_IRQ_UNBIND, &b) b.vector in: releases a vector this
 *        file bound.  EINVAL if it is not one of this file's.
 *   close(fd) (or the process dying) releases every vector the file bound.
 *
 * The vector number is what the driver gives the device (CREATE_EQ's
 * msix_vector, HCASIM_CH_MSIX_VECTOR).  QEMU coalesces interrupts of one
 * vector, so a count on the eventfd means "at least one event", never "one
 * event each".
 *
 * Plain C with fixed-width kernel types: the module and C++ both include it.
 */
#ifndef HCASIM_IRQ_H
#define HCASIM_IRQ_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define HCASIM_IRQ_DEV_PREFIX "hcasim-irq-"

struct hcasim_irq_bind {
    __s32 eventfd; /* in (BIND) */
    __u32 vector;  /* out (BIND), in (UNBIND) */
};

#define HCASIM_IRQ_MAGIC  'h'
#define HCASIM_IRQ_BIND   _IOWR(HCASIM_IRQ_MAGIC, 1, struct hcasim_irq_bind)
#define HCASIM_IRQ_UNBIND _IOW(HCASIM_IRQ_MAGIC, 2, struct hcasim_irq_bind)

#endif /* HCASIM_IRQ_H */
