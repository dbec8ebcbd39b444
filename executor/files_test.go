package executor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestRemoveRunDirUnmountsFiles stands in for a build killed during a run with a file
// mount: its run directory still holds the mounted files' tmpfs, which the stale-run
// clean-up (RemoveRunDir) must unmount, so the content is gone.
func TestRemoveRunDirUnmountsFiles(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	runDir := filepath.Join(t.TempDir(), "run-1")
	if err := os.Mkdir(runDir, 0o700); err != nil {
		t.Fatal(err)
	}
	pl := &plan{runDir: runDir, userMounts: []plannedMount{
		{Type: MountTmpfs, Target: "/t"},
		{Type: MountFile, Target: "/run/secrets/s", data: []byte("secret"), uid: 7, gid: 8, mode: 0o440},
	}}
	if err := pl.writeMountFiles(); err != nil {
		t.Fatal(err)
	}
	src := pl.userMounts[1].Source
	if src != filepath.Join(runDir, "files", "1") || pl.userMounts[1].data != nil {
		t.Fatalf("source %q, data %q", src, pl.userMounts[1].data)
	}
	var st unix.Stat_t
	if err := unix.Stat(src, &st); err != nil || st.Mode&0o7777 != 0o440 || st.Uid != 7 || st.Gid != 8 || st.Size != 6 {
		t.Errorf("file: mode %o owner %d:%d size %d, %v", st.Mode&0o7777, st.Uid, st.Gid, st.Size, err)
	}
	if err := RemoveRunDir(runDir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(runDir); !os.IsNotExist(err) {
		t.Errorf("run directory still there: %v", err)
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(mi), runDir) {
		t.Error("the files' tmpfs is still mounted")
	}
	// A run directory without file mounts is simply removed.
	if err := os.Mkdir(runDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := RemoveRunDir(runDir); err != nil {
		t.Fatal(err)
	}
}
