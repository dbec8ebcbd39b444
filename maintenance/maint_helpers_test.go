package maintenance

import (
	"context"
	"testing"
	"time"

	"github.com/minibuild/minibuild/cache"
	"github.com/minibuild/minibuild/internal/storetest"
	"github.com/minibuild/minibuild/rootdir"
	"github.com/minibuild/minibuild/store"
	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// openTestStore opens a store in a fresh temporary directory.
func openTestStore(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// holdBuildLock opens the store at root a second time and holds its lock
// shared, as a running build does, until the returned function is called.
func holdBuildLock(t *testing.T, root string) (unlock func()) {
	t.Helper()
	building, err := store.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	unlock, err = building.Lock(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	return unlock
}

// testLayer is a gzip layer blob stored in a test store.
type testLayer struct {
	desc   ocispec.Descriptor
	diffID digest.Digest
}

// putLayer stores a gzip layer holding one file name with content.
func putLayer(t *testing.T, s *store.Store, name, content string) testLayer {
	t.Helper()
	desc, diffID := storetest.PutLayer(t, s, name, content)
	return testLayer{desc: desc, diffID: diffID}
}

// putImage stores a config (with one history entry per layer plus the
// empty-layer steps given) and a manifest of layers, and tags it name
// unless name is "".
func putImage(t *testing.T, s *store.Store, name string, layers []testLayer, emptySteps ...string) ocispec.Descriptor {
	t.Helper()
	img := ocispec.Image{Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"}, RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{}}}
	m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest, Layers: []ocispec.Descriptor{}}
	for _, l := range layers {
		img.RootFS.DiffIDs = append(img.RootFS.DiffIDs, l.diffID)
		img.History = append(img.History, ocispec.History{CreatedBy: "COPY " + string(l.diffID)})
		m.Layers = append(m.Layers, l.desc)
	}
	for _, step := range emptySteps {
		img.History = append(img.History, ocispec.History{CreatedBy: step, EmptyLayer: true})
	}
	var err error
	if m.Config, err = s.WriteJSON(ocispec.MediaTypeImageConfig, img); err != nil {
		t.Fatal(err)
	}
	desc, err := s.WriteJSON(ocispec.MediaTypeImageManifest, m)
	if err != nil {
		t.Fatal(err)
	}
	if name != "" {
		if err := s.Tag(name, desc); err != nil {
			t.Fatal(err)
		}
	}
	return desc
}

// testCache opens the store's cache.
func testCache(t *testing.T, s *store.Store) *cache.Cache {
	t.Helper()
	c, err := cache.Open(rootdir.At(s.Root()))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// putEntry records a cache entry for step (with layer l unless nil) last
// used at lastUsed, and returns its key.
func putEntry(t *testing.T, c *cache.Cache, step string, l *testLayer, lastUsed time.Time) digest.Digest {
	t.Helper()
	e := cache.Entry{Key: cache.KeyInput{Instruction: step}.Key(), CreatedBy: step, Created: lastUsed, LastUsed: lastUsed}
	if l != nil {
		desc := l.desc
		e.Layer, e.DiffID = &desc, l.diffID
	}
	if err := c.Put(e); err != nil {
		t.Fatal(err)
	}
	return e.Key
}

// blobFile is the path of blob d in s.
func blobFile(t *testing.T, s *store.Store, d digest.Digest) string {
	t.Helper()
	p, err := s.BlobPath(d)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// problemKinds lists "kind digest" of each problem, for comparisons.
func problemKinds(ps []Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Kind+" "+string(p.Digest))
	}
	return out
}
