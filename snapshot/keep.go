package snapshot

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/trace"
	"time"

	"github.com/minibuild/minibuild/tarutil"
	digest "github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"
)

// LayerKeeper is a Mount whose change can become the unpacked layer
// written from it, so the next step's Prepare finds the layer unpacked
// instead of unpacking the blob again.
type LayerKeeper interface {
	// KeepAsLayer turns the snapshot's change into the unpacked layer
	// diffID, the layer just written from entries (the result of Diff)
	// with the mtimes of t. It reports false, and changes nothing a later
	// step sees, when the layer is already unpacked or the change cannot
	// be made exactly what unpacking the layer's blob gives. After it,
	// only Release may be called.
	//
	// When it reports true, it has pointed the Open function of each
	// regular file of entries at that file of the kept layer, which no
	// build changes: the layer can be written from entries again after
	// Release, for as long as it stays unpacked (a file found changed in
	// type or replaced fails to open).
	KeepAsLayer(ctx context.Context, diffID digest.Digest, entries []tarutil.Entry, t MTimes) (bool, error)
}

// MTimes is how a layer's tar headers got their mtimes: the Epoch and
// Clamp of tarutil.LayerOptions.
type MTimes struct {
	// Epoch is SOURCE_DATE_EPOCH; the zero time stands for the Unix epoch.
	Epoch time.Time
	// Clamp false sets every mtime to Epoch; Clamp true lowers newer
	// mtimes to Epoch and keeps older ones (in whole seconds).
	Clamp bool
}

// stamp returns the mtime a header gets for an object whose mtime is t;
// it follows tarutil.WriteLayer.
func (m MTimes) stamp(t time.Time) time.Time {
	unixZero := time.Unix(0, 0)
	epoch := m.Epoch
	if epoch.IsZero() || epoch.Before(unixZero) {
		epoch = unixZero
	}
	epoch = epoch.Truncate(time.Second)
	switch {
	case !m.Clamp || t.After(epoch):
		return epoch
	case t.Before(unixZero):
		return unixZero
	default:
		return t.Truncate(time.Second)
	}
}

var _ LayerKeeper = (*overlayMount)(nil)

// KeepAsLayer unmounts the overlay, makes the upper directory exactly what
// Unpacker.Unpack would make of the layer, editing it in place (see
// normalizeUpper), and renames it into the Unpacker under diffID. Where
// the upper directory cannot be made the layer's unpacking, it logs why to
// the runtime/trace of ctx (category "snapshot") and reports false.
func (m *overlayMount) KeepAsLayer(ctx context.Context, diffID digest.Digest, entries []tarutil.Entry, t MTimes) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.released || m.kept {
		return false, errors.New("keeping overlay snapshot as a layer: already released")
	}
	if err := diffID.Validate(); err != nil {
		return false, fmt.Errorf("keeping overlay snapshot as a layer: invalid diffID %q: %w", diffID, err)
	}
	if isDirectory(m.u.dir(diffID)) {
		return false, nil
	}
	// From here on the upper directory is no longer the snapshot's.
	m.kept = true
	if err := unmountUnder(m.merged); err != nil {
		return false, fmt.Errorf("keeping overlay snapshot as a layer: %w", err)
	}
	defer trace.StartRegion(ctx, "snapshot.KeepAsLayer").End()
	discard := func(dir string) error { return renameToTrash(m.stateDir, dir) }
	why, err := normalizeUpper(ctx, m.upper, entries, t, m.u.opaqueXattr(), discard)
	if err != nil {
		return false, fmt.Errorf("keeping overlay snapshot as layer %s: %w", diffID, err)
	}
	if why != "" {
		// Release discards the upper directory; the next step unpacks
		// the layer's blob.
		trace.Logf(ctx, "snapshot", "upper directory not kept as layer %s: %s", diffID, why)
		return false, nil
	}
	kept, err := m.u.adopt(ctx, diffID, m.upper)
	if kept {
		reopenIn(m.u.dir(diffID), entries)
	}
	return kept, err
}

// reopenIn points the Open function of each regular file of entries at
// the file of that name under dir.
func reopenIn(dir string, entries []tarutil.Entry) {
	for i := range entries {
		e := &entries[i]
		if e.Type != tar.TypeReg || e.Open == nil {
			continue
		}
		p := dir + "/" + e.Name
		e.Open = func() (io.ReadCloser, error) { return openRegular(p) }
	}
}

// adopt renames the directory dir, which holds the layer diffID exactly as
// Unpack would unpack it, into place; it reports false if the layer is
// unpacked already.
func (u *Unpacker) adopt(ctx context.Context, diffID digest.Digest, dir string) (bool, error) {
	for _, d := range []string{u.root, u.root + "/" + diffID.Algorithm().String(), u.root + "/l"} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return false, fmt.Errorf("keeping layer %s unpacked: %w", diffID, err)
		}
	}
	target := u.dir(diffID)
	lock, err := lockFile(ctx, target+".lock")
	if err != nil {
		return false, fmt.Errorf("keeping layer %s unpacked: %w", diffID, err)
	}
	defer lock.Unlock()
	if isDirectory(target) {
		return false, nil
	}
	err = unix.Renameat2(unix.AT_FDCWD, dir, unix.AT_FDCWD, target, unix.RENAME_NOREPLACE)
	if errors.Is(err, unix.EXDEV) {
		return false, nil // another file system: Unpack will unpack it
	}
	if err != nil {
		return false, fmt.Errorf("keeping layer %s unpacked: %w", diffID, err)
	}
	short := u.root + "/l/" + diffID.Encoded()[:min(shortLen, len(diffID.Encoded()))]
	if err := os.Symlink(u.linkTarget(diffID), short); err != nil && !errors.Is(err, os.ErrExist) {
		return true, fmt.Errorf("keeping layer %s unpacked: %w", diffID, err)
	}
	return true, nil
}

// entryType maps a tar type flag to the file type it creates.
func entryType(typ byte) uint32 {
	switch typ {
	case tar.TypeReg:
		return unix.S_IFREG
	case tar.TypeDir:
		return unix.S_IFDIR
	case tar.TypeSymlink:
		return unix.S_IFLNK
	case tar.TypeChar:
		return unix.S_IFCHR
	case tar.TypeBlock:
		return unix.S_IFBLK
	case tar.TypeFifo:
		return unix.S_IFIFO
	}
	return 0
}
