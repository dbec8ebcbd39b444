package snapshot

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/minibuild/minibuild/internal/idmap"
)

// userNSEnv marks the test binary re-executed as root of a user namespace
// by TestInUserNamespace.
const userNSEnv = "MINIBUILD_SNAPSHOT_TEST_USERNS"

// TestInUserNamespace runs this package's tests again as root of a user
// namespace that is not the initial one, with ID ranges and its own mount
// namespace, as a rootless build runs: the overlay is mounted with
// userxattr, the layers are unpacked under userxattr/ with
// user.overlay.opaque markers, and diffs, kept layers and clean-up must
// come out as they do as root.
func TestInUserNamespace(t *testing.T) {
	requireRoot(t)
	if os.Getenv(userNSEnv) != "" {
		t.Skip("already in a user namespace")
	}
	ids := []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}, {ContainerID: 1, HostID: 100000, Size: 65536}}
	cmd := exec.Command("/proc/self/exe", "-test.v", "-test.count=1", "-test.skip=^TestInUserNamespace$")
	cmd.Env = append(os.Environ(), userNSEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:                 syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
		UidMappings:                ids,
		GidMappings:                ids,
		GidMappingsEnableSetgroups: true,
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("in a user namespace: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: TestUserxattrInUserNamespace") {
		t.Fatalf("in a user namespace, TestUserxattrInUserNamespace did not pass:\n%s", out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "--- SKIP") {
			t.Logf("in a user namespace: %s", strings.TrimSpace(line))
		}
	}
}

// rootless reports whether the tests run as root of a user namespace that
// is not the initial one.
func rootless() bool { return !idmap.InInitialNamespace() }

// TestUserxattrInUserNamespace checks, in TestInUserNamespace's
// namespace, that this process counts as rootless: its Unpacker and its
// overlay mounts use userxattr.
func TestUserxattrInUserNamespace(t *testing.T) {
	if os.Getenv(userNSEnv) == "" {
		t.Skip("run by TestInUserNamespace")
	}
	u := NewUnpacker(t.TempDir())
	if !u.userxattr() || !strings.HasSuffix(u.root, "/"+userxattrDir) {
		t.Errorf("NewUnpacker in a user namespace: root %q, userxattr %v; want it under %s/ with userxattr", u.root, u.userxattr(), userxattrDir)
	}
	if err := CheckOverlay(t.TempDir()); err != nil {
		t.Fatalf("CheckOverlay in a user namespace: %v", err)
	}
}
