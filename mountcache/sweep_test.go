package mountcache

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// ids lists the ids of infos.
func ids(infos []Info) []string {
	var out []string
	for _, i := range infos {
		out = append(out, i.ID)
	}
	return out
}

// TestRemove: Remove and Prune remove what no lease holds, with its
// size, and keep, saying so, what a lease holds, whose files stay for
// the running build; once released, it goes too.
func TestRemove(t *testing.T) {
	tests := []struct {
		name        string
		remove      func(c *Cache) (Result, error)
		wantRemoved []string
		wantInUse   []string
		wantLeft    []string // ids listed after
	}{
		{"prune", func(c *Cache) (Result, error) { return c.Prune(context.Background()) },
			[]string{"apt", "go", "npm"}, []string{"busy"}, []string{"busy"}},
		{"remove some", func(c *Cache) (Result, error) { return c.Remove(context.Background(), "go", "busy", "unknown") },
			[]string{"go"}, []string{"busy"}, []string{"apt", "busy", "npm"}},
		{"remove none", func(c *Cache) (Result, error) { return c.Remove(context.Background()) },
			nil, nil, []string{"apt", "busy", "npm", "go"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCache(t)
			for _, id := range []string{"apt", "go", "npm"} {
				l := acquire(t, c, Options{ID: id})
				writeFile(t, l.Dir(), "pkg", strings.Repeat(id, 10000))
				release(t, l)
			}
			busy := acquire(t, c, Options{ID: "busy", Sharing: Locked})
			writeFile(t, busy.Dir(), "work", "in progress")
			res, err := tt.remove(c)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(res.Removed); !slices.Equal(got, tt.wantRemoved) {
				t.Errorf("removed %q, want %q", got, tt.wantRemoved)
			}
			if got := ids(res.InUse); !slices.Equal(got, tt.wantInUse) {
				t.Errorf("in use %q, want %q", got, tt.wantInUse)
			}
			var sum int64
			for _, i := range res.Removed {
				if i.Size < 20000 {
					t.Errorf("removed %q of %d bytes, want its size", i.ID, i.Size)
				}
				sum += i.Size
				if _, err := os.Lstat(i.Dir); !os.IsNotExist(err) {
					t.Errorf("%s still there: %v", i.Dir, err)
				}
			}
			if res.Freed != sum {
				t.Errorf("freed %d, want %d", res.Freed, sum)
			}
			if !hasFile(busy.Dir(), "work", "in progress") {
				t.Error("the running build's directory was touched")
			}
			got := ids(list(t, c))
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tt.wantLeft))
			if !slices.Equal(got, want) {
				t.Errorf("left %q, want %q", got, want)
			}
			release(t, busy)
			if res, err := c.Prune(context.Background()); err != nil || len(res.InUse) != 0 {
				t.Fatalf("Prune after the release: %+v, %v", res, err)
			}
			if left := onDisk(t, c); len(left) != 0 {
				t.Errorf("Prune of everything left %v", left)
			}
		})
	}
}

// TestPruneDamaged: an instance whose metadata is damaged is listed with
// no id and pruned like the others.
func TestPruneDamaged(t *testing.T) {
	c := newCache(t)
	l := acquire(t, c, Options{ID: "x"})
	release(t, l)
	if err := os.WriteFile(filepath.Join(l.dir, metaName), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	infos := list(t, c)
	if len(infos) != 1 || infos[0].ID != "" || infos[0].Dir != l.Dir() {
		t.Fatalf("List = %+v; want the damaged instance with no id", infos)
	}
	res, err := c.Prune(context.Background())
	if err != nil || len(res.Removed) != 1 {
		t.Fatalf("Prune = %+v, %v", res, err)
	}
	if left := onDisk(t, c); len(left) != 0 {
		t.Errorf("left %v", left)
	}
}

// TestCleanup: what a killed process leaves (an instance half made, one
// half removed, a metadata write's temporary file, an empty id folder)
// goes, and no instance; a live maker's work and an instance in use stay.
func TestCleanup(t *testing.T) {
	c := newCache(t)
	keep := acquire(t, c, Options{ID: "keep"})
	writeFile(t, keep.Dir(), "f", "x")
	release(t, keep)
	held := acquire(t, c, Options{ID: "held"})
	idDir := filepath.Dir(keep.dir)
	dead := []string{
		filepath.Join(idDir, newPrefix+"123", dataName, "half-seeded"),
		filepath.Join(idDir, oldPrefix+"456", dataName, "half-removed"),
		filepath.Join(keep.dir, ".meta.json.tmp-789"),
	}
	for _, p := range dead {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Dir(p), filepath.Base(p), "partial")
	}
	heldTemp := filepath.Join(held.dir, ".meta.json.tmp-1")
	writeFile(t, held.dir, filepath.Base(heldTemp), "being written")
	emptyID := c.idDir("gone")
	if err := os.MkdirAll(emptyID, 0o700); err != nil {
		t.Fatal(err)
	}
	// A live maker: its seed holds the id's lock.
	seeding, finish, made := make(chan string), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(made)
		l, err := c.Acquire(context.Background(), Options{ID: "making", Seed: func(dir string) error {
			seeding <- dir
			<-finish
			return nil
		}})
		if err != nil {
			t.Error(err)
			return
		}
		l.Release()
	}()
	making := <-seeding

	res, err := c.Cleanup()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range dead {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s left: %v", p, err)
		}
	}
	if len(res.Leftovers) != len(dead) || len(res.Removed) != 0 {
		t.Errorf("Cleanup = %+v; want %d leftovers, no instance", res, len(dead))
	}
	if _, err := os.Lstat(emptyID); !os.IsNotExist(err) {
		t.Errorf("the empty id folder is left: %v", err)
	}
	for _, p := range []string{keep.Dir() + "/f", heldTemp, making} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("Cleanup removed %s: %v", p, err)
		}
	}
	close(finish)
	<-made
	if got := ids(list(t, c)); !slices.Equal(got, []string{"held", "keep", "making"}) {
		t.Errorf("after cleanup: %q", got)
	}
}
