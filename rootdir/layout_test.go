package rootdir

import (
	"path/filepath"
	"testing"
)

// TestLayout pins every path: they are the on-disk format of a root, which
// old roots and other versions of minibuild share.
func TestLayout(t *testing.T) {
	l := At("/var/lib/minibuild")
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"Root", l.Root(), ""},
		{"OCILayout", l.OCILayout(), "oci-layout"},
		{"Index", l.Index(), "index.json"},
		{"Blobs", l.Blobs(), "blobs/sha256"},
		{"Tmp", l.Tmp(), "tmp"},
		{"Locks", l.Locks(), "locks"},
		{"StoreLock", l.StoreLock(), "locks/store.lock"},
		{"GateLock", l.GateLock(), "locks/gate.lock"},
		{"IndexLock", l.IndexLock(), "locks/index.lock"},
		{"Verified", l.Verified(), "verified"},
		{"Cache", l.Cache(), "cache"},
		{"CacheEntries", l.CacheEntries(), "cache/entries"},
		{"CacheParents", l.CacheParents(), "cache/parents"},
		{"Records", l.Records(), "cache/records"},
		{"Layers", l.Layers(), "layers"},
		{"Snapshots", l.Snapshots(), "snapshots"},
		{"Run", l.Run(), "run"},
		{"StatCache", l.StatCache(), "statcache"},
		{"Reports", l.Reports(), "reports"},
		{"CacheMounts", l.CacheMounts(), "mounts"},
		{"Volumes", l.Volumes(), "volumes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if want := filepath.Join("/var/lib/minibuild", tt.want); tt.got != want {
				t.Errorf("%s = %q, want %q", tt.name, tt.got, want)
			}
		})
	}
}
