package snapshot

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/minibuild/minibuild/internal/flock"
	"github.com/minibuild/minibuild/internal/unixfs"
	digest "github.com/opencontainers/go-digest"
)

// Issue is something under an Unpacker's root or a snapshotter's state
// directory that no live build owns and that should not be there: what a
// dead build left half made, or a name that is no part of the layout.
// Removing Path fixes it.
type Issue struct {
	// Path is the file or directory concerned.
	Path string
	// Problem says what is wrong with it.
	Problem string
}

// String returns "PATH: PROBLEM".
func (i Issue) String() string { return i.Path + ": " + i.Problem }

// Fix removes i.Path, unmounting whatever is mounted below it first and
// never crossing into another file system. Call it only while no build
// runs (under the store's exclusive lock): an Issue is a snapshot of a
// moment.
func (i Issue) Fix() error { return removeTree(i.Path) }

// Unpacked lists the diffIDs of the layers kept unpacked, sorted.
func (u *Unpacker) Unpacked() ([]digest.Digest, error) {
	algs, err := unixfs.ReadDirNames(u.root)
	if err != nil {
		return nil, err
	}
	var out []digest.Digest
	for _, alg := range algs {
		if !digest.Algorithm(alg).Available() {
			continue
		}
		names, err := unixfs.ReadDirNames(u.root + "/" + alg)
		if err != nil {
			return nil, err
		}
		for _, name := range names {
			d := digest.NewDigestFromEncoded(digest.Algorithm(alg), name)
			if d.Validate() == nil && isDirectory(u.root+"/"+alg+"/"+name) {
				out = append(out, d)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// Dir is the directory where layer diffID is kept unpacked, whether or
// not it is, for reports about it.
func (u *Unpacker) Dir(diffID digest.Digest) string { return u.dir(diffID) }

// Remove removes the unpacked layer diffID, its short link and its lock
// file, after waiting for its lock (an Unpack of it in progress). The
// caller makes sure no snapshot has it mounted, by holding the store's
// exclusive lock. Removing a layer that is not unpacked does nothing.
func (u *Unpacker) Remove(ctx context.Context, diffID digest.Digest) error {
	if err := diffID.Validate(); err != nil {
		return fmt.Errorf("removing unpacked layer: invalid diffID %q: %w", diffID, err)
	}
	dir := u.dir(diffID)
	if _, err := os.Lstat(filepath.Dir(dir)); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	lock, err := lockFile(ctx, dir+".lock")
	if err != nil {
		return fmt.Errorf("removing unpacked layer %s: %w", diffID, err)
	}
	defer lock.Unlock()
	short := u.root + "/l/" + diffID.Encoded()[:min(shortLen, len(diffID.Encoded()))]
	if t, err := os.Readlink(short); err == nil && t == u.linkTarget(diffID) {
		if err := os.Remove(short); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("removing unpacked layer %s: %w", diffID, err)
		}
	}
	if err := removeTree(dir); err != nil {
		return fmt.Errorf("removing unpacked layer %s: %w", diffID, err)
	}
	if err := os.Remove(dir + ".lock"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing unpacked layer %s: %w", diffID, err)
	}
	return nil
}

// Check lists the Issues under the Unpacker's root without changing
// anything: temporary directories of unpackings whose process died, short
// links to no unpacked layer, and names that are no part of the layout.
// What live builds are unpacking is left out.
func (u *Unpacker) Check() ([]Issue, error) {
	top, err := unixfs.ReadDirNames(u.root)
	if err != nil {
		return nil, err
	}
	var issues []Issue
	for _, name := range top {
		p := u.root + "/" + name
		var more []Issue
		switch {
		case name == "tmp":
			more, err = u.checkTemp(p)
		case name == "l":
			more, err = u.checkLinks(p)
		case name == userxattrDir && !u.userxattr() && isDirectory(p):
			// The tree of the userxattr layers, checked by its own
			// Unpacker.
		case digest.Algorithm(name).Available() && isDirectory(p):
			more, err = checkLayerDirs(p, digest.Algorithm(name))
		default:
			more = []Issue{{Path: p, Problem: "not part of the unpacked-layer layout"}}
		}
		if err != nil {
			return nil, err
		}
		issues = append(issues, more...)
	}
	return issues, nil
}

// checkTemp reports the temporary directories of dead unpackings.
func (u *Unpacker) checkTemp(dir string) ([]Issue, error) {
	names, err := unixfs.ReadDirNames(dir)
	if err != nil {
		return nil, err
	}
	var issues []Issue
	for _, name := range names {
		alg, rest, ok := strings.Cut(name, "-")
		hexPart, _, ok2 := strings.Cut(rest, "-")
		if !ok || !ok2 || digest.NewDigestFromEncoded(digest.Algorithm(alg), hexPart).Validate() != nil {
			issues = append(issues, Issue{Path: dir + "/" + name, Problem: "not a layer being unpacked"})
			continue
		}
		free, err := flock.Free(u.root + "/" + alg + "/" + hexPart + ".lock")
		if err != nil {
			return nil, err
		}
		if free {
			issues = append(issues, Issue{Path: dir + "/" + name, Problem: "half-unpacked layer left by a dead build"})
		}
	}
	return issues, nil
}

// checkLinks reports short links that are not links to an unpacked layer.
func (u *Unpacker) checkLinks(dir string) ([]Issue, error) {
	names, err := unixfs.ReadDirNames(dir)
	if err != nil {
		return nil, err
	}
	var issues []Issue
	for _, name := range names {
		p := dir + "/" + name
		t, err := os.Readlink(p)
		if err != nil {
			issues = append(issues, Issue{Path: p, Problem: "not a symbolic link"})
			continue
		}
		alg, hexPart, ok := strings.Cut(strings.TrimPrefix(t, "../"), "/")
		d := digest.NewDigestFromEncoded(digest.Algorithm(alg), hexPart)
		switch {
		case !strings.HasPrefix(t, "../") || !ok || d.Validate() != nil || !strings.HasPrefix(hexPart, name):
			issues = append(issues, Issue{Path: p, Problem: fmt.Sprintf("link to %q is not a short name of a layer", t)})
		case !isDirectory(u.dir(d)):
			issues = append(issues, Issue{Path: p, Problem: fmt.Sprintf("link to %q: that layer is not unpacked", t)})
		}
	}
	return issues, nil
}

// checkLayerDirs reports what in dir (ROOT/ALG) is neither an unpacked
// layer nor its lock file.
func checkLayerDirs(dir string, alg digest.Algorithm) ([]Issue, error) {
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
		if !digestEntry(name, fi, alg) {
			issues = append(issues, Issue{Path: p, Problem: "neither an unpacked layer nor its lock"})
		}
	}
	return issues, nil
}

// digestEntry reports whether name, described by fi, is what the unpacker
// and the native snapshotter keep per digest of algorithm alg: a directory
// named by its encoded part, or the regular file of that name plus
// ".lock".
func digestEntry(name string, fi fs.FileInfo, alg digest.Algorithm) bool {
	hexPart, isLock := strings.CutSuffix(name, ".lock")
	if digest.NewDigestFromEncoded(alg, hexPart).Validate() != nil {
		return false
	}
	if isLock {
		return fi.Mode().IsRegular()
	}
	return fi.IsDir()
}
