package session

import (
	"errors"
	"io"

	"github.com/minibuild/minibuild/buildcontext"
	"github.com/minibuild/minibuild/builder"
	"github.com/minibuild/minibuild/cache"
	"github.com/minibuild/minibuild/executor"
	"github.com/minibuild/minibuild/registry"
	"github.com/minibuild/minibuild/results"
	"github.com/minibuild/minibuild/secrets"
	"github.com/minibuild/minibuild/snapshot"
	"github.com/minibuild/minibuild/store"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Options configure one session: the tools it works with and what it is
// asked to do.
type Options struct {
	Tools    Tools
	Settings Settings
}

// Tools are what a session works with. Store, Cache and Context are
// required, Snapshotter too for a build.
type Tools struct {
	Store       *store.Store
	Cache       *cache.Cache
	Context     *buildcontext.Context
	Snapshotter snapshot.Snapshotter
	// Executor runs RUN steps; without one, a RUN fails.
	Executor executor.Executor
	// CacheMounts keeps the directories of RUN --mount=type=cache
	// (Root.CacheMounts); without it, a step with a cache mount fails.
	CacheMounts builder.CacheMounts
	// Reporter receives the build's events and the session's own (Note,
	// Transfer, Done); nil drops them.
	Reporter builder.Reporter
	// Registry reaches registries: FROM images that are nowhere else,
	// outputs of type registry, Push and the remote cache. Without one,
	// those fail.
	Registry *registry.Client
	// Results is where the step results are kept for later reports; ""
	// keeps none.
	Results results.Dir
	// Stdout receives the outputs whose destination is "-".
	Stdout io.Writer
	// CanRun says whether a RUN of a platform can run here, and what
	// fixes it when not (binfmt.Check); nil lets every platform run.
	CanRun func(ocispec.Platform) error
}

// Settings say what a session does.
type Settings struct {
	// Build is what the step loop builds.
	Build builder.Settings
	// Tags are the names the image gets in the store, and the default
	// names of the outputs and of Push.
	Tags []string
	// Outputs are written in order, once the image is built and tagged.
	Outputs []Output
	// Push pushes the image to each of Tags.
	Push bool
	// CacheFrom are remote caches a step the local cache lacks is looked
	// up in; their layers are downloaded only when needed.
	CacheFrom []registry.CacheLocation
	// CacheTo are where the build's cache entries are exported.
	CacheTo []CacheExport
	// MetadataFile, when set, receives the build's result and each step's
	// cache result as JSON.
	MetadataFile string
	// ReportFile, when set, receives the build's layer stack and cascade
	// as an HTML page ("-": Tools.Stdout).
	ReportFile string
	// Secrets are the --secret values RUN --mount=type=secret reads, and
	// SSH the --ssh agents type=ssh forwards. Build reads them when it
	// starts (a missing file or variable fails it, naming it) and keeps the
	// values in memory only.
	Secrets []secrets.Source
	SSH     []secrets.SSHSource
}

// OutputKind is what an Output writes.
type OutputKind string

// Output kinds.
const (
	OutputOCI      OutputKind = "oci"      // an OCI image layout: a directory, or a tar with Tar
	OutputLocal    OutputKind = "local"    // the image's filesystem, as a directory
	OutputDocker   OutputKind = "docker"   // a docker load archive
	OutputRegistry OutputKind = "registry" // a push to each name
)

// Output is one -o/--output destination.
type Output struct {
	Kind OutputKind
	// Dest is the directory or file written; "-" is Tools.Stdout (an OCI
	// tar or a docker archive). A registry output has none.
	Dest string
	// Tar writes an OCI layout as a tar archive.
	Tar bool
	// Names are the names the image gets in the output; nil means Tags.
	Names []string
}

// CacheMode says which cache entries an export holds.
type CacheMode string

// Cache export modes.
const (
	// CacheMin exports the entries of the image's own steps: the target
	// stage and the stages it is built FROM.
	CacheMin CacheMode = "min"
	// CacheMax exports the entries of every step built or reused.
	CacheMax CacheMode = "max"
)

// CacheExport is one --cache-to destination.
type CacheExport struct {
	Location registry.CacheLocation
	Mode     CacheMode // "" is CacheMin
	// Mounts also exports the directories of the build's unseeded
	// RUN --mount=type=cache mounts (mounts=true), whatever Mode says.
	Mounts bool
}

// Check reports settings that cannot work together, before anything is
// done.
func (s Settings) Check() error {
	if s.Push && len(s.Tags) == 0 {
		return errors.New("--push needs a name to push to: -t REGISTRY/REPO:TAG")
	}
	for _, o := range s.Outputs {
		if o.Kind == OutputRegistry && len(o.Names) == 0 && len(s.Tags) == 0 {
			return errors.New("-o type=registry needs name=REGISTRY/REPO:TAG or -t")
		}
		if o.Kind == OutputDocker && len(s.Build.Platforms) > 1 {
			return errors.New("-o type=docker of a build of several platforms: docker load archives hold one platform: use -o type=oci, or build one --platform")
		}
	}
	return nil
}

// names are the names output o gives the image.
func (s Settings) names(o Output) []string {
	if o.Names != nil {
		return o.Names
	}
	return s.Tags
}
