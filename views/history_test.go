package views

import (
	"reflect"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func layerN(n int) ocispec.Descriptor {
	return ocispec.Descriptor{Digest: digest.FromString(strings.Repeat("l", n)), Size: int64(100 * n)}
}

func manifestOf(layers ...ocispec.Descriptor) ocispec.Manifest {
	return ocispec.Manifest{Layers: layers}
}

func TestHistoryRows(t *testing.T) {
	l1, l2, l3 := layerN(1), layerN(2), layerN(3)
	self := digest.FromString("self")
	imgs := []Image{
		{Names: []string{"self:a", "self:b"}, Descriptor: ocispec.Descriptor{Digest: self}, Manifest: manifestOf(l1, l2, l3)},
		{Names: []string{"base:1"}, Descriptor: ocispec.Descriptor{Digest: "sha256:base"}, Manifest: manifestOf(l1)},
		{Names: []string{"other:x", "other:y"}, Descriptor: ocispec.Descriptor{Digest: "sha256:other"}, Manifest: manifestOf(l1, l2, l2)},
		{Names: []string{"multi:1"}, Descriptor: ocispec.Descriptor{Digest: "sha256:index"}, IsIndex: true},
	}
	cfg := ocispec.Image{
		RootFS: ocispec.RootFS{DiffIDs: []digest.Digest{"sha256:d1", "sha256:d2", "sha256:d3"}},
		History: []ocispec.History{
			{CreatedBy: "COPY a /a"},
			{CreatedBy: "ENV X=1", EmptyLayer: true},
			{CreatedBy: "RUN make"},
		},
	}
	rows := History(imgs[0].Manifest, cfg, imgs, self)
	// Three history entries and a layer without one, newest first.
	type short struct {
		by     string
		empty  bool
		layer  digest.Digest
		shared []string
		count  int
		miss   bool
	}
	var got []short
	for _, r := range rows {
		got = append(got, short{r.CreatedBy, r.EmptyLayer, r.Layer, r.SharedWith, r.SharedImages, r.Missing})
	}
	want := []short{
		{"", false, l3.Digest, []string{}, 0, true},
		{"RUN make", false, l2.Digest, []string{"other:x", "other:y"}, 1, false},
		{"ENV X=1", true, "", []string{}, 0, false},
		{"COPY a /a", false, l1.Digest, []string{"base:1", "other:x", "other:y"}, 2, false},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows:\n%+v\nwant\n%+v", got, want)
	}
	if rows[3].DiffID != "sha256:d1" || rows[0].DiffID != "sha256:d3" || rows[1].Size != 200 {
		t.Errorf("diffIDs or sizes: %+v", rows)
	}

	// More history entries with layers than layers: the rest are missing.
	cfg.History = append(cfg.History, ocispec.History{CreatedBy: "RUN x"}, ocispec.History{CreatedBy: "RUN y"})
	rows = History(imgs[0].Manifest, cfg, nil, self)
	if len(rows) != 5 || !rows[0].Missing || rows[0].Layer != "" || rows[1].Layer != l3.Digest {
		t.Errorf("rows with too much history: %+v", rows)
	}
	if rows := History(ocispec.Manifest{}, ocispec.Image{}, nil, self); rows == nil || len(rows) != 0 {
		t.Errorf("no history: %#v, want an empty list", rows)
	}
}
