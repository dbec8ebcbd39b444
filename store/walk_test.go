package store

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/minibuild/minibuild/internal/storetest"
	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestWalkImage: WalkImage reports every blob it reached, in order, and
// each image manifest with its config; what it cannot walk stops it with
// an error that says why.
func TestWalkImage(t *testing.T) {
	s := openTestStore(t)
	img := writeTestImage(t, s, "walk")
	index, err := s.WriteJSON(ocispec.MediaTypeImageIndex, ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, Manifests: []ocispec.Descriptor{img.manifest}})
	if err != nil {
		t.Fatal(err)
	}
	badConfig, err := s.WriteJSON(ocispec.MediaTypeImageManifest, ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, Config: img.layer, Layers: []ocispec.Descriptor{img.layer}})
	if err != nil {
		t.Fatal(err)
	}
	negative := img.manifest
	negative.Size = -1
	config := img.config
	config.MediaType = ocispec.MediaTypeImageManifest
	missing := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("gone"), Size: 4}
	tests := []struct {
		name      string
		desc      ocispec.Descriptor
		wantBlobs []digest.Digest
		images    int
		wantErr   string // "" for success
	}{
		{"manifest", img.manifest, []digest.Digest{img.manifest.Digest, img.config.Digest, img.layer.Digest}, 1, ""},
		{"index", index, []digest.Digest{index.Digest, img.manifest.Digest, img.config.Digest, img.layer.Digest}, 1, ""},
		{"negative size", negative, nil, 0, "negative size"},
		{"invalid digest", ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: "sha256:../x", Size: 1}, nil, 0, "invalid digest"},
		{"not a manifest", img.layer, []digest.Digest{img.layer.Digest}, 0, "is not an image manifest or index"},
		{"config is no config", badConfig, []digest.Digest{badConfig.Digest, img.layer.Digest, img.layer.Digest}, 0, "config of manifest"},
		{"missing", missing, []digest.Digest{missing.Digest}, 0, "not found"},
		{"a config read as a manifest", config, []digest.Digest{config.Digest}, 0, "schema version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var blobs []digest.Digest
			images := 0
			err := s.WalkImage(tt.desc, func(d ocispec.Descriptor) { blobs = append(blobs, d.Digest) },
				func(m ocispec.Descriptor, _ ocispec.Manifest, cfg ocispec.Image) error {
					if m.Digest != img.manifest.Digest || len(cfg.RootFS.DiffIDs) != 1 || cfg.RootFS.DiffIDs[0] != img.diffID {
						t.Errorf("image %s with diffIDs %v", m.Digest, cfg.RootFS.DiffIDs)
					}
					images++
					return nil
				})
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("WalkImage: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("WalkImage = %v, want an error about %q", err, tt.wantErr)
			}
			if !slices.Equal(blobs, tt.wantBlobs) || images != tt.images {
				t.Errorf("reached %v and %d images, want %v and %d", blobs, images, tt.wantBlobs, tt.images)
			}
		})
	}
	stop := errors.New("stop")
	if err := s.WalkImage(img.manifest, func(ocispec.Descriptor) {}, func(ocispec.Descriptor, ocispec.Manifest, ocispec.Image) error { return stop }); err != stop {
		t.Errorf("WalkImage = %v, want the image function's error", err)
	}
}

// TestRepairs: the store's part of a repair — entries untagged by digest
// and name, an unreadable index kept aside, stray blob files and stale
// stamps removed.
func TestRepairs(t *testing.T) {
	s := openTestStore(t)
	a, b := writeTestImage(t, s, "a"), writeTestImage(t, s, "b")
	for name, img := range map[string]testImage{"a": a, "b": b, "b2": b} {
		if err := s.Tag(name, img.manifest); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := s.IndexEntries()
	if err != nil || len(entries) != 3 {
		t.Fatalf("IndexEntries = %v, %v", entries, err)
	}
	var b2 ocispec.Descriptor
	for _, e := range entries {
		if e.Annotations[ocispec.AnnotationRefName] == "b2:latest" {
			b2 = e
		}
	}
	if err := s.UntagEntries([]ocispec.Descriptor{b2}); err != nil {
		t.Fatal(err)
	}
	imgs, err := s.Images()
	if err != nil || len(imgs) != 2 || imgs[0].Descriptor.Digest != a.manifest.Digest || imgs[1].Descriptor.Digest != b.manifest.Digest {
		t.Errorf("after UntagEntries: %+v, %v", imgs, err)
	}

	storetest.WriteFile(t, s.layout.Index(), "not json")
	if _, err := s.IndexEntries(); err == nil {
		t.Error("IndexEntries of an unreadable index succeeded")
	}
	if err := s.ResetIndex(); err != nil {
		t.Fatal(err)
	}
	if entries, err := s.IndexEntries(); err != nil || len(entries) != 0 {
		t.Errorf("after ResetIndex: %v, %v", entries, err)
	}

	storetest.WriteFile(t, s.layout.Blobs()+"/junk", "x")
	if err := s.RemoveBlobFile("junk"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", ".", "..", "../index.json"} {
		if err := s.RemoveBlobFile(name); err == nil {
			t.Errorf("RemoveBlobFile(%q) succeeded", name)
		}
	}
	if err := s.MarkLayerVerified(a.layer, a.diffID); err != nil {
		t.Fatal(err)
	}
	storetest.WriteFile(t, s.layout.Verified()+"/.x.tmp-1", "partial")
	if err := s.RemoveBlob(a.layer.Digest); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveStaleStamps(); err != nil {
		t.Fatal(err)
	}
	if names := listDir(t, s.layout.Verified()); len(names) != 0 {
		t.Errorf("stamps left: %v", names)
	}
}
