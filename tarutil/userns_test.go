package tarutil

import (
	"os"
	"strings"
	"testing"

	"github.com/minibuild/minibuild/internal/idmap"
	"github.com/minibuild/minibuild/internal/usernstest"
)

// userNSEnv marks the test binary re-executed as root of a user namespace
// by TestInUserNamespace.
const userNSEnv = "MINIBUILD_TARUTIL_TEST_USERNS"

// rootless reports whether the tests run as root of a user namespace that
// is not the initial one.
func rootless() bool { return !idmap.InInitialNamespace() }

// TestInUserNamespace runs the tests of extraction with owners, devices
// and overlay markers again as root of a user namespace with ID ranges, as
// a rootless build unpacks layers: owners are kept, user.overlay.opaque is
// written, device nodes are left out.
func TestInUserNamespace(t *testing.T) {
	requireRoot(t)
	if os.Getenv(userNSEnv) != "" {
		t.Skip("already in a user namespace")
	}
	out := usernstest.Rerun(t, usernstest.Options{IDs: usernstest.Ranges, Setgroups: true},
		userNSEnv, "1", "-test.run=^(TestApplyAttributes|TestApplyOverlayWhiteouts)$")
	for _, name := range []string{"TestApplyAttributes", "TestApplyOverlayWhiteouts/user.overlay.opaque"} {
		if !strings.Contains(out, "--- PASS: "+name) {
			t.Errorf("in a user namespace, %s did not pass:\n%s", name, out)
		}
	}
}
