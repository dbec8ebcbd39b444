package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/minibuild/minibuild/internal/atomicfile"
	"github.com/minibuild/minibuild/internal/digestcheck"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"
)

// VerifyLayer checks that layer blob desc is present, has desc.Size
// bytes (unless negative), matches its digest and decompresses to
// diffID: what a build must know before it reuses a cached layer without
// reading it. A missing blob wraps ErrNotFound.
//
// A full check reads and decompresses the blob. Its success is stamped in
// ROOT/verified with the file's identity (device, inode, size, mtime and
// ctime), so a later check of the unchanged file costs a stat: any write
// to the blob, or its replacement, changes that identity and forces a full
// check again. Every reader still verifies what it reads.
func (s *Store) VerifyLayer(desc ocispec.Descriptor, diffID digest.Digest) error {
	if err := digestcheck.Validate(diffID); err != nil {
		return fmt.Errorf("layer %s: diffID: %w", desc.Digest, err)
	}
	path, err := s.BlobPath(desc.Digest)
	if err != nil {
		return err
	}
	id, err := fileIdentity(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("layer %s: %w", desc.Digest, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("layer %s: %w", desc.Digest, err)
	}
	if desc.Size >= 0 && id.size != desc.Size {
		return fmt.Errorf("layer %s: blob has %d bytes, the descriptor says %d", desc.Digest, id.size, desc.Size)
	}
	stamp := filepath.Join(s.layout.Verified(), desc.Digest.Encoded())
	want := string(diffID) + " " + id.String() + "\n"
	if got, err := os.ReadFile(stamp); err == nil && string(got) == want {
		return nil
	}
	got, err := s.LayerDiffID(desc.Digest)
	if err != nil {
		return fmt.Errorf("layer %s: %w", desc.Digest, err)
	}
	if got != diffID {
		return fmt.Errorf("layer %s: decompresses to %s, not the diffID %s", desc.Digest, got, diffID)
	}
	after, err := fileIdentity(path)
	if err != nil || after != id {
		// Replaced while it was read: the check holds for the old file only.
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(stamp), 0o755); err != nil {
		return nil
	}
	// A stamp is a hint: failing to write it costs a full check next time.
	_ = writeStamp(stamp, want)
	return nil
}

// fileID is what changes whenever a file is written or replaced.
type fileID struct {
	dev, ino     uint64
	size         int64
	mtime, ctime unix.Timespec
}

func (i fileID) String() string {
	return fmt.Sprintf("%d:%d:%d:%d.%09d:%d.%09d", i.dev, i.ino, i.size, i.mtime.Sec, i.mtime.Nsec, i.ctime.Sec, i.ctime.Nsec)
}

// fileIdentity stats path without following a symlink; only a regular
// file has one.
func fileIdentity(path string) (fileID, error) {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return fileID{}, fs.ErrNotExist
		}
		return fileID{}, err
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return fileID{}, errors.New("blob is not a regular file")
	}
	return fileID{dev: st.Dev, ino: st.Ino, size: st.Size, mtime: st.Mtim, ctime: st.Ctim}, nil
}

// RemoveStaleStamps removes from ROOT/verified the VerifyLayer stamps of
// blobs that are gone, and every other file that is no stamp (temporary
// files of stamps being written included). Only garbage collection calls
// it, holding Lock exclusively.
func (s *Store) RemoveStaleStamps() error {
	dir := s.layout.Verified()
	des, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("listing %s: %w", dir, err)
	}
	for _, de := range des {
		n := de.Name()
		d := digest.NewDigestFromEncoded(digest.SHA256, n)
		if strings.HasPrefix(n, ".") || digestcheck.Validate(d) != nil || !s.HasBlob(d) {
			if err := os.Remove(filepath.Join(dir, n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}

// MarkLayerVerified records that the blob desc decompresses to diffID,
// so the next VerifyLayer costs a stat. Only a writer that computed both
// digests from the bytes it committed (the builder's one-pass layer
// writer) may call it.
func (s *Store) MarkLayerVerified(desc ocispec.Descriptor, diffID digest.Digest) error {
	if err := digestcheck.Validate(diffID); err != nil {
		return err
	}
	path, err := s.BlobPath(desc.Digest)
	if err != nil {
		return err
	}
	id, err := fileIdentity(path)
	if err != nil {
		return err
	}
	stamp := filepath.Join(s.layout.Verified(), desc.Digest.Encoded())
	if err := os.MkdirAll(filepath.Dir(stamp), 0o755); err != nil {
		return err
	}
	return writeStamp(stamp, string(diffID)+" "+id.String()+"\n")
}

// writeStamp replaces a VerifyLayer stamp, without fsyncs: a stamp is a
// hint that names the blob file's identity, so one a power loss leaves
// empty, stale or missing matches no blob and costs a full check, never
// a wrong answer. Syncing it cost two fsyncs per layer a build wrote.
func writeStamp(path, content string) error {
	return atomicfile.WriteFileSynced(path, []byte(content), 0o644, atomicfile.SyncNone)
}
