package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestOpenCreatesLayout(t *testing.T) {
	root := filepath.Join(t.TempDir(), "store")
	s, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"blobs/sha256", "tmp", "cache", "layers", "locks"} {
		fi, err := os.Stat(filepath.Join(root, d))
		if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o755 {
			t.Errorf("%s: %v, %v; want a 0755 directory", d, fi, err)
		}
	}
	layout, err := os.ReadFile(filepath.Join(root, "oci-layout"))
	if err != nil || string(layout) != `{"imageLayoutVersion":"1.0.0"}` {
		t.Errorf("oci-layout = %q, %v", layout, err)
	}
	index, err := os.ReadFile(filepath.Join(root, "index.json"))
	if err != nil || string(index) != `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}` {
		t.Errorf("index.json = %q, %v", index, err)
	}
	if !filepath.IsAbs(s.Root()) {
		t.Errorf("Root() = %q, want an absolute path", s.Root())
	}
	// Reopening keeps the index.
	img := writeTestImage(t, s, "x")
	if err := s.Tag("app", img.manifest); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	if imgs, err := s2.Images(); err != nil || len(imgs) != 1 {
		t.Errorf("after reopening: %v, %v", imgs, err)
	}
	dir, err := s2.TempDir("work-")
	if err != nil || filepath.Dir(dir) != filepath.Join(s2.Root(), "tmp") {
		t.Errorf("TempDir = %q, %v", dir, err)
	}
}

