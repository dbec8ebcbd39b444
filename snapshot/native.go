package snapshot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/minibuild/minibuild/internal/flock"
	"github.com/minibuild/minibuild/tarutil"
	"golang.org/x/sys/unix"
)

// nativeSnapshotter copies a cached base directory per chain, for where
// overlayfs cannot be mounted.
type nativeSnapshotter struct {
	stateDir string
}

var _ Snapshotter = (*nativeSnapshotter)(nil)

// NewNative returns the copying snapshotter. Each chain is applied once
// into a base directory cached under stateDir/native/CHAINID (built from
// the longest cached prefix of the chain), and every Prepare copies the
// base into a fresh rootfs.
//
// Diff walks base and rootfs side by side. It does not read every file:
// the copy records each object's inode and ctime, then waits until the
// clock has moved past the newest of them, so any later change to an
// object's metadata or content gives it a different ctime; only objects
// whose ctime changed are compared, metadata first and content when the
// metadata is equal.
func NewNative(stateDir string) Snapshotter {
	return &nativeSnapshotter{stateDir: stateDir}
}

// Prepare builds or reuses the chain's base and copies it into a fresh
// rootfs.
func (s *nativeSnapshotter) Prepare(ctx context.Context, chain []Layer) (Mount, error) {
	stateDir, err := resolveDir(s.stateDir)
	if err != nil {
		return nil, fmt.Errorf("preparing native snapshot: %w", err)
	}
	base, err := s.base(ctx, stateDir, chain)
	if err != nil {
		return nil, fmt.Errorf("preparing native snapshot: %w", err)
	}
	dir, lock, err := newSnapshotDir(stateDir)
	if err != nil {
		return nil, fmt.Errorf("preparing native snapshot: %w", err)
	}
	m := &nativeMount{stateDir: stateDir, dir: dir, lock: lock, base: base, rootfs: dir + "/rootfs", stamps: make(map[string]stamp)}
	maxCtime, err := copyTree(ctx, base, m.rootfs, false, m.stamps)
	if err == nil {
		err = waitPast(ctx, dir+"/clock", maxCtime)
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("preparing native snapshot: %w", err), m.Release())
	}
	return m, nil
}

// base returns the directory holding the chain applied, building it if
// needed.
func (s *nativeSnapshotter) base(ctx context.Context, stateDir string, chain []Layer) (string, error) {
	id, err := chainID(chain)
	if err != nil {
		return "", err
	}
	root := stateDir + "/native"
	if err := os.MkdirAll(root+"/tmp", 0o700); err != nil {
		return "", err
	}
	if len(chain) == 0 {
		empty := root + "/empty"
		if err := os.Mkdir(empty, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return "", err
		}
		return empty, nil
	}
	dir := root + "/" + id.Encoded()
	if isDirectory(dir) {
		return dir, nil
	}
	lock, err := lockFile(ctx, dir+".lock")
	if err != nil {
		return "", err
	}
	defer lock.Unlock()
	if isDirectory(dir) {
		return dir, nil
	}
	prefix := tempPrefix(id)
	if err := removeMatching(root+"/tmp", prefix); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(root+"/tmp", prefix)
	if err != nil {
		return "", err
	}
	if err := buildBase(ctx, root, tmp, chain); err != nil {
		return "", errors.Join(fmt.Errorf("building the base of chain %s: %w", id, err), removeTree(tmp))
	}
	if err := os.Rename(tmp, dir); err != nil {
		return "", errors.Join(err, removeTree(tmp))
	}
	return dir, nil
}

// buildBase fills the empty directory tmp with the chain applied, starting
// from a copy of the longest cached base of a prefix of the chain.
func buildBase(ctx context.Context, root, tmp string, chain []Layer) error {
	start := 0
	for k := len(chain) - 1; k > 0; k-- {
		id, err := chainID(chain[:k])
		if err != nil {
			return err
		}
		if prefix := root + "/" + id.Encoded(); isDirectory(prefix) {
			if _, err := copyTree(ctx, prefix, tmp, true, nil); err != nil {
				return err
			}
			start = k
			break
		}
	}
	if start == 0 {
		if err := os.Chmod(tmp, 0o755); err != nil {
			return err
		}
	}
	for _, l := range chain[start:] {
		if err := applyLayer(ctx, tmp, l, tarutil.WhiteoutApply); err != nil {
			return err
		}
	}
	return nil
}

// waitPast waits until a change made now gets a ctime newer than t, using
// the file probe, so that no later change can leave a ctime the copy
// recorded.
func waitPast(ctx context.Context, probe string, t unix.Timespec) error {
	f, err := os.OpenFile(probe, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	deadline := time.Now().Add(2 * time.Second)
	for mode := uint32(0o600); ; mode ^= 0o200 {
		if err := unix.Fchmod(int(f.Fd()), mode); err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Fstat(int(f.Fd()), &st); err != nil {
			return err
		}
		if st.Ctim.Sec > t.Sec || st.Ctim.Sec == t.Sec && st.Ctim.Nsec > t.Nsec || time.Now().After(deadline) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}

// nativeMount is a prepared native snapshot.
type nativeMount struct {
	mu       sync.Mutex
	stateDir string
	dir      string
	lock     *flock.Lock
	base     string
	rootfs   string
	stamps   map[string]stamp
	released bool
}

var _ Mount = (*nativeMount)(nil)

// Root returns the rootfs copy.
func (m *nativeMount) Root() string { return m.rootfs }

// Diff compares the rootfs with its base.
func (m *nativeMount) Diff(ctx context.Context) ([]tarutil.Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.released {
		return nil, errors.New("diffing native snapshot: already released")
	}
	lower, cur, err := nativeRoots(m.base, m.rootfs)
	if err != nil {
		return nil, fmt.Errorf("diffing native snapshot: %w", err)
	}
	entries, err := diff(ctx, nativeTrees{stamps: m.stamps}, lower, cur)
	if err != nil {
		return nil, fmt.Errorf("diffing native snapshot: %w", err)
	}
	return entries, nil
}

// Release moves the rootfs copy into the trash (see EmptyTrash); the
// cached base stays.
func (m *nativeMount) Release() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.released {
		return nil
	}
	if err := moveToTrash(m.stateDir, m.dir); err != nil {
		return fmt.Errorf("releasing native snapshot: %w", err)
	}
	m.released = true
	return m.lock.Unlock()
}
