package builder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/minibuild/minibuild/dockerfile"
	"github.com/minibuild/minibuild/rootfs"
	"github.com/minibuild/minibuild/tarutil"
	"github.com/moby/patternmatcher"
)

// copier writes a COPY/ADD's sources into a rootfs.
type copier struct {
	in      *dockerfile.CopyInstruction
	dest    string
	destDir bool
	chmod   *fs.FileMode
	exclude *patternmatcher.PatternMatcher
	epoch   time.Time
	// maxBytes bounds an ADD archive's expansion (0: tarutil's default).
	maxBytes int64
	// hashing makes the copy hash the context files it reads.
	hashing bool
}

// excluded reports whether --exclude drops a file: a path under a
// directory source is matched relative to it, a file source by its path.
func (c *copier) excluded(inDir bool, rel, srcPath string) bool {
	if c.exclude == nil {
		return false
	}
	p := rel
	if !inDir || rel == "" {
		p = srcPath
	}
	ok, err := c.exclude.MatchesOrParentMatches(p)
	return err == nil && ok
}

func (c *copier) copy(ctx context.Context, root *rootfs.Root, sources []copySource) error {
	uid, gid, chown := 0, 0, c.in.Chown != ""
	if chown {
		u, err := root.LookupUser(c.in.Chown, true)
		if err != nil {
			return fmt.Errorf("--chown=%s: %w", c.in.Chown, err)
		}
		uid, gid = u.UID, u.GID
	}
	// BuildKit gives the directories a COPY creates the --chown owner and
	// the --chmod mode too.
	dirMode := fs.FileMode(0o755)
	if c.chmod != nil {
		dirMode = *c.chmod
	}
	for _, cs := range sources {
		if err := ctx.Err(); err != nil {
			return err
		}
		owner := func(f copyFile) (int, int) {
			if chown || !cs.keepOwner {
				return uid, gid
			}
			return f.uid, f.gid
		}
		base := c.dest
		if c.in.Parents {
			base = path.Join(c.dest, parentsPath(cs.name))
		}
		if cs.isDir {
			if _, err := root.MkdirAll(base, dirMode, uid, gid); err != nil {
				return fmt.Errorf("creating %s: %w", base, err)
			}
			// Directories first, parents before children (the listing is
			// sorted); then the rest, one worker per CPU, a directory's
			// files by one worker: each file is a handful of system calls
			// in a directory that already exists, the result does not
			// depend on their order, and two creates in one directory
			// would wait for each other on its lock.
			byDir := map[string]int{}
			var groups [][]copyFile
			for _, f := range cs.files {
				if f.mode.IsDir() {
					u, g := owner(f)
					if err := c.writeOne(root, f, path.Join(base, f.rel), u, g); err != nil {
						return err
					}
					continue
				}
				d := path.Dir(f.rel)
				i, ok := byDir[d]
				if !ok {
					i = len(groups)
					byDir[d] = i
					groups = append(groups, nil)
				}
				groups[i] = append(groups[i], f)
			}
			err := forEach(ctx, len(groups), func(i int) error {
				for _, f := range groups[i] {
					u, g := owner(f)
					if err := c.writeOne(root, f, path.Join(base, f.rel), u, g); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			continue
		}
		if len(cs.files) != 1 {
			return fmt.Errorf("source %s: expected one file, found %d", cs.name, len(cs.files))
		}
		f := cs.files[0]
		if c.in.IsAdd && cs.fromContext && f.mode.IsRegular() && c.unpack() {
			done, err := c.extract(ctx, root, f, cs.name, uid, gid)
			if err != nil || done {
				return err
			}
		}
		target := base
		if c.in.Parents {
			target = path.Join(c.dest, parentsPath(cs.name))
		} else if c.destDir || isDir(root, c.dest) {
			target = path.Join(c.dest, path.Base(cs.name))
		}
		if _, err := root.MkdirAll(path.Dir(target), dirMode, uid, gid); err != nil {
			return fmt.Errorf("creating %s: %w", path.Dir(target), err)
		}
		u, g := owner(f)
		if err := c.writeOne(root, f, target, u, g); err != nil {
			return err
		}
	}
	return nil
}

// unpack reports whether ADD extracts local archives (--unpack=false stops it).
func (c *copier) unpack() bool {
	return c.in.Unpack == nil || *c.in.Unpack
}

// parentsPath is the part of a source path COPY --parents keeps: the whole
// path, or what follows a "/./" pivot.
func parentsPath(p string) string {
	if i := strings.Index(p, "/./"); i >= 0 {
		return p[i+3:]
	}
	return strings.TrimPrefix(p, "./")
}

func isDir(root *rootfs.Root, p string) bool {
	info, err := root.Stat(p)
	return err == nil && info.Mode.IsDir()
}

// writeOne writes one file at target in the rootfs.
func (c *copier) writeOne(root *rootfs.Root, f copyFile, target string, uid, gid int) error {
	mode := f.mode.Perm() | f.mode&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)
	if c.chmod != nil {
		mode = *c.chmod
	}
	var err error
	switch {
	case f.mode.IsDir():
		err = root.Mkdir(target, mode, uid, gid, c.epoch)
	case f.mode&fs.ModeSymlink != 0:
		err = root.Symlink(f.linkname, target, uid, gid, c.epoch)
	case f.mode.IsRegular() && c.hashing && f.openHashing != nil:
		h, herr := f.openHashing()
		if herr != nil {
			return herr
		}
		err = root.WriteFile(target, h, mode, uid, gid, c.epoch)
		if err == nil {
			*f.sum, err = h.Digest()
		}
		h.Close()
	case f.mode.IsRegular():
		var rc io.ReadCloser
		if rc, err = f.open(); err != nil {
			return err
		}
		err = root.WriteFile(target, rc, mode, uid, gid, c.epoch)
		rc.Close()
	default:
		return fmt.Errorf("%s: unsupported file type %s", target, f.mode.Type())
	}
	if err != nil {
		return fmt.Errorf("copying to %s: %w", target, err)
	}
	return nil
}

// extract unpacks a local tar archive for ADD (Docker's rule: a local
// archive, plain or compressed, is extracted into the destination
// directory). It reports whether f was an archive.
func (c *copier) extract(ctx context.Context, root *rootfs.Root, f copyFile, name string, uid, gid int) (bool, error) {
	rc, err := f.open()
	if err != nil {
		return false, err
	}
	defer rc.Close()
	seeker, ok := rc.(io.ReadSeeker)
	if !ok {
		return false, nil
	}
	isArchive, err := tarutil.IsArchive(seeker)
	if err != nil {
		return false, fmt.Errorf("ADD %s: %w", name, err)
	}
	if !isArchive {
		return false, nil
	}
	if _, err := seeker.Seek(0, io.SeekStart); err != nil {
		return false, err
	}
	if _, err := root.MkdirAll(c.dest, 0o755, uid, gid); err != nil {
		return false, fmt.Errorf("creating %s: %w", c.dest, err)
	}
	dir, err := root.OpenDir(c.dest)
	if err != nil {
		return false, err
	}
	defer dir.Close()
	dr, err := tarutil.Decompress(seeker)
	if err != nil {
		return false, fmt.Errorf("ADD %s: %w", name, err)
	}
	defer dr.Close()
	target := fmt.Sprintf("/proc/self/fd/%d", dir.Fd())
	if _, err := tarutil.Apply(ctx, target, dr, tarutil.ApplyOptions{LayerName: "archive " + name, MaxBytes: c.maxBytes}); err != nil {
		if errors.Is(err, context.Canceled) {
			return false, err
		}
		return false, fmt.Errorf("ADD %s: extracting: %w", name, err)
	}
	return true, nil
}
