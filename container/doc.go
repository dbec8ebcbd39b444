// Package container runs a command in a container of an image: the image's layers plus a thin writable layer, thrown away when the command exits, with the named volumes and host paths it mounts, which are not.
package container
