package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/minibuild/minibuild/manifest"
	"github.com/minibuild/minibuild/store"
	"github.com/minibuild/minibuild/views"
	"github.com/spf13/pflag"
)

func inspectCommand() command {
	return command{
		name:    "inspect",
		summary: "Print an image's config JSON (like docker image inspect), or list a multi-platform image's images",
		usage:   "minibuild inspect [--root DIR] [--platform os/arch[/variant]] NAME",
		example: `  minibuild inspect app:dev
  minibuild inspect --root /tmp/mb app:dev | jq .rootfs.diff_ids
  minibuild inspect app:multi                          # an image index: PLATFORM, DIGEST, SIZE of each image
  minibuild inspect --platform linux/arm64 app:multi   # the config of its linux/arm64 image`,
		setup: func(fs *pflag.FlagSet) func(context.Context, []string, io.Writer, io.Writer) error {
			root := addRoot(fs)
			platformFlag := addPlatform(fs)
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				if len(args) != 1 {
					return usageError{errors.New("inspect: want exactly one image name")}
				}
				want, err := parsePlatformFlag("inspect", *platformFlag)
				if err != nil {
					return err
				}
				s, err := openStore(*root)
				if err != nil {
					return err
				}
				desc, err := s.Resolve(args[0])
				if err != nil {
					return err
				}
				if want == nil && store.IsIndexType(desc.MediaType) {
					children, err := manifest.Children(s, desc)
					if err != nil {
						return fmt.Errorf("image %s: %w", args[0], err)
					}
					fmt.Fprintf(stderr, "%s is an image index (%s); 'minibuild inspect --platform PLATFORM %s' prints one image's config\n", args[0], desc.Digest, args[0])
					return views.PrintIndex(stdout, children)
				}
				if desc, err = manifest.Resolve(s, args[0], want); err != nil {
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
