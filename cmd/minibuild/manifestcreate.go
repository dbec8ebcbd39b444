package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/minibuild/minibuild/manifest"
	"github.com/spf13/pflag"
)

func manifestCreateCommand() command {
	return command{
		name:    "manifest create",
		summary: "Merge single-platform images (and the images of indexes) into one image index tagged NAME",
		usage:   "minibuild manifest create [--root DIR] NAME IMAGE...",
		example: `  minibuild build --platform linux/amd64 -t app:amd64 .
  minibuild build --platform linux/arm64 -t app:arm64 .
  minibuild manifest create app:multi app:amd64 app:arm64   # prints the index's digest
  minibuild manifest create app:all app:multi app:s390x     # an index's images, and one more

Each IMAGE is a name or digest of the store. An image's platform is its config's
os/architecture/variant; an index gives each of its images. The index lists them in
the order given, as a build of several --platform values writes it (the same images
give the same digest); two images of one platform are an error. NAME is replaced if
it exists.`,
		setup: func(fs *pflag.FlagSet) func(context.Context, []string, io.Writer, io.Writer) error {
			root := addRoot(fs)
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				if len(args) < 2 {
					return usageError{errors.New("manifest create: want a name and at least one image")}
				}
				s, err := openStore(*root)
				if err != nil {
					return err
				}
				// Held shared, like a build: prune cannot take the new index's
				// blob before it is tagged.
				unlock, err := s.Lock(ctx, false)
				if err != nil {
					return err
				}
				defer unlock()
				desc, err := manifest.Create(s, args[0], args[1:])
				if err != nil {
					return err
				}
				fmt.Fprintln(stdout, desc.Digest)
				return nil
			}
		},
	}
}
