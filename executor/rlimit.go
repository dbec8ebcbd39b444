package executor

import (
	"github.com/minibuild/minibuild/internal/idmap"
	"golang.org/x/sys/unix"
)

// dockerNofile is the open-files limit Docker gives a container.
const dockerNofile = 1048576

// nofileLimit returns the open-files limit for a run: Docker's 1048576, or the current
// hard limit when it is lower and this process may not raise it (no CAP_SYS_RESOURCE,
// which counts only in the initial user namespace).
func nofileLimit() uint64 {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil || lim.Max >= dockerNofile {
		return dockerNofile
	}
	if idmap.InInitialNamespace() && hasCapability(unix.CAP_SYS_RESOURCE) {
		return dockerNofile
	}
	return lim.Max
}

// hasCapability reports whether capability c is in this process's effective set.
func hasCapability(c int) bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return false
	}
	return data[c/32].Effective&(1<<(uint(c)%32)) != 0
}
