package snapshot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/minibuild/minibuild/internal/idmap"
	"github.com/minibuild/minibuild/internal/unixfs"
	"github.com/minibuild/minibuild/tarutil"
	digest "github.com/opencontainers/go-digest"
)

// Unpacker keeps each layer unpacked once, as an overlayfs lower directory,
// in a content-addressed directory shared by every build.
//
// Under its root, ALG/HEX is the unpacked layer of diffID ALG:HEX, with
// overlay whiteouts; ALG/HEX.lock serializes its unpacking across
// goroutines and processes; l/ holds a short symlink (the first 16 hex
// digits) to each, so dozens of layers fit in one overlay mount; tmp/ holds
// layers being unpacked.
//
// Opaque directories carry trusted.overlay.opaque, which only the initial
// user namespace can write and read; a rootless process (root of another
// user namespace) mounts its overlays with userxattr and keeps its layers,
// marked with user.overlay.opaque, in a tree of their own under
// ROOT/userxattr, laid out the same way. The two never mix: each reads
// only the markers of its own tree.
type Unpacker struct {
	root string
	// mode is the overlay markers of the layers: tarutil.WhiteoutOverlay,
	// or tarutil.WhiteoutUserOverlay under root/userxattr.
	mode tarutil.WhiteoutMode
}

// userxattrDir is the folder, under an Unpacker's root, of the layers
// unpacked for overlays mounted with userxattr.
const userxattrDir = "userxattr"

// NewUnpacker returns an Unpacker keeping layers under root, e.g.
// STORE/layers, for overlays mounted by this process: under root/userxattr
// with user.overlay.opaque markers when it is not in the initial user
// namespace.
func NewUnpacker(root string) *Unpacker {
	return newUnpacker(root, !idmap.InInitialNamespace())
}

// newUnpacker returns the Unpacker under root of the overlays mounted with
// userxattr, or without.
func newUnpacker(root string, userxattr bool) *Unpacker {
	if userxattr {
		return &Unpacker{root: root + "/" + userxattrDir, mode: tarutil.WhiteoutUserOverlay}
	}
	return &Unpacker{root: root, mode: tarutil.WhiteoutOverlay}
}

// Unpackers returns the Unpackers of both kinds of overlay mounts under
// root, without userxattr first, for maintenance: whichever kind of
// process built in a root, prune, verify and usage see all it unpacked.
func Unpackers(root string) []*Unpacker {
	return []*Unpacker{newUnpacker(root, false), newUnpacker(root, true)}
}

// userxattr reports whether the layers are for overlays mounted with the
// userxattr option.
func (u *Unpacker) userxattr() bool { return u.mode == tarutil.WhiteoutUserOverlay }

// opaqueXattr is the xattr that marks the layers' opaque directories.
func (u *Unpacker) opaqueXattr() string { return u.mode.OpaqueXattr() }

// shortLen is how many hex digits name a layer's short symlink.
const shortLen = 16

// Unpack returns the directory holding layer l unpacked, unpacking it
// first if no build did: into a temporary directory with overlay
// whiteouts, checking that the stream's digest is l.DiffID, then renamed
// into place. It is idempotent and safe to call concurrently from
// goroutines and processes.
func (u *Unpacker) Unpack(ctx context.Context, l Layer) (string, error) {
	if err := l.DiffID.Validate(); err != nil {
		return "", fmt.Errorf("unpacking layer: invalid diffID %q: %w", l.DiffID, err)
	}
	dir := u.dir(l.DiffID)
	if isDirectory(dir) {
		return dir, nil
	}
	if l.Open == nil {
		return "", fmt.Errorf("unpacking layer %s: no Open function", l.DiffID)
	}
	for _, d := range []string{u.root, u.root + "/" + l.DiffID.Algorithm().String(), u.root + "/tmp", u.root + "/l"} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return "", fmt.Errorf("unpacking layer %s: %w", l.DiffID, err)
		}
	}
	lock, err := lockFile(ctx, dir+".lock")
	if err != nil {
		return "", fmt.Errorf("unpacking layer %s: %w", l.DiffID, err)
	}
	defer lock.Unlock()
	if isDirectory(dir) {
		return dir, nil
	}
	prefix := tempPrefix(l.DiffID)
	// Holding the lock, any temporary directory of this layer is a dead
	// process's.
	if err := removeMatching(u.root+"/tmp", prefix); err != nil {
		return "", fmt.Errorf("unpacking layer %s: %w", l.DiffID, err)
	}
	tmp, err := os.MkdirTemp(u.root+"/tmp", prefix)
	if err != nil {
		return "", fmt.Errorf("unpacking layer %s: %w", l.DiffID, err)
	}
	if err := unpackInto(ctx, tmp, l, u.mode); err != nil {
		return "", errors.Join(fmt.Errorf("unpacking layer %s: %w", l.DiffID, err), removeTree(tmp))
	}
	if err := os.Rename(tmp, dir); err != nil {
		return "", errors.Join(fmt.Errorf("unpacking layer %s: %w", l.DiffID, err), removeTree(tmp))
	}
	short := u.root + "/l/" + l.DiffID.Encoded()[:min(shortLen, len(l.DiffID.Encoded()))]
	if err := os.Symlink(u.linkTarget(l.DiffID), short); err != nil && !errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("unpacking layer %s: %w", l.DiffID, err)
	}
	return dir, nil
}

