package snapshot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/minibuild/minibuild/internal/flock"
	"github.com/minibuild/minibuild/tarutil"
	"golang.org/x/sys/unix"
)

// overlaySnapshotter mounts overlayfs over the unpacked layers.
type overlaySnapshotter struct {
	stateDir string
	u        *Unpacker
	// method is how lower directories are passed (for tests).
	method mountMethod
	// noVolatile says the kernel refused the volatile option.
	noVolatile atomic.Bool
}

var _ Snapshotter = (*overlaySnapshotter)(nil)

// NewOverlay returns the overlayfs snapshotter: the layers are unpacked
// once by u and mounted read-only below a fresh upper directory under
// stateDir (e.g. STORE/snapshots). It needs root (of the initial user
// namespace or, rootless, of another: then the overlay is mounted with
// userxattr, as u's layers are unpacked for) and a kernel and file system
// where CheckOverlay finds no fault.
func NewOverlay(stateDir string, u *Unpacker) Snapshotter {
	return &overlaySnapshotter{stateDir: stateDir, u: u}
}

// Prepare unpacks the chain's layers and mounts them, top layer first,
// below a fresh upper directory.
func (o *overlaySnapshotter) Prepare(ctx context.Context, chain []Layer) (Mount, error) {
	if _, err := chainID(chain); err != nil {
		return nil, fmt.Errorf("preparing overlay snapshot: %w", err)
	}
	stateDir, err := resolveDir(o.stateDir)
	if err != nil {
		return nil, fmt.Errorf("preparing overlay snapshot: %w", err)
	}
	// Both lists are top layer first.
	layers := make([]string, len(chain))
	lowers := make([]string, len(chain))
	for i, l := range chain {
		dir, err := o.u.Unpack(ctx, l)
		if err != nil {
			return nil, fmt.Errorf("preparing overlay snapshot: %w", err)
		}
		layers[len(chain)-1-i] = dir
		lowers[len(chain)-1-i] = o.u.lowerPath(l.DiffID)
	}
	if len(chain) == 0 {
		// overlayfs needs a lower directory.
		empty := stateDir + "/empty"
		if err := os.Mkdir(empty, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("preparing overlay snapshot: %w", err)
		}
		layers, lowers = []string{empty}, []string{empty}
	}
	dir, lock, err := newSnapshotDir(stateDir)
	if err != nil {
		return nil, fmt.Errorf("preparing overlay snapshot: %w", err)
	}
	m := &overlayMount{stateDir: stateDir, dir: dir, lock: lock, u: o.u, layers: layers, upper: dir + "/upper", merged: dir + "/merged"}
	spec := &overlaySpec{lowers: lowers, upper: m.upper, work: dir + "/work", target: m.merged, userxattr: o.u.userxattr(), volatile: !o.noVolatile.Load()}
	if err := m.mount(spec, o.method, &o.noVolatile); err != nil {
		return nil, errors.Join(fmt.Errorf("preparing overlay snapshot: %w", err), m.Release())
	}
	return m, nil
}

// overlayMount is a prepared overlay snapshot.
type overlayMount struct {
	mu       sync.Mutex
	stateDir string
	dir      string
	lock     *flock.Lock
	u        *Unpacker
	layers   []string // unpacked layer directories, top first
	upper    string
	merged   string
	released bool
	// kept says the upper directory became an unpacked layer (KeepAsLayer).
	kept bool
}

var _ Mount = (*overlayMount)(nil)

// mount creates the upper, work and mount point directories and mounts
// the overlay; the upper root takes the top layer's root mode and owner.
// A kernel before 5.10 refuses a volatile mount: where the mount works
// without the option, mount sets noVolatile.
func (m *overlayMount) mount(spec *overlaySpec, method mountMethod, noVolatile *atomic.Bool) error {
	var top unix.Stat_t
	if err := unix.Stat(m.layers[0], &top); err != nil {
		return fmt.Errorf("inspecting %q: %w", m.layers[0], err)
	}
	for _, d := range []string{spec.upper, spec.work, spec.target} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return err
		}
	}
	if err := os.Lchown(spec.upper, int(top.Uid), int(top.Gid)); err != nil {
		return err
	}
	if err := unix.Chmod(spec.upper, top.Mode&0o7777); err != nil {
		return err
	}
	err := mountOverlay(spec, method)
	if !spec.volatile || !errors.Is(err, unix.EINVAL) {
		return err
	}
	plain := *spec
	plain.volatile = false
	if err := mountOverlay(&plain, method); err != nil {
		return err
	}
	noVolatile.Store(true)
	return nil
}

// Root returns the merged directory.
func (m *overlayMount) Root() string { return m.merged }

// Diff compares the upper directory with the merged lower layers.
func (m *overlayMount) Diff(ctx context.Context) ([]tarutil.Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.released || m.kept {
		return nil, errors.New("diffing overlay snapshot: already released")
	}
	lower, cur, err := overlayRoots(m.layers, m.upper)
	if err != nil {
		return nil, fmt.Errorf("diffing overlay snapshot: %w", err)
	}
	entries, err := diff(ctx, overlayTrees{opaque: m.u.opaqueXattr()}, lower, cur)
	if err != nil {
		return nil, fmt.Errorf("diffing overlay snapshot: %w", err)
	}
	return entries, nil
}

// Release unmounts the overlay and moves the snapshot's directories into
// the trash (see EmptyTrash).
func (m *overlayMount) Release() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.released {
		return nil
	}
	if err := moveToTrash(m.stateDir, m.dir); err != nil {
		return fmt.Errorf("releasing overlay snapshot: %w", err)
	}
	m.released = true
	return m.lock.Unlock()
}

// resolveDir creates dir if needed and returns its absolute path with
// symlinks resolved, as /proc/self/mountinfo names it.
func resolveDir(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(abs)
}
