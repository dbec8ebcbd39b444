package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/minibuild/minibuild/buildflags"
	"github.com/minibuild/minibuild/progress"
	"github.com/minibuild/minibuild/registry"
	"github.com/minibuild/minibuild/session"
	"github.com/minibuild/minibuild/store"
	"github.com/spf13/pflag"
)

func pullCommand() command {
	return command{
		name:    "pull",
		summary: "Pull an image from a registry into the store",
		usage:   "minibuild pull [--root DIR] [--platform linux/ARCH] NAME",
		example: `  minibuild pull alpine                           # docker.io/library/alpine:latest
  minibuild pull --platform linux/arm64 alpine:3.20
  minibuild pull 127.0.0.1:5000/team/base:1         # loopback registries use plain HTTP
  minibuild pull --insecure-registry reg.lan:5000 reg.lan:5000/base:1`,
		setup: func(fs *pflag.FlagSet) func(context.Context, []string, io.Writer, io.Writer) error {
			root := addRoot(fs)
			platform := fs.String("platform", "linux/amd64", "platform to pick from a multi-platform image (os/arch[/variant])")
			insecure := fs.StringArray("insecure-registry", nil, "reach registry HOST[:PORT] over plain HTTP (repeatable)")
			progressFlag := fs.String("progress", "plain", "progress output: plain, json or quiet")
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				if len(args) != 1 {
					return usageError{errors.New("pull: want exactly one image name")}
				}
				plat, err := buildflags.ParsePlatform(*platform)
				if err != nil {
					return usageError{err}
				}
				client, s, unlock, err := openForRegistry(ctx, *root, *insecure)
				if err != nil {
					return err
				}
				defer unlock()
				mode, err := registryProgress(*progressFlag)
				if err != nil {
					return err
				}
				desc, err := session.Pull(ctx, client, s, args[0], plat, progress.New(mode, stderr))
				if err != nil {
					return err
				}
				fmt.Fprintln(stdout, desc.Digest)
				return nil
			}
		},
	}
}

// registryProgress checks the --progress of pull and push.
func registryProgress(s string) (progress.Mode, error) {
	m, err := progress.ParseMode(s)
	if err != nil {
		return "", usageError{err}
	}
	return m, nil
}

// openForRegistry opens what pull and push share: a registry client, the
// store, and the store's shared lock (released by the returned func).
func openForRegistry(ctx context.Context, root string, insecure []string) (*registry.Client, *store.Store, func(), error) {
	client, err := registry.New(registry.Options{Insecure: insecure})
	if err != nil {
		return nil, nil, nil, err
	}
	s, err := openStore(root)
	if err != nil {
		return nil, nil, nil, err
	}
	unlock, err := s.Lock(ctx, false)
	if err != nil {
		return nil, nil, nil, err
	}
	return client, s, unlock, nil
}
