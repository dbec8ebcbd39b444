package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"text/tabwriter"

	"github.com/minibuild/minibuild/internal/textfmt"
	"github.com/minibuild/minibuild/store"
	"github.com/minibuild/minibuild/views"
	digest "github.com/opencontainers/go-digest"
	"github.com/spf13/pflag"
)

func imagesCommand() command {
	return command{
		name:    "images",
		summary: "List the tagged images in the store",
		usage:   "minibuild images [--root DIR] [--no-trunc] [--format table|json]",
		example: `  minibuild images                     # NAME, manifest DIGEST, SIZE (sum of its compressed layers), LAYERS
  minibuild images --format json | jq -r '.[].name'
  minibuild images --no-trunc          # full manifest digests`,
		setup: func(fs *pflag.FlagSet) func(context.Context, []string, io.Writer, io.Writer) error {
			root := addRoot(fs)
			noTrunc := fs.Bool("no-trunc", false, "show full manifest digests")
			format := fs.String("format", "table", "output: table or json")
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				if len(args) > 0 {
					return usageError{fmt.Errorf("images: unexpected argument %q", args[0])}
				}
				if err := checkFormat("images", *format); err != nil {
					return err
				}
				s, err := store.Open(*root)
				if err != nil {
					return err
				}
				imgs, err := storedImages(s, stderr)
				if err != nil {
					return err
				}
				return printImages(stdout, imgs, *format, *noTrunc)
			}
		},
	}
}

// imageRow is one line of "minibuild images".
type imageRow struct {
	Name   string        `json:"name"`
	Digest digest.Digest `json:"digest"`
	// Size is the sum of the layers' (compressed) sizes; -1 for an index.
	Size   int64  `json:"size"`
	Layers int    `json:"layers"`
	Kind   string `json:"kind"` // "image" or "index"
}

func printImages(w io.Writer, imgs []views.Image, format string, noTrunc bool) error {
	rows := []imageRow{}
	for _, img := range imgs {
		row := imageRow{Digest: img.Descriptor.Digest, Size: -1, Kind: "index"}
		if !img.IsIndex {
			row.Size, row.Layers, row.Kind = 0, len(img.Manifest.Layers), "image"
			for _, l := range img.Manifest.Layers {
				row.Size += l.Size
			}
		}
		for _, n := range img.Names {
			row.Name = n
			rows = append(rows, row)
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Name < rows[j].Name })
	if format == "json" {
		return writeJSON(w, rows)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDIGEST\tSIZE\tLAYERS")
	for _, r := range rows {
		size, layers := textfmt.Size(r.Size), strconv.Itoa(r.Layers)
		if r.Kind == "index" {
			size, layers = "-", "(index)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Name, shortID(r.Digest, noTrunc), size, layers)
	}
	return tw.Flush()
}

func rmiCommand() command {
	return command{
		name:    "rmi",
		summary: "Untag images (their blobs stay until 'minibuild cache prune')",
		usage:   "minibuild rmi [--root DIR] NAME...",
		example: `  minibuild rmi app:dev                # remove the tag app:dev
  minibuild rmi app:1 app:2            # several at once
  minibuild rmi app:dev && minibuild cache prune   # ... and free what only it used`,
		setup: func(fs *pflag.FlagSet) func(context.Context, []string, io.Writer, io.Writer) error {
			root := addRoot(fs)
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				if len(args) == 0 {
					return usageError{errors.New("rmi: want at least one image name")}
				}
				s, err := store.Open(*root)
				if err != nil {
					return err
				}
				var failed []error
				for _, name := range args {
					n, err := store.NormalizeName(name)
					if err == nil {
						err = s.Untag(n)
					}
					if err != nil {
						failed = append(failed, fmt.Errorf("rmi %s: %w", name, err))
						continue
					}
					fmt.Fprintf(stdout, "Untagged: %s\n", n)
				}
				if len(failed) < len(args) {
					fmt.Fprintln(stderr, "(the layers stay in the store until 'minibuild cache prune' finds no image needs them)")
				}
				return errors.Join(failed...)
			}
		},
	}
}

// storedImages reads the store's tagged images, warning on stderr about
// those it cannot read.
func storedImages(s *store.Store, stderr io.Writer) ([]views.Image, error) {
	imgs, unreadable, err := views.Images(s)
	for _, err := range unreadable {
		fmt.Fprintf(stderr, "minibuild: warning: %v (minibuild cache verify tells more)\n", err)
	}
	return imgs, err
}

// shortID is a digest's first 12 hex digits, or all of it with noTrunc.
func shortID(d digest.Digest, noTrunc bool) string {
	if noTrunc {
		return d.String()
	}
	return textfmt.ShortID(d)
}

func checkFormat(cmd, format string) error {
	if format != "table" && format != "json" {
		return usageError{fmt.Errorf("%s: invalid --format %q: want table or json", cmd, format)}
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
