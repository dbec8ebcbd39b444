package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/minibuild/minibuild/internal/digestcheck"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// BlobWriter streams one blob into ROOT/tmp, hashing it as it goes, until
// Commit moves it into blobs/sha256 or Cancel discards it. It is not safe
// for concurrent use; separate writers are independent.
type BlobWriter struct {
	s         *Store
	mediaType string
	f         *os.File
	digester  digest.Digester
	size      int64
	done      bool
}

// NewBlobWriter starts a blob of the given media type.
func (s *Store) NewBlobWriter(mediaType string) (*BlobWriter, error) {
	f, err := os.CreateTemp(s.layout.Tmp(), "blob-*")
	if err != nil {
		return nil, fmt.Errorf("starting blob: %w", err)
	}
	return &BlobWriter{s: s, mediaType: mediaType, f: f, digester: digest.SHA256.Digester()}, nil
}

// Write appends p to the blob.
func (w *BlobWriter) Write(p []byte) (int, error) {
	if w.done {
		return 0, errors.New("writing blob: writer already committed or cancelled")
	}
	n, err := w.f.Write(p)
	w.digester.Hash().Write(p[:n])
	w.size += int64(n)
	if err != nil {
		return n, fmt.Errorf("writing blob: %w", err)
	}
	return n, nil
}

// Commit fsyncs the blob, checks its digest against want (unless want is
// "") and its size against wantSize (unless wantSize < 0) and renames it
// to blobs/sha256/<hex>. If the blob is already present it is replaced by
// the freshly verified copy, which has the same content unless the old
// file was damaged. On any error the temporary file is removed and nothing
// appears under blobs/.
//
// The blob's content is durable when Commit returns; its name in
// blobs/sha256 is once that directory is synced, which the store does
// before every index.json update and in Sync (see there): a build syncs
// the directory once, not once per blob. Until then a power loss may lose
// the name, never leave a torn blob under it.
func (w *BlobWriter) Commit(want digest.Digest, wantSize int64) (ocispec.Descriptor, error) {
	if w.done {
		return ocispec.Descriptor{}, errors.New("committing blob: writer already committed or cancelled")
	}
	w.done = true
	tmp := w.f.Name()
	ok := false
	defer func() {
		if !ok {
			_ = w.f.Close()
			_ = os.Remove(tmp)
		}
	}()
	got := w.digester.Digest()
	if want != "" {
		if err := digestcheck.Validate(want); err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("committing blob: %w", err)
		}
		if got != want {
			return ocispec.Descriptor{}, fmt.Errorf("committing blob: content has digest %s, want %s", got, want)
		}
	}
	if wantSize >= 0 && w.size != wantSize {
		return ocispec.Descriptor{}, fmt.Errorf("committing blob %s: size %d, want %d", got, w.size, wantSize)
	}
	if err := w.f.Chmod(0o644); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("committing blob %s: %w", got, err)
	}
	if err := w.f.Sync(); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("committing blob %s: %w", got, err)
	}
	if err := w.f.Close(); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("committing blob %s: %w", got, err)
	}
	path, err := w.s.BlobPath(got)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("committing blob: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("committing blob %s: %w", got, err)
	}
	ok = true
	w.s.unsynced.Store(true)
	return ocispec.Descriptor{MediaType: w.mediaType, Digest: got, Size: w.size}, nil
}

// Cancel discards the blob and removes its temporary file. It is a no-op
// after Commit or an earlier Cancel.
func (w *BlobWriter) Cancel() error {
	if w.done {
		return nil
	}
	w.done = true
	_ = w.f.Close()
	if err := os.Remove(w.f.Name()); err != nil {
		return fmt.Errorf("cancelling blob: %w", err)
	}
	return nil
}

// WriteBlob stores a small blob held in memory and returns its descriptor.
func (s *Store) WriteBlob(mediaType string, data []byte) (ocispec.Descriptor, error) {
	if len(data) <= maxCompareBlob {
		d := digest.FromBytes(data)
		if path, err := s.BlobPath(d); err == nil {
			if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
				// Already there, intact: a rebuild that changed nothing
				// writes and syncs nothing.
				return ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(data))}, nil
			}
		}
	}
	w, err := s.NewBlobWriter(mediaType)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if _, err := w.Write(data); err != nil {
		_ = w.Cancel()
		return ocispec.Descriptor{}, err
	}
	return w.Commit("", int64(len(data)))
}

// maxCompareBlob bounds the blobs WriteBlob compares with a present copy
// instead of writing them again (configs and manifests are a few KB).
const maxCompareBlob = 1 << 20

// WriteJSON stores v encoded with json.Marshal (no indentation) as a blob of
// the given media type.
func (s *Store) WriteJSON(mediaType string, v any) (ocispec.Descriptor, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("encoding %s: %w", mediaType, err)
	}
	return s.WriteBlob(mediaType, data)
}

// HasBlob reports whether blob d is present as a regular file; an invalid
// digest is never present. Presence is not verification: reading the blob
// checks its content.
func (s *Store) HasBlob(d digest.Digest) bool {
	path, err := s.BlobPath(d)
	if err != nil {
		return false
	}
	fi, err := os.Lstat(path)
	return err == nil && fi.Mode().IsRegular()
}
