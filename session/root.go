package session

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/minibuild/minibuild/buildcontext"
	"github.com/minibuild/minibuild/cache"
	"github.com/minibuild/minibuild/executor"
	"github.com/minibuild/minibuild/results"
	"github.com/minibuild/minibuild/rootdir"
	"github.com/minibuild/minibuild/snapshot"
	"github.com/minibuild/minibuild/store"
)

// Root is a store root opened for builds and containers: the store, its
// cache, and the layout that says where every other part keeps its files.
type Root struct {
	Layout rootdir.Layout
	Store  *store.Store
	Cache  *cache.Cache
}

// OpenRoot opens the cache of the root the store s is in.
func OpenRoot(s *store.Store) (Root, error) {
	r := Root{Layout: rootdir.At(s.Root()), Store: s}
	var err error
	r.Cache, err = cache.Open(r.Layout)
	return r, err
}

// SnapshotterKind names how a step's rootfs is made.
type SnapshotterKind string

// Snapshotter kinds.
const (
	// SnapshotAuto is overlay when overlayfs can be mounted, else native.
	SnapshotAuto    SnapshotterKind = "auto"
	SnapshotOverlay SnapshotterKind = "overlay" // overlayfs over the unpacked layers
	SnapshotNative  SnapshotterKind = "native"  // copies of the layers' trees
)

// ParseSnapshotterKind checks a snapshotter's name; "" is SnapshotAuto.
func ParseSnapshotterKind(s string) (SnapshotterKind, error) {
	switch k := SnapshotterKind(s); k {
	case "":
		return SnapshotAuto, nil
	case SnapshotAuto, SnapshotOverlay, SnapshotNative:
		return k, nil
	}
	return "", fmt.Errorf("invalid --snapshotter %q: want overlay, native or auto", s)
}

// Snapshotter returns a snapshotter of kind whose state is in the root.
// Where SnapshotAuto falls back to native snapshots, note (unless nil) is
// told once, with the reason.
func (r Root) Snapshotter(kind SnapshotterKind, note func(string)) (snapshot.Snapshotter, error) {
	dir := r.Layout.Snapshots()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	switch kind {
	case SnapshotOverlay:
		if err := snapshot.CheckOverlay(dir); err != nil {
			return nil, fmt.Errorf("--snapshotter overlay: overlayfs cannot be mounted here (%v); try --snapshotter native", err)
		}
		return snapshot.NewOverlay(dir, snapshot.NewUnpacker(r.Layout.Layers())), nil
	case SnapshotNative:
		return snapshot.NewNative(dir), nil
	}
	var fallback func(error)
	if note != nil {
		fallback = func(err error) {
			note(fmt.Sprintf("note: overlayfs cannot be mounted here (%v): steps run on copies of their layers (the native snapshotter)", err))
		}
	}
	return snapshot.NewAuto(dir, snapshot.NewUnpacker(r.Layout.Layers()), fallback), nil
}

// EmptyTrash deletes the rootfs directories builds released (deleting
// thousands of files mid-build slows the next file creations on ext4, so
// they wait in a trash until the build is done).
func (r Root) EmptyTrash() error {
	return snapshot.EmptyTrash(r.Layout.Snapshots())
}

// Executor returns the executor of RUN steps and containers: the
// built-in one, or the OCI runtime (runc, crun or a path) runtime names.
func (r Root) Executor(runtime string) executor.Executor {
	if runtime != "" {
		return executor.NewRuntime(runtime, r.Layout.Run())
	}
	return executor.NewBuiltin(executor.BuiltinOptions{StateDir: r.Layout.Run()})
}

// Context opens the build context dir with the Dockerfile's own ignore
// file (DOCKERFILE.dockerignore) when there is one. With statCache, the
// digests of its files are kept in the root, so that the next build of
// the same directory reads only the files that changed.
func (r Root) Context(dir, dockerfile string, statCache bool) (*buildcontext.Context, error) {
	var opts buildcontext.Options
	if statCache {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256([]byte(abs))
		opts.StatCachePath = filepath.Join(r.Layout.StatCache(), hex.EncodeToString(sum[:8]))
		if err := os.MkdirAll(filepath.Dir(opts.StatCachePath), 0o755); err != nil {
			return nil, err
		}
	}
	if ign := dockerfile + ".dockerignore"; isFile(ign) {
		opts.DockerignorePath = ign
	}
	return buildcontext.Open(dir, opts)
}

// Results is where builds keep their step results for later reports.
func (r Root) Results() results.Dir {
	return results.Dir(r.Layout.Reports())
}

func isFile(p string) bool {
	info, err := os.Stat(p)
	return err == nil && info.Mode().IsRegular()
}
