package usernstest

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// Ranges maps 0 to the host's 0 and 1-65536 to 100000-165535, as newuidmap
// maps a user with subordinate IDs; Single maps 0 alone, as unshare -r does.
var (
	Ranges = []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}, {ContainerID: 1, HostID: 100000, Size: 65536}}
	Single = []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}}
)

// Options say how Rerun makes the namespace.
type Options struct {
	// IDs maps both user and group IDs (Ranges or Single).
	IDs []syscall.SysProcIDMap
	// MountNS also gives the run a mount namespace of its own.
	MountNS bool
	// Setgroups allows setgroups(2) in it, as newgidmap does; a single-ID
	// map written by an unprivileged process denies it.
	Setgroups bool
}

// Rerun runs this test binary again with args (e.g. -test.run=…) as root of
// a new user namespace, with env=value added to its environment so that
// the tests can tell where they run, and returns what it printed. A run
// that fails fails t, printing the output.
func Rerun(t testing.TB, o Options, env, value string, args ...string) string {
	t.Helper()
	cmd := exec.Command("/proc/self/exe", append([]string{"-test.v", "-test.count=1"}, args...)...)
	cmd.Env = append(os.Environ(), env+"="+value)
	flags := uintptr(syscall.CLONE_NEWUSER)
	if o.MountNS {
		flags |= syscall.CLONE_NEWNS
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:                 flags,
		UidMappings:                o.IDs,
		GidMappings:                o.IDs,
		GidMappingsEnableSetgroups: o.Setgroups,
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("in a user namespace: %v\n%s", err, out)
	}
	return string(out)
}
