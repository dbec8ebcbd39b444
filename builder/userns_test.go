package builder

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// userNSEnv marks the test binary re-executed inside a user namespace, so
// that it does not try again.
const userNSEnv = "MINIBUILD_BUILDER_TEST_USERNS"

// noRoot, when set, says why the harness cannot act as root: every test
// that builds skips with it. TestMain sets it once, before any test runs.
var noRoot string

// TestMain runs the tests as root: as it is when run by root, else
// re-executed in a new user namespace that maps the caller's uid and gid
// to 0 (moby's reexec pattern), so that builds may create files owned by
// 0:0 as a root build does. When no user namespace can be had, the tests
// that build skip and say why.
func TestMain(m *testing.M) {
	switch {
	case os.Geteuid() == 0 && os.Getenv(userNSEnv) != "":
		noRoot = probeChown()
	case os.Geteuid() != 0:
		code, err := reexecInUserNS()
		if err == nil {
			os.Exit(code)
		}
		noRoot = fmt.Sprintf("cannot create a user namespace (%v)", err)
	}
	if noRoot != "" {
		noRoot += "; the builder tests need one to build as root without privileges: enable unprivileged " +
			"user namespaces (sysctl user.max_user_namespaces=15000; kernel.unprivileged_userns_clone=1 on Debian; " +
			"kernel.apparmor_restrict_unprivileged_userns=0 on Ubuntu) or run the tests as root"
	}
	os.Exit(m.Run())
}

// reexecInUserNS runs this test binary again, with the same arguments,
// as uid and gid 0 of a new user namespace, and returns its exit code.
// An error means the namespace could not be made.
func reexecInUserNS() (int, error) {
	cmd := exec.Command("/proc/self/exe", os.Args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), userNSEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:                 syscall.CLONE_NEWUSER,
		UidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
		GidMappingsEnableSetgroups: false,
	}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), nil
	}
	if err != nil {
		return 1, err
	}
	return 0, nil
}

// probeChown checks that root in this user namespace may give a file to
// 0:0 (an LSM can deny the namespace its capabilities); it returns why
// not, or "".
func probeChown() string {
	dir, err := os.MkdirTemp("", "builder-userns-")
	if err != nil {
		return fmt.Sprintf("in the user namespace, making a directory failed (%v)", err)
	}
	defer os.RemoveAll(dir)
	p := filepath.Join(dir, "probe")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		return fmt.Sprintf("in the user namespace, writing a file failed (%v)", err)
	}
	if err := os.Lchown(p, 0, 0); err != nil {
		return fmt.Sprintf("in the user namespace, chown to 0:0 failed (%v)", err)
	}
	return ""
}

// requireRoot skips a test that builds when the harness cannot act as root.
func requireRoot(t *testing.T) {
	t.Helper()
	if noRoot != "" {
		t.Skip(noRoot)
	}
}
