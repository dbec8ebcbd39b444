package manifest

import (
	"encoding/json"
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/minibuild/minibuild/internal/platform"
	"github.com/minibuild/minibuild/internal/storetest"
	"github.com/minibuild/minibuild/store"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// fixture is a store with images amd:1 (linux/amd64), arm:1
// (linux/arm/v7), arm64:1 (config architecture "aarch64", variant "v8")
// and noarch:1 (a config without platform).
type fixture struct {
	s                *store.Store
	amd, arm, arm64  ocispec.Descriptor
	noarch           ocispec.Descriptor
	amdP, armP, a64P ocispec.Platform
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	s, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f := fixture{s: s,
		amdP: ocispec.Platform{OS: "linux", Architecture: "amd64"},
		armP: ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v7"},
		a64P: ocispec.Platform{OS: "linux", Architecture: "arm64"},
	}
	f.amd = storetest.PutImage(t, s, f.amdP, map[string]string{"f": "amd64"})
	f.arm = storetest.PutImage(t, s, f.armP, map[string]string{"f": "arm"})
	f.arm64 = storetest.PutImage(t, s, ocispec.Platform{OS: "linux", Architecture: "aarch64", Variant: "v8"}, map[string]string{"f": "arm64"})
	f.noarch = storetest.PutImage(t, s, ocispec.Platform{}, map[string]string{"f": "none"})
	for name, d := range map[string]ocispec.Descriptor{"amd:1": f.amd, "arm:1": f.arm, "arm64:1": f.arm64, "noarch:1": f.noarch} {
		if err := s.Tag(name, d); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// built is the index entry a multi-platform build writes for m of p.
func built(m ocispec.Descriptor, p ocispec.Platform) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: m.MediaType, Digest: m.Digest, Size: m.Size, Platform: &p}
}

func TestCreate(t *testing.T) {
	f := newFixture(t)
	// An index as a multi-platform build of amd64 and arm/v7 writes it.
	buildIndex, err := f.s.WriteIndex([]ocispec.Descriptor{built(f.amd, f.amdP), built(f.arm, f.armP)})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.s.Tag("built:1", buildIndex); err != nil {
		t.Fatal(err)
	}
	unknown := ocispec.Platform{OS: "unknown", Architecture: "unknown"}
	withAttestation, err := f.s.WriteIndex([]ocispec.Descriptor{built(f.amd, f.amdP), built(f.noarch, unknown)})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.s.Tag("attested:1", withAttestation); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		refs []string
		want func() []ocispec.Descriptor
		err  string
	}{
		{"two images", []string{"amd:1", "arm:1"},
			func() []ocispec.Descriptor { return []ocispec.Descriptor{built(f.amd, f.amdP), built(f.arm, f.armP)} }, ""},
		{"the order given", []string{"arm:1", "amd:1"},
			func() []ocispec.Descriptor { return []ocispec.Descriptor{built(f.arm, f.armP), built(f.amd, f.amdP)} }, ""},
		{"a digest, and a platform normalized", []string{f.arm64.Digest.String()},
			func() []ocispec.Descriptor { return []ocispec.Descriptor{built(f.arm64, f.a64P)} }, ""},
		{"an index's manifests and an image", []string{"built:1", "arm64:1"},
			func() []ocispec.Descriptor {
				return []ocispec.Descriptor{built(f.amd, f.amdP), built(f.arm, f.armP), built(f.arm64, f.a64P)}
			}, ""},
		{"attestations left out", []string{"attested:1"},
			func() []ocispec.Descriptor { return []ocispec.Descriptor{built(f.amd, f.amdP)} }, ""},
		{"one platform twice", []string{"amd:1", "arm:1", "built:1"}, nil,
			`images "amd:1" and "built:1" are both linux/amd64`},
		{"one image twice", []string{"arm:1", "arm:1"}, nil, `images "arm:1" and "arm:1" are both linux/arm/v7`},
		{"a config without a platform", []string{"amd:1", "noarch:1"}, nil, `image "noarch:1": manifest ` + f.noarch.Digest.String() + ": its config names no os and architecture"},
		{"a missing image", []string{"amd:1", "gone:1"}, nil, `image "gone:1"`},
		{"no images", nil, nil, "no images to merge"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			desc, err := Create(f.s, "multi:1", tt.refs)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Create: %v, want an error with %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want, err := f.s.WriteIndex(tt.want())
			if err != nil {
				t.Fatal(err)
			}
			if desc.Digest != want.Digest || desc.MediaType != ocispec.MediaTypeImageIndex {
				raw, _ := f.s.ReadBlob(desc.Digest)
				t.Errorf("index %s:\n%s\nwant %s", desc.Digest, raw, want.Digest)
			}
			if got, err := f.s.Resolve("multi:1"); err != nil || got.Digest != desc.Digest {
				t.Errorf("multi:1 resolves to %s, %v; want the index %s", got.Digest, err, desc.Digest)
			}
		})
	}
	if _, err := Create(f.s, "multi:1", []string{"amd:1", "gone:1"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a missing image: %v, want ErrNotFound", err)
	}
	if _, err := Create(f.s, "Bad Name", []string{"amd:1"}); err == nil {
		t.Error("an invalid name was accepted")
	}
}

