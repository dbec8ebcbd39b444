package buildcontext

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mkTree creates entries below dir. Each spec is "path" (a file whose content
// is its path), "path/" (a directory), "path=content" (a file) or
// "path -> target" (a symbolic link). Parents are created as needed.
func mkTree(t *testing.T, dir string, specs ...string) {
	t.Helper()
	for _, s := range specs {
		switch {
		case strings.Contains(s, " -> "):
			name, target, _ := strings.Cut(s, " -> ")
			p := filepath.Join(dir, name)
			mkParent(t, p)
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
		case strings.HasSuffix(s, "/"):
			if err := os.MkdirAll(filepath.Join(dir, s), 0o755); err != nil {
				t.Fatal(err)
			}
		default:
			name, content, ok := strings.Cut(s, "=")
			if !ok {
				content = name
			}
			p := filepath.Join(dir, name)
			mkParent(t, p)
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func mkParent(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
}

// openCtx opens dir and closes it when the test ends.
func openCtx(t *testing.T, dir string, opts Options) *Context {
	t.Helper()
	c, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// rels returns the Rel of every file.
func rels(files []File) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.Rel
	}
	return out
}
