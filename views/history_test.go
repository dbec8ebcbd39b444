package main

import (
	"bytes"
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
	imgs := []storedImage{
		{names: []string{"self:a", "self:b"}, desc: ocispec.Descriptor{Digest: self}, manifest: manifestOf(l1, l2, l3)},
		{names: []string{"base:1"}, desc: ocispec.Descriptor{Digest: "sha256:base"}, manifest: manifestOf(l1)},
		{names: []string{"other:x", "other:y"}, desc: ocispec.Descriptor{Digest: "sha256:other"}, manifest: manifestOf(l1, l2, l2)},
		{names: []string{"multi:1"}, desc: ocispec.Descriptor{Digest: "sha256:index"}, isIndex: true},
	}
	cfg := ocispec.Image{
		RootFS: ocispec.RootFS{DiffIDs: []digest.Digest{"sha256:d1", "sha256:d2", "sha256:d3"}},
		History: []ocispec.History{
			{CreatedBy: "COPY a /a"},
			{CreatedBy: "ENV X=1", EmptyLayer: true},
			{CreatedBy: "RUN make"},
		},
	}
	rows := historyRows(imgs[0].manifest, cfg, imgs, self)
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
	rows = historyRows(imgs[0].manifest, cfg, nil, self)
	if len(rows) != 5 || !rows[0].Missing || rows[0].Layer != "" || rows[1].Layer != l3.Digest {
		t.Errorf("rows with too much history: %+v", rows)
	}
	var out bytes.Buffer
	if err := printHistory(&out, rows, false); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if !strings.HasPrefix(lines[1], "<missing>") || !strings.HasPrefix(lines[4], "<empty layer>") || !strings.HasPrefix(lines[2], l3.Digest.Encoded()[:12]) {
		t.Errorf("table:\n%s", out.String())
	}
	if rows := historyRows(ocispec.Manifest{}, ocispec.Image{}, nil, self); rows == nil || len(rows) != 0 {
		t.Errorf("no history: %#v, want an empty list", rows)
	}
}
