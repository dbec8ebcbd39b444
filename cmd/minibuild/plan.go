package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/minibuild/minibuild/buildcontext"
	"github.com/minibuild/minibuild/builder"
	"github.com/minibuild/minibuild/cache"
	"github.com/minibuild/minibuild/store"
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
  minibuild plan --metadata-file plan.json .    # the prediction in the build's metadata format`,
		setup: func(fs *pflag.FlagSet) func(context.Context, []string, io.Writer, io.Writer) error {
			f := registerBuildFlags(fs)
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
	opts, ctxDir, dfPath, df := in.opts, in.ctxDir, in.dfPath, in.df
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
	s, err := store.Open(root)
	if err != nil {
		return err
	}
	c, err := cache.Open(filepath.Join(s.Root(), "cache"))
	if err != nil {
		return err
	}
	var ctxOpts buildcontext.Options
	if ign := dfPath + ".dockerignore"; fileExists(ign) {
		ctxOpts.DockerignorePath = ign
	}
	bctx, err := buildcontext.Open(ctxDir, ctxOpts)
	if err != nil {
		return err
	}
	defer bctx.Close()
	r := &planRenderer{w: stdout}
	for _, w := range df.Warnings {
		r.Report(builder.Warning{Line: w.Line, Message: w.Msg})
	}
	opts.Dockerfile, opts.Context, opts.Store, opts.Cache, opts.Reporter = df, bctx, s, c, r
	opts.DryRun = true
	if opts.RecordDockerfile, err = filepath.Abs(dfPath); err != nil {
		return err
	}
	opts.RecordID = cache.RecordID(opts.RecordDockerfile, opts.Target, opts.CacheMode)
	res, err := builder.Build(ctx, opts)
	if err != nil {
		return err
	}
	r.summary(res)
	if f.metadataFile != "" {
		return writeMetadata(f.metadataFile, res, f.tags)
	}
	return nil
}

// planRenderer prints each step with its predicted result.
type planRenderer struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *planRenderer) Report(e builder.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e := e.(type) {
	case builder.StepDone:
		s := e.Step
		fmt.Fprintf(p.w, "[%d] line %-3d %-7s %s\n", s.Index, s.Line, s.Cache, oneLine(s.Instruction))
		if s.Reason != "" {
			fmt.Fprintf(p.w, "          why: %s\n", s.Reason)
		}
	case builder.Warning:
		fmt.Fprintf(p.w, "warning: %s\n", e.Message)
	}
}

func (p *planRenderer) summary(res *builder.Result) {
	counts := map[string]int{}
	for _, s := range res.Steps {
		counts[s.Cache]++
	}
	fmt.Fprintf(p.w, "plan: %d hit, %d miss, %d unknown (nothing was built)\n",
		counts[builder.CacheHit], counts[builder.CacheMiss], counts[builder.CacheUnknown])
}
