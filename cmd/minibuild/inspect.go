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

func inspectCommand() command {
	return command{
		name:    "inspect",
		summary: "Print an image's config JSON (like docker image inspect)",
		usage:   "minibuild inspect [--root DIR] NAME",
		example: "  minibuild inspect app:dev\n  minibuild inspect --root /tmp/mb app:dev | jq .rootfs.diff_ids",
		setup: func(fs *pflag.FlagSet) func(context.Context, []string, io.Writer, io.Writer) error {
			root := addRoot(fs)
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				if len(args) != 1 {
					return usageError{errors.New("inspect: want exactly one image name")}
				}
				s, err := openStore(*root)
				if err != nil {
					return err
				}
				desc, err := s.Resolve(args[0])
				if err != nil {
					return err
				}
				m, _, err := s.Manifest(desc)
				if err != nil {
					return err
				}
				raw, err := s.ReadBlob(m.Config.Digest)
				if err != nil {
					return err
				}
				var out bytes.Buffer
				if err := json.Indent(&out, raw, "", "  "); err != nil {
					return fmt.Errorf("image %s: config is not JSON: %w", args[0], err)
				}
				out.WriteByte('\n')
				_, err = stdout.Write(out.Bytes())
				return err
			}
		},
	}
}
