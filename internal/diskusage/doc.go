// Package diskusage measures the disk space a file tree takes, as du does.
package diskusage
