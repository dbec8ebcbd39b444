// Package rootfs performs file operations confined to an image root filesystem with chroot semantics.
package rootfs
