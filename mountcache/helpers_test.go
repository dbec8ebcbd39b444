package mountcache

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/minibuild/minibuild/rootdir"
)

// patience bounds every wait a passing test never reaches: a test that
// hits it has found a lease that never came.
const patience = 20 * time.Second

// newCache opens the cache mounts of a fresh root.
func newCache(t *testing.T) *Cache {
	t.Helper()
	return Open(rootdir.At(t.TempDir()))
}

// acquire is Acquire that must succeed; the lease is released at the
// end of the test unless released before.
func acquire(t *testing.T, c *Cache, o Options) *Lease {
	t.Helper()
	l, err := c.Acquire(context.Background(), o)
	if err != nil {
		t.Fatalf("Acquire(%q, %s): %v", o.ID, o.Sharing, err)
	}
	t.Cleanup(func() { l.Release() })
	return l
}

// release is Release that must succeed.
func release(t *testing.T, l *Lease) {
	t.Helper()
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
}

// writeFile writes content to name in dir.
func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// hasFile reports whether dir holds name with content.
func hasFile(dir, name, content string) bool {
	b, err := os.ReadFile(filepath.Join(dir, name))
	return err == nil && string(b) == content
}

// list is List that must succeed.
func list(t *testing.T, c *Cache) []Info {
	t.Helper()
	infos, err := c.List()
	if err != nil {
		t.Fatal(err)
	}
	return infos
}

// onDisk lists every name under the cache's folder, relative to it.
func onDisk(t *testing.T, c *Cache) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(c.dir, func(p string, d os.DirEntry, err error) error {
		if errors.Is(err, os.ErrNotExist) && p == c.dir {
			return filepath.SkipDir
		}
		if err != nil {
			return err
		}
		if p != c.dir {
			rel, _ := filepath.Rel(c.dir, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
