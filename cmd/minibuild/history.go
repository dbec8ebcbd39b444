package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/minibuild/minibuild/report"
	"github.com/minibuild/minibuild/store"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/pflag"
)

func historyCommand() command {
	return command{
		name:    "history",
		summary: "Show an image's history: one row per step, newest first, and the layers it shares",
		usage:   "minibuild history [--root DIR] [--no-trunc] [--format table|json|svg] NAME",
		example: `  minibuild history app:dev                  # LAYER, CREATED BY, SIZE, SHARED (other images with that layer)
  minibuild history --no-trunc app:dev       # full step text, digests and the names of the sharing images
  minibuild history --format json app:dev | jq '.[] | select(.emptyLayer | not) | .size'`,
		setup: func(fs *pflag.FlagSet) func(context.Context, []string, io.Writer, io.Writer) error {
			root := addRoot(fs)
			noTrunc := fs.Bool("no-trunc", false, "show full step text, digests and the names of the images sharing a layer")
			format := fs.String("format", "table", "output: table, json, or svg (the layer stack as an SVG picture)")
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				if len(args) != 1 {
					return usageError{errors.New("history: want exactly one image name")}
				}
				if err := checkFormat("history", *format); err != nil && *format != "svg" {
					return err
				}
				s, err := store.Open(*root)
				if err != nil {
					return err
				}
				desc, err := s.Resolve(args[0])
				if err != nil {
					return err
				}
				m, cfg, err := s.Manifest(desc)
				if err != nil {
					return fmt.Errorf("image %s: %w", args[0], err)
				}
				imgs, err := loadStoredImages(s, stderr)
				if err != nil {
					return err
				}
				if *format == "svg" {
					sb, _ := readSaved(s, args[0], desc.Digest)
					return report.SVG(stdout, reportBuild(args[0], desc.Digest, m, cfg, imgs, sb))
				}
				rows := historyRows(m, cfg, imgs, desc.Digest)
				if *format == "json" {
					return writeJSON(stdout, rows)
				}
				return printHistory(stdout, rows, *noTrunc)
			}
		},
	}
}

// historyRow is one step of an image's history.
type historyRow struct {
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
	// Missing is set when the history and the layers do not pair up:
	// a layer without a history entry, or an entry without its layer.
	Missing bool `json:"missing,omitempty"`
}

// historyRows pairs the config's history with the manifest's layers (each
// entry without empty_layer takes the next layer) and returns the rows
// newest first, as docker history does.
func historyRows(m ocispec.Manifest, cfg ocispec.Image, imgs []storedImage, self digest.Digest) []historyRow {
	users := layerUsers(imgs, self)
	layer := 0
	var rows []historyRow
	withLayer := func(row historyRow) historyRow {
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
			row.SharedWith = append(row.SharedWith, imgs[i].names...)
		}
		row.SharedImages = len(users[l.Digest])
		layer++
		return row
	}
	for _, h := range cfg.History {
		row := historyRow{Created: h.Created, CreatedBy: h.CreatedBy, Comment: h.Comment, EmptyLayer: h.EmptyLayer}
		if !h.EmptyLayer {
			row = withLayer(row)
		}
		rows = append(rows, row)
	}
	for layer < len(m.Layers) {
		rows = append(rows, withLayer(historyRow{Missing: true}))
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
		rows = []historyRow{}
	}
	return rows
}

func printHistory(w io.Writer, rows []historyRow, noTrunc bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LAYER\tCREATED BY\tSIZE\tSHARED")
	for _, r := range rows {
		id := "<empty layer>"
		switch {
		case r.Missing && r.Layer == "":
			id = "<missing>"
		case !r.EmptyLayer:
			id = shortID(r.Layer, noTrunc)
		}
		by := oneLine(r.CreatedBy)
		if r.Missing && by == "" {
			by = "(no history entry)"
		}
		if !noTrunc {
			by = clipText(by, 45)
		}
		shared := "-"
		switch {
		case r.SharedImages > 0 && noTrunc:
			shared = strings.Join(r.SharedWith, ", ")
		case r.SharedImages > 0:
			shared = "shared: " + plural(r.SharedImages, "image")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", id, by, humanSize(r.Size), shared)
	}
	return tw.Flush()
}
