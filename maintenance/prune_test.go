package maintenance

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minibuild/minibuild/cache"
	"github.com/minibuild/minibuild/internal/storetest"
	"github.com/minibuild/minibuild/rootdir"
	"github.com/minibuild/minibuild/snapshot"
	"github.com/minibuild/minibuild/store"
	digest "github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/identity"
)

// pruneFixture is a store with tagged image app:1 (layers base, app; an
// ENV step), the cache entries of its steps, three cache-only layers used
// at increasing times, a metadata-only entry of no image, an orphan blob
// and an untagged image.
type pruneFixture struct {
	verifyFixture
	old, mid, new       testLayer
	oldKey, midKey      digest.Digest
	newKey, envKey      digest.Digest
	strayEnvKey, orphan digest.Digest
}

func newPruneFixture(t *testing.T) pruneFixture {
	t.Helper()
	f := pruneFixture{verifyFixture: newVerifyFixture(t)}
	if err := f.c.Delete(f.extraKey); err != nil {
		t.Fatal(err)
	}
	if err := f.s.RemoveBlob(f.extra.desc.Digest); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	f.old = putLayer(t, f.s, "old", strings.Repeat("o", 100))
	f.mid = putLayer(t, f.s, "mid", strings.Repeat("m", 200))
	f.new = putLayer(t, f.s, "new", strings.Repeat("n", 300))
	f.oldKey = putEntry(t, f.c, "RUN old", &f.old, t0)
	f.midKey = putEntry(t, f.c, "RUN mid", &f.mid, t0.Add(time.Hour))
	f.newKey = putEntry(t, f.c, "RUN new", &f.new, t0.Add(2*time.Hour))
	f.envKey = cacheKey("ENV A=1")
	f.strayEnvKey = putEntry(t, f.c, "ENV B=2", nil, t0)
	orphan, err := f.s.WriteBlob("x", []byte("orphan"))
	if err != nil {
		t.Fatal(err)
	}
	f.orphan = orphan.Digest
	putImage(t, f.s, "", []testLayer{f.old})
	return f
}

func cacheKey(step string) digest.Digest {
	return cache.KeyInput{Instruction: step}.Key()
}

func prune(t *testing.T, s *store.Store, opts PruneOptions) (PruneResult, []Removal) {
	t.Helper()
	var removed []Removal
	opts.Report = func(r Removal) { removed = append(removed, r) }
	res, err := Prune(context.Background(), s, opts)
	if err != nil {
		t.Fatalf("Prune: %v", err)
	}
	return res, removed
}

// keys lists the cache's keys.
func (f pruneFixture) keys(t *testing.T) []digest.Digest {
	t.Helper()
	return cacheKeys(t, f.c)
}

// cacheKeys lists the keys of c's entries.
func cacheKeys(t *testing.T, c *cache.Cache) []digest.Digest {
	t.Helper()
	entries, _, _, err := c.Scan()
	if err != nil {
		t.Fatal(err)
	}
	var out []digest.Digest
	for _, e := range entries {
		out = append(out, e.Key)
	}
	return out
}

func sorted(ds ...digest.Digest) []digest.Digest {
	out := append([]digest.Digest(nil), ds...)
	slices.Sort(out)
	return out
}

func TestPrune(t *testing.T) {
	tests := []struct {
		name     string
		opts     PruneOptions
		wantKeys func(f pruneFixture) []digest.Digest
	}{
		{"default keeps what tagged images need", PruneOptions{},
			func(f pruneFixture) []digest.Digest {
				return sorted(cacheKey("COPY base"), f.appKey, f.envKey)
			}},
		{"keep-storage removes the least recently used first", PruneOptions{KeepStorage: 1},
			func(f pruneFixture) []digest.Digest {
				return sorted(cacheKey("COPY base"), f.appKey, f.envKey, f.newKey)
			}},
		{"keep-storage large enough keeps every entry", PruneOptions{KeepStorage: 1 << 30},
			func(f pruneFixture) []digest.Digest {
				return sorted(cacheKey("COPY base"), f.appKey, f.envKey, f.oldKey, f.midKey, f.newKey, f.strayEnvKey)
			}},
		{"all", PruneOptions{All: true}, func(pruneFixture) []digest.Digest { return nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newPruneFixture(t)
			if tt.opts.KeepStorage == 1 {
				// Room for the newest cache-only layer alone.
				tt.opts.KeepStorage = f.new.desc.Size
			}
			if err := f.s.VerifyLayer(f.old.desc, f.old.diffID); err != nil {
				t.Fatal(err)
			}
			stamp := filepath.Join(rootdir.At(f.s.Root()).Verified(), f.old.desc.Digest.Encoded())
			before := blobFileNames(t, f.s)
			res, removed := prune(t, f.s, tt.opts)
			if got, want := f.keys(t), tt.wantKeys(f); !slices.Equal(got, want) {
				t.Errorf("entries left: %v\nwant %v\nremoved: %+v", got, want, removed)
			}
			// The tagged image is whole, nothing unreferenced is left, and
			// the store verifies clean.
			v := verify(t, f.s, false)
			if len(v.Problems) != 0 || v.UnreferencedBlobs != 0 {
				t.Errorf("after Prune: problems %v, %d unreferenced blobs", v.Problems, v.UnreferencedBlobs)
			}
			if _, err := f.s.Resolve("app:1"); err != nil {
				t.Error(err)
			}
			if f.s.HasBlob(f.orphan) {
				t.Error("the orphan blob was kept")
			}
			if _, err := os.Stat(stamp); f.s.HasBlob(f.old.desc.Digest) == os.IsNotExist(err) {
				t.Errorf("layer blob kept %v, its VerifyLayer stamp: %v", f.s.HasBlob(f.old.desc.Digest), err)
			}
			after := blobFileNames(t, f.s)
			if res.Blobs != len(before)-len(after) {
				t.Errorf("result counts %d blobs, %d were removed", res.Blobs, len(before)-len(after))
			}
			if res.Bytes <= 0 {
				t.Errorf("result says %d bytes freed", res.Bytes)
			}
		})
	}
}

