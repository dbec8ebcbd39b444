package builder

import (
	"context"
	"os"
	"time"

	"github.com/minibuild/minibuild/buildcontext"
	"github.com/minibuild/minibuild/cache"
	"github.com/minibuild/minibuild/dockerfile"
	"github.com/minibuild/minibuild/executor"
	"github.com/minibuild/minibuild/secrets"
	"github.com/minibuild/minibuild/snapshot"
	"github.com/minibuild/minibuild/store"
	"github.com/minibuild/minibuild/tarutil"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Options configure one Build: the tools it works with and what it is
// asked to build.
type Options struct {
	Tools    Tools
	Settings Settings
}

// Tools are what a build works with. Store, Cache and Context are
// required; Snapshotter too unless Settings.DryRun.
type Tools struct {
	// Store holds the images, layers and the result.
	Store *store.Store
	// Cache holds the step entries and the build records.
	Cache *cache.Cache
	// Context is the build context COPY and ADD read.
	Context *buildcontext.Context
	// Snapshotter makes the rootfs a step changes.
	Snapshotter snapshot.Snapshotter
	// Executor runs RUN steps; without one, a RUN fails.
	Executor executor.Executor
	// Reporter receives the build's events; nil drops them.
	Reporter Reporter
	// RemoteCache, when set, is asked for a step the local cache does not
	// have (--cache-from); a hit is put into the local cache. Its layers
	// need only be fetchable (Store.CanGet), not stored.
	RemoteCache RemoteCache
	// Puller, when set, pulls a FROM image that is neither a stage, a
	// --build-context nor in the store, into the store.
	Puller Puller
	// Secrets holds the values of RUN --mount=type=secret and the agent
	// sockets of type=ssh; nil holds none.
	Secrets *secrets.Store
	// CacheMounts keeps the directories of RUN --mount=type=cache; without
	// it, a step with a cache mount fails.
	CacheMounts CacheMounts
	// CanRun, when set, says whether a RUN of platform p can run here
	// (natively, or through an emulator) and, when it cannot, what fixes
	// it; a RUN that misses the cache asks it before running. Nil lets
	// every platform run.
	CanRun func(p ocispec.Platform) error
}

// CacheMounts keeps the persistent directories of RUN --mount=type=cache.
type CacheMounts interface {
	// Acquire returns the directory of the cache mount r asks for, held as
	// r.Sharing says until release is called.
	Acquire(ctx context.Context, r CacheMountRequest) (dir string, release func() error, err error)
}

// CacheMountRequest is one cache mount a step uses.
type CacheMountRequest struct {
	// ID names the directory (by default the mount's target).
	ID string
	// Sharing is how concurrent builds share it: shared, private or locked.
	Sharing dockerfile.Sharing
	// Mode, UID and GID are given to a directory made new.
	Mode     os.FileMode
	UID, GID int
	// Seed, when set, fills a directory made new (from= and source=).
	Seed func(ctx context.Context, dir string) error
}

// Settings say what to build and how. Dockerfile is required.
type Settings struct {
	Dockerfile *dockerfile.Dockerfile
	// DockerfilePath is the Dockerfile's absolute path: with the target and
	// the cache mode it names the build record that explains the next
	// build's misses. "" keeps no record.
	DockerfilePath string
	// Target is the stage to build; "" is the last one.
	Target string
	// Platform is the image's platform; zero is linux/amd64, as the CLI's
	// --platform default.
	Platform ocispec.Platform
	// Platforms, when set, are the platforms to build (Platform is then
	// ignored): one image each, and an image index of them when there are
	// several. Stages run for each platform; a stage whose steps have the
	// same keys for two platforms (FROM --platform=$BUILDPLATFORM) is
	// built once and found cached by the others.
	Platforms []ocispec.Platform
	// Jobs bounds the stages that run at once; 0 is the number of CPUs.
	// Results do not depend on it.
	Jobs int
	// Epoch is SOURCE_DATE_EPOCH: every timestamp in the image comes from
	// it; zero is the Unix epoch.
	Epoch time.Time
	// NoCache rebuilds every step.
	NoCache bool
	// BuildArgs are the --build-arg values.
	BuildArgs map[string]string
	// Network is the network of RUN steps: executor.NetworkHost (when
	// empty) or executor.NetworkNone.
	Network executor.NetworkMode
	// Layer holds the compression settings for new layers.
	Layer tarutil.LayerOptions
	// Contexts are the --build-context images: FROM NAME takes the image
	// from the OCI layout named NAME here before looking in the store.
	Contexts map[string]LayoutContext
	// CacheMode is how keys chain; "" is ModeCascade.
	CacheMode CacheMode
	// DryRun computes every key and predicts each step's result without
	// running anything or writing to the store or the cache.
	DryRun bool
	// MaxUnpackBytes bounds what one layer or ADD archive may expand to
	// (a decompression bomb stops there); 0 means tarutil.DefaultMaxBytes.
	MaxUnpackBytes int64
}

// RemoteCache looks up cache entries kept elsewhere.
type RemoteCache interface {
	Lookup(ctx context.Context, key digest.Digest) (cache.Entry, bool)
}

// Puller brings the image name refers to, for platform (an index is
// resolved for it), into the store and returns its manifest descriptor.
type Puller interface {
	Pull(ctx context.Context, name string, platform ocispec.Platform) (ocispec.Descriptor, error)
}

// LayoutContext is an image in an OCI image layout directory, given with
// --build-context NAME=oci-layout://DIR[:TAG].
type LayoutContext struct {
	Dir string
	Tag string // "" when the layout holds one image
}
