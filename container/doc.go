// Package container runs a command in a container of an image: the image's layers plus a thin writable layer, thrown away when the command exits.
package container
