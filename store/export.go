package store

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/minibuild/minibuild/internal/atomicfile"
	"github.com/minibuild/minibuild/rootdir"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ExportLayout writes a standalone OCI image layout at dest (created if
// missing) holding images and every blob they reach: manifests, configs,
// layers, and the children of image indexes (an unnamed ExportImage gets
// an entry without name annotations). If dest already is a layout,
// the images are added to its index.json, replacing entries with the same
// tag or the same full name. Each entry is annotated with
// "org.opencontainers.image.ref.name" = the tag ("dev") and
// "io.containerd.image.name" = Docker's full name
// ("docker.io/library/app:dev"). Blobs are hardlinked when dest is on the
// store's file system and copied otherwise, and verified either way; blobs
// already in dest are verified and replaced if damaged. index.json is
// written last, atomically. The caller holds Lock (shared) so that garbage
// collection cannot remove blobs meanwhile; concurrent exports to the same
// dest are not coordinated.
func (s *Store) ExportLayout(dest string, images []ExportImage) error {
	if sameDir(dest, s.layout.Root()) {
		return fmt.Errorf("exporting to %s: that is the store itself", dest)
	}
	plan, err := s.planExport(images)
	if err != nil {
		return err
	}
	blobDir := rootdir.At(dest).Blobs()
	if err := os.MkdirAll(blobDir, 0o755); err != nil {
		return fmt.Errorf("exporting to %s: %w", dest, err)
	}
	if err := initLayout(dest); err != nil {
		return fmt.Errorf("exporting to %s: %w", dest, err)
	}
	for _, b := range plan.blobs {
		if err := s.exportBlob(dest, b); err != nil {
			return fmt.Errorf("exporting to %s: %w", dest, err)
		}
	}
	if err := atomicfile.SyncDir(blobDir); err != nil {
		return fmt.Errorf("exporting to %s: %w", dest, err)
	}
	idx := emptyIndex()
	indexPath := filepath.Join(dest, ocispec.ImageIndexFile)
	if _, err := os.Lstat(indexPath); err == nil {
		if idx, err = readIndex(indexPath); err != nil {
			return fmt.Errorf("exporting to %s: %w", dest, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("exporting to %s: %w", dest, err)
	}
	for _, e := range plan.entries {
		kept := idx.Manifests[:0:0]
		for _, m := range idx.Manifests {
			if !sameEntry(m, e) {
				kept = append(kept, m)
			}
		}
		idx.Manifests = append(kept, e)
	}
	if err := writeIndex(indexPath, idx); err != nil {
		return fmt.Errorf("exporting to %s: %w", dest, err)
	}
	return nil
}

// sameEntry reports whether the existing index entry old is to be replaced
// by e: same tag or same full name, or, for an unnamed e, an unnamed entry
// of the same digest.
func sameEntry(old, e ocispec.Descriptor) bool {
	tag, full := e.Annotations[ocispec.AnnotationRefName], e.Annotations[AnnotationContainerdImageName]
	oldTag, oldFull := old.Annotations[ocispec.AnnotationRefName], old.Annotations[AnnotationContainerdImageName]
	if tag == "" {
		return oldTag == "" && oldFull == "" && old.Digest == e.Digest
	}
	return oldTag == tag || oldFull == full
}

// sameDir reports whether a and b name the same existing directory.
func sameDir(a, b string) bool {
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(fa, fb)
}

// exportBlob puts blob desc into the layout at dest, verified.
func (s *Store) exportBlob(dest string, desc ocispec.Descriptor) error {
	dst, err := blobPathIn(dest, desc.Digest)
	if err != nil {
		return err
	}
	if fi, err := os.Lstat(dst); err == nil {
		if fi.Mode().IsRegular() && verifyBlob(dest, desc) == nil {
			return nil
		}
		if err := os.Remove(dst); err != nil {
			return fmt.Errorf("replacing damaged blob %s: %w", desc.Digest, err)
		}
	}
	src, err := s.BlobPath(desc.Digest)
	if err != nil {
		return err
	}
	if err := os.Link(src, dst); err == nil {
		if err := verifyBlob(dest, desc); err != nil {
			_ = os.Remove(dst)
			return err
		}
		return nil
	}
	return s.copyBlob(dst, desc)
}

// copyBlob streams blob desc from the store, verified, into dst
// atomically.
func (s *Store) copyBlob(dst string, desc ocispec.Descriptor) error {
	r, err := s.OpenDescriptor(desc)
	if err != nil {
		return err
	}
	defer r.Close()
	// The copy is verified as it streams: a damaged blob never replaces dst.
	err = atomicfile.Write(dst, 0o644, func(w io.Writer) error {
		_, err := io.Copy(w, r)
		return err
	})
	if err != nil {
		return fmt.Errorf("copying blob %s: %w", desc.Digest, err)
	}
	return nil
}

// verifyBlob reads blob desc of the layout at root through a verifying
// reader.
func verifyBlob(root string, desc ocispec.Descriptor) error {
	r, err := openVerified(root, desc.Digest, desc.Size)
	if err != nil {
		return err
	}
	defer r.Close()
	_, err = io.Copy(io.Discard, r)
	return err
}

// ExportLayoutTar writes the layout ExportLayout would create in an empty
// directory as a tar stream to w. The stream is deterministic: entries in
// sorted order (blobs/, blobs/sha256/, the blobs, index.json, oci-layout),
// mtime 0, uid/gid 0, no user or group names, mode 0755 for directories
// and 0644 for files. Blobs are verified as they are streamed; a damaged
// blob fails the export with a truncated stream.
func (s *Store) ExportLayoutTar(w io.Writer, images []ExportImage) error {
	plan, err := s.planExport(images)
	if err != nil {
		return err
	}
	idx := emptyIndex()
	idx.Manifests = plan.entries
	indexData, err := encodeIndex(idx)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	epoch := time.Unix(0, 0)
	for _, dir := range []string{"blobs/", "blobs/sha256/"} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755, ModTime: epoch}); err != nil {
			return fmt.Errorf("writing layout tar: %w", err)
		}
	}
	for _, b := range plan.blobs {
		if err := s.tarBlob(tw, b, epoch); err != nil {
			return fmt.Errorf("writing layout tar: %w", err)
		}
	}
	files := []struct {
		name string
		data []byte
	}{{ocispec.ImageIndexFile, indexData}, {ocispec.ImageLayoutFile, layoutFileContent()}}
	for _, f := range files {
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: 0o644, Size: int64(len(f.data)), ModTime: epoch}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("writing layout tar: %w", err)
		}
		if _, err := tw.Write(f.data); err != nil {
			return fmt.Errorf("writing layout tar: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("writing layout tar: %w", err)
	}
	return nil
}

func (s *Store) tarBlob(tw *tar.Writer, desc ocispec.Descriptor, epoch time.Time) error {
	r, err := s.OpenDescriptor(desc)
	if err != nil {
		return err
	}
	defer r.Close()
	hdr := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     "blobs/sha256/" + desc.Digest.Encoded(),
		Mode:     0o644,
		Size:     desc.Size,
		ModTime:  epoch,
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if _, err := io.Copy(tw, r); err != nil {
		return err
	}
	return nil
}
