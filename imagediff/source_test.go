package imagediff

import (
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minibuild/minibuild/builder"
	"github.com/minibuild/minibuild/store"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestParseSource(t *testing.T) {
	tests := []struct {
		in   string
		want Source
		err  string
	}{
		{"app:dev", Source{Kind: FromStore, Ref: "app:dev"}, ""},
		{"sha256:0123", Source{Kind: FromStore, Ref: "sha256:0123"}, ""},
		{"oci:out", Source{Kind: FromLayout, Dir: "out"}, ""},
		{"oci:/tmp/out:dev", Source{Kind: FromLayout, Dir: "/tmp/out", Tag: "dev"}, ""},
		{"oci-layout://out:v1", Source{Kind: FromLayout, Dir: "out", Tag: "v1"}, ""},
		{"oci-layout://./a:b/c", Source{Kind: FromLayout, Dir: "./a:b/c"}, ""},
		{"docker://alpine:3.20", Source{Kind: FromRegistry, Ref: "alpine:3.20"}, ""},
		{"docker://127.0.0.1:5000/x/y@sha256:" + strings.Repeat("a", 64),
			Source{Kind: FromRegistry, Ref: "127.0.0.1:5000/x/y@sha256:" + strings.Repeat("a", 64)}, ""},
		{"oci:", Source{}, "no layout directory"},
		{"docker://UPPER", Source{}, "UPPER"},
		{"", Source{}, "empty"},
	}
	for _, tt := range tests {
		got, err := ParseSource(tt.in)
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("ParseSource(%q): err %v, want one containing %q", tt.in, err, tt.err)
		case tt.err == "" && err != nil:
			t.Errorf("ParseSource(%q): %v", tt.in, err)
		case got != tt.want:
			t.Errorf("ParseSource(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

// storeImage writes img's blobs into s and tags it name.
func storeImage(t *testing.T, s *store.Store, img Image, name string) ocispec.Descriptor {
	t.Helper()
	for _, l := range img.Manifest.Layers {
		rc, err := img.Blobs.Open(context.Background(), l)
		if err != nil {
			t.Fatal(err)
		}
		w, err := s.NewBlobWriter(l.MediaType)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(w, rc); err != nil {
			t.Fatal(err)
		}
		rc.Close()
		if _, err := w.Commit(l.Digest, l.Size); err != nil {
			t.Fatal(err)
		}
	}
	raw, _ := json.Marshal(img.Config)
	if _, err := s.WriteBlob(ocispec.MediaTypeImageConfig, raw); err != nil {
		t.Fatal(err)
	}
	desc, err := s.WriteJSON(ocispec.MediaTypeImageManifest, img.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Tag(name, desc); err != nil {
		t.Fatal(err)
	}
	return desc
}

// TestOpenStoreAndLayout: an image of the store and the same image
// exported to a layout open to the same manifest, config and files.
func TestOpenStoreAndLayout(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfgA := builder.Image{}
	cfgA.Config.Env = []string{"MODE=a"}
	cfgB := builder.Image{}
	cfgB.Config.Env = []string{"MODE=b"}
	base := layerTar(t, file("etc/hosts", "h"))
	a := storeImage(t, s, testImage(t, "a", cfgA, base, layerTar(t, file("f", "a"))), "app:a")
	b := storeImage(t, s, testImage(t, "b", cfgB, base, layerTar(t, file("f", "bb"))), "app:b")
	dir := filepath.Join(t.TempDir(), "layout")
	if err := s.ExportLayout(dir, []store.ExportImage{{Name: "app:b", Descriptor: b}}); err != nil {
		t.Fatal(err)
	}
	o := &Opener{Store: s, Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"}}
	open := func(operand string) Image {
		t.Helper()
		src, err := ParseSource(operand)
		if err != nil {
			t.Fatal(err)
		}
		img, err := o.Open(ctx, operand, src)
		if err != nil {
			t.Fatalf("open %s: %v", operand, err)
		}
		return img
	}
	ia, ib, il := open("app:a"), open(b.Digest.String()), open("oci:"+dir+":b")
	if ia.Descriptor.Digest != a.Digest || ib.Descriptor.Digest != b.Digest || il.Descriptor.Digest != b.Digest {
		t.Fatalf("opened %s %s %s", ia.Descriptor.Digest, ib.Descriptor.Digest, il.Descriptor.Digest)
	}
	res, err := Compare(ctx, ia, il, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := changeLines(res.Files); strings.Join(got, ";") != "C /f content" || len(res.Config) != 1 || !res.Differ {
		t.Errorf("files %q, config %+v", got, res.Config)
	}
	if res.Config[0].Field != "config.Env" || res.Config[0].A != "a" || res.Config[0].B != "b" {
		t.Errorf("config change %+v", res.Config[0])
	}
	if res, err := Compare(ctx, ib, il, Options{}); err != nil || !res.Identical || res.Same != "manifest" {
		t.Errorf("store and layout copies of one image: %+v, %v", res, err)
	}
	if _, err := o.Open(ctx, "app:missing", Source{Kind: FromStore, Ref: "app:missing"}); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("a missing image without a registry: %v", err)
	}

	// An index of the store opens to its image of the Opener's platform.
	a.Platform = &ocispec.Platform{OS: "linux", Architecture: "amd64"}
	b.Platform = &ocispec.Platform{OS: "linux", Architecture: "arm64"}
	idx, err := s.WriteIndex([]ocispec.Descriptor{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Tag("app:multi", idx); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		arch string
		want digest.Digest
	}{{"amd64", a.Digest}, {"arm64", b.Digest}} {
		o.Platform.Architecture = c.arch
		if got := open("app:multi").Descriptor.Digest; got != c.want {
			t.Errorf("app:multi for %s opened %s, want %s", c.arch, got, c.want)
		}
	}
	o.Platform.Architecture = "s390x"
	if _, err := o.Open(ctx, "app:multi", Source{Kind: FromStore, Ref: "app:multi"}); err == nil || !strings.Contains(err.Error(), "no manifest for linux/s390x") {
		t.Errorf("app:multi for s390x: %v", err)
	}
}