// unpackInto applies l to the empty directory dir with the overlay
// whiteouts of mode.
func unpackInto(ctx context.Context, dir string, l Layer, mode tarutil.WhiteoutMode) error {
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	return applyLayer(ctx, dir, l, mode)
}

// Cleanup removes the temporary directories of unpackings whose process
// died. Unpack removes those of the layer it unpacks by itself.
func (u *Unpacker) Cleanup() error {
	names, err := unixfs.ReadDirNames(u.root + "/tmp")
	if err != nil {
		return err
	}
	var errs []error
	for _, name := range names {
		alg, rest, ok := strings.Cut(name, "-")
		hexPart, _, ok2 := strings.Cut(rest, "-")
		if !ok || !ok2 || digest.NewDigestFromEncoded(digest.Algorithm(alg), hexPart).Validate() != nil {
			continue
		}
		// The lock's directory may be gone (a pruned store): then nobody
		// can hold the lock, and taking it needs the directory back.
		if err := os.MkdirAll(u.root+"/"+alg, 0o700); err != nil {
			errs = append(errs, err)
			continue
		}
		lock, err := tryLock(u.root+"/"+alg+"/"+hexPart+".lock", true)
		if err != nil || lock == nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, removeTree(u.root+"/tmp/"+name))
		lock.Unlock()
	}
	return errors.Join(errs...)
}

// dir is where the layer d is kept unpacked.
func (u *Unpacker) dir(d digest.Digest) string {
	return u.root + "/" + d.Algorithm().String() + "/" + d.Encoded()
}

// linkTarget is what the short symlink of d points to.
func (u *Unpacker) linkTarget(d digest.Digest) string {
	return "../" + d.Algorithm().String() + "/" + d.Encoded()
}

// lowerPath returns the shortest path of the unpacked layer d: its short
// symlink, unless another layer took that name first.
func (u *Unpacker) lowerPath(d digest.Digest) string {
	short := u.root + "/l/" + d.Encoded()[:min(shortLen, len(d.Encoded()))]
	t, err := os.Readlink(short)
	if errors.Is(err, os.ErrNotExist) {
		// The unpacking process died between the rename and the link.
		if os.Symlink(u.linkTarget(d), short) == nil {
			return short
		}
		t, err = os.Readlink(short)
	}
	if err == nil && t == u.linkTarget(d) {
		return short
	}
	return u.dir(d)
}

// tempPrefix names the temporary directories made while building the
// object keyed by d.
func tempPrefix(d digest.Digest) string {
	return d.Algorithm().String() + "-" + d.Encoded() + "-"
}

// applyLayer applies the stream of l to dir and checks its digest.
func applyLayer(ctx context.Context, dir string, l Layer, mode tarutil.WhiteoutMode) (err error) {
	rc, err := l.Open()
	if err != nil {
		return fmt.Errorf("opening layer %s: %w", l.DiffID, err)
	}
	defer func() {
		if cerr := rc.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("closing layer %s: %w", l.DiffID, cerr)
		}
	}()
	v := l.DiffID.Verifier()
	// One bound covers the tar and the padding drained after it.
	r := io.TeeReader(tarutil.LimitReader(rc, l.MaxBytes), v)
	_, err = tarutil.Apply(ctx, dir, r, tarutil.ApplyOptions{
		Whiteouts: mode,
		LayerName: l.DiffID.String(),
		NoChown:   os.Geteuid() != 0,
		MaxBytes:  -1,
	})
	if err != nil {
		return err
	}
	// The padding after the tar's end marker is part of the diffID.
	if _, err := io.Copy(io.Discard, r); err != nil {
		return fmt.Errorf("reading layer %s: %w", l.DiffID, err)
	}
	if !v.Verified() {
		return fmt.Errorf("layer %s: the uncompressed stream does not match its diffID", l.DiffID)
	}
	return nil
}

// isDirectory reports whether path is a directory (not following a final
// symlink).
func isDirectory(path string) bool {
	fi, err := os.Lstat(path)
	return err == nil && fi.IsDir()
}

// removeMatching removes every entry of dir whose name starts with prefix.
func removeMatching(dir, prefix string) error {
	names, err := unixfs.ReadDirNames(dir)
	if err != nil {
		return err
	}
	for _, name := range names {
		if strings.HasPrefix(name, prefix) {
			if err := removeTree(dir + "/" + name); err != nil {
				return err
			}
		}
	}
	return nil
}
