package main

import (
	"context"
	"errors"
	"io"

	"github.com/minibuild/minibuild/report"
	"github.com/minibuild/minibuild/views"
	"github.com/spf13/pflag"
)

func historyCommand() command {
	return command{
		name:    "history",
		summary: "Show an image's history: one row per step, newest first, and the layers it shares",
		usage:   "minibuild history [--root DIR] [--no-trunc] [--format table|json|svg] [--platform os/arch[/variant]] NAME",
		example: `  minibuild history app:dev                  # LAYER, CREATED BY, SIZE, SHARED (other images with that layer)
  minibuild history --no-trunc app:dev       # full step text, digests and the names of the sharing images
  minibuild history --format json app:dev | jq '.[] | select(.emptyLayer | not) | .size'
  minibuild history --platform linux/arm64 app:multi   # the linux/arm64 image of a multi-platform image`,
		setup: func(fs *pflag.FlagSet) func(context.Context, []string, io.Writer, io.Writer) error {
			root := addRoot(fs)
			noTrunc := fs.Bool("no-trunc", false, "show full step text, digests and the names of the images sharing a layer")
			withKeys := fs.Bool("keys", false, "add each step's cache key (for minibuild run --step KEY), when the build's results are kept")
			format := fs.String("format", "table", "output: table, json, or svg (the layer stack as an SVG picture)")
			platformFlag := addPlatform(fs)
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				if len(args) != 1 {
					return usageError{errors.New("history: want exactly one image name")}
				}
				if err := checkFormat("history", *format); err != nil && *format != "svg" {
					return err
				}
				want, err := parsePlatformFlag("history", *platformFlag)
				if err != nil {
					return err
				}
				s, err := openStore(*root)
				if err != nil {
					return err
				}
				st, err := loadImage(s, args[0], want, stderr)
				if err != nil {
					return err
				}
				if *format == "svg" {
					saved, _ := resultsDir(s).Load(args[0], st.Descriptor.Digest)
					return report.SVG(stdout, st.Report(args[0], saved))
				}
				rows := st.History()
				if *withKeys {
					saved, _ := resultsDir(s).Load(args[0], st.Descriptor.Digest)
					rows = views.WithKeys(rows, saved)
				}
				if *format == "json" {
					return writeJSON(stdout, rows)
				}
				return views.PrintHistory(stdout, rows, *noTrunc)
			}
		},
	}
}
