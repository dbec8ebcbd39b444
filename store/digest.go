package store

import (
	"fmt"
	"path/filepath"

	digest "github.com/opencontainers/go-digest"
)

// validateDigest accepts only well-formed sha256 digests, so that the
// encoded part can safely become a file name under blobs/sha256.
func validateDigest(d digest.Digest) error {
	parsed, err := digest.Parse(string(d))
	if err != nil {
		return fmt.Errorf("invalid digest %q: %w", string(d), err)
	}
	if parsed.Algorithm() != digest.SHA256 {
		return fmt.Errorf("invalid digest %q: only sha256 is supported", string(d))
	}
	if err := parsed.Validate(); err != nil {
		return fmt.Errorf("invalid digest %q: %w", string(d), err)
	}
	return nil
}

// blobPathIn returns the path of blob d inside the OCI layout at root,
// after validating d.
func blobPathIn(root string, d digest.Digest) (string, error) {
	if err := validateDigest(d); err != nil {
		return "", err
	}
	return filepath.Join(root, "blobs", "sha256", d.Encoded()), nil
}

// BlobPath returns the file path of blob d in the store (whether or not it
// exists), after validating d; it is meant for hardlinking on export.
func (s *Store) BlobPath(d digest.Digest) (string, error) {
	return blobPathIn(s.root, d)
}
