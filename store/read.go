package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"
)

// maxJSONBlob bounds the manifests, indexes and configs read into memory.
const maxJSONBlob = 16 << 20

// Docker media types that share the OCI JSON shapes.
const (
	mediaTypeDockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	mediaTypeDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
)

// OpenBlob opens blob d for reading. The reader hashes what it yields and,
// at EOF, returns an error naming d instead of io.EOF if the content does
// not match; a caller that stops early gets no verification. A missing
// blob the fetcher knows (SetFetcher) is downloaded first.
func (s *Store) OpenBlob(d digest.Digest) (io.ReadCloser, error) {
	return s.openBlob(d, -1)
}

// OpenDescriptor is OpenBlob for desc.Digest that also fails, at the
// latest at EOF, if the blob's size differs from desc.Size.
func (s *Store) OpenDescriptor(desc ocispec.Descriptor) (io.ReadCloser, error) {
	if desc.Size < 0 {
		return nil, fmt.Errorf("blob %s: negative size %d", desc.Digest, desc.Size)
	}
	return s.openBlob(desc.Digest, desc.Size)
}

// ReadBlob reads and verifies the whole of blob d.
func (s *Store) ReadBlob(d digest.Digest) ([]byte, error) {
	r, err := s.OpenBlob(d)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return data, nil
}

// readJSONBlob reads desc (size-checked, bounded, verified) and decodes it
// into v.
func (s *Store) readJSONBlob(desc ocispec.Descriptor, v any) error {
	if desc.Size > maxJSONBlob {
		return fmt.Errorf("blob %s: %d bytes is too large for a %s", desc.Digest, desc.Size, desc.MediaType)
	}
	r, err := s.OpenDescriptor(desc)
	if err != nil {
		return err
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decoding blob %s: %w", desc.Digest, err)
	}
	return nil
}

// Manifest reads and verifies the image manifest desc and its config.
func (s *Store) Manifest(desc ocispec.Descriptor) (ocispec.Manifest, ocispec.Image, error) {
	if !isManifestType(desc.MediaType) && desc.MediaType != "" {
		return ocispec.Manifest{}, ocispec.Image{}, fmt.Errorf("blob %s: media type %q is not an image manifest", desc.Digest, desc.MediaType)
	}
	var m ocispec.Manifest
	if err := s.readJSONBlob(desc, &m); err != nil {
		return ocispec.Manifest{}, ocispec.Image{}, fmt.Errorf("reading manifest: %w", err)
	}
	if m.MediaType != "" && !isManifestType(m.MediaType) {
		return ocispec.Manifest{}, ocispec.Image{}, fmt.Errorf("reading manifest %s: media type %q is not an image manifest", desc.Digest, m.MediaType)
	}
	if m.SchemaVersion != 2 {
		return ocispec.Manifest{}, ocispec.Image{}, fmt.Errorf("reading manifest %s: schema version %d, want 2", desc.Digest, m.SchemaVersion)
	}
	var img ocispec.Image
	if err := s.readJSONBlob(m.Config, &img); err != nil {
		return ocispec.Manifest{}, ocispec.Image{}, fmt.Errorf("reading config of manifest %s: %w", desc.Digest, err)
	}
	return m, img, nil
}

func isManifestType(mt string) bool {
	return mt == ocispec.MediaTypeImageManifest || mt == mediaTypeDockerManifest
}

func isIndexType(mt string) bool {
	return mt == ocispec.MediaTypeImageIndex || mt == mediaTypeDockerManifestList
}

// openVerified opens blob d of the layout at root without following a
// symlink and wraps it in a verifying reader; size < 0 means unknown.
func openVerified(root string, d digest.Digest, size int64) (io.ReadCloser, error) {
	path, err := blobPathIn(root, d)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("blob %s: %w", d, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("opening blob %s: %w", d, err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("opening blob %s: %w", d, err)
	}
	if !fi.Mode().IsRegular() {
		_ = f.Close()
		return nil, fmt.Errorf("opening blob %s: not a regular file", d)
	}
	return &verifyingReader{f: f, d: d, verifier: d.Verifier(), size: size}, nil
}

// verifyingReader hashes what it reads and turns EOF into an error when the
// digest or the expected size does not match.
type verifyingReader struct {
	f        *os.File
	d        digest.Digest
	verifier digest.Verifier
	size     int64 // expected size, or -1
	n        int64
	err      error // sticky terminal error
}

func (r *verifyingReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.f.Read(p)
	r.verifier.Write(p[:n])
	r.n += int64(n)
	if r.size >= 0 && r.n > r.size {
		r.err = fmt.Errorf("blob %s: content is longer than %d bytes", r.d, r.size)
		return n, r.err
	}
	switch {
	case err == io.EOF:
		if r.size >= 0 && r.n != r.size {
			r.err = fmt.Errorf("blob %s: content is %d bytes, want %d", r.d, r.n, r.size)
		} else if !r.verifier.Verified() {
			r.err = fmt.Errorf("blob %s: content does not match its digest", r.d)
		} else {
			r.err = io.EOF
		}
		return n, r.err
	case err != nil:
		r.err = fmt.Errorf("reading blob %s: %w", r.d, err)
		return n, r.err
	}
	return n, nil
}

func (r *verifyingReader) Close() error { return r.f.Close() }
