package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/minibuild/minibuild/internal/atomicfile"
	"github.com/minibuild/minibuild/internal/digestcheck"
	"github.com/minibuild/minibuild/internal/platform"
	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Image is a tagged image: its normalized name and its manifest (or
// index) descriptor as recorded in index.json.
type Image struct {
	Name       string
	Descriptor ocispec.Descriptor
}

// Tag points name (normalized with NormalizeName) at desc, replacing any
// entry of that name, by an atomic replacement of index.json under the
// index lock. desc must be an image manifest or index already in the store.
// The entry carries desc's annotations plus
// "org.opencontainers.image.ref.name" = the normalized name.
func (s *Store) Tag(name string, desc ocispec.Descriptor) error {
	n, err := NormalizeName(name)
	if err != nil {
		return err
	}
	if err := digestcheck.Validate(desc.Digest); err != nil {
		return fmt.Errorf("tagging %s: %w", n, err)
	}
	if !isManifestType(desc.MediaType) && !isIndexType(desc.MediaType) {
		return fmt.Errorf("tagging %s: media type %q is not an image manifest or index", n, desc.MediaType)
	}
	if desc.Size <= 0 {
		return fmt.Errorf("tagging %s: invalid size %d", n, desc.Size)
	}
	if !s.HasBlob(desc.Digest) {
		return fmt.Errorf("tagging %s: manifest %s: %w", n, desc.Digest, ErrNotFound)
	}
	entry := desc
	entry.Annotations = maps.Clone(desc.Annotations)
	if entry.Annotations == nil {
		entry.Annotations = map[string]string{}
	}
	entry.Annotations[ocispec.AnnotationRefName] = n
	return s.updateIndex(func(idx *ocispec.Index) error {
		for _, m := range idx.Manifests {
			if m.Annotations[ocispec.AnnotationRefName] == n && reflect.DeepEqual(m, entry) {
				return errUnchanged // a rebuild that changed nothing
			}
		}
		idx.Manifests = removeNamed(idx.Manifests, n)
		idx.Manifests = append(idx.Manifests, entry)
		return nil
	})
}

// Untag removes the index.json entry of name; it fails with ErrNotFound if
// there is none. Blobs stay until garbage collection.
func (s *Store) Untag(name string) error {
	n, err := NormalizeName(name)
	if err != nil {
		return err
	}
	return s.updateIndex(func(idx *ocispec.Index) error {
		kept := removeNamed(idx.Manifests, n)
		if len(kept) == len(idx.Manifests) {
			return fmt.Errorf("untagging image %q: %w", n, ErrNotFound)
		}
		idx.Manifests = kept
		return nil
	})
}

// Resolve returns the descriptor name refers to: a tag ("app", "app:dev")
// looked up in index.json, or a digest ("sha256:…" or "app@sha256:…")
// looked up in index.json first and then among the blobs (its media type
// then read from the blob). A miss wraps ErrNotFound with the name.
func (s *Store) Resolve(name string) (ocispec.Descriptor, error) {
	if strings.HasPrefix(name, string(digest.SHA256)+":") {
		d := digest.Digest(name)
		if err := digestcheck.Validate(d); err != nil {
			return ocispec.Descriptor{}, err
		}
		return s.resolveDigest(name, d)
	}
	ref, err := parseReference(name)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if ref.digest != "" {
		return s.resolveDigest(name, ref.digest)
	}
	n := ref.repo() + ":" + tagOrDefault(ref.tag)
	idx, err := readIndex(s.layout.Index())
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	for _, m := range idx.Manifests {
		if m.Annotations[ocispec.AnnotationRefName] == n {
			return m, nil
		}
	}
	return ocispec.Descriptor{}, fmt.Errorf("image %q: %w", name, ErrNotFound)
}

func (s *Store) resolveDigest(name string, d digest.Digest) (ocispec.Descriptor, error) {
	idx, err := readIndex(s.layout.Index())
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	for _, m := range idx.Manifests {
		if m.Digest == d {
			return m, nil
		}
	}
	path, err := s.BlobPath(d)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return ocispec.Descriptor{}, fmt.Errorf("image %q: %w", name, ErrNotFound)
	}
	if fi.Size() > maxJSONBlob {
		return ocispec.Descriptor{}, fmt.Errorf("image %q: blob of %d bytes is not a manifest", name, fi.Size())
	}
	desc := ocispec.Descriptor{Digest: d, Size: fi.Size()}
	// An image config also has a "config" member, but no digest in it.
	var probe struct {
		SchemaVersion int             `json:"schemaVersion"`
		MediaType     string          `json:"mediaType"`
		Manifests     json.RawMessage `json:"manifests"`
		Config        *struct {
			Digest string `json:"digest"`
		} `json:"config"`
	}
	if err := s.readJSONBlob(desc, &probe); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("image %q: %w", name, err)
	}
	switch {
	case probe.SchemaVersion != 2:
		return ocispec.Descriptor{}, fmt.Errorf("image %q: blob is not an image manifest or index", name)
	case isManifestType(probe.MediaType) || isIndexType(probe.MediaType):
		desc.MediaType = probe.MediaType
	case probe.MediaType == "" && probe.Manifests != nil:
		desc.MediaType = ocispec.MediaTypeImageIndex
	case probe.MediaType == "" && probe.Config != nil && probe.Config.Digest != "":
		desc.MediaType = ocispec.MediaTypeImageManifest
	default:
		return ocispec.Descriptor{}, fmt.Errorf("image %q: blob is not an image manifest or index", name)
	}
	return desc, nil
}