func TestOpenRejectsLayoutVersion(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "oci-layout"), []byte(`{"imageLayoutVersion":"2.0.0"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(root); err == nil || !strings.Contains(err.Error(), "2.0.0") {
		t.Errorf("Open of a 2.0.0 layout: %v", err)
	}
}

func TestTagResolveImagesUntag(t *testing.T) {
	s := openTestStore(t)
	one := writeTestImage(t, s, "one")
	two := writeTestImage(t, s, "two")
	one.manifest.Annotations = map[string]string{"org.example": "kept"}
	for name, desc := range map[string]ocispec.Descriptor{
		"app":                      one.manifest,
		"app:dev":                  two.manifest,
		"localhost:5000/x/app:dev": one.manifest,
		"b/zz":                     two.manifest,
	} {
		if err := s.Tag(name, desc); err != nil {
			t.Fatalf("Tag(%q): %v", name, err)
		}
	}
	if one.manifest.Annotations[ocispec.AnnotationRefName] != "" {
		t.Error("Tag modified the caller's annotations")
	}
	imgs, err := s.Images()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, im := range imgs {
		names = append(names, im.Name)
	}
	if want := []string{"app:dev", "app:latest", "b/zz:latest", "localhost:5000/x/app:dev"}; !reflect.DeepEqual(names, want) {
		t.Errorf("Images = %v, want %v", names, want)
	}
	// index.json entries are sorted by name and carry ref.name.
	var idx ocispec.Index
	data, _ := os.ReadFile(filepath.Join(s.Root(), "index.json"))
	if err := json.Unmarshal(data, &idx); err != nil {
		t.Fatal(err)
	}
	for i, m := range idx.Manifests {
		if m.Annotations[ocispec.AnnotationRefName] != names[i] {
			t.Errorf("index.json entry %d named %q, want %q", i, m.Annotations[ocispec.AnnotationRefName], names[i])
		}
	}

	resolve := map[string]ocispec.Descriptor{
		"app":                                 one.manifest,
		"app:latest":                          one.manifest,
		"app:dev":                             two.manifest,
		"localhost:5000/x/app:dev":            one.manifest,
		two.manifest.Digest.String():          two.manifest,
		"app@" + two.manifest.Digest.String(): two.manifest,
	}
	for name, want := range resolve {
		got, err := s.Resolve(name)
		if err != nil {
			t.Errorf("Resolve(%q): %v", name, err)
			continue
		}
		if got.Digest != want.Digest || got.Size != want.Size || got.MediaType != want.MediaType {
			t.Errorf("Resolve(%q) = %+v, want %+v", name, got, want)
		}
	}
	if got, _ := s.Resolve("app"); got.Annotations["org.example"] != "kept" {
		t.Errorf("annotations of the tagged descriptor were not kept: %v", got.Annotations)
	}
	// A digest not in index.json resolves through the blob itself.
	untagged := writeTestImage(t, s, "three")
	if got, err := s.Resolve(untagged.manifest.Digest.String()); err != nil || got.MediaType != ocispec.MediaTypeImageManifest || got.Size != untagged.manifest.Size {
		t.Errorf("Resolve(untagged digest) = %+v, %v", got, err)
	}
	if _, err := s.Resolve(untagged.config.Digest.String()); err == nil {
		t.Error("Resolve of a config digest succeeded")
	}

	// Retagging replaces.
	if err := s.Tag("app:dev", one.manifest); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Resolve("app:dev"); got.Digest != one.manifest.Digest {
		t.Errorf("after retag, app:dev = %s", got.Digest)
	}
	if imgs, _ := s.Images(); len(imgs) != 4 {
		t.Errorf("retag changed the number of images to %d", len(imgs))
	}

	if err := s.Untag("app"); err != nil {
		t.Fatalf("Untag: %v", err)
	}
	_, err = s.Resolve("app:latest")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "app:latest") {
		t.Errorf("Resolve after Untag: %v, want ErrNotFound naming app:latest", err)
	}
	if err := s.Untag("app"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Untag: %v, want ErrNotFound", err)
	}
	if _, err := s.Resolve("nosuch"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Resolve(nosuch): %v", err)
	}
}

func TestTagRefusals(t *testing.T) {
	s := openTestStore(t)
	img := writeTestImage(t, s, "x")
	absent := img.manifest
	absent.Digest = digest.Digest("sha256:" + strings.Repeat("0", 64))
	cfg := img.config
	tests := []struct {
		name string
		tag  string
		desc ocispec.Descriptor
	}{
		{"bad name", "App", img.manifest},
		{"digest name", "app@" + img.manifest.Digest.String(), img.manifest},
		{"missing blob", "app", absent},
		{"config media type", "app", cfg},
		{"zero size", "app", ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: img.manifest.Digest}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.Tag(tt.tag, tt.desc); err == nil {
				t.Fatal("Tag succeeded")
			}
		})
	}
	if imgs, err := s.Images(); err != nil || len(imgs) != 0 {
		t.Errorf("Images after refused tags = %v, %v", imgs, err)
	}
}

func TestConcurrentTags(t *testing.T) {
	root := t.TempDir()
	s, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	img := writeTestImage(t, s, "x")
	const n = 20
	errs := make(chan error, n)
	for i := range n {
		go func() {
			// Separate Store values behave like separate processes here.
			other, err := Open(root)
			if err != nil {
				errs <- err
				return
			}
			errs <- other.Tag(fmt.Sprintf("app:v%d", i), img.manifest)
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	imgs, err := s.Images()
	if err != nil || len(imgs) != n {
		t.Fatalf("after %d concurrent tags, Images has %d entries (%v)", n, len(imgs), err)
	}
}

func TestTagUnchangedKeepsIndex(t *testing.T) {
	s := openTestStore(t)
	one := writeTestImage(t, s, "one")
	two := writeTestImage(t, s, "two")
	index := filepath.Join(s.Root(), "index.json")
	ino := func() uint64 {
		t.Helper()
		fi, err := os.Stat(index)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Sys().(*syscall.Stat_t).Ino
	}
	steps := []struct {
		name      string
		desc      ocispec.Descriptor
		rewritten bool
	}{
		{"app", one.manifest, true},
		{"other", two.manifest, true},
		{"app", one.manifest, false}, // same tag, same descriptor
		{"app", two.manifest, true},  // moved
		{"app:latest", two.manifest, false},
	}
	for i, st := range steps {
		before := ino()
		if err := s.Tag(st.name, st.desc); err != nil {
			t.Fatal(err)
		}
		if got := ino() != before; got != st.rewritten {
			t.Fatalf("step %d: Tag(%s) rewrote index.json: %v, want %v", i, st.name, got, st.rewritten)
		}
	}
	if d, err := s.Resolve("app"); err != nil || d.Digest != two.manifest.Digest {
		t.Fatalf("Resolve(app) = %v, %v", d, err)
	}
}
