package registry

import (
	"strings"
	"sync"
	"testing"

	"github.com/minibuild/minibuild/internal/storetest"
	"github.com/minibuild/minibuild/internal/testregistry"

	"github.com/minibuild/minibuild/store"
	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// requireTool is testregistry.RequireTool.
func requireTool(t *testing.T, name string) string { return testregistry.RequireTool(t, name) }

// startRegistry runs a real registry on loopback (see testregistry.Start).
func startRegistry(t *testing.T, htpasswd string) string { return testregistry.Start(t, htpasswd) }

// testImage is a small image written into a store by hand.
type testImage struct {
	manifest ocispec.Descriptor
	config   ocispec.Descriptor
	layers   []ocispec.Descriptor
	diffIDs  []digest.Digest
}

// writeImage stores an image of one layer per file (name -> content, in
// the order of names) for platform.
func writeImage(t *testing.T, s *store.Store, arch string, names []string, files map[string]string) testImage {
	t.Helper()
	var img testImage
	for _, n := range names {
		data, diffID := storetest.Layer(t, n, files[n])
		desc, err := s.WriteBlob(ocispec.MediaTypeImageLayerGzip, data)
		if err != nil {
			t.Fatal(err)
		}
		img.layers = append(img.layers, desc)
		img.diffIDs = append(img.diffIDs, diffID)
	}
	cfg := ocispec.Image{Platform: ocispec.Platform{OS: "linux", Architecture: arch},
		RootFS: ocispec.RootFS{Type: "layers", DiffIDs: img.diffIDs}}
	var err error
	if img.config, err = s.WriteJSON(ocispec.MediaTypeImageConfig, cfg); err != nil {
		t.Fatal(err)
	}
	m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		Config: img.config, Layers: img.layers}
	if img.manifest, err = s.WriteJSON(ocispec.MediaTypeImageManifest, m); err != nil {
		t.Fatal(err)
	}
	return img
}

// openStore opens a store in a fresh temporary directory.
func openStore(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// recorder collects progress reports.
type recorder struct {
	mu  sync.Mutex
	got []string
}

func (r *recorder) fn() ProgressFunc {
	return func(p Progress) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.got = append(r.got, p.Kind+" "+p.Status)
	}
}

// count returns how many reports equal want.
func (r *recorder) count(want string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, g := range r.got {
		if g == want {
			n++
		}
	}
	return n
}

func (r *recorder) String() string { return strings.Join(r.got, ", ") }

// newTestClient returns a Client with an empty credential store unless
// one is given.
func newTestClient(t *testing.T, o Options) *Client {
	t.Helper()
	if o.Credentials == nil {
		t.Setenv("DOCKER_CONFIG", t.TempDir())
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
