package session

import (
	"context"
	"fmt"
	"os"

	"github.com/minibuild/minibuild/builder"
	"github.com/minibuild/minibuild/registry"
	"github.com/minibuild/minibuild/secrets"
)

// Build runs one whole build, in phases: import the remote caches, run
// the step loop, tag the image, write the outputs and push, export the
// cache, and keep the build's records (the metadata file, the step
// results, the report). It stops at the first phase that fails.
func Build(ctx context.Context, o Options) (*builder.Result, error) {
	s, err := newSession(o)
	if err != nil {
		return nil, err
	}
	if err := s.importCaches(ctx); err != nil {
		return nil, err
	}
	if s.secrets, err = secrets.Load(s.set.Secrets, s.set.SSH, os.LookupEnv); err != nil {
		return nil, err
	}
	res, err := builder.Build(ctx, s.builderOptions(ctx))
	// Even a failed build keeps what its finished steps stored.
	if serr := s.syncWrites(); err == nil {
		err = serr
	}
	if err != nil {
		return nil, err
	}
	for _, t := range s.set.Tags {
		if err := s.tools.Store.Tag(t, res.Manifest); err != nil {
			return nil, fmt.Errorf("tagging %s: %w", t, err)
		}
	}
	if err := s.writeOutputs(ctx, res); err != nil {
		return nil, err
	}
	if err := s.exportCaches(ctx, res); err != nil {
		return nil, err
	}
	s.dropUnfetched(res)
	if err := s.keepRecords(res); err != nil {
		return nil, err
	}
	return res, nil
}

// Plan keys every step as Build would and predicts each one's cache
// result, running nothing and writing nothing to the store; the
// metadata file, when asked for, holds the prediction.
func Plan(ctx context.Context, o Options) (*builder.Result, error) {
	o.Settings.Build.DryRun = true
	s, err := newSession(o)
	if err != nil {
		return nil, err
	}
	if err := s.importCaches(ctx); err != nil {
		return nil, err
	}
	res, err := builder.Build(ctx, s.builderOptions(ctx))
	if err != nil {
		return nil, err
	}
	if s.set.MetadataFile != "" {
		if err := writeMetadata(s.set.MetadataFile, res, s.set.Tags); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// syncWrites makes what the step loop stored durable: the blobs first,
// then the cache entries that name them. The store and the cache defer
// their directories' fsyncs to this one call (two or three fsyncs for
// the build, instead of up to five for every step).
func (s *session) syncWrites() error {
	if err := s.tools.Store.Sync(); err != nil {
		return fmt.Errorf("syncing the store: %w", err)
	}
	return s.tools.Cache.Sync()
}

// session is the state of one Build or Plan.
type session struct {
	tools Tools
	set   Settings
	// remote is the imported caches' lookup, nil without any.
	remote *registry.RemoteCache
	// secrets holds the loaded --secret values and --ssh sockets.
	secrets *secrets.Store
}

func newSession(o Options) (*session, error) {
	if err := o.Settings.Check(); err != nil {
		return nil, err
	}
	if o.Tools.Reporter == nil {
		o.Tools.Reporter = nopReporter{}
	}
	return &session{tools: o.Tools, set: o.Settings}, nil
}

// builderOptions are the step loop's options: the session's tools, a
// puller for FROM images when a registry is reachable, and the remote
// cache when one was imported.
func (s *session) builderOptions(ctx context.Context) builder.Options {
	t := builder.Tools{Store: s.tools.Store, Cache: s.tools.Cache, Context: s.tools.Context,
		Snapshotter: s.tools.Snapshotter, Executor: s.tools.Executor, Reporter: s.tools.Reporter,
		Secrets: s.secrets, CacheMounts: s.cacheMountsFor(), CanRun: s.tools.CanRun}
	if s.tools.Registry != nil {
		t.Puller = &puller{ctx: ctx, s: s}
	}
	if s.remote != nil {
		t.RemoteCache = s.remote
	}
	return builder.Options{Tools: t, Settings: s.set.Build}
}

// note reports a message about a registry operation.
func (s *session) note(op RegistryOp, name, format string, args ...any) {
	s.tools.Reporter.Report(Note{Op: op, Name: name, Text: fmt.Sprintf(format, args...)})
}

// warn reports a warning about the session.
func (s *session) warn(format string, args ...any) {
	s.tools.Reporter.Report(builder.Warning{Message: fmt.Sprintf(format, args...)})
}

// transfers reports a pull's, a push's or the cache's blobs as Transfers.
func (s *session) transfers(op RegistryOp, name string) registry.ProgressFunc {
	return transfersTo(s.tools.Reporter, op, name)
}

func transfersTo(r builder.Reporter, op RegistryOp, name string) registry.ProgressFunc {
	return func(p registry.Progress) { r.Report(Transfer{Op: op, Name: name, Progress: p}) }
}

// nopReporter drops every event.
type nopReporter struct{}

func (nopReporter) Report(builder.Event) {}
