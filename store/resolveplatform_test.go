package store

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestResolvePlatform(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var ms []ocispec.Descriptor
	for _, arch := range []string{"amd64", "arm64"} {
		p := ocispec.Platform{OS: "linux", Architecture: arch}
		cfg, err := s.WriteJSON(ocispec.MediaTypeImageConfig, ocispec.Image{Platform: p, RootFS: ocispec.RootFS{Type: "layers"}})
		if err != nil {
			t.Fatal(err)
		}
		m, err := s.WriteJSON(ocispec.MediaTypeImageManifest, ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest, Config: cfg, Layers: []ocispec.Descriptor{}})
		if err != nil {
			t.Fatal(err)
		}
		m.Platform = &p
		ms = append(ms, m)
	}
	idx, err := s.WriteIndex(ms)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Tag("multi:1", idx); err != nil {
		t.Fatal(err)
	}
	if err := s.Tag("single:1", ms[0]); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, arch string
		want       ocispec.Descriptor
		err        string
	}{
		{"multi:1", "amd64", ms[0], ""},
		{"multi:1", "arm64", ms[1], ""},
		{"multi:1", "s390x", ocispec.Descriptor{}, `image "multi:1": no manifest for linux/s390x in the index (it has linux/amd64, linux/arm64)`},
		{"single:1", "amd64", ms[0], ""},
		{"single:1", "arm64", ocispec.Descriptor{}, `image "single:1" is linux/amd64, not linux/arm64`},
		{"multi@" + string(idx.Digest), "arm64", ms[1], ""},
	} {
		got, err := s.ResolvePlatform(c.name, ocispec.Platform{OS: "linux", Architecture: c.arch})
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s for %s: %v, want %q", c.name, c.arch, err, c.err)
			}
			continue
		}
		if err != nil || got.Digest != c.want.Digest {
			t.Errorf("%s for %s = %s, %v; want %s", c.name, c.arch, got.Digest, err, c.want.Digest)
		}
	}
}
