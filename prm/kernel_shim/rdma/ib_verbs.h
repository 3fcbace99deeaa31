/* prm: stands in for the kernel's rdma/ib_verbs.h when prm/linux_mlx5_c.h
 * compiles linux/mlx5/device.h outside the kernel; device.h needs only
 * struct ib_grh from it, which linux_mlx5_c.h declares. */
