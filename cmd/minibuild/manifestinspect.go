package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"
)

func manifestInspectCommand() command {
	return command{
		name:    "manifest inspect",
		summary: "Print the JSON of an image index (or of an image's manifest), like podman manifest inspect",
		usage:   "minibuild manifest inspect [--root DIR] NAME",
		example: `  minibuild manifest inspect app:multi
  minibuild manifest inspect app:multi | jq -r '.manifests[] | .platform.architecture + " " + .digest'`,
		setup: func(fs *pflag.FlagSet) func(context.Context, []string, io.Writer, io.Writer) error {
			root := addRoot(fs)
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				if len(args) != 1 {
					return usageError{errors.New("manifest inspect: want exactly one image name")}
				}
				s, err := openStore(*root)
				if err != nil {
					return err
				}
				desc, err := s.Resolve(args[0])
				if err != nil {
					return err
				}
				raw, err := s.ReadBlob(desc.Digest)
				if err != nil {
					return err
				}
				var out bytes.Buffer
				if err := json.Indent(&out, raw, "", "    "); err != nil {
					return fmt.Errorf("image %s: manifest is not JSON: %w", args[0], err)
				}
				out.WriteByte('\n')
				_, err = stdout.Write(out.Bytes())
				return err
			}
		},
	}
}
