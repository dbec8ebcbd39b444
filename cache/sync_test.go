package cache

import (
	"os"
	"strings"
	"testing"

	"github.com/minibuild/minibuild/rootdir"
	digest "github.com/opencontainers/go-digest"
)

// TestSyncPending: Put leaves the entries folder (and the parents index,
// for a parent not seen before) to be synced by Sync, which syncs each
// once; a failed sync leaves its folder pending.
func TestSyncPending(t *testing.T) {
	entry := func(key string, parent digest.Digest) Entry {
		return Entry{Key: digest.FromString(key), Parent: parent, CreatedBy: key}
	}
	p1 := digest.FromString("p1")
	tests := []struct {
		name                 string
		act                  func(t *testing.T, c *Cache, root rootdir.Layout) error
		wantEntries, wantPar bool
		wantErr              string
	}{
		{"nothing stored", func(*testing.T, *Cache, rootdir.Layout) error { return nil }, false, false, ""},
		{"entry of a new parent", func(t *testing.T, c *Cache, _ rootdir.Layout) error {
			return c.Put(entry("a", p1))
		}, true, true, ""},
		{"entry of a known parent", func(t *testing.T, c *Cache, _ rootdir.Layout) error {
			if err := c.Put(entry("a", p1)); err != nil {
				return err
			}
			if err := c.Sync(); err != nil {
				return err
			}
			return c.Put(entry("b", p1))
		}, true, false, ""},
		{"synced", func(t *testing.T, c *Cache, _ rootdir.Layout) error {
			if err := c.Put(entry("a", p1)); err != nil {
				return err
			}
			return c.Sync()
		}, false, false, ""},
		{"entries folder gone", func(t *testing.T, c *Cache, root rootdir.Layout) error {
			if err := c.Put(entry("a", p1)); err != nil {
				return err
			}
			if err := os.RemoveAll(root.CacheEntries()); err != nil {
				t.Fatal(err)
			}
			return c.Sync()
		}, true, false, "syncing the build cache"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := rootdir.At(t.TempDir())
			c, err := Open(root)
			if err != nil {
				t.Fatal(err)
			}
			err = tt.act(t, c, root)
			if tt.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
			if got := c.unsyncedEntries.Load(); got != tt.wantEntries {
				t.Errorf("entries pending a sync: %v, want %v", got, tt.wantEntries)
			}
			if got := c.unsyncedParents.Load(); got != tt.wantPar {
				t.Errorf("parents index pending a sync: %v, want %v", got, tt.wantPar)
			}
		})
	}
}
