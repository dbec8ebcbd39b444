package imagediff

import (
	"testing"

	"github.com/minibuild/minibuild/builder"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestPairLayers(t *testing.T) {
	l0, l1, l2 := layerTar(t, file("a", "0")), layerTar(t, file("b", "1")), layerTar(t, file("c", "2"))
	withHistory := builder.Image{History: []ocispec.History{
		{CreatedBy: "COPY a /"}, {CreatedBy: "ENV X=1", EmptyLayer: true}, {CreatedBy: "COPY b /"}, {CreatedBy: "COPY c /"},
	}}
	a := testImage(t, "a", withHistory, l0, l1, l2)
	b := testImage(t, "b", builder.Image{}, l0, l2)
	pairs := pairLayers(a, b)
	if len(pairs) != 3 {
		t.Fatalf("%d pairs, want 3", len(pairs))
	}
	for i, want := range []struct {
		shared     bool
		aBy, bBy   string
		hasA, hasB bool
	}{
		{true, "COPY a /", "layer 0", true, true},
		{false, "COPY b /", "layer 1", true, true},
		{false, "COPY c /", "", true, false},
	} {
		p := pairs[i]
		if p.Index != i || p.Shared != want.shared || (p.A != nil) != want.hasA || (p.B != nil) != want.hasB {
			t.Errorf("pair %d: %+v", i, p)
			continue
		}
		if p.A.CreatedBy != want.aBy || (p.B != nil && p.B.CreatedBy != want.bBy) {
			t.Errorf("pair %d: created by %q and %+v", i, p.A.CreatedBy, p.B)
		}
	}
	if pairs[0].A.Digest != a.Manifest.Layers[0].Digest || pairs[0].A.DiffID != a.Config.RootFS.DiffIDs[0] {
		t.Errorf("pair 0 names the wrong layer: %+v", pairs[0].A)
	}
	if n := sharedPrefix(pairs); n != 1 {
		t.Errorf("shared prefix %d, want 1", n)
	}
}
