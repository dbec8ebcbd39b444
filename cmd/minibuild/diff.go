package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/minibuild/minibuild/buildflags"
	"github.com/minibuild/minibuild/imagediff"
	"github.com/minibuild/minibuild/internal/platform"
	"github.com/minibuild/minibuild/registry"
	"github.com/minibuild/minibuild/views"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/pflag"
)

func diffCommand() command {
	return command{
		name:    "diff",
		summary: "Show how two images differ: config fields, layers, then files added, removed or changed",
		usage:   "minibuild diff [--root DIR] [--format text|json] [--ignore-times] [--no-trunc] [--platform linux/ARCH] IMAGE1 IMAGE2",
		example: `  minibuild diff app:1 app:2                    # images of the store (NAME[:TAG] or a manifest digest)
  minibuild diff app:dev oci:out:dev            # against an OCI layout (build -o type=oci,dest=out); also oci-layout://out:dev
  minibuild diff app:ci docker://reg.example.com/app:ci   # against a registry's image, read without storing it
  minibuild diff --ignore-times app:1 app:2     # leave out file mtimes and the config's created times
  minibuild diff --format json app:1 app:2 | jq -r '.files[] | select(.kind == "C") | .path'

A NAME the store does not have is read from its registry. Files: A added, D removed, C changed,
with what changed (content, mode, owner, link, hardlink, mtime, xattrs, type, device).
Exit status, as diff(1): 0 no differences, 1 differences, 2 trouble.`,
		setup: func(fs *pflag.FlagSet) func(context.Context, []string, io.Writer, io.Writer) error {
			root := addRoot(fs)
			format := fs.String("format", "text", "output: text, or json (one document; see the README)")
			ignoreTimes := fs.Bool("ignore-times", false, "leave out file mtimes, the config's created and the history's created")
			noTrunc := fs.Bool("no-trunc", false, "show whole digests and step text")
			platformFlag := fs.String("platform", platform.Format(platform.Host()), "platform to pick from a multi-platform image (os/arch[/variant])")
			insecure := fs.StringArray("insecure-registry", nil, "reach registry HOST[:PORT] over plain HTTP (repeatable)")
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				if len(args) != 2 {
					return usageError{errors.New("diff: want two images (see 'minibuild diff --help')")}
				}
				if *format != "text" && *format != "json" {
					return usageError{fmt.Errorf("diff: invalid --format %q: want text or json", *format)}
				}
				plat, err := buildflags.ParsePlatform(*platformFlag)
				if err != nil {
					return usageError{err}
				}
				var srcs [2]imagediff.Source
				for i, a := range args {
					if srcs[i], err = imagediff.ParseSource(a); err != nil {
						return usageError{fmt.Errorf("diff: %w", err)}
					}
				}
				res, err := diffImages(ctx, *root, args, srcs, plat, *insecure, imagediff.Options{IgnoreTimes: *ignoreTimes}, stderr)
				if err != nil {
					return diffTrouble{err}
				}
				if *format == "json" {
					err = writeJSON(stdout, res)
				} else {
					err = views.PrintDiff(stdout, res, *noTrunc)
				}
				switch {
				case err != nil:
					return diffTrouble{err}
				case res.Differ:
					return imagesDiffer{}
				}
				return nil
			}
		},
	}
}

// diffImages opens the two images (the store only when an operand needs
// it, under its shared lock) and compares them.
func diffImages(ctx context.Context, root string, names []string, srcs [2]imagediff.Source, plat ocispec.Platform, insecure []string, opts imagediff.Options, stderr io.Writer) (*imagediff.Result, error) {
	o := &imagediff.Opener{
		Platform: plat,
		Registry: func() (*registry.Client, error) { return registry.New(registry.Options{Insecure: insecure}) },
		Note:     func(s string) { fmt.Fprintln(stderr, "minibuild: note:", s) },
	}
	if srcs[0].Kind == imagediff.FromStore || srcs[1].Kind == imagediff.FromStore {
		s, err := openStore(root)
		if err != nil {
			return nil, err
		}
		unlock, err := s.Lock(ctx, false)
		if err != nil {
			return nil, err
		}
		defer unlock()
		o.Store = s
	}
	var imgs [2]imagediff.Image
	for i := range srcs {
		img, err := o.Open(ctx, names[i], srcs[i])
		if err != nil {
			return nil, err
		}
		imgs[i] = img
	}
	return imagediff.Compare(ctx, imgs[0], imgs[1], opts)
}

// imagesDiffer is minibuild diff's exit status 1, the images differ; like
// a container's exit code it is passed on without a message.
type imagesDiffer struct{}

func (imagesDiffer) Error() string { return "the images differ" }
func (imagesDiffer) Unwrap() error { return containerExit{code: 1} }

// diffTrouble is an error of minibuild diff: exit status 2, as diff(1)
// exits on trouble (1 says the images differ).
type diffTrouble struct{ err error }

func (e diffTrouble) Error() string { return e.err.Error() }
func (e diffTrouble) Unwrap() error { return e.err }
