package session

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minibuild/minibuild/builder"
	"github.com/minibuild/minibuild/export"
	"github.com/minibuild/minibuild/internal/storetest"
	"github.com/minibuild/minibuild/internal/testregistry"
	"github.com/minibuild/minibuild/registry"
	"github.com/minibuild/minibuild/store"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/registry/remote/credentials"
)

// indexFixture is a store holding an index of two images, as a build of
// linux/amd64 and linux/arm/v7 leaves it.
type indexFixture struct {
	s        *store.Store
	index    ocispec.Descriptor
	children []ocispec.Descriptor
	// blobs are every blob the index reaches, the index included.
	blobs []digest.Digest
	// layers are the images' layers.
	layers []ocispec.Descriptor
}

func newIndexFixture(t *testing.T) indexFixture {
	t.Helper()
	s, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f := indexFixture{s: s}
	for _, c := range []struct {
		p     ocispec.Platform
		files map[string]string
	}{
		{ocispec.Platform{OS: "linux", Architecture: "amd64"}, map[string]string{"f": "amd64"}},
		{ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}, map[string]string{"f": "arm", "g": "v7"}},
	} {
		m := storetest.PutImage(t, s, c.p, c.files)
		p := c.p
		m.Platform = &p
		f.children = append(f.children, m)
	}
	if f.index, err = s.WriteIndex(f.children); err != nil {
		t.Fatal(err)
	}
	if err := s.Tag("app:multi", f.index); err != nil {
		t.Fatal(err)
	}
	err = s.WalkImage(f.index, func(d ocispec.Descriptor) { f.blobs = append(f.blobs, d.Digest) },
		func(_ ocispec.Descriptor, m ocispec.Manifest, _ ocispec.Image) error {
			f.layers = append(f.layers, m.Layers...)
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.blobs) != 8 || len(f.layers) != 3 { // index, 2 manifests, 2 configs, 3 layers
		t.Fatalf("fixture reaches %d blobs and %d layers", len(f.blobs), len(f.layers))
	}
	return f
}

// session is a session of f's store with outputs and the image's tags.
func (f indexFixture) session(outputs ...Output) *session {
	return &session{tools: Tools{Store: f.s, Stdout: io.Discard, Reporter: nopReporter{}},
		set: Settings{Tags: []string{"app:multi"}, Outputs: outputs}}
}

