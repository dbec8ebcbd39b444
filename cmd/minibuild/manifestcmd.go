package main

import (
	"context"
	"io"

	"github.com/spf13/pflag"
)

// manifestCommand is "minibuild manifest SUBCOMMAND": multi-platform
// images (image indexes) made of the store's images.
func manifestCommand() command {
	return command{
		name:    "manifest",
		summary: "Create and inspect multi-platform images (image indexes), like podman manifest",
		usage:   "minibuild manifest [--root DIR] create|inspect [flags]",
		example: `  minibuild manifest create app:multi app:amd64 app:arm64   # one index of the two images
  minibuild manifest inspect app:multi                       # the index JSON
  minibuild push app:multi registry.example.com/team/app:v1  # the index and its images
  minibuild manifest create --help                           # a subcommand's flags and examples`,
		setup: func(fs *pflag.FlagSet) func(context.Context, []string, io.Writer, io.Writer) error {
			root := addRoot(fs)
			fs.SetInterspersed(false)
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				return runSubcommand(ctx, "manifest", fs, root, []command{manifestCreateCommand(), manifestInspectCommand()}, args, stdout, stderr)
			}
		},
	}
}