// TestCreateShape pins the JSON of an index entry: mediaType, digest,
// size and platform {architecture, os[, variant]}, nothing else.
func TestCreateShape(t *testing.T) {
	f := newFixture(t)
	desc, err := Create(f.s, "multi:1", []string{"amd:1", "arm:1"})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := f.s.ReadBlob(desc.Digest)
	if err != nil {
		t.Fatal(err)
	}
	var idx struct {
		SchemaVersion int
		MediaType     string
		Manifests     []map[string]json.RawMessage
	}
	if err := json.Unmarshal(raw, &idx); err != nil {
		t.Fatal(err)
	}
	if idx.SchemaVersion != 2 || idx.MediaType != ocispec.MediaTypeImageIndex || len(idx.Manifests) != 2 {
		t.Fatalf("index %s", raw)
	}
	for i, wantPlatform := range []string{`{"architecture":"amd64","os":"linux"}`, `{"architecture":"arm","os":"linux","variant":"v7"}`} {
		var keys []string
		for k := range idx.Manifests[i] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if want := []string{"digest", "mediaType", "platform", "size"}; !reflect.DeepEqual(keys, want) {
			t.Errorf("entry %d has keys %v, want %v", i, keys, want)
		}
		if got := string(idx.Manifests[i]["platform"]); got != wantPlatform {
			t.Errorf("entry %d platform %s, want %s", i, got, wantPlatform)
		}
	}
}

func TestResolve(t *testing.T) {
	f := newFixture(t)
	host := platform.Host()
	hostImage := storetest.PutImage(t, f.s, host, map[string]string{"f": "host"})
	other := f.amdP
	if platform.Match(&other, host) {
		other = f.a64P
	}
	idx, err := f.s.WriteIndex([]ocispec.Descriptor{built(f.arm, f.armP), built(hostImage, host)})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.s.Tag("multi:1", idx); err != nil {
		t.Fatal(err)
	}
	s390x := ocispec.Platform{OS: "linux", Architecture: "s390x"}
	arm := ocispec.Platform{OS: "linux", Architecture: "arm"}
	tests := []struct {
		name string
		ref  string
		want *ocispec.Platform
		got  ocispec.Descriptor
		err  string
	}{
		{"an index for the host", "multi:1", nil, hostImage, ""},
		{"an index for a platform", "multi:1", &arm, f.arm, ""},
		{"an index without the platform", "multi:1", &s390x, ocispec.Descriptor{},
			`image "multi:1": no manifest for linux/s390x in the index (it has linux/arm/v7, ` + platform.Format(host) + ")"},
		{"an image as it is", "arm:1", nil, f.arm, ""},
		{"an image of the platform", "arm:1", &arm, f.arm, ""},
		{"an image of another platform", "arm:1", &other, ocispec.Descriptor{}, `image "arm:1" is linux/arm/v7, not ` + platform.Format(other)},
		{"a missing image", "gone:1", nil, ocispec.Descriptor{}, `image "gone:1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Resolve(f.s, tt.ref, tt.want)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Resolve: %v, want an error with %q", err, tt.err)
				}
				return
			}
			if err != nil || got.Digest != tt.got.Digest {
				t.Errorf("Resolve = %s, %v; want %s", got.Digest, err, tt.got.Digest)
			}
		})
	}
}

func TestChildren(t *testing.T) {
	f := newFixture(t)
	idx, err := f.s.WriteIndex([]ocispec.Descriptor{built(f.arm, f.armP), f.amd})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Children(f.s, idx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Platform != "linux/arm/v7" || got[0].Descriptor.Digest != f.arm.Digest || got[1].Platform != "" || got[1].Descriptor.Size != f.amd.Size {
		t.Errorf("Children = %+v", got)
	}
	if _, err := Children(f.s, f.amd); err == nil {
		t.Error("Children of a manifest did not fail")
	}
}
