package cache

import (
	"errors"
	"fmt"
	"time"

	"github.com/minibuild/minibuild/internal/digestcheck"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// maxEntrySize bounds an entry file; real ones are a few hundred bytes.
const maxEntrySize = 1 << 20

// Entry is what a cached step produced.
type Entry struct {
	// Key is the step's cache key (KeyInput.Key).
	Key digest.Digest `json:"key"`
	// Parent is the parent key the step's key chains on (KeyInput.Parent),
	// for Cache.MayHaveChild; "" when unknown.
	Parent digest.Digest `json:"parent,omitempty"`
	// Layer is the layer blob the step added; nil for metadata-only steps.
	Layer *ocispec.Descriptor `json:"layer,omitempty"`
	// DiffID is the digest of the layer's uncompressed tar; set with Layer.
	DiffID digest.Digest `json:"diffID,omitempty"`
	// CreatedBy is the history text of the step.
	CreatedBy string `json:"createdBy"`
	// Created is when the entry was first made (wall clock; never used in
	// images).
	Created time.Time `json:"created"`
	// LastUsed is when the entry was last made or hit.
	LastUsed time.Time `json:"lastUsed"`
	// Inputs, when known, records what went into Key (entries made before
	// it existed have none).
	Inputs *Inputs `json:"inputs,omitempty"`
}

// CorruptError reports an entry file that could not be read or decoded,
// or that does not describe the key it is filed under. The file has been
// removed when possible, and the lookup counts as a miss.
type CorruptError struct {
	Path string
	Err  error
}

// Error implements error.
func (e *CorruptError) Error() string {
	return fmt.Sprintf("corrupt cache entry %s: %v", e.Path, e.Err)
}

// Unwrap returns the underlying error.
func (e *CorruptError) Unwrap() error { return e.Err }

// validate checks the digests an entry carries.
func (e Entry) validate() error {
	if err := digestcheck.Validate(e.Key); err != nil {
		return fmt.Errorf("key: %w", err)
	}
	if err := e.Inputs.Check(); err != nil {
		return err
	}
	if e.Layer == nil {
		if e.DiffID != "" {
			return errors.New("diffID without a layer")
		}
		return nil
	}
	if err := digestcheck.Validate(e.Layer.Digest); err != nil {
		return fmt.Errorf("layer: %w", err)
	}
	if e.Layer.Size < 0 {
		return fmt.Errorf("layer: negative size %d", e.Layer.Size)
	}
	if err := digestcheck.Validate(e.DiffID); err != nil {
		return fmt.Errorf("layer diffID: %w", err)
	}
	return nil
}
