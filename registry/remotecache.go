package registry

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/minibuild/minibuild/cache"
	"github.com/minibuild/minibuild/store"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// RemoteCache answers cache lookups from imported cache sources, and
// serves their layers to the store (as its Fetcher) only when something
// reads one.
type RemoteCache struct {
	ctx     context.Context
	sources []*CacheSource
	report  ProgressFunc
}

var _ store.Fetcher = (*RemoteCache)(nil)

// NewRemoteCache combines sources; an entry is looked up in them in
// order. ctx bounds the downloads Fetch makes when it is called without a
// context of its own (the store calls it with context.Background());
// report hears of each layer downloaded.
func NewRemoteCache(ctx context.Context, report ProgressFunc, sources ...*CacheSource) *RemoteCache {
	return &RemoteCache{ctx: ctx, sources: sources, report: report}
}

// Lookup returns the entry for key, when a source has one.
func (rc *RemoteCache) Lookup(_ context.Context, key digest.Digest) (cache.Entry, bool) {
	for _, s := range rc.sources {
		if r, ok := s.records[key]; ok {
			return r.entry(), true
		}
	}
	return cache.Entry{}, false
}

// Descriptor returns the descriptor of layer d when a source has it; it
// is the store's LookupFunc.
func (rc *RemoteCache) Descriptor(d digest.Digest) (ocispec.Descriptor, bool) {
	if s := rc.source(d); s != nil {
		return s.layers[d], true
	}
	return ocispec.Descriptor{}, false
}

func (rc *RemoteCache) source(d digest.Digest) *CacheSource {
	for _, s := range rc.sources {
		if _, ok := s.layers[d]; ok {
			return s
		}
	}
	return nil
}

// Fetch opens layer desc from the first source that has it. The store
// verifies the content.
func (rc *RemoteCache) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	s := rc.source(desc.Digest)
	if s == nil {
		return nil, fmt.Errorf("layer %s: in no imported cache", desc.Digest)
	}
	if ctx == nil || ctx.Done() == nil {
		ctx = rc.ctx
	}
	r, err := s.blobs.Fetch(ctx, s.layers[desc.Digest])
	if err != nil {
		return nil, fmt.Errorf("layer %s from cache %s: %w", desc.Digest, s.loc, err)
	}
	return &reportingReader{ReadCloser: r, desc: s.layers[desc.Digest], report: rc.report}, nil
}

// reportingReader reports StatusDownloaded when its content has been read
// to the end.
type reportingReader struct {
	io.ReadCloser
	desc   ocispec.Descriptor
	report ProgressFunc
	done   bool
}

func (r *reportingReader) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	if errors.Is(err, io.EOF) && !r.done {
		r.done = true
		r.report.report(StatusDownloaded, r.desc)
	}
	return n, err
}
