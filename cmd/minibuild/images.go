package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/minibuild/minibuild/store"
	"github.com/minibuild/minibuild/views"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
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
				s, err := openStore(*root)
				if err != nil {
					return err
				}
				imgs, err := storedImages(s, stderr)
				if err != nil {
					return err
				}
				rows := views.ImageRows(imgs)
				if *format == "json" {
					return writeJSON(stdout, rows)
				}
				return views.PrintImages(stdout, rows, *noTrunc)
			}
		},
	}
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
				s, err := openStore(*root)
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
	warnUnreadable(stderr, unreadable)
	return imgs, err
}

// loadImage reads image name from the store, for platform want (nil: an
// index's image for the host), warning on stderr about the other images
// it cannot read.
func loadImage(s *store.Store, name string, want *ocispec.Platform, stderr io.Writer) (*views.Stored, error) {
	st, err := views.LoadPlatform(s, name, want)
	if err == nil {
		warnUnreadable(stderr, st.Unreadable)
	}
	return st, err
}

func warnUnreadable(stderr io.Writer, unreadable []error) {
	for _, err := range unreadable {
		fmt.Fprintf(stderr, "minibuild: warning: %v (minibuild cache verify tells more)\n", err)
	}
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
