package e2e

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/minibuild/minibuild/mountcache"
	"github.com/minibuild/minibuild/rootdir"
)

// TestCacheMountsDuPrune: cache du shows each cache mount with its size
// and whether a build holds it; plain cache prune keeps them; --mounts
// removes those no process holds (this test's lease stands for a running
// build in another process) and names the one kept; --all removes it
// once released. The mounts are made through mountcache, not by a RUN
// --mount, which this test does not need.
func TestCacheMountsDuPrune(t *testing.T) {
	root := t.TempDir()
	c := mountcache.Open(rootdir.At(root))
	lease := func(id string, size int) *mountcache.Lease {
		l, err := c.Acquire(context.Background(), mountcache.Options{ID: id})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(l.Dir(), "f"), make([]byte, size), 0o644); err != nil {
			t.Fatal(err)
		}
		return l
	}
	if err := lease("/root/.cache/go-build", 300<<10).Release(); err != nil {
		t.Fatal(err)
	}
	held := lease("apt", 10<<10)
	defer held.Release()
	left := func() []string {
		infos, err := c.List()
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, i := range infos {
			ids = append(ids, i.ID)
		}
		return ids
	}

	du := mustMB(t, "cache", "du", "--root", root)
	lines := fieldLines(du.stdout)
	for _, want := range []string{"cache mounts 2", "/root/.cache/go-build 1 30", "apt 1"} {
		if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, want) }) {
			t.Errorf("cache du has no line starting %q:\n%s", want, du.stdout)
		}
	}
	if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, "apt ") && strings.HasSuffix(l, " yes") }) {
		t.Errorf("cache du does not show apt in use:\n%s", du.stdout)
	}

	mustMB(t, "cache", "prune", "--root", root)
	if got := left(); !slices.Equal(got, []string{"/root/.cache/go-build", "apt"}) {
		t.Errorf("plain cache prune left %q, want both cache mounts", got)
	}
	r := mustMB(t, "cache", "prune", "--root", root, "--mounts")
	if got := left(); !slices.Equal(got, []string{"apt"}) {
		t.Errorf("cache prune --mounts left %q, want the held one", got)
	}
	if !strings.Contains(r.stdout, "removed cache mount: /root/.cache/go-build (") ||
		!strings.Contains(r.stdout, "kept cache mount apt: a running build holds it") ||
		!strings.Contains(r.stdout, ", 1 cache mount directories, ") {
		t.Errorf("cache prune --mounts said:\n%s", r.stdout)
	}
	if err := held.Release(); err != nil {
		t.Fatal(err)
	}
	mustMB(t, "cache", "prune", "--root", root, "--all")
	if got := left(); len(got) != 0 {
		t.Errorf("cache prune --all left %q", got)
	}
	if du := mustMB(t, "cache", "du", "--root", root); strings.Contains(du.stdout, "CACHE MOUNT") {
		t.Errorf("cache du lists cache mounts after they were pruned:\n%s", du.stdout)
	}
}

// fieldLines is text's lines, each with its fields joined by one space.
func fieldLines(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		out = append(out, strings.Join(strings.Fields(l), " "))
	}
	return out
}
