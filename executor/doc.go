// Package executor runs one process inside a prepared root filesystem, isolated by Linux namespaces, either with a built-in re-exec init or with an OCI runtime such as runc or crun.
package executor
