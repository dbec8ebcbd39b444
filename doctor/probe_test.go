package doctor

import (
	"os"
	"strings"
	"testing"
)

// TestOverlayProbe mounts overlay as a root build would (a mount
// namespace) and as a user's would (a user namespace, userxattr), and
// leaves nothing behind.
func TestOverlayProbe(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (as an ordinary user, the e2e doctor test covers it)")
	}
	for _, tc := range []struct {
		name, where string
		root        bool
	}{{"root", "in a mount namespace", true}, {"user namespace", "in a user namespace (userxattr)", false}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			c := checkOverlay(tc.root, true, dir)
			if c.Status != OK || !strings.Contains(c.Detail, "mountable "+tc.where+" on "+dir) {
				t.Errorf("%+v", c)
			}
			if left, _ := os.ReadDir(dir); len(left) > 0 {
				t.Errorf("left in the store root: %v", left)
			}
		})
	}
}

// TestUserNSProbe: the probe makes a user namespace (root may).
func TestUserNSProbe(t *testing.T) {
	if c, ok := checkUserNS(false); !ok {
		t.Skipf("no user namespace here: %+v", c)
	}
	if c, ok := checkUserNS(true); ok || c.Status != OK || c.Detail != "not needed as root" {
		t.Errorf("as root: %+v %v", c, ok)
	}
}

// TestRun: as whoever runs the tests, the report has every check, and
// root can build.
func TestRun(t *testing.T) {
	r := Run(Options{Root: t.TempDir()})
	var names []string
	for _, c := range r.Checks {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, ","); got != "user,user namespaces,subordinate IDs,newuidmap/newgidmap,overlay,OCI runtime,store root,emulation" {
		t.Errorf("checks %s", got)
	}
	if os.Geteuid() == 0 && (!r.CanBuild || r.Blocker != "") {
		t.Errorf("root cannot build: %+v", r)
	}
}
