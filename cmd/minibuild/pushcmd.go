package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/minibuild/minibuild/progress"
	"github.com/minibuild/minibuild/registry"
	"github.com/minibuild/minibuild/session"
	"github.com/spf13/pflag"
)

func pushCommand() command {
	return command{
		name:    "push",
		summary: "Push an image (or a multi-platform image: an index and its images) from the store to a registry",
		usage:   "minibuild push [--root DIR] NAME [DESTINATION]",
		example: `  minibuild push 127.0.0.1:5000/team/app:v1                # push the image of that name
  minibuild push app:dev registry.example.com/team/app:v1    # push app:dev under another name
  minibuild push app:multi registry.example.com/team/app:v1  # a multi-platform image: the index and all its images`,
		setup: func(fs *pflag.FlagSet) func(context.Context, []string, io.Writer, io.Writer) error {
			root := addRoot(fs)
			insecure := fs.StringArray("insecure-registry", nil, "reach registry HOST[:PORT] over plain HTTP (repeatable)")
			progressFlag := fs.String("progress", "plain", "progress output: plain, json or quiet")
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				if len(args) != 1 && len(args) != 2 {
					return usageError{errors.New("push: want an image name and, optionally, the name to push it as")}
				}
				mode, err := registryProgress(*progressFlag)
				if err != nil {
					return err
				}
				dest := args[len(args)-1]
				if _, err := registry.ParseRef(dest); err != nil {
					return usageError{err}
				}
				client, s, unlock, err := openForRegistry(ctx, *root, *insecure)
				if err != nil {
					return err
				}
				defer unlock()
				desc, err := s.Resolve(args[0])
				if err != nil {
					return err
				}
				pushed, err := session.Push(ctx, client, s, desc, dest, progress.New(mode, stderr))
				if err != nil {
					return err
				}
				fmt.Fprintln(stdout, pushed.Digest)
				return nil
			}
		},
	}
}
