package maintenance

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/minibuild/minibuild/executor"
	"github.com/minibuild/minibuild/internal/atomicfile"
	"github.com/minibuild/minibuild/internal/unixfs"
	"github.com/minibuild/minibuild/mountcache"
	"github.com/minibuild/minibuild/rootdir"
	"github.com/minibuild/minibuild/snapshot"
	"github.com/minibuild/minibuild/store"
)

// staleTempAge is how old a temporary file written without the store lock
// must be before cleanup takes it for a dead process's.
const staleTempAge = time.Minute

// CleanStale removes what builds that died (SIGKILL, power loss) left
// behind in the root of s, without waiting for anything and without
// disturbing a build that is running. If no other process holds the store
// lock (TryLock exclusive), it removes everything under ROOT/tmp, the
// temporary files of atomic writes (index.json, cache entries, stamps)
// and the executor's run directories (unmounting the tmpfs of their file
// mounts, see executor.RemoveRunDir); whatever the lock, it removes
// half-unpacked layers and snapshots (unmounting them) and half-made or
// half-removed cache mounts whose builds are gone, each guarded by its
// own lock. It reports whether the lock-guarded
// part ran. A process runs it once, before it takes the store lock; what
// it cannot remove, Verify reports.
func CleanStale(s *store.Store) (bool, error) {
	root := rootdir.At(s.Root())
	var errs []error
	unlock, alone, err := s.TryLock(true)
	errs = append(errs, err)
	if alone {
		paths, err := leftovers(root)
		errs = append(errs, err)
		for _, p := range paths {
			if filepath.Dir(p) == root.Run() {
				// A run directory may hold the mounted tmpfs of a run's file mounts (secrets).
				errs = append(errs, executor.RemoveRunDir(p))
				continue
			}
			if err := os.RemoveAll(p); err != nil {
				errs = append(errs, fmt.Errorf("removing %s: %w", p, err))
			}
		}
		unlock()
	}
	for _, u := range snapshot.Unpackers(root.Layers()) {
		errs = append(errs, u.Cleanup())
	}
	errs = append(errs, snapshot.Cleanup(root.Snapshots()))
	_, err = mountcache.Open(root).Cleanup()
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return alone, fmt.Errorf("cleaning up after dead builds in %s: %w", root.Root(), err)
	}
	return alone, nil
}

// leftovers lists the partial writes of dead processes: every entry of
// ROOT/tmp, the temporary files of atomic replacements in ROOT,
// ROOT/cache/entries and ROOT/verified, and the executor's run
// directories. Only a caller holding the exclusive store lock knows that
// their writers are dead.
func leftovers(root rootdir.Layout) ([]string, error) {
	var out []string
	var errs []error
	add := func(dir string, keep func(string) bool) {
		names, err := unixfs.ReadDirNames(dir)
		errs = append(errs, err)
		for _, n := range names {
			if keep(n) {
				out = append(out, filepath.Join(dir, n))
			}
		}
	}
	add(root.Tmp(), func(string) bool { return true })
	// Opening a store writes oci-layout without the store lock: only old
	// temporary files in ROOT are surely dead.
	add(root.Root(), func(n string) bool {
		if !atomicfile.IsTemp(n) {
			return false
		}
		fi, err := os.Lstat(filepath.Join(root.Root(), n))
		return err == nil && time.Since(fi.ModTime()) > staleTempAge
	})
	add(root.CacheEntries(), atomicfile.IsTemp)
	add(root.Verified(), atomicfile.IsTemp)
	add(root.Run(), func(n string) bool { return strings.HasPrefix(n, "run-") })
	sort.Strings(out)
	return out, errors.Join(errs...)
}
