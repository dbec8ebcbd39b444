package maintenance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minibuild/minibuild/internal/storetest"
	"golang.org/x/sys/unix"
)

// deadBuildLeftovers writes what a build killed mid-way leaves in the
// store at root and returns the paths that cleanup must remove and the
// one it must keep (a young temporary file in ROOT, which opening a store
// may be writing).
func deadBuildLeftovers(t *testing.T, root string) (stale []string, young string) {
	t.Helper()
	stale = []string{
		filepath.Join(root, "tmp", "blob-1234"),
		filepath.Join(root, "tmp", "work-5", "sub", "f"),
		filepath.Join(root, "cache", "entries", ".tmp-77"),
		filepath.Join(root, "cache", "entries", "."+strings.Repeat("c", 64)+".json.tmp-78"),
		filepath.Join(root, "run", "run-42", "hosts"),
		filepath.Join(root, ".index.json.tmp-old"),
		filepath.Join(root, "layers", "tmp", "sha256-"+strings.Repeat("e", 64)+"-3", "usr", "bin"),
	}
	for _, p := range stale {
		storetest.WriteFile(t, p, "partial")
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(stale[5], old, old); err != nil {
		t.Fatal(err)
	}
	young = filepath.Join(root, ".oci-layout.tmp-new")
	storetest.WriteFile(t, young, "partial")
	return stale, young
}

func TestCleanStale(t *testing.T) {
	s := openTestStore(t)
	stale, young := deadBuildLeftovers(t, s.Root())
	alone, err := CleanStale(s)
	if err != nil || !alone {
		t.Fatalf("CleanStale = %v, %v; want true, nil", alone, err)
	}
	for _, p := range stale {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s left: %v", p, err)
		}
	}
	if _, err := os.Lstat(young); err != nil {
		t.Errorf("a young temporary file in ROOT was removed: %v", err)
	}
	for _, d := range []string{"tmp", "cache/entries", "run"} {
		if _, err := os.Stat(filepath.Join(s.Root(), d)); err != nil {
			t.Errorf("%s itself was removed: %v", d, err)
		}
	}
}

// TestCleanStaleSparesRunningBuilds: while a build holds the store lock,
// its files under ROOT/tmp and its run directory stay.
func TestCleanStaleSparesRunningBuilds(t *testing.T) {
	s := openTestStore(t)
	unlock := holdBuildLock(t, s.Root())
	defer unlock()
	live := []string{
		filepath.Join(s.Root(), "tmp", "blob-live"),
		filepath.Join(s.Root(), "cache", "entries", ".tmp-live"),
		filepath.Join(s.Root(), "run", "run-live", "hosts"),
	}
	for _, p := range live {
		storetest.WriteFile(t, p, "being written")
	}
	alone, err := CleanStale(s)
	if err != nil || alone {
		t.Fatalf("CleanStale = %v, %v; want false, nil", alone, err)
	}
	for _, p := range live {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("a running build's %s was removed: %v", p, err)
		}
	}
}

// TestCleanStaleUnmountsRunFiles: a build killed during a run with file
// mounts (secrets) leaves their tmpfs mounted in its run directory; the
// clean-up unmounts it before it removes the directory.
func TestCleanStaleUnmountsRunFiles(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	s := openTestStore(t)
	files := filepath.Join(s.Root(), "run", "run-43", "files")
	if err := os.MkdirAll(files, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", files, "tmpfs", 0, "size=64k"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Unmount(files, unix.MNT_DETACH) })
	storetest.WriteFile(t, filepath.Join(files, "0"), "secret")
	if _, err := CleanStale(s); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Dir(files)); !os.IsNotExist(err) {
		t.Errorf("run directory left: %v", err)
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(mi), files) {
		t.Error("the run's files tmpfs is still mounted")
	}
}
