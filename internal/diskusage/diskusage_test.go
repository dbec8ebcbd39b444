package diskusage

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSize: the space of a tree is at least its files' lengths, a link
// counts as itself and not as its target, and what is missing is nothing.
func TestSize(t *testing.T) {
	big := strings.Repeat("x", 64<<10)
	tests := []struct {
		name    string
		make    func(t *testing.T, dir string) string // returns the path to measure
		atLeast int64
		atMost  int64
	}{
		{"missing", func(t *testing.T, dir string) string { return filepath.Join(dir, "none") }, 0, 0},
		{"one file", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "f")
			write(t, p, big)
			return p
		}, 64 << 10, 1 << 20},
		{"tree", func(t *testing.T, dir string) string {
			write(t, filepath.Join(dir, "t", "a"), big)
			write(t, filepath.Join(dir, "t", "sub", "b"), big)
			return filepath.Join(dir, "t")
		}, 128 << 10, 1 << 20},
		{"link not followed", func(t *testing.T, dir string) string {
			write(t, filepath.Join(dir, "target"), big+big)
			if err := os.MkdirAll(filepath.Join(dir, "t"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join(dir, "target"), filepath.Join(dir, "t", "l")); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(dir, "t")
		}, 0, 64 << 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Size(tt.make(t, t.TempDir()))
			if got < tt.atLeast || got > tt.atMost {
				t.Errorf("Size = %d, want between %d and %d", got, tt.atLeast, tt.atMost)
			}
		})
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
