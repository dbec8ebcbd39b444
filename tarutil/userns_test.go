package tarutil

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
	ids := []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}, {ContainerID: 1, HostID: 100000, Size: 65536}}
	cmd := exec.Command("/proc/self/exe", "-test.v", "-test.count=1", "-test.run=^(TestApplyAttributes|TestApplyOverlayWhiteouts)$")
	cmd.Env = append(os.Environ(), userNSEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:                 syscall.CLONE_NEWUSER,
		UidMappings:                ids,
		GidMappings:                ids,
		GidMappingsEnableSetgroups: true,
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("in a user namespace: %v\n%s", err, out)
	}
	for _, name := range []string{"TestApplyAttributes", "TestApplyOverlayWhiteouts/user.overlay.opaque"} {
		if !strings.Contains(string(out), "--- PASS: "+name) {
			t.Errorf("in a user namespace, %s did not pass:\n%s", name, out)
		}
	}
}
