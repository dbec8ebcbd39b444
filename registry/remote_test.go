package registry

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestOpen: an image is read from the registry without a store, an index
// resolved for the platform, and its blobs streamed as they are stored.
func TestOpen(t *testing.T) {
	ctx := context.Background()
	reg := startRegistry(t, "")
	c := newTestClient(t, Options{})
	src := openStore(t)
	amd := writeImage(t, src, "amd64", []string{"a", "b"}, map[string]string{"a": "one", "b": "two"})
	arm := writeImage(t, src, "arm64", []string{"a"}, map[string]string{"a": "arm64"})
	amd.manifest.Platform = &ocispec.Platform{OS: "linux", Architecture: "amd64"}
	arm.manifest.Platform = &ocispec.Platform{OS: "linux", Architecture: "arm64"}
	idxDesc, err := src.WriteJSON(ocispec.MediaTypeImageIndex, ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{amd.manifest, arm.manifest}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Push(ctx, src, amd.manifest, reg+"/test/app:v1", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Push(ctx, src, idxDesc, reg+"/test/multi:1", nil); err != nil {
		t.Fatal(err)
	}
	amd64 := ocispec.Platform{OS: "linux", Architecture: "amd64"}
	for _, tc := range []struct {
		name     string
		platform ocispec.Platform
		want     testImage
	}{
		{reg + "/test/app:v1", amd64, amd},
		{reg + "/test/app@" + amd.manifest.Digest.String(), amd64, amd},
		{reg + "/test/multi:1", amd64, amd},
		{reg + "/test/multi:1", ocispec.Platform{OS: "linux", Architecture: "arm64"}, arm},
	} {
		t.Run(tc.name+" "+tc.platform.Architecture, func(t *testing.T) {
			img, err := c.Open(ctx, tc.name, tc.platform)
			if err != nil {
				t.Fatal(err)
			}
			if img.Descriptor.Digest != tc.want.manifest.Digest || img.Manifest.Config.Digest != tc.want.config.Digest {
				t.Fatalf("opened %s (config %s), want %s", img.Descriptor.Digest, img.Manifest.Config.Digest, tc.want.manifest.Digest)
			}
			cfg, err := img.ReadBlob(ctx, img.Manifest.Config)
			if err != nil {
				t.Fatal(err)
			}
			stored, err := src.ReadBlob(tc.want.config.Digest)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(cfg, stored) {
				t.Errorf("config differs from the pushed one")
			}
			for i, l := range img.Manifest.Layers {
				rc, err := img.OpenDescriptor(ctx, l)
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(rc)
				rc.Close()
				if err != nil {
					t.Fatalf("layer %d: %v", i, err)
				}
				if want, _ := src.ReadBlob(l.Digest); !bytes.Equal(got, want) {
					t.Errorf("layer %d differs from the pushed one", i)
				}
			}
		})
	}
	t.Run("a blob longer than its descriptor says", func(t *testing.T) {
		img, err := c.Open(ctx, reg+"/test/app:v1", amd64)
		if err != nil {
			t.Fatal(err)
		}
		wrong := img.Manifest.Layers[0]
		wrong.Size--
		rc, err := img.OpenDescriptor(ctx, wrong)
		if err == nil {
			_, err = io.ReadAll(rc)
			rc.Close()
		}
		if err == nil {
			t.Fatal("no error for a blob longer than its descriptor")
		}
	})
	if _, err := c.Open(ctx, reg+"/test/app:missing", amd64); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("open of a missing tag: %v", err)
	}
}
