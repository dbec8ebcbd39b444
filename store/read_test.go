package store

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestOpenBlobDetectsBitFlip(t *testing.T) {
	s := openTestStore(t)
	desc, err := s.WriteBlob("x", []byte("the quick brown fox"))
	if err != nil {
		t.Fatal(err)
	}
	path, err := s.BlobPath(desc.Digest)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[3] ^= 0x01
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := s.OpenBlob(desc.Digest)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(r)
	r.Close()
	if err == nil || !strings.Contains(err.Error(), desc.Digest.String()) {
		t.Fatalf("reading a bit-flipped blob: err = %v, want an error naming %s", err, desc.Digest)
	}
	if _, err := s.ReadBlob(desc.Digest); err == nil {
		t.Error("ReadBlob of a bit-flipped blob succeeded")
	}
	if _, _, err := s.Manifest(ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: desc.Digest, Size: desc.Size}); err == nil {
		t.Error("Manifest of a bit-flipped blob succeeded")
	}
}

func TestOpenDescriptorSize(t *testing.T) {
	s := openTestStore(t)
	desc, err := s.WriteBlob("x", []byte("twelve bytes"))
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int64{desc.Size - 1, desc.Size + 1} {
		d := desc
		d.Size = size
		r, err := s.OpenDescriptor(d)
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.ReadAll(r)
		r.Close()
		if err == nil || !strings.Contains(err.Error(), desc.Digest.String()) {
			t.Errorf("size %d: err = %v, want a size error naming the digest", size, err)
		}
	}
	r, err := s.OpenDescriptor(desc)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(r); err != nil || string(got) != "twelve bytes" {
		t.Errorf("OpenDescriptor with the right size: %q, %v", got, err)
	}
	r.Close()
}

func TestInvalidDigestsNeverBecomePaths(t *testing.T) {
	s := openTestStore(t)
	// A file an escaping digest would reach if it were joined into a path.
	outside := filepath.Join(s.Root(), "x")
	if err := os.WriteFile(outside, []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := []digest.Digest{
		"sha256:../../x",
		"sha256:../../../etc/passwd",
		"md5:d41d8cd98f00b204e9800998ecf8427e",
		"sha256:abc123",
		"sha256:" + digest.Digest(strings.Repeat("A", 64)),
		"sha256:" + digest.Digest(strings.Repeat("a", 65)),
		"sha256:" + digest.Digest(strings.Repeat("a", 63)) + "/",
		"sha512:" + digest.Digest(strings.Repeat("a", 128)),
		"",
		"sha256",
		"../../x",
	}
	for _, d := range bad {
		t.Run(string(d), func(t *testing.T) {
			if p, err := s.BlobPath(d); err == nil {
				t.Errorf("BlobPath = %q, want an error", p)
			}
			if r, err := s.OpenBlob(d); err == nil {
				r.Close()
				t.Error("OpenBlob succeeded")
			}
			if _, err := s.ReadBlob(d); err == nil {
				t.Error("ReadBlob succeeded")
			}
			if s.HasBlob(d) {
				t.Error("HasBlob = true")
			}
			if _, err := s.Resolve(string(d)); err == nil {
				t.Error("Resolve succeeded")
			}
			if err := s.Tag("app:dev", ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: d, Size: 2}); err == nil {
				t.Error("Tag succeeded")
			}
		})
	}
}

func TestOpenBlobMissing(t *testing.T) {
	s := openTestStore(t)
	_, err := s.OpenBlob(digest.FromString("absent"))
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("OpenBlob of an absent blob: %v, want ErrNotFound", err)
	}
}

func TestOpenBlobRefusesSymlink(t *testing.T) {
	s := openTestStore(t)
	target := filepath.Join(t.TempDir(), "target")
	if err := os.WriteFile(target, []byte("elsewhere"), 0o644); err != nil {
		t.Fatal(err)
	}
	d := digest.FromString("elsewhere")
	path, _ := s.BlobPath(d)
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	if r, err := s.OpenBlob(d); err == nil {
		r.Close()
		t.Error("OpenBlob followed a symlink in blobs/")
	}
	if s.HasBlob(d) {
		t.Error("HasBlob = true for a symlink")
	}
}

func TestManifest(t *testing.T) {
	s := openTestStore(t)
	img := writeTestImage(t, s, "hi\n")
	m, cfg, err := s.Manifest(img.manifest)
	if err != nil {
		t.Fatalf("Manifest: %v", err)
	}
	if m.Config.Digest != img.config.Digest || len(m.Layers) != 1 || m.Layers[0].Digest != img.layer.Digest {
		t.Errorf("manifest = %+v", m)
	}
	if cfg.OS != "linux" || len(cfg.RootFS.DiffIDs) != 1 || cfg.RootFS.DiffIDs[0] != img.diffID {
		t.Errorf("config = %+v", cfg)
	}
	if _, _, err := s.Manifest(img.config); err == nil {
		t.Error("Manifest of a config descriptor succeeded")
	}
	wrongSize := img.manifest
	wrongSize.Size++
	if _, _, err := s.Manifest(wrongSize); err == nil {
		t.Error("Manifest with a wrong size succeeded")
	}
}
