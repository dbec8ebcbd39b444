package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/minibuild/minibuild/internal/digestcheck"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Fetcher downloads blobs the store does not hold, such as the layers of
// an imported remote cache. The store verifies what it returns.
type Fetcher interface {
	// Fetch returns the content of desc. The caller closes it.
	Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error)
}

// LookupFunc tells which blobs a Fetcher can provide: it returns the
// descriptor (digest, size, media type) of blob d, or false.
type LookupFunc func(d digest.Digest) (ocispec.Descriptor, bool)

// lazySource is the store's fetcher and what it knows.
type lazySource struct {
	f      Fetcher
	lookup LookupFunc
	// mu serializes downloads, so a blob two readers want is fetched once.
	mu sync.Mutex
}

// errNoSource says no fetcher knows a blob.
var errNoSource = errors.New("no fetcher knows the blob")

// SetFetcher makes blobs that lookup knows available to OpenBlob,
// OpenDescriptor, ReadBlob and exports even when they are not stored
// yet: the first read downloads the blob through f (with
// context.Background(); f may bind its own context), verifies it against
// the descriptor's digest and size, and commits it atomically like any
// other blob. A nil f or lookup removes the fetcher. Blobs already stored
// are never fetched.
func (s *Store) SetFetcher(f Fetcher, lookup LookupFunc) {
	if f == nil || lookup == nil {
		s.lazy.Store(nil)
		return
	}
	s.lazy.Store(&lazySource{f: f, lookup: lookup})
}

// CanGet reports whether blob d is stored or can be fetched through the
// fetcher set with SetFetcher.
func (s *Store) CanGet(d digest.Digest) bool {
	if s.HasBlob(d) {
		return true
	}
	_, ok := s.fetchable(d)
	return ok
}

// fetchable returns the fetcher's descriptor of d, when it has a valid one.
func (s *Store) fetchable(d digest.Digest) (ocispec.Descriptor, bool) {
	l := s.lazy.Load()
	if l == nil || digestcheck.Validate(d) != nil {
		return ocispec.Descriptor{}, false
	}
	desc, ok := l.lookup(d)
	if !ok || desc.Digest != d || desc.Size < 0 {
		return ocispec.Descriptor{}, false
	}
	return desc, true
}

// openBlob opens blob d verified (size < 0: unknown), fetching it first
// when it is missing and the fetcher knows it.
func (s *Store) openBlob(d digest.Digest, size int64) (io.ReadCloser, error) {
	rc, err := openVerified(s.layout.Root(), d, size)
	if err == nil || !errors.Is(err, ErrNotFound) {
		return rc, err
	}
	if ferr := s.fetch(d); ferr != nil {
		if errors.Is(ferr, errNoSource) {
			return nil, err
		}
		return nil, ferr
	}
	return openVerified(s.layout.Root(), d, size)
}

// fetch downloads blob d through the fetcher and commits it, verified.
func (s *Store) fetch(d digest.Digest) error {
	desc, ok := s.fetchable(d)
	if !ok {
		return errNoSource
	}
	l := s.lazy.Load()
	if l == nil {
		return errNoSource
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if s.HasBlob(d) {
		return nil // fetched meanwhile
	}
	rc, err := l.f.Fetch(context.Background(), desc)
	if err != nil {
		return fmt.Errorf("fetching blob %s: %w", d, err)
	}
	defer rc.Close()
	w, err := s.NewBlobWriter(desc.MediaType)
	if err != nil {
		return err
	}
	// One byte more than expected is enough for Commit to refuse it.
	if _, err := io.Copy(w, io.LimitReader(rc, desc.Size+1)); err != nil {
		_ = w.Cancel()
		return fmt.Errorf("fetching blob %s: %w", d, err)
	}
	if _, err := w.Commit(desc.Digest, desc.Size); err != nil {
		return fmt.Errorf("fetching blob %s: %w", d, err)
	}
	return nil
}
