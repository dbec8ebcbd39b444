package views

import (
	"sort"
	"time"

	"github.com/minibuild/minibuild/builder"
	"github.com/minibuild/minibuild/results"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// HistoryRow is one step of an image's history.
type HistoryRow struct {
	Created    *time.Time `json:"created,omitempty"`
	CreatedBy  string     `json:"createdBy"`
	Comment    string     `json:"comment,omitempty"`
	EmptyLayer bool       `json:"emptyLayer"`
	// Layer is the layer blob's digest; DiffID its uncompressed digest.
	Layer  digest.Digest `json:"layer,omitempty"`
	DiffID digest.Digest `json:"diffID,omitempty"`
	// Size is the layer blob's (compressed) size; 0 for an empty layer.
	Size int64 `json:"size"`
	// SharedWith names the other images in the store that hold this layer;
	// SharedImages counts them (names of one manifest count once).
	SharedWith   []string `json:"sharedWith"`
	SharedImages int      `json:"sharedImages"`
	// Key is the cache key of the build step that made the entry, when the
	// build's results are kept (history --keys; for minibuild run --step).
	Key digest.Digest `json:"key,omitempty"`
	// Missing is set when the history and the layers do not pair up:
	// a layer without a history entry, or an entry without its layer.
	Missing bool `json:"missing,omitempty"`
}

// History pairs the config's history with the manifest's layers (each
// entry without empty_layer takes the next layer) and returns the rows
// newest first, as docker history does. imgs are the store's images, for
// the layers shared with others; self is this image's manifest digest.
func History(m ocispec.Manifest, cfg ocispec.Image, imgs []Image, self digest.Digest) []HistoryRow {
	users := LayerUsers(imgs, self)
	layer := 0
	var rows []HistoryRow
	withLayer := func(row HistoryRow) HistoryRow {
		if layer >= len(m.Layers) {
			row.Missing = true
			return row
		}
		l := m.Layers[layer]
		row.Layer, row.Size = l.Digest, l.Size
		if layer < len(cfg.RootFS.DiffIDs) {
			row.DiffID = cfg.RootFS.DiffIDs[layer]
		}
		for _, i := range users[l.Digest] {
			row.SharedWith = append(row.SharedWith, imgs[i].Names...)
		}
		row.SharedImages = len(users[l.Digest])
		layer++
		return row
	}
	for _, h := range cfg.History {
		row := HistoryRow{Created: h.Created, CreatedBy: h.CreatedBy, Comment: h.Comment, EmptyLayer: h.EmptyLayer}
		if !h.EmptyLayer {
			row = withLayer(row)
		}
		rows = append(rows, row)
	}
	for layer < len(m.Layers) {
		rows = append(rows, withLayer(HistoryRow{Missing: true}))
	}
	for i := range rows {
		sort.Strings(rows[i].SharedWith)
		if rows[i].SharedWith == nil {
			rows[i].SharedWith = []string{}
		}
	}
	for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
		rows[i], rows[j] = rows[j], rows[i]
	}
	if rows == nil {
		rows = []HistoryRow{}
	}
	return rows
}

// WithKeys fills in each row's cache key from the results saved of the
// image's build: the final stage's steps, oldest first, are the newest
// history entries (rows are newest first). Rows of the base image, or of a
// build whose results were not kept, keep no key.
func WithKeys(rows []HistoryRow, saved results.Build) []HistoryRow {
	if len(saved.Steps) == 0 {
		return rows
	}
	final := saved.Steps[len(saved.Steps)-1].Stage
	var keys []digest.Digest
	for _, st := range saved.Steps {
		if st.Stage == final && st.Cache != builder.CacheBase {
			keys = append(keys, st.Key)
		}
	}
	if len(keys) > len(rows) {
		return rows
	}
	for i, k := range keys {
		rows[len(keys)-1-i].Key = k
	}
	return rows
}