// TestPruneUnpackedAndBases: unpacked layers (of both kinds of overlay
// mounts: a root and a rootless build may have used the root in turn) and
// native bases of no tagged image or kept entry go; the image's stay.
func TestPruneUnpackedAndBases(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (unpacking layers chowns)")
	}
	f := newPruneFixture(t)
	ctx := context.Background()
	us := snapshot.Unpackers(rootdir.At(f.s.Root()).Layers())
	native := snapshot.NewNative(rootdir.At(f.s.Root()).Snapshots())
	for _, chain := range [][]testLayer{{f.base, f.app}, {f.base, f.old}} {
		var layers []snapshot.Layer
		for _, l := range chain {
			layers = append(layers, f.snapshotLayer(t, l))
			for _, u := range us {
				if _, err := u.Unpack(ctx, layers[len(layers)-1]); err != nil {
					t.Fatal(err)
				}
			}
		}
		m, err := native.Prepare(ctx, layers)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Release(); err != nil {
			t.Fatal(err)
		}
	}
	res, _ := prune(t, f.s, PruneOptions{})
	for _, u := range us {
		ids, err := u.Unpacked()
		if err != nil {
			t.Fatal(err)
		}
		if want := sorted(f.base.diffID, f.app.diffID); !slices.Equal(ids, want) {
			t.Errorf("unpacked layers left under %s: %v, want %v", filepath.Dir(u.Dir(f.base.diffID)), ids, want)
		}
	}
	bases, err := snapshot.NativeBases(rootdir.At(f.s.Root()).Snapshots())
	if err != nil {
		t.Fatal(err)
	}
	if want := []digest.Digest{identity.ChainID([]digest.Digest{f.base.diffID, f.app.diffID})}; !slices.Equal(bases, want) {
		t.Errorf("native bases left: %v, want %v", bases, want)
	}
	if res.Unpacked != len(us) || res.Bases != 1 {
		t.Errorf("result: %d unpacked layers and %d bases removed, want %d and 1", res.Unpacked, res.Bases, len(us))
	}
}

func (f pruneFixture) snapshotLayer(t *testing.T, l testLayer) snapshot.Layer {
	return snapshot.Layer{DiffID: l.diffID, Open: func() (io.ReadCloser, error) {
		data, err := f.s.ReadBlob(l.desc.Digest)
		if err != nil {
			return nil, err
		}
		zr, err := gzipReader(data)
		if err != nil {
			return nil, err
		}
		return io.NopCloser(zr), nil
	}}
}

// TestPruneWaitsForBuilds: Prune takes the exclusive lock, so it waits
// while a build holds the shared one and removes nothing meanwhile.
func TestPruneWaitsForBuilds(t *testing.T) {
	f := newPruneFixture(t)
	unlock := holdBuildLock(t, f.s.Root())
	done := make(chan error, 1)
	go func() {
		_, err := Prune(context.Background(), f.s, PruneOptions{})
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("Prune ran while a build held the store: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	if !f.s.HasBlob(f.orphan) {
		t.Fatal("a blob was removed while a build held the store")
	}
	unlock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if f.s.HasBlob(f.orphan) {
		t.Error("Prune removed nothing once the build was done")
	}
}

// TestPruneRefusesDamagedImages: when a tagged image cannot be read whole,
// what it needs is unknown, so Prune removes nothing.
func TestPruneRefusesDamagedImages(t *testing.T) {
	f := newPruneFixture(t)
	storetest.FlipBit(t, blobFile(t, f.s, f.image.Digest))
	before := blobFileNames(t, f.s)
	if _, err := Prune(context.Background(), f.s, PruneOptions{}); err == nil || !strings.Contains(err.Error(), "verify --repair") {
		t.Fatalf("Prune = %v, want an error pointing at verify --repair", err)
	}
	if after := blobFileNames(t, f.s); !slices.Equal(before, after) {
		t.Errorf("Prune removed blobs: %v -> %v", before, after)
	}
}

func blobFileNames(t *testing.T, s *store.Store) []string {
	t.Helper()
	files, err := s.BlobFiles()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		out = append(out, f.Name)
	}
	return out
}

func gzipReader(data []byte) (io.Reader, error) {
	return gzip.NewReader(bytes.NewReader(data))
}
