package main

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"

	"github.com/minibuild/minibuild/progress"
	"github.com/minibuild/minibuild/registry"
	"github.com/minibuild/minibuild/session"
	"github.com/spf13/pflag"
)

func planCommand() command {
	return command{
		name:    "plan",
		summary: "Predict each step's cache result without building: see the cascade before you pay for it",
		usage:   "minibuild plan [build flags] [CONTEXT]",
		example: `  minibuild plan .                              # which steps would hit, which would miss, and why
  minibuild plan --build-arg VERSION=2 .        # what a changed build arg would rebuild
  minibuild plan --cache-mode content .         # steps after a miss are "unknown until built"
  minibuild plan --metadata-file plan.json .    # the prediction in the build's metadata format
  minibuild plan --cache-from type=local,src=ci-cache .
                                                # what CI's cache holds, and why a step would miss it`,
		setup: func(fs *pflag.FlagSet) func(context.Context, []string, io.Writer, io.Writer) error {
			f := registerBuildFlags(fs)
			f.reg = registerCacheFromFlags(fs)
			return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				return runPlan(ctx, f, args, stdout)
			}
		},
	}
}

// runPlan parses, resolves and keys every step as a build would, and
// prints each step's predicted result. It runs nothing and writes nothing
// to the store (a missing store is read as an empty one).
func runPlan(ctx context.Context, f *buildFlags, args []string, stdout io.Writer) error {
	in, err := readInputs(f, args, "plan")
	if err != nil {
		return err
	}
	root := *f.root
	if _, err := os.Stat(filepath.Join(root, "index.json")); errors.Is(err, os.ErrNotExist) {
		// No store yet: plan against an empty one, and leave none behind.
		tmp, err := os.MkdirTemp("", "minibuild-plan-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		root = tmp
	}
	s, err := openStore(root)
	if err != nil {
		return err
	}
	r, err := session.OpenRoot(s)
	if err != nil {
		return err
	}
	// No stat cache: a plan writes nothing to the store.
	ctxt, err := r.Context(in.ctxDir, in.dfPath, false)
	if err != nil {
		return err
	}
	defer ctxt.Close()
	t := session.Tools{Store: s, Cache: r.Cache, Context: ctxt, Stdout: stdout}
	if len(in.settings.CacheFrom) > 0 {
		if t.Registry, err = registry.New(registry.Options{Insecure: f.reg.insecure}); err != nil {
			return err
		}
	}
	p := progress.NewPlan(stdout)
	t.Reporter = p
	reportWarnings(p, in.df)
	res, err := session.Plan(ctx, session.Options{Tools: t, Settings: in.settings})
	if err != nil {
		return err
	}
	p.Summary(res)
	return nil
}
