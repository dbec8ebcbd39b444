package tarutil

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// WhiteoutMode says what Apply does with OCI whiteout entries.
type WhiteoutMode int

const (
	// WhiteoutApply deletes whited-out names from the target directory, as
	// when every layer is applied on top of one root (the zero value).
	WhiteoutApply WhiteoutMode = iota
	// WhiteoutOverlay turns whiteouts into overlayfs markers, so the target
	// directory (normally empty before) can serve as an overlay lowerdir:
	// ".wh.NAME" becomes a 0:0 character device NAME and ".wh..wh..opq"
	// sets the directory's trusted.overlay.opaque xattr to "y". Anything
	// already under those names is removed first, as in WhiteoutApply.
	WhiteoutOverlay
	// WhiteoutUserOverlay is WhiteoutOverlay for an overlay mounted with
	// the userxattr option, as it must be in a user namespace other than
	// the initial one: opaque directories get user.overlay.opaque instead
	// (trusted.* cannot be set there, nor would that overlay read it).
	WhiteoutUserOverlay
)

// overlay reports whether m makes overlayfs markers.
func (m WhiteoutMode) overlay() bool { return m == WhiteoutOverlay || m == WhiteoutUserOverlay }

// OpaqueXattr is the xattr that marks an opaque directory in the overlay
// markers m makes: OverlayOpaqueXattr or OverlayUserOpaqueXattr, "" for
// WhiteoutApply.
func (m WhiteoutMode) OpaqueXattr() string {
	switch m {
	case WhiteoutOverlay:
		return OverlayOpaqueXattr
	case WhiteoutUserOverlay:
		return OverlayUserOpaqueXattr
	}
	return ""
}

// ApplyOptions controls Apply.
type ApplyOptions struct {
	// Whiteouts selects deletion or overlay markers for whiteouts.
	Whiteouts WhiteoutMode
	// LayerName identifies the layer in error messages, e.g. its digest.
	LayerName string
	// NoChown skips changing owners, for callers that are not root.
	NoChown bool
	// MaxBytes bounds the uncompressed tar stream Apply reads (headers,
	// content and padding): past it Apply fails with an error wrapping
	// ErrTooLarge, so a decompression bomb stops there. 0 means
	// DefaultMaxBytes (16 GiB); a negative value means no limit.
	MaxBytes int64
}

// errUnsafe marks entries refused because they would leave the root, change
// its type, or are otherwise malformed.
var errUnsafe = errors.New("unsafe entry")

// errPoolFailed stops Apply's loop once a worker failed; the worker's
// error is returned instead.
var errPoolFailed = errors.New("a file before this entry failed")

// Apply extracts the uncompressed tar stream r into the existing directory
// root following the OCI image-spec layer rules, and returns the number of
// bytes of file content written.
//
// The root is opened once and every entry's parent is resolved from it with
// openat2(RESOLVE_IN_ROOT), so absolute symlinks and ".." inside the image
// resolve within root. Entries whose cleaned names climb above the root,
// a non-directory root entry, malformed whiteouts, hardlinks leaving the
// root, duplicate names and oversized PAX headers are refused with an error
// naming the layer and the entry. An opaque marker takes effect as though it
// preceded the directory's other entries; a whiteout removes only what lower
// layers left; a directory over a directory keeps its children; anything
// else replaces what was there without writing through it. Directory mtimes
// are set last. A device node is left out where none can be made: as
// root of a user namespace other than the initial one. Entries below an
// AUFS metadata name (".wh..wh.*" other than
// the opaque marker) are skipped, as Docker does. Cancellation is checked
// between entries.
//
// Apply reads r on a goroutine of its own, up to 4 MiB ahead of the entry
// it applies and so possibly past the tar's end marker: a caller that
// reads r after Apply (to drain and verify it) gets what follows that.
// Regular files under 1 MiB are written by one worker per core, from at
// most 32 MiB of buffered content, while the later entries are read;
// everything else, and every check, is done in order, and the result is
// that of applying the entries one by one. When Apply returns, its
// goroutines have ended and r is no longer read.
func Apply(ctx context.Context, root string, r io.Reader, opts ApplyOptions) (int64, error) {
	rootfd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("applying layer %s: opening root %q: %w", layerLabel(opts.LayerName), root, err)
	}
	defer unix.Close(rootfd)
	a := &applier{
		rootfd:   rootfd,
		opts:     opts,
		names:    newLayerNames(),
		whiteout: make(map[string]bool),
	}
	// The bound is on what is read, ahead or not; the tar reader sees an
	// ErrTooLarge only after the bytes before the bound.
	ra := newReadAhead(LimitReader(r, opts.MaxBytes))
	defer ra.Close()
	a.pool = newFilePool(a)
	tr := tar.NewReader(ra)
	err = EachEntry(ctx, tr, func(hdr *tar.Header) error { return a.entry(hdr, tr) })
	if perr := a.pool.close(); perr != nil {
		// A worker's file came before the entry Apply stopped at.
		err = perr
	}
	if err != nil {
		return a.written.Load(), fmt.Errorf("applying layer %s: %w", layerLabel(opts.LayerName), err)
	}
	if err := a.setDirTimes(); err != nil {
		return a.written.Load(), fmt.Errorf("applying layer %s: %w", layerLabel(opts.LayerName), err)
	}
	return a.written.Load(), nil
}

func layerLabel(name string) string {
	if name == "" {
		return "(unnamed)"
	}
	return name
}