func TestOutputsOfIndex(t *testing.T) {
	ctx := context.Background()
	t.Run("oci directory", func(t *testing.T) {
		f := newIndexFixture(t)
		dir := filepath.Join(t.TempDir(), "out")
		if err := f.session(Output{Kind: OutputOCI, Dest: dir}).writeOutputs(ctx, &builder.Result{Manifest: f.index}); err != nil {
			t.Fatal(err)
		}
		l := store.OpenLayout(dir)
		for _, b := range f.blobs {
			if _, err := l.ReadBlob(ocispec.Descriptor{Digest: b, Size: blobSize(t, f.s, b)}); err != nil {
				t.Errorf("blob %s: %v", b, err)
			}
		}
		for _, c := range f.children {
			got, err := l.Resolve("multi", *c.Platform)
			if err != nil || got.Digest != c.Digest {
				t.Errorf("the layout's multi for %s: %s, %v; want %s", c.Platform.Architecture, got.Digest, err, c.Digest)
			}
		}
		// skopeo reads the index from the layout, as it was stored.
		skopeo := testregistry.RequireTool(t, "skopeo")
		raw, err := exec.Command(skopeo, "inspect", "--raw", "oci:"+dir+":multi").Output()
		if err != nil {
			t.Fatalf("skopeo inspect --raw: %v", err)
		}
		want, _ := f.s.ReadBlob(f.index.Digest)
		if !bytes.Equal(bytes.TrimSpace(raw), want) {
			t.Errorf("skopeo inspect --raw:\n%s\nwant the index\n%s", raw, want)
		}
	})
	t.Run("oci tar", func(t *testing.T) {
		f := newIndexFixture(t)
		file := filepath.Join(t.TempDir(), "out.tar")
		if err := f.session(Output{Kind: OutputOCI, Dest: file, Tar: true}).writeOutputs(ctx, &builder.Result{Manifest: f.index}); err != nil {
			t.Fatal(err)
		}
		names := tarNames(t, file)
		for _, b := range append(f.blobs, "index.json", "oci-layout") {
			name := string(b)
			if d, err := digest.Parse(name); err == nil {
				name = "blobs/sha256/" + d.Encoded()
			}
			if !names[name] {
				t.Errorf("%s is not in the archive", name)
			}
		}
	})
	t.Run("local", func(t *testing.T) {
		f := newIndexFixture(t)
		dir := filepath.Join(t.TempDir(), "out")
		if err := f.session(Output{Kind: OutputLocal, Dest: dir}).writeOutputs(ctx, &builder.Result{Manifest: f.index}); err != nil {
			t.Fatal(err)
		}
		for rel, want := range map[string]string{"linux_amd64/f": "amd64", "linux_arm_v7/f": "arm", "linux_arm_v7/g": "v7"} {
			if got, err := os.ReadFile(filepath.Join(dir, rel)); err != nil || string(got) != want {
				t.Errorf("%s: %q, %v; want %q", rel, got, err, want)
			}
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 2 {
			t.Errorf("%d entries in the local output, want the 2 platforms' directories", len(ents))
		}
	})
	t.Run("docker is refused before any output", func(t *testing.T) {
		f := newIndexFixture(t)
		tmp := t.TempDir()
		oci, archive := filepath.Join(tmp, "oci"), filepath.Join(tmp, "app.tar")
		err := f.session(Output{Kind: OutputOCI, Dest: oci}, Output{Kind: OutputDocker, Dest: archive}).writeOutputs(ctx, &builder.Result{Manifest: f.index})
		if !errors.Is(err, export.ErrDockerIndex) || !strings.Contains(err.Error(), "-o type=docker") {
			t.Fatalf("writeOutputs: %v, want ErrDockerIndex", err)
		}
		for _, p := range []string{oci, archive} {
			if _, err := os.Stat(p); !os.IsNotExist(err) {
				t.Errorf("%s was written: %v", p, err)
			}
		}
	})
}

// TestPushIndex: -o type=registry and --push send the index and both
// its images; a pull of each platform finds its manifest.
func TestPushIndex(t *testing.T) {
	ctx := context.Background()
	reg := testregistry.Start(t, "")
	c, err := registry.New(registry.Options{Credentials: credentials.NewMemoryStore()})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, repo string
		set        func(*session, string)
	}{
		{"-o type=registry", "output", func(s *session, dest string) { s.set.Outputs = []Output{{Kind: OutputRegistry, Names: []string{dest}}} }},
		{"--push", "push", func(s *session, dest string) { s.set.Tags, s.set.Push = []string{dest}, true }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newIndexFixture(t)
			dest := reg + "/multi/" + tt.repo + ":1"
			ses := f.session()
			rec := &events{}
			ses.tools.Registry, ses.tools.Reporter = c, rec
			tt.set(ses, dest)
			if err := ses.writeOutputs(ctx, &builder.Result{Manifest: f.index}); err != nil {
				t.Fatal(err)
			}
			pushed := false
			for _, ev := range rec.got {
				if d, ok := ev.(Done); ok && d.Op == OpPush && d.Name == dest && d.Manifest.Digest == f.index.Digest {
					pushed = true
				}
			}
			if !pushed {
				t.Errorf("no push of the index %s to %s reported: %+v", f.index.Digest, dest, rec.got)
			}
			for _, child := range f.children {
				got, err := c.Pull(ctx, openStore(t), dest, *child.Platform, nil)
				if err != nil || got.Digest != child.Digest {
					t.Errorf("pull of %s for %s: %s, %v; want %s", dest, child.Platform.Architecture, got.Digest, err, child.Digest)
				}
			}
		})
	}
}

// TestMaterializeIndex: the layers of every image of an index that only
// the store's fetcher has are downloaded.
func TestMaterializeIndex(t *testing.T) {
	f := newIndexFixture(t)
	remote, lookup := openStore(t), map[digest.Digest]ocispec.Descriptor{}
	for _, l := range f.layers {
		data, err := f.s.ReadBlob(l.Digest)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := remote.WriteBlob(l.MediaType, data); err != nil {
			t.Fatal(err)
		}
		if err := f.s.RemoveBlob(l.Digest); err != nil {
			t.Fatal(err)
		}
		lookup[l.Digest] = l
	}
	ses := f.session()
	if err := ses.materialize(f.index); err == nil {
		t.Fatal("materialize without a fetcher of the layers did not fail")
	}
	f.s.SetFetcher(storeFetcher{remote}, func(d digest.Digest) (ocispec.Descriptor, bool) {
		desc, ok := lookup[d]
		return desc, ok
	})
	if err := ses.materialize(f.index); err != nil {
		t.Fatal(err)
	}
	for _, l := range f.layers {
		if !f.s.HasBlob(l.Digest) {
			t.Errorf("layer %s was not downloaded", l.Digest)
		}
	}
}

// storeFetcher fetches blobs from another store.
type storeFetcher struct{ s *store.Store }

var _ store.Fetcher = storeFetcher{}

func (f storeFetcher) Fetch(_ context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	return f.s.OpenDescriptor(desc)
}

func openStore(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func blobSize(t *testing.T, s *store.Store, d digest.Digest) int64 {
	t.Helper()
	data, err := s.ReadBlob(d)
	if err != nil {
		t.Fatal(err)
	}
	return int64(len(data))
}

// tarNames lists the names in the tar archive at path.
func tarNames(t *testing.T, path string) map[string]bool {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	names := map[string]bool{}
	tr := tar.NewReader(fh)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names[hdr.Name] = true
	}
}
