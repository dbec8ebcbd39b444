package executor

import (
	"context"
	"fmt"
	"io"
)

// DefaultPath is the PATH Docker gives a process whose environment has none.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// DefaultHostname is the hostname a process gets when Process.Hostname is empty.
const DefaultHostname = "minibuild"

// NetworkMode is the network a process gets.
type NetworkMode string

// Network modes.
const (
	// NetworkHost shares the host's network namespace (Docker's default for builds).
	NetworkHost NetworkMode = "host"
	// NetworkNone gives the process a new network namespace with only the loopback interface up.
	NetworkNone NetworkMode = "none"
)

// Process describes the one command an Executor runs.
type Process struct {
	// Args is the argv; Args[0] is looked up in the PATH of Env inside the rootfs when it has no slash.
	Args []string
	// Env holds KEY=VALUE pairs; a missing PATH becomes DefaultPath and a missing HOME
	// becomes the user's home from the rootfs's /etc/passwd (or "/").
	Env []string
	// Cwd is an absolute path inside the rootfs ("/" when empty), resolved with chroot
	// semantics and created (0755, owned by root) when missing.
	Cwd string
	// UID and GID are the numeric user and group the command runs as.
	UID, GID uint32
	// AdditionalGIDs are the supplementary groups; none when empty.
	AdditionalGIDs []uint32
	// Stdin is the command's standard input; nil means /dev/null.
	Stdin io.Reader
	// Stdout and Stderr receive the command's output; nil means /dev/null.
	Stdout, Stderr io.Writer
	// Network is NetworkHost (the default when empty) or NetworkNone.
	Network NetworkMode
	// Hostname is the UTS hostname; DefaultHostname when empty.
	Hostname string
	// Mounts are the file systems the process sees beyond its rootfs, in order (see Mount).
	Mounts []Mount
}

// Executor runs a process with a directory as its root filesystem.
type Executor interface {
	// Run runs p with rootfs as "/" and returns nil on exit 0, an *ExitError on a non-zero
	// exit or a signal (128+signal), or another error when the process could not start or
	// ctx was cancelled. When Run returns, every process of the run is gone and every
	// mount it made is unmounted; mount points it had to create in rootfs (or in a bind
	// mount's source) are removed again, and a MountFile's content is gone from memory.
	Run(ctx context.Context, rootfs string, p Process) error
}

// ExitError reports that the process ran and exited unsuccessfully.
type ExitError struct {
	// Code is the exit status, or 128 plus the signal number when a signal ended the process.
	Code int
}

// Error returns "exit code N".
func (e *ExitError) Error() string {
	return fmt.Sprintf("exit code %d", e.Code)
}
