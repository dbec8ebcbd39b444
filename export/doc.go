// Package export writes a built image out of the store in forms other than an OCI layout.
package export
