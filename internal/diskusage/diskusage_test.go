package diskusage

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSize(t *testing.T) {
	dir := t.TempDir()
	empty := Size(dir)
	if err := os.WriteFile(filepath.Join(dir, "f"), make([]byte, 64<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		path    string
		atLeast int64
		atMost  int64
	}{
		{"missing", filepath.Join(dir, "nosuch"), 0, 0},
		{"a file", filepath.Join(dir, "f"), 64 << 10, 1 << 20},
		// The link to / is not followed.
		{"a tree", dir, empty + 64<<10, 1 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Size(tc.path); got < tc.atLeast || got > tc.atMost {
				t.Errorf("Size(%s) = %d, want %d to %d", tc.path, got, tc.atLeast, tc.atMost)
			}
		})
	}
}
