package registry

import ocispec "github.com/opencontainers/image-spec/specs-go/v1"

// Statuses a Progress reports.
const (
	// StatusExists: the destination had the blob, nothing was sent.
	StatusExists = "already exists"
	// StatusDownloaded: the blob was downloaded into the store.
	StatusDownloaded = "downloaded"
	// StatusPushed: the blob was uploaded to the registry.
	StatusPushed = "pushed"
	// StatusMounted: the registry linked the blob from another of its
	// repositories; nothing was uploaded.
	StatusMounted = "mounted"
)

// Kinds of blob a Progress is about.
const (
	KindManifest = "manifest"
	KindConfig   = "config"
	KindLayer    = "layer"
)

// Progress is what happened to one blob of a pull, a push or a cache
// export.
type Progress struct {
	Status     string
	Kind       string
	Descriptor ocispec.Descriptor
}

// ProgressFunc receives Progress values; it may be called from several
// goroutines at once, and nil drops them.
type ProgressFunc func(Progress)

// kindOf classifies a blob by its media type.
func kindOf(mt string) string {
	switch {
	case isManifest(mt) || isIndex(mt):
		return KindManifest
	case mt == ocispec.MediaTypeImageConfig, mt == mediaTypeDockerConfig,
		mt == CacheConfigMediaType, mt == ocispec.MediaTypeEmptyJSON:
		return KindConfig
	}
	return KindLayer
}

func (f ProgressFunc) report(status string, desc ocispec.Descriptor) {
	if f != nil {
		f(Progress{Status: status, Kind: kindOf(desc.MediaType), Descriptor: desc})
	}
}
