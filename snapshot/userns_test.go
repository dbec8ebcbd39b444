package snapshot

import (
	"os"
	"strings"
	"testing"

	"github.com/minibuild/minibuild/internal/idmap"
	"github.com/minibuild/minibuild/internal/usernstest"
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
	out := usernstest.Rerun(t, usernstest.Options{IDs: usernstest.Ranges, MountNS: true, Setgroups: true},
		userNSEnv, "1", "-test.skip=^TestInUserNamespace$")
	if !strings.Contains(out, "--- PASS: TestUserxattrInUserNamespace") {
		t.Fatalf("in a user namespace, TestUserxattrInUserNamespace did not pass:\n%s", out)
	}
	for _, line := range strings.Split(out, "\n") {
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
