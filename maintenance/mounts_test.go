package maintenance

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/minibuild/minibuild/mountcache"
	"github.com/minibuild/minibuild/rootdir"
	"github.com/minibuild/minibuild/store"
)

// putMount makes the cache mount id in the root of s, holding a file of
// size bytes, and returns its lease, released unless hold is set.
func putMount(t *testing.T, s *store.Store, id string, size int, hold bool) *mountcache.Lease {
	t.Helper()
	l, err := mountcache.Open(rootdir.At(s.Root())).Acquire(context.Background(), mountcache.Options{ID: id})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(l.Dir(), "f"), []byte(strings.Repeat("x", size)), 0o644); err != nil {
		t.Fatal(err)
	}
	if hold {
		t.Cleanup(func() { l.Release() })
	} else if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	return l
}

// mountIDs lists the ids of the cache mounts left in the root of s.
func mountIDs(t *testing.T, s *store.Store) []string {
	t.Helper()
	infos, err := mountcache.Open(rootdir.At(s.Root())).List()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, i := range infos {
		out = append(out, i.ID)
	}
	return out
}

func TestUsageCountsMounts(t *testing.T) {
	s := openTestStore(t)
	putMount(t, s, "/root/.cache/go-build", 50000, false)
	putMount(t, s, "apt", 10000, true)
	u, err := Usage(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Mounts) != 2 || u.Mounts[0].ID != "/root/.cache/go-build" || u.Mounts[1].ID != "apt" {
		t.Fatalf("Usage mounts %+v", u.Mounts)
	}
	if u.Mounts[0].Size < 50000 || u.Mounts[0].InUse || !u.Mounts[1].InUse {
		t.Errorf("Usage mounts %+v; want the size and who is in use", u.Mounts)
	}
}

// TestPruneMounts: plain prune keeps the cache mounts; Mounts and All
// remove them, but for one a running build holds, which the result names.
func TestPruneMounts(t *testing.T) {
	tests := []struct {
		name      string
		opts      PruneOptions
		wantLeft  []string
		wantInUse bool
	}{
		{"plain", PruneOptions{}, []string{"busy", "go", "npm"}, false},
		{"keep storage", PruneOptions{KeepStorage: 1}, []string{"busy", "go", "npm"}, false},
		{"mounts", PruneOptions{Mounts: true}, []string{"busy"}, true},
		{"all", PruneOptions{All: true}, []string{"busy"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTestStore(t)
			putMount(t, s, "go", 30000, false)
			putMount(t, s, "npm", 20000, false)
			busy := putMount(t, s, "busy", 100, true)
			res, removed := prune(t, s, tt.opts)
			if got := mountIDs(t, s); !slices.Equal(got, tt.wantLeft) {
				t.Errorf("left %q, want %q", got, tt.wantLeft)
			}
			if _, err := os.Stat(filepath.Join(busy.Dir(), "f")); err != nil {
				t.Errorf("the running build's cache mount lost its file: %v", err)
			}
			var kinds []string
			for _, r := range removed {
				if r.Kind == "cache mount" {
					kinds = append(kinds, r.What)
					if r.Bytes < 20000 {
						t.Errorf("%v: want its size", r)
					}
				}
			}
			if want := 3 - len(tt.wantLeft); res.Mounts != want || len(kinds) != want {
				t.Errorf("removed %d cache mounts (%q), reported %d; want %d", res.Mounts, kinds, len(kinds), want)
			}
			if inUse := len(res.MountsInUse) == 1 && res.MountsInUse[0].ID == "busy"; inUse != tt.wantInUse {
				t.Errorf("in use %+v, want busy named: %v", res.MountsInUse, tt.wantInUse)
			}
		})
	}
}

// TestCleanStaleMounts: a cache mount half made by a dead build goes; the
// whole ones stay.
func TestCleanStaleMounts(t *testing.T) {
	s := openTestStore(t)
	l := putMount(t, s, "go", 10, false)
	// What a build killed while it seeded a new instance of "go" leaves
	// beside instance 0 (see mountcache's layout).
	half := filepath.Join(filepath.Dir(filepath.Dir(l.Dir())), ".new-1234", "data", "f")
	if err := os.MkdirAll(filepath.Dir(half), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(half, []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := CleanStale(s); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Dir(filepath.Dir(half))); !os.IsNotExist(err) {
		t.Errorf("the half-made cache mount is left: %v", err)
	}
	if got := mountIDs(t, s); !slices.Equal(got, []string{"go"}) {
		t.Errorf("cache mounts after CleanStale: %q", got)
	}
}
