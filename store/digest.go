package store

import (
	"path/filepath"

	"github.com/minibuild/minibuild/internal/digestcheck"
	"github.com/minibuild/minibuild/rootdir"
	digest "github.com/opencontainers/go-digest"
)

// blobPathIn returns the path of blob d inside the OCI layout at root,
// after validating d.
func blobPathIn(root string, d digest.Digest) (string, error) {
	if err := digestcheck.Validate(d); err != nil {
		return "", err
	}
	return filepath.Join(rootdir.At(root).Blobs(), d.Encoded()), nil
}

// BlobPath returns the file path of blob d in the store (whether or not it
// exists), after validating d; it is meant for hardlinking on export.
func (s *Store) BlobPath(d digest.Digest) (string, error) {
	return blobPathIn(s.layout.Root(), d)
}
