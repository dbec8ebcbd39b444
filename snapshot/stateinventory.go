package snapshot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/minibuild/minibuild/internal/digestcheck"
	"github.com/minibuild/minibuild/internal/flock"
	"github.com/minibuild/minibuild/internal/unixfs"
	digest "github.com/opencontainers/go-digest"
)

// NativeBases lists the chain IDs of the bases the native snapshotter keeps
// under stateDir, sorted.
func NativeBases(stateDir string) ([]digest.Digest, error) {
	names, err := unixfs.ReadDirNames(stateDir + "/native")
	if err != nil {
		return nil, err
	}
	var out []digest.Digest
	for _, name := range names {
		d := digest.NewDigestFromEncoded(digest.SHA256, name)
		if d.Validate() == nil && isDirectory(stateDir+"/native/"+name) {
			out = append(out, d)
		}
	}
	slices.Sort(out)
	return out, nil
}

// NativeBaseDir is the directory of the native base of chainID under the
// state directory stateDir, whether or not it exists, for reports about it.
func NativeBaseDir(stateDir string, chainID digest.Digest) string {
	return stateDir + "/native/" + chainID.Encoded()
}

// RemoveNativeBase removes the native base of chainID under stateDir and
// its lock file, after waiting for its lock (a base being built). The
// caller makes sure no build copies it, by holding the store's exclusive
// lock. Removing a base that does not exist does nothing.
func RemoveNativeBase(ctx context.Context, stateDir string, chainID digest.Digest) error {
	if digestcheck.Validate(chainID) != nil {
		return fmt.Errorf("removing native base: invalid chain ID %q", chainID)
	}
	dir := NativeBaseDir(stateDir, chainID)
	if !isDirectory(stateDir + "/native") {
		return nil
	}
	lock, err := lockFile(ctx, dir+".lock")
	if err != nil {
		return fmt.Errorf("removing native base %s: %w", chainID, err)
	}
	defer lock.Unlock()
	if err := removeTree(dir); err != nil {
		return fmt.Errorf("removing native base %s: %w", chainID, err)
	}
	if err := os.Remove(dir + ".lock"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing native base %s: %w", chainID, err)
	}
	return nil
}

// CheckState lists the Issues under a snapshotter state directory without
// changing anything: snapshots whose build died (with whatever is still
// mounted in them), native bases half built by a dead build, and names
// that are no part of the layout. Live builds' snapshots are left out.
// Cleanup removes the first two kinds.
func CheckState(stateDir string) ([]Issue, error) {
	top, err := unixfs.ReadDirNames(stateDir)
	if err != nil {
		return nil, err
	}
	var issues []Issue
	for _, name := range top {
		p := stateDir + "/" + name
		var more []Issue
		switch name {
		case "mounts":
			more, err = checkMounts(p)
		case "native":
			more, err = checkNative(p)
		case "empty", "trash":
			// The trash holds only released snapshots; EmptyTrash and
			// Cleanup delete them.
		default:
			more = []Issue{{Path: p, Problem: "not part of the snapshot layout"}}
		}
		if err != nil {
			return nil, err
		}
		issues = append(issues, more...)
	}
	return issues, nil
}

// checkMounts reports the snapshot directories no live build holds, as
// cleanSnapshot would remove them.
func checkMounts(dir string) ([]Issue, error) {
	names, err := unixfs.ReadDirNames(dir)
	if err != nil {
		return nil, err
	}
	var issues []Issue
	for _, name := range names {
		p := dir + "/" + name
		free, err := flock.Free(p + "/" + lockName)
		if err != nil {
			return nil, err
		}
		if !free {
			continue
		}
		if _, err := os.Lstat(p + "/" + lockName); errors.Is(err, os.ErrNotExist) {
			// Being created, unless it is old.
			fi, err := os.Lstat(p)
			if err != nil || (fi.IsDir() && time.Since(fi.ModTime()) < staleAge) {
				continue
			}
		}
		problem := "snapshot left by a dead build"
		if mps, err := mountPoints(p); err == nil && len(mps) > 0 {
			problem += fmt.Sprintf(" (%d mounts still under it)", len(mps))
		}
		issues = append(issues, Issue{Path: p, Problem: problem})
	}
	return issues, nil
}

// checkNative reports half-built bases of dead builds and stray names in
// the native snapshotter's directory.
func checkNative(dir string) ([]Issue, error) {
	names, err := unixfs.ReadDirNames(dir)
	if err != nil {
		return nil, err
	}
	var issues []Issue
	for _, name := range names {
		p := dir + "/" + name
		fi, err := os.Lstat(p)
		if err != nil {
			return nil, err
		}
		switch {
		case name == "tmp" && fi.IsDir():
			more, err := checkNativeTemp(dir)
			if err != nil {
				return nil, err
			}
			issues = append(issues, more...)
		case name == "empty" && fi.IsDir():
		case digestEntry(name, fi, digest.SHA256):
		default:
			issues = append(issues, Issue{Path: p, Problem: "neither a native base nor its lock"})
		}
	}
	return issues, nil
}

// checkNativeTemp reports the temporary directories of dead base builds.
func checkNativeTemp(nativeDir string) ([]Issue, error) {
	names, err := unixfs.ReadDirNames(nativeDir + "/tmp")
	if err != nil {
		return nil, err
	}
	var issues []Issue
	for _, name := range names {
		p := nativeDir + "/tmp/" + name
		alg, rest, ok := strings.Cut(name, "-")
		hexPart, _, ok2 := strings.Cut(rest, "-")
		if !ok || !ok2 || digest.NewDigestFromEncoded(digest.Algorithm(alg), hexPart).Validate() != nil {
			issues = append(issues, Issue{Path: p, Problem: "not a native base being built"})
			continue
		}
		free, err := flock.Free(nativeDir + "/" + hexPart + ".lock")
		if err != nil {
			return nil, err
		}
		if free {
			issues = append(issues, Issue{Path: p, Problem: "half-built native base left by a dead build"})
		}
	}
	return issues, nil
}