// applier is the state of one Apply call.
type applier struct {
	rootfd  int
	opts    ApplyOptions
	written atomic.Int64
	// pool creates small regular files beside the loop over the entries.
	pool *filePool
	// seq counts the entries, to tell which of two failures came first.
	seq int
	// names holds the layer's names and those it touched.
	names layerNames
	// whiteout holds the overlay whiteout devices this layer created.
	whiteout map[string]bool
	// dirs lists directory entries whose mtimes are set at the end.
	dirs []dirTime
}

type dirTime struct {
	name  string
	atime time.Time
	mtime time.Time
}

// entry applies one tar entry.
func (a *applier) entry(hdr *tar.Header, body io.Reader) error {
	if a.pool.failing() {
		return errPoolFailed
	}
	a.seq++
	e, ok, err := a.names.classify(hdr)
	switch {
	case err != nil || !ok:
		return err
	case e.name == ".":
		return a.rootDir(hdr)
	case e.kind == NameOpaque:
		a.pool.barrier()
		return a.opaque(e.concerns)
	case e.kind == NameWhiteout:
		a.pool.barrier()
		return a.whiteoutName(path.Dir(e.concerns), path.Base(e.concerns))
	}
	return a.create(hdr, body, e.name, path.Dir(e.name), path.Base(e.name))
}

// create makes the object described by hdr at name, replacing whatever
// lower layers left there unless both are directories.
func (a *applier) create(hdr *tar.Header, body io.Reader, name, parent, base string) error {
	kind, link, err := checkCreate(hdr)
	if err != nil {
		return err
	}
	pfd, err := a.parentDir(parent)
	if err != nil {
		return fmt.Errorf("opening parent directory: %w", err)
	}
	defer func() {
		if pfd >= 0 {
			unix.Close(pfd)
		}
	}()
	key, err := keyOf(pfd, base)
	if err != nil {
		return err
	}
	a.pool.wait(key)
	a.names.markTouched(name)

	overWhiteout := a.whiteout[name]
	delete(a.whiteout, name)
	st, err := lstatAt(pfd, base)
	switch {
	case errors.Is(err, unix.ENOENT):
	case err != nil:
		return fmt.Errorf("inspecting existing file: %w", err)
	case kind == tar.TypeDir && isDir(&st):
	default:
		if isDir(&st) {
			a.pool.barrier() // the workers may be writing below it
		}
		if err := removeAllAt(pfd, base); err != nil {
			return err
		}
	}

	at := attrsOf(hdr)
	switch kind {
	case tar.TypeReg:
		if hdr.Size >= poolFileMax {
			return a.regular(pfd, base, at, body)
		}
		err := a.submitFile(hdr, pfd, base, key, at, body)
		pfd = -1 // the pool's now, or closed
		return err
	case tar.TypeDir:
		if err := a.dir(pfd, base, at, overWhiteout); err != nil {
			return err
		}
		a.dirs = append(a.dirs, dirTime{name: name, atime: at.atime, mtime: at.mtime})
		return nil
	case tar.TypeSymlink:
		return a.symlink(pfd, base, hdr.Linkname, at)
	case tar.TypeLink:
		return a.hardlink(pfd, base, link)
	default:
		return a.special(pfd, base, kind, hdr, at)
	}
}

// parentDir opens the parent directory of an entry, creating it if it is
// missing, once every file handed to the workers is written: one of them
// may be the name it would create.
func (a *applier) parentDir(parent string) (int, error) {
	pfd, err := openDirInRoot(a.rootfd, parent)
	if err == nil {
		return pfd, nil
	}
	a.pool.barrier()
	return mkdirAllInRoot(a.rootfd, parent)
}

// submitFile reads the content of the small regular file hdr and hands it
// to a worker, with pfd, which it closes if it fails.
func (a *applier) submitFile(hdr *tar.Header, pfd int, base string, key fileKey, at attrs, body io.Reader) error {
	a.pool.reserve(hdr.Size)
	data := make([]byte, hdr.Size)
	if _, err := io.ReadFull(body, data); err != nil {
		a.pool.unreserve(hdr.Size)
		unix.Close(pfd)
		return fmt.Errorf("reading file content: %w", err)
	}
	a.pool.submit(&fileJob{seq: a.seq, entry: hdr.Name, pfd: pfd, base: base, at: at, data: data, key: key})
	return nil
}

// rootDir applies a directory entry naming the root itself.
func (a *applier) rootDir(hdr *tar.Header) error {
	at := attrsOf(hdr)
	if err := a.setFdAttrs(a.rootfd, at, true); err != nil {
		return err
	}
	a.dirs = append(a.dirs, dirTime{name: ".", atime: at.atime, mtime: at.mtime})
	return nil
}

// setDirTimes sets directory mtimes once all their children are written.
func (a *applier) setDirTimes() error {
	for i := len(a.dirs) - 1; i >= 0; i-- {
		d := a.dirs[i]
		ts := timespecs(d.atime, d.mtime)
		if d.name == "." {
			if err := unix.UtimesNanoAt(a.rootfd, ".", ts, 0); err != nil {
				return fmt.Errorf("setting times of the root: %w", err)
			}
			continue
		}
		pfd, err := openDirInRoot(a.rootfd, path.Dir(d.name))
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
			continue // a later entry of the layer replaced a parent
		}
		if err != nil {
			return fmt.Errorf("setting times of %q: %w", d.name, err)
		}
		base := path.Base(d.name)
		st, err := lstatAt(pfd, base)
		switch {
		case errors.Is(err, unix.ENOENT):
			err = nil
		case err == nil && isDir(&st):
			err = unix.UtimesNanoAt(pfd, base, ts, unix.AT_SYMLINK_NOFOLLOW)
		}
		unix.Close(pfd)
		if err != nil {
			return fmt.Errorf("setting times of %q: %w", d.name, err)
		}
	}
	return nil
}
