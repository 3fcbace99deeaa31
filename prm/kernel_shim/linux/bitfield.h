/* prm: stands in for the kernel's linux/bitfield.h when prm/linux_mlx5_c.h
 * compiles linux/mlx5/device.h outside the kernel; the GENMASK macros it
 * would bring are defined in linux_mlx5_c.h. */
