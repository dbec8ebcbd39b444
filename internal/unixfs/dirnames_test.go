package unixfs

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestReadDirNames(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"b", "a", "c"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := ReadDirNames(dir); err != nil || !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("ReadDirNames = %v, %v", got, err)
	}
	if got, err := ReadDirNames(filepath.Join(dir, "missing")); err != nil || got != nil {
		t.Errorf("missing directory: %v, %v", got, err)
	}
	if _, err := ReadDirNames(filepath.Join(dir, "a")); err == nil {
		t.Error("a file listed as a directory")
	}
}

func TestModeBits(t *testing.T) {
	for m, want := range map[os.FileMode]uint32{0o755: 0o755, 0o644 | os.ModeSetuid: 0o4644, os.ModeSticky | 0o777: 0o1777, os.ModeDir | os.ModeSetgid | 0o750: 0o2750} {
		if got := ModeBits(m); got != want {
			t.Errorf("ModeBits(%v) = %o, want %o", m, got, want)
		}
	}
}
