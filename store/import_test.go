package store

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minibuild/minibuild/internal/storetest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

var amd64 = ocispec.Platform{OS: "linux", Architecture: "amd64"}

// exportedLayout writes a layout holding two tagged images and returns its
// directory and the images.
func exportedLayout(t *testing.T) (string, testImage, testImage) {
	t.Helper()
	src := openTestStore(t)
	a, b := writeTestImage(t, src, "a"), writeTestImage(t, src, "b")
	dir := filepath.Join(t.TempDir(), "layout")
	err := src.ExportLayout(dir, []ExportImage{{Name: "x:one", Descriptor: a.manifest}, {Name: "x:two", Descriptor: b.manifest}})
	if err != nil {
		t.Fatal(err)
	}
	return dir, a, b
}

func TestImportLayout(t *testing.T) {
	dir, a, b := exportedLayout(t)
	s := openTestStore(t)
	for _, tc := range []struct {
		tag  string
		want testImage
	}{{"one", a}, {"two", b}} {
		desc, err := s.ImportLayout(dir, tc.tag, amd64)
		if err != nil {
			t.Fatalf("ImportLayout %s: %v", tc.tag, err)
		}
		if desc.Digest != tc.want.manifest.Digest {
			t.Errorf("tag %s: got %s, want %s", tc.tag, desc.Digest, tc.want.manifest.Digest)
		}
		for _, d := range []ocispec.Descriptor{tc.want.manifest, tc.want.config, tc.want.layer} {
			if !s.HasBlob(d.Digest) {
				t.Errorf("tag %s: blob %s not imported", tc.tag, d.Digest)
			}
		}
		if _, _, err := s.Manifest(desc); err != nil {
			t.Errorf("imported manifest unreadable: %v", err)
		}
	}
}

func TestImportLayoutRefuses(t *testing.T) {
	t.Run("ambiguous without a tag", func(t *testing.T) {
		dir, _, _ := exportedLayout(t)
		if _, err := openTestStore(t).ImportLayout(dir, "", amd64); err == nil || !strings.Contains(err.Error(), "name one") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("unknown tag", func(t *testing.T) {
		dir, _, _ := exportedLayout(t)
		if _, err := openTestStore(t).ImportLayout(dir, "three", amd64); !errors.Is(err, ErrNotFound) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("corrupt layer stores nothing", func(t *testing.T) {
		dir, a, _ := exportedLayout(t)
		p := filepath.Join(dir, "blobs", "sha256", a.layer.Digest.Encoded())
		storetest.FlipBit(t, p)
		s := openTestStore(t)
		if _, err := s.ImportLayout(dir, "one", amd64); err == nil || !strings.Contains(err.Error(), a.layer.Digest.String()) {
			t.Fatalf("err = %v, want one naming %s", err, a.layer.Digest)
		}
		if s.HasBlob(a.layer.Digest) || s.HasBlob(a.manifest.Digest) {
			t.Errorf("a corrupt import left blobs under their final names")
		}
	})
	t.Run("not a layout", func(t *testing.T) {
		if _, err := openTestStore(t).ImportLayout(t.TempDir(), "", amd64); err == nil {
			t.Fatal("no error for an empty directory")
		}
	})
}
