package tarutil

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
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
)

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
// are set last. Entries below an AUFS metadata name (".wh..wh.*" other than
// the opaque marker) are skipped, as Docker does. Cancellation is checked
// between entries.
func Apply(ctx context.Context, root string, r io.Reader, opts ApplyOptions) (int64, error) {
	rootfd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("applying layer %s: opening root %q: %w", layerLabel(opts.LayerName), root, err)
	}
	defer unix.Close(rootfd)
	a := &applier{
		rootfd:   rootfd,
		opts:     opts,
		seen:     make(map[string]bool),
		touched:  make(map[string]bool),
		whiteout: make(map[string]bool),
	}
	tr := tar.NewReader(LimitReader(r, opts.MaxBytes))
	last := ""
	for {
		if err := ctx.Err(); err != nil {
			return a.written, fmt.Errorf("applying layer %s: %w", layerLabel(opts.LayerName), err)
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil && !(errors.Is(err, tar.ErrInsecurePath) && hdr != nil) {
			where := "the first tar header"
			if last != "" {
				where = fmt.Sprintf("the tar header after entry %q", last)
			}
			return a.written, fmt.Errorf("applying layer %s: reading %s: %w", layerLabel(opts.LayerName), where, err)
		}
		last = hdr.Name
		if err := a.entry(hdr, tr); err != nil {
			return a.written, fmt.Errorf("applying layer %s: entry %q: %w", layerLabel(opts.LayerName), hdr.Name, err)
		}
	}
	if err := a.setDirTimes(); err != nil {
		return a.written, fmt.Errorf("applying layer %s: %w", layerLabel(opts.LayerName), err)
	}
	return a.written, nil
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
	written int64
	// seen holds every cleaned name of this layer, to refuse duplicates.
	seen map[string]bool
	// touched holds the names this layer created, and their parents: an
	// opaque marker must not remove them.
	touched map[string]bool
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

// cleanName maps a tar name to a clean root-relative name ("." is the
// root). A leading "/" is the root; names climbing above it are refused.
func cleanName(raw string) (string, error) {
	if raw == "" {
		return "", fmt.Errorf("%w: empty name", errUnsafe)
	}
	if strings.ContainsRune(raw, 0) {
		return "", fmt.Errorf("%w: name contains NUL", errUnsafe)
	}
	name := path.Clean(strings.TrimLeft(raw, "/"))
	if name == ".." || strings.HasPrefix(name, "../") {
		return "", fmt.Errorf("%w: name leaves the root", errUnsafe)
	}
	return name, nil
}

// markTouched records name and its parents as belonging to this layer.
func (a *applier) markTouched(name string) {
	for name != "." && !a.touched[name] {
		a.touched[name] = true
		name = path.Dir(name)
	}
}

// entry applies one tar entry.
func (a *applier) entry(hdr *tar.Header, body io.Reader) error {
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return nil
	}
	name, err := cleanName(hdr.Name)
	if err != nil {
		return err
	}
	if a.seen[name] {
		return fmt.Errorf("%w: duplicate entry %q in the layer", errUnsafe, name)
	}
	a.seen[name] = true
	if name == "." {
		if hdr.Typeflag != tar.TypeDir {
			return fmt.Errorf("%w: an entry of type %q would replace the root directory", errUnsafe, hdr.Typeflag)
		}
		return a.rootDir(hdr)
	}
	kind, concerns, err := ClassifyName(name)
	if err != nil {
		return err
	}
	switch kind {
	case NameAufsMeta:
		return nil
	case NameOpaque:
		return a.opaque(concerns)
	case NameWhiteout:
		return a.whiteoutName(path.Dir(concerns), path.Base(concerns))
	}
	return a.create(hdr, body, name, path.Dir(name), path.Base(name))
}

// create makes the object described by hdr at name, replacing whatever
// lower layers left there unless both are directories.
func (a *applier) create(hdr *tar.Header, body io.Reader, name, parent, base string) error {
	kind, err := kindOf(hdr.Typeflag)
	if err != nil {
		return err
	}
	if isSparse(hdr) {
		// A few bytes of sparse map could expand to terabytes of zeros.
		return fmt.Errorf("%w: sparse files are not supported", errUnsafe)
	}
	var link string
	if kind == tar.TypeLink {
		if link, err = cleanName(hdr.Linkname); err != nil {
			return fmt.Errorf("hardlink target %q: %w", hdr.Linkname, err)
		}
		if link == "." {
			return fmt.Errorf("%w: hardlink to the root", errUnsafe)
		}
	}
	pfd, err := mkdirAllInRoot(a.rootfd, parent)
	if err != nil {
		return fmt.Errorf("opening parent directory: %w", err)
	}
	defer unix.Close(pfd)
	a.markTouched(name)

	overWhiteout := a.whiteout[name]
	delete(a.whiteout, name)
	st, err := lstatAt(pfd, base)
	switch {
	case errors.Is(err, unix.ENOENT):
	case err != nil:
		return fmt.Errorf("inspecting existing file: %w", err)
	case kind == tar.TypeDir && isDir(&st):
	default:
		if err := removeAllAt(pfd, base); err != nil {
			return err
		}
	}

	at := attrsOf(hdr)
	switch kind {
	case tar.TypeReg:
		return a.regular(pfd, base, at, body)
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

// kindOf maps a tar type flag to the object Apply creates.
func kindOf(flag byte) (byte, error) {
	switch flag {
	case tar.TypeReg, tar.TypeRegA:
		return tar.TypeReg, nil
	case tar.TypeDir, tar.TypeSymlink, tar.TypeLink, tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		return flag, nil
	default:
		return 0, fmt.Errorf("unsupported tar entry type %q", flag)
	}
}

// isSparse reports whether hdr describes a GNU sparse file, in the old GNU
// format or in one of the PAX encodings.
func isSparse(hdr *tar.Header) bool {
	if hdr.Typeflag == tar.TypeGNUSparse {
		return true
	}
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
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
