package e2e

import (
	"os"
	"strings"
	"testing"

	"github.com/minibuild/minibuild/binfmt"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// doctorLines is the status of each check 'minibuild doctor' printed, by name.
func doctorLines(t *testing.T, out string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if len(l) < 30 || l == "builds can run" {
			continue
		}
		m[strings.TrimSpace(l[9:29])] = strings.TrimSpace(l[:9]) + " " + l[30:]
	}
	for _, name := range []string{"user", "user namespaces", "subordinate IDs", "newuidmap/newgidmap", "overlay", "OCI runtime", "store root", "emulation"} {
		if _, ok := m[name]; !ok {
			t.Errorf("doctor printed no %q line:\n%s", name, out)
		}
	}
	return m
}

// wantLine fails unless the check name's line starts with status and
// holds every one of want.
func wantLine(t *testing.T, lines map[string]string, name, status string, want ...string) {
	t.Helper()
	l := lines[name]
	if !strings.HasPrefix(l, status+" ") {
		t.Errorf("%s: %q, want %s", name, l, status)
	}
	for _, w := range want {
		if !strings.Contains(l, w) {
			t.Errorf("%s: %q lacks %q", name, l, w)
		}
	}
}

// TestDoctorRoot: as root everything a build needs is there.
func TestDoctorRoot(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	r := mustMB(t, "doctor", "--root", root)
	lines := doctorLines(t, r.stdout)
	wantLine(t, lines, "user", "ok", "root: builds run without a user namespace")
	wantLine(t, lines, "user namespaces", "ok", "not needed as root")
	wantLine(t, lines, "overlay", "ok", "mountable in a mount namespace on "+root)
	wantLine(t, lines, "store root", "ok", root+": ")
	// Emulation is what package binfmt finds, independently of doctor.
	arm64 := ocispec.Platform{OS: "linux", Architecture: "arm64"}
	if err := binfmt.Check(arm64); err != nil {
		if os.Getenv("CI") != "" {
			t.Errorf("arm64 binaries cannot run here: %v; scripts/test.sh should have registered QEMU's handler", err)
		}
		t.Logf("not checking the emulation line: %v", err)
	} else {
		wantLine(t, lines, "emulation", "ok", "linux/arm64", "(binfmt_misc, F)")
	}
	if !strings.HasSuffix(r.stdout, "builds can run\n") {
		t.Errorf("no verdict:\n%s", r.stdout)
	}
}

// TestDoctorUsers: minibuild-test has subordinate IDs and the helpers
// map them; minibuild-norange has none (a missing line with the usermod
// command, yet builds can run); with MINIBUILD_NO_USERNS=1 they cannot.
func TestDoctorUsers(t *testing.T) {
	t.Run("minibuild-test", func(t *testing.T) {
		u := lookupUser(t, "minibuild-test")
		r := mbAs(t, u, nil, "doctor")
		if r.code != 0 {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		lines := doctorLines(t, r.stdout)
		wantLine(t, lines, "user", "ok", "minibuild-test (uid ", "builds run as root of a user namespace")
		wantLine(t, lines, "user namespaces", "ok", "an ordinary user can create them")
		wantLine(t, lines, "subordinate IDs", "ok", "uids (100000-165535) in /etc/subuid", "gids (100000-165535) in /etc/subgid")
		wantLine(t, lines, "newuidmap/newgidmap", "ok", "mapped 65537 uids and 65537 gids")
		wantLine(t, lines, "overlay", "ok", "mountable in a user namespace (userxattr)")
		wantLine(t, lines, "store root", "ok", u.home+"/.local/share/minibuild (to be created in "+u.home+")")
	})
	t.Run("minibuild-norange", func(t *testing.T) {
		u := lookupUser(t, "minibuild-norange")
		r := mbAs(t, u, nil, "doctor")
		if r.code != 0 {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		lines := doctorLines(t, r.stdout)
		wantLine(t, lines, "subordinate IDs", "missing", "none for minibuild-norange in /etc/subuid",
			"fix: sudo usermod --add-subuids ", " --add-subgids ", " minibuild-norange")
		wantLine(t, lines, "user namespaces", "ok")
	})
	t.Run("opted out", func(t *testing.T) {
		u := lookupUser(t, "minibuild-test")
		r := mbAs(t, u, []string{"MINIBUILD_NO_USERNS=1"}, "doctor")
		if r.code != 1 || r.stderr != "minibuild: doctor: builds cannot run here: see the \"user\" line\n" {
			t.Fatalf("exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
		}
		wantLine(t, doctorLines(t, r.stdout), "user", "warning", "MINIBUILD_NO_USERNS set", "fix: unset MINIBUILD_NO_USERNS")
	})
}

// TestDoctorNoUserNS: where user namespaces are forbidden (here
// user.max_user_namespaces=0, in a namespace made for the test), doctor
// says so with the fix and exits 1, and every other command fails with
// one line that names the setting.
func TestDoctorNoUserNS(t *testing.T) {
	u := lookupUser(t, "minibuild-test")
	r := mbAsForbidden(t, u, "doctor")
	if r.code != 1 || r.stderr != "minibuild: doctor: builds cannot run here: see the \"user namespaces\" line\n" {
		t.Fatalf("exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	lines := doctorLines(t, r.stdout)
	wantLine(t, lines, "user namespaces", "missing", "cannot create one: user.max_user_namespaces=0 forbids it",
		"fix: sudo sysctl -w user.max_user_namespaces=15000")
	wantLine(t, lines, "overlay", "warning", "not checked")
	r = mbAsForbidden(t, u, "images")
	if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "minibuild: cannot create a user namespace") ||
		!strings.Contains(r.stderr, "user.max_user_namespaces=0 forbids it; allow it with: sudo sysctl -w user.max_user_namespaces=15000") {
		t.Errorf("images: exit %d, want 1 and one line naming the setting\n%s", r.code, r.stderr)
	}
}
