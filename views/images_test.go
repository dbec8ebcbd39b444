package views

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/minibuild/minibuild/internal/storetest"
	"github.com/minibuild/minibuild/store"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestImagesIndex: a tagged index is read with its images: its row
// lists their platforms and sums their distinct layers, and its images'
// layers count as shared with it, but for the image shown; an index with
// an image missing is unreadable.
func TestImagesIndex(t *testing.T) {
	s, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	amdP := ocispec.Platform{OS: "linux", Architecture: "amd64"}
	armP := ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}
	amd := storetest.PutImage(t, s, amdP, map[string]string{"a": "shared", "b": "amd64"})
	arm := storetest.PutImage(t, s, armP, map[string]string{"a": "shared", "c": "arm"})
	single := storetest.PutImage(t, s, amdP, map[string]string{"z": "other"})
	amd.Platform, arm.Platform = &amdP, &armP
	idx, err := s.WriteIndex([]ocispec.Descriptor{amd, arm})
	if err != nil {
		t.Fatal(err)
	}
	broken := storetest.PutImage(t, s, amdP, map[string]string{"q": "gone"})
	broken.Platform = &amdP
	brokenIdx, err := s.WriteIndex([]ocispec.Descriptor{broken})
	if err != nil {
		t.Fatal(err)
	}
	for name, d := range map[string]ocispec.Descriptor{"multi:1": idx, "amd:1": amd, "single:1": single, "broken:1": brokenIdx} {
		if err := s.Tag(name, d); err != nil {
			t.Fatal(err)
		}
	}
	p, err := s.BlobPath(broken.Digest)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}

	imgs, unreadable, err := Images(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(unreadable) != 1 || !strings.Contains(unreadable[0].Error(), "broken:1") {
		t.Errorf("unreadable: %v, want broken:1's error", unreadable)
	}
	rows := ImageRows(imgs)
	var multi ImageRow
	for _, r := range rows {
		if r.Name == "multi:1" {
			multi = r
		}
	}
	var amdM, armM ocispec.Manifest
	for _, img := range imgs {
		if img.Descriptor.Digest == amd.Digest {
			amdM = img.Manifest
		}
	}
	armM, _, err = s.Manifest(arm)
	if err != nil {
		t.Fatal(err)
	}
	wantSize := amdM.Layers[0].Size + amdM.Layers[1].Size + armM.Layers[1].Size
	if multi.Kind != "index" || !reflect.DeepEqual(multi.Platforms, []string{"linux/amd64", "linux/arm/v7"}) || multi.Layers != 3 || multi.Size != wantSize {
		t.Errorf("multi:1 row %+v, want an index of linux/amd64, linux/arm/v7 with 3 layers of %d bytes", multi, wantSize)
	}
	var out bytes.Buffer
	if err := PrintImages(&out, rows, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "index (2 platforms)") {
		t.Errorf("table:\n%s", out.String())
	}

	// History of amd:1: layer a is shared with multi:1 (through arm's
	// image), layer b is multi:1's only through amd:1 itself.
	users := LayerUsers(imgs, amd.Digest)
	names := func(l ocispec.Descriptor) []string {
		var out []string
		for _, i := range users[l.Digest] {
			out = append(out, imgs[i].Names...)
		}
		return out
	}
	if got := names(amdM.Layers[0]); !reflect.DeepEqual(got, []string{"multi:1"}) {
		t.Errorf("layer a shared with %v, want [multi:1]", got)
	}
	if got := names(amdM.Layers[1]); len(got) != 0 {
		t.Errorf("layer b shared with %v, want no other image", got)
	}

	st, err := LoadPlatform(s, "multi:1", &armP)
	if err != nil || st.Descriptor.Digest != arm.Digest || st.Config.Architecture != "arm" {
		t.Errorf("LoadPlatform(multi:1, arm) = %+v, %v", st, err)
	}
	if _, err := LoadPlatform(s, "multi:1", &ocispec.Platform{OS: "linux", Architecture: "s390x"}); err == nil || !strings.Contains(err.Error(), "it has linux/amd64, linux/arm/v7") {
		t.Errorf("LoadPlatform(multi:1, s390x): %v", err)
	}
}
