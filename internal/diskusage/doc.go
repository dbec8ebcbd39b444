// Package diskusage measures the disk space a file or a directory tree takes.
package diskusage