// Images lists the tagged images, sorted by name.
func (s *Store) Images() ([]Image, error) {
	idx, err := readIndex(s.layout.Index())
	if err != nil {
		return nil, err
	}
	var out []Image
	for _, m := range idx.Manifests {
		if n := m.Annotations[ocispec.AnnotationRefName]; n != "" {
			out = append(out, Image{Name: n, Descriptor: m})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// updateIndex applies fn to index.json under the index lock and writes
// the result, sorted, atomically.
func (s *Store) updateIndex(fn func(*ocispec.Index) error) error {
	unlock, err := lockFile(context.Background(), s.layout.IndexLock(), true)
	if err != nil {
		return err
	}
	defer unlock()
	idx, err := readIndex(s.layout.Index())
	if err != nil {
		return err
	}
	if err := fn(&idx); err != nil {
		if errors.Is(err, errUnchanged) {
			return nil
		}
		return err
	}
	// The blobs index.json names must be durable before it is: those
	// committed by this process and, as a directory's fsync covers every
	// rename into it, by any other process whose blobs this one refers to
	// (through its cache entries).
	if err := s.syncBlobs(); err != nil {
		return fmt.Errorf("updating index: %w", err)
	}
	return writeIndex(s.layout.Index(), idx)
}

// UntagEntries removes from index.json every entry with the digest and
// the ref name (or lack of one) of one of entries, in one update: how a
// repair drops images that cannot be read whole, named or not. Blobs stay
// until garbage collection.
func (s *Store) UntagEntries(entries []ocispec.Descriptor) error {
	return s.updateIndex(func(idx *ocispec.Index) error {
		kept := idx.Manifests[:0:0]
		for _, m := range idx.Manifests {
			drop := false
			for _, b := range entries {
				if m.Digest == b.Digest && m.Annotations[ocispec.AnnotationRefName] == b.Annotations[ocispec.AnnotationRefName] {
					drop = true
				}
			}
			if !drop {
				kept = append(kept, m)
			}
		}
		idx.Manifests = kept
		return nil
	})
}

// ResetIndex keeps an unreadable index.json as index.json.corrupt-NANOS
// and writes an empty index in its place, under the index lock; an
// index.json that reads fine is left alone. It is how a repair deals with
// an index it cannot read.
func (s *Store) ResetIndex() error {
	unlock, err := lockFile(context.Background(), s.layout.IndexLock(), true)
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := readIndex(s.layout.Index()); err == nil {
		return nil // repaired meanwhile
	}
	backup := s.layout.Index() + ".corrupt-" + strconv.FormatInt(time.Now().UnixNano(), 10)
	if err := os.Rename(s.layout.Index(), backup); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("keeping the unreadable index: %w", err)
	}
	return writeIndex(s.layout.Index(), emptyIndex())
}

// errUnchanged, returned by an updateIndex function, leaves index.json as
// it is.
var errUnchanged = errors.New("index unchanged")

func removeNamed(ms []ocispec.Descriptor, name string) []ocispec.Descriptor {
	out := make([]ocispec.Descriptor, 0, len(ms))
	for _, m := range ms {
		if m.Annotations[ocispec.AnnotationRefName] != name {
			out = append(out, m)
		}
	}
	return out
}

func emptyIndex() ocispec.Index {
	idx := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{}}
	idx.SchemaVersion = 2
	return idx
}

// readIndex reads an index.json, refusing unknown schema versions.
func readIndex(path string) (ocispec.Index, error) {
	f, err := os.Open(path)
	if err != nil {
		return ocispec.Index{}, fmt.Errorf("reading index: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxJSONBlob+1))
	if err != nil {
		return ocispec.Index{}, fmt.Errorf("reading index %s: %w", path, err)
	}
	if len(data) > maxJSONBlob {
		return ocispec.Index{}, fmt.Errorf("reading index %s: larger than %d bytes", path, maxJSONBlob)
	}
	var idx ocispec.Index
	if err := json.Unmarshal(data, &idx); err != nil {
		return ocispec.Index{}, fmt.Errorf("reading index %s: %w", path, err)
	}
	if idx.SchemaVersion != 2 {
		return ocispec.Index{}, fmt.Errorf("reading index %s: schema version %d, want 2", path, idx.SchemaVersion)
	}
	return idx, nil
}

// writeIndex sorts idx's entries (by ref name, then digest) and replaces
// the index.json at path atomically.
func writeIndex(path string, idx ocispec.Index) error {
	data, err := encodeIndex(idx)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, data, 0o644)
}

// encodeIndex sorts idx's entries and encodes it without indentation.
func encodeIndex(idx ocispec.Index) ([]byte, error) {
	if idx.Manifests == nil {
		idx.Manifests = []ocispec.Descriptor{}
	}
	if idx.MediaType == "" {
		idx.MediaType = ocispec.MediaTypeImageIndex
	}
	sortDescriptors(idx.Manifests)
	data, err := json.Marshal(idx)
	if err != nil {
		return nil, fmt.Errorf("encoding index: %w", err)
	}
	return data, nil
}

func sortDescriptors(ms []ocispec.Descriptor) {
	sort.SliceStable(ms, func(i, j int) bool {
		a, b := ms[i].Annotations[ocispec.AnnotationRefName], ms[j].Annotations[ocispec.AnnotationRefName]
		if a != b {
			return a < b
		}
		return ms[i].Digest < ms[j].Digest
	})
}

// ResolvePlatform resolves name as Resolve does and, when it names an
// image index, picks the index's manifest for want (an index nested in
// an index too). A manifest must be of want by its config. An index
// without want fails naming both; a manifest of another platform wraps
// ErrNotFound, naming both.
func (s *Store) ResolvePlatform(name string, want ocispec.Platform) (ocispec.Descriptor, error) {
	desc, err := s.Resolve(name)
	if err != nil {
		return desc, err
	}
	for depth := 0; isIndexType(desc.MediaType); depth++ {
		if depth > 4 {
			return ocispec.Descriptor{}, fmt.Errorf("image %q: image indexes nested too deep", name)
		}
		var idx ocispec.Index
		if err := s.readJSONBlob(desc, &idx); err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("image %q: %w", name, err)
		}
		if desc, err = platform.Pick(idx.Manifests, want); err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("image %q: %w", name, err)
		}
		return desc, nil
	}
	if !isManifestType(desc.MediaType) {
		return desc, nil
	}
	// A single manifest serves want when its config says so (or says no
	// architecture); else it is not the image asked for, and a registry
	// may have the right one.
	_, img, err := s.Manifest(desc)
	if err != nil {
		// Reading the image reports the damage, naming the blob.
		return desc, nil
	}
	if img.Architecture != "" && !platform.Match(&img.Platform, want) {
		return ocispec.Descriptor{}, fmt.Errorf("image %q is %s, not %s: %w", name, platform.Format(img.Platform), platform.Format(want), ErrNotFound)
	}
	return desc, nil
}

// WriteIndex writes an image index of manifests (each with its
// platform) and returns its descriptor; it tags nothing.
func (s *Store) WriteIndex(manifests []ocispec.Descriptor) (ocispec.Descriptor, error) {
	idx := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: manifests}
	return s.WriteJSON(ocispec.MediaTypeImageIndex, idx)
}
