package views

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/minibuild/minibuild/internal/textfmt"
	digest "github.com/opencontainers/go-digest"
)

// ImageRow is one line of "minibuild images": one name of an image.
type ImageRow struct {
	Name   string        `json:"name"`
	Digest digest.Digest `json:"digest"`
	// Size is the sum of the layers' (compressed) sizes; of an index,
	// of its images' distinct layers. Layers counts them likewise.
	Size   int64  `json:"size"`
	Layers int    `json:"layers"`
	Kind   string `json:"kind"` // "image" or "index"
	// Platforms are an index's images' platforms, in its order.
	Platforms []string `json:"platforms,omitempty"`
}

// ImageRows lists every name of imgs, sorted by name.
func ImageRows(imgs []Image) []ImageRow {
	rows := []ImageRow{}
	for _, img := range imgs {
		row := ImageRow{Digest: img.Descriptor.Digest, Kind: "image"}
		if img.IsIndex {
			row.Kind, row.Platforms = "index", img.Platforms()
		}
		seen := map[digest.Digest]bool{}
		for _, l := range img.layers("") {
			if !seen[l.Digest] {
				seen[l.Digest] = true
				row.Size += l.Size
				row.Layers++
			}
		}
		for _, n := range img.Names {
			row.Name = n
			rows = append(rows, row)
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Name < rows[j].Name })
	return rows
}

// PrintImages prints rows as a table: NAME, DIGEST (short unless
// noTrunc), SIZE, LAYERS; an index's LAYERS says "index (N platforms)".
func PrintImages(w io.Writer, rows []ImageRow, noTrunc bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDIGEST\tSIZE\tLAYERS")
	for _, r := range rows {
		layers := strconv.Itoa(r.Layers)
		if r.Kind == "index" {
			layers = "index (" + textfmt.Plural(len(r.Platforms), "platform") + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Name, shortID(r.Digest, noTrunc), textfmt.Size(r.Size), layers)
	}
	return tw.Flush()
}

// PrintHistory prints rows as docker history does: LAYER, CREATED BY,
// SIZE, SHARED; noTrunc shows full step text and digests and the names
// of the images sharing a layer.
func PrintHistory(w io.Writer, rows []HistoryRow, noTrunc bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	keys := false
	for _, r := range rows {
		keys = keys || r.Key != ""
	}
	head := "LAYER\tCREATED BY\tSIZE\tSHARED"
	if keys {
		head += "\tKEY"
	}
	fmt.Fprintln(tw, head)
	for _, r := range rows {
		id := "<empty layer>"
		switch {
		case r.Missing && r.Layer == "":
			id = "<missing>"
		case !r.EmptyLayer:
			id = shortID(r.Layer, noTrunc)
		}
		by := textfmt.OneLine(r.CreatedBy)
		if r.Missing && by == "" {
			by = "(no history entry)"
		}
		if !noTrunc {
			by = textfmt.Clip(by, 45)
		}
		shared := "-"
		switch {
		case r.SharedImages > 0 && noTrunc:
			shared = strings.Join(r.SharedWith, ", ")
		case r.SharedImages > 0:
			shared = "shared: " + textfmt.Plural(r.SharedImages, "image")
		}
		line := fmt.Sprintf("%s\t%s\t%s\t%s", id, by, textfmt.Size(r.Size), shared)
		if keys {
			key := "-"
			if r.Key != "" {
				key = r.Key.String()
			}
			line += "\t" + key
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

// shortID is a digest's first 12 hex digits, or all of it with noTrunc.
func shortID(d digest.Digest, noTrunc bool) string {
	if noTrunc {
		return d.String()
	}
	return textfmt.ShortID(d)
}
