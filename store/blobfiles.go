package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/minibuild/minibuild/internal/atomicfile"
	"github.com/minibuild/minibuild/internal/digestcheck"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// BlobFile is one file under ROOT/blobs/sha256, as listed, not verified.
type BlobFile struct {
	// Name is the file name.
	Name string
	// Digest is sha256:Name, or "" when Name is no valid sha256 hex.
	Digest digest.Digest
	// Size is the file's size in bytes.
	Size int64
	// Regular is false for a directory, symlink or other non-regular file.
	Regular bool
}

// BlobFiles lists ROOT/blobs/sha256, sorted by name, without reading any
// blob.
func (s *Store) BlobFiles() ([]BlobFile, error) {
	dir := s.layout.Blobs()
	dirents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("listing blobs: %w", err)
	}
	out := make([]BlobFile, 0, len(dirents))
	for _, de := range dirents {
		fi, err := de.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("listing blobs: %w", err)
		}
		b := BlobFile{Name: de.Name(), Size: fi.Size(), Regular: fi.Mode().IsRegular()}
		if d := digest.NewDigestFromEncoded(digest.SHA256, de.Name()); digestcheck.Validate(d) == nil {
			b.Digest = d
		}
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// VerifyBlob reads the whole of blob desc.Digest and checks it against
// its digest and, unless desc.Size is negative, its size. It is what a
// build calls before reusing a cached layer it will not otherwise read.
func (s *Store) VerifyBlob(desc ocispec.Descriptor) error {
	r, err := openVerified(s.layout.Root(), desc.Digest, desc.Size)
	if err != nil {
		return err
	}
	defer r.Close()
	_, err = io.Copy(io.Discard, r)
	return err
}

// RemoveBlob removes blob d, if present, and syncs the directory. Only
// garbage collection and repair call it, holding Lock exclusively: a
// build may be about to reference any blob.
func (s *Store) RemoveBlob(d digest.Digest) error {
	path, err := s.BlobPath(d)
	if err != nil {
		return err
	}
	return s.RemoveBlobFile(filepath.Base(path))
}

// RemoveBlobFile removes the file name (any name, valid digest or not, as
// BlobFiles lists it) from ROOT/blobs/sha256, recursively if it is a
// directory, and syncs the directory. Like RemoveBlob, only garbage
// collection and repair call it, holding Lock exclusively.
func (s *Store) RemoveBlobFile(name string) error {
	if name == "" || name == "." || name == ".." || filepath.Base(name) != name {
		return fmt.Errorf("removing blob file %q: not a file name", name)
	}
	dir := s.layout.Blobs()
	if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("removing blob file %s: %w", name, err)
	}
	return atomicfile.SyncDir(dir)
}
