package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// busyboxPath is the static busybox from Debian's busybox-static.
const busyboxPath = "/bin/busybox"

// requireBusybox skips (or, in CI, fails) without a static busybox.
func requireBusybox(t *testing.T) {
	t.Helper()
	out, err := exec.Command("dpkg-query", "-W", "-f=${Status}", "busybox-static").Output()
	if err != nil || !strings.Contains(string(out), "install ok installed") {
		if os.Getenv("CI") != "" {
			t.Fatal("busybox-static is not installed; the test command should have installed it")
		}
		t.Skip("busybox-static is not installed (scripts/test.sh installs it)")
	}
}

// busyboxContext is the examples/busybox context with the binary beside it.
func busyboxContext(t *testing.T) string {
	t.Helper()
	requireBusybox(t)
	dir := t.TempDir()
	df, err := os.ReadFile("../examples/busybox/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	bb, err := os.ReadFile(busyboxPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), df, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "busybox"), bb, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// busyboxBase builds the busybox base image into root as busybox:test.
func busyboxBase(t *testing.T, root string, extra ...string) metadata {
	t.Helper()
	md, _ := build(t, root, busyboxContext(t), append([]string{"-t", "busybox:test"}, extra...)...)
	return md
}
