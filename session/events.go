package session

import (
	"github.com/minibuild/minibuild/registry"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// RegistryOp names what a registry event is about.
type RegistryOp string

// Registry operations.
const (
	OpPull  RegistryOp = "pull"  // an image pulled into the store
	OpPush  RegistryOp = "push"  // an image pushed (--push, -o type=registry)
	OpCache RegistryOp = "cache" // the remote cache: imported, exported, its layers downloaded
)

// Note is a message about a registry operation: an image about to be
// pulled or pushed, a cache imported or exported, a cache that could not
// be imported.
type Note struct {
	Op   RegistryOp
	Name string // the image or cache location concerned
	Text string
}

// Transfer is a blob of a pull, a push or a cache export changing state.
type Transfer struct {
	Op   RegistryOp
	Name string
	registry.Progress
}

// CacheDownload is a blob of an imported cache downloaded because a step
// needs it.
type CacheDownload struct {
	registry.Progress
}

// Done is the end of a pull or a push: the manifest it moved.
type Done struct {
	Op       RegistryOp
	Name     string
	Manifest ocispec.Descriptor
}

// BuildEvent marks the session's events as build events.
func (Note) BuildEvent()          {}
func (Transfer) BuildEvent()      {}
func (CacheDownload) BuildEvent() {}
func (Done) BuildEvent()          {}
