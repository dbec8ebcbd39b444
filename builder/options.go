package builder

import (
	"context"
	"time"

	"github.com/minibuild/minibuild/buildcontext"
	"github.com/minibuild/minibuild/cache"
	"github.com/minibuild/minibuild/dockerfile"
	"github.com/minibuild/minibuild/executor"
	"github.com/minibuild/minibuild/snapshot"
	"github.com/minibuild/minibuild/store"
	"github.com/minibuild/minibuild/tarutil"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Options configures one build. Every field but Reporter, Executor,
// BuildArgs, Target and Tags is required.
type Options struct {
	Dockerfile  *dockerfile.Dockerfile
	Context     *buildcontext.Context
	Store       *store.Store
	Cache       *cache.Cache
	Snapshotter snapshot.Snapshotter
	Executor    executor.Executor
	Platform    ocispec.Platform
	// Epoch is SOURCE_DATE_EPOCH: every timestamp in the image comes from it.
	Epoch time.Time
	// NoCache rebuilds every step.
	NoCache bool
	// BuildArgs are the --build-arg values.
	BuildArgs map[string]string
	// Target is the stage to build; "" is the last one.
	Target string
	// Network is "host" (default) or "none" for RUN steps.
	Network string
	// Layer holds the compression settings for new layers.
	Layer tarutil.LayerOptions
	// Contexts are the --build-context images: FROM NAME takes the image
	// from the OCI layout named NAME here before looking in the store.
	Contexts map[string]LayoutContext
	// CacheMode is "cascade" (default: a miss invalidates every later step)
	// or "content" (a step's parent is the content its predecessors left,
	// so a rebuilt step that changed nothing lets later steps hit again).
	CacheMode string
	// DryRun computes every key and predicts each step's result without
	// running anything or writing to the store or the cache.
	DryRun bool
	// RecordID names the build record compared with to explain misses
	// (cache.RecordID of the Dockerfile and target); "" keeps none.
	RecordID string
	// RecordDockerfile is the Dockerfile's absolute path, kept in the record.
	RecordDockerfile string
	// MaxUnpackBytes bounds what one layer or ADD archive may expand to
	// (a decompression bomb stops there); 0 means tarutil.DefaultMaxBytes.
	MaxUnpackBytes int64
	// Tags are the names the image gets in the store.
	Tags []string
	// Reporter receives progress events.
	Reporter Reporter
	// RemoteCache, when set, is asked for a step the local cache does not
	// have (--cache-from); a hit is put into the local cache. Its layers
	// need only be fetchable (Store.CanGet), not stored.
	RemoteCache RemoteCache
	// Puller, when set, pulls a FROM image that is neither a stage, a
	// --build-context nor in the store, into the store.
	Puller Puller
}

// RemoteCache looks up cache entries kept elsewhere.
type RemoteCache interface {
	Lookup(ctx context.Context, key digest.Digest) (cache.Entry, bool)
}

// Puller brings the image name refers to into the store and returns its
// manifest descriptor.
type Puller interface {
	Pull(ctx context.Context, name string) (ocispec.Descriptor, error)
}

// LayoutContext is an image in an OCI image layout directory, given with
// --build-context NAME=oci-layout://DIR[:TAG].
type LayoutContext struct {
	Dir string
	Tag string // "" when the layout holds one image
}
