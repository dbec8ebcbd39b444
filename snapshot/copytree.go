package snapshot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/minibuild/minibuild/internal/idmap"
	"github.com/minibuild/minibuild/internal/unixfs"
	"golang.org/x/sys/unix"
)

// copier copies a tree preserving everything a layer can describe and
// more: types, modes with setuid/setgid/sticky, owners, xattrs (all but
// overlayfs metadata), device numbers, hardlinks, and access and
// modification times with nanoseconds. Sockets are skipped. The source is
// one of our own directories and the destination a fresh one nobody else
// writes to.
type copier struct {
	ctx context.Context
	// links maps a source inode with several names to its first copy.
	links map[inodeID]string
	// stamps, if not nil, receives the stamp of every copied object by
	// rel; maxCtime is the newest ctime among them.
	stamps   map[string]stamp
	linked   []string // rels of hardlinked files, stamped again at the end
	maxCtime unix.Timespec
}

// copyTree copies the contents and attributes of the directory src into
// dst, which must not exist (or, with dstExists, be an empty directory).
func copyTree(ctx context.Context, src, dst string, dstExists bool, stamps map[string]stamp) (unix.Timespec, error) {
	c := &copier{ctx: ctx, links: make(map[inodeID]string), stamps: stamps}
	var st unix.Stat_t
	if err := unix.Lstat(src, &st); err != nil {
		return unix.Timespec{}, fmt.Errorf("copying %q: %w", src, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return unix.Timespec{}, fmt.Errorf("copying %q: not a directory", src)
	}
	if !dstExists {
		if err := unix.Mkdir(dst, 0o700); err != nil {
			return unix.Timespec{}, fmt.Errorf("copying %q: %w", src, err)
		}
	}
	if err := c.dir(src, dst, "", &st); err != nil {
		return unix.Timespec{}, err
	}
	// Every later link changed the ctime of an inode stamped before.
	for _, rel := range c.linked {
		if err := c.stamp(dst+"/"+rel, rel); err != nil {
			return unix.Timespec{}, err
		}
	}
	return c.maxCtime, nil
}

// dir copies the children of the directory src into the existing
// directory dst, then its attributes.
func (c *copier) dir(src, dst, rel string, st *unix.Stat_t) error {
	if err := c.ctx.Err(); err != nil {
		return err
	}
	names, sts, err := listDir(src)
	if err != nil {
		return err
	}
	for i, name := range names {
		crel := name
		if rel != "" {
			crel = rel + "/" + name
		}
		if err := c.object(src+"/"+name, dst+"/"+name, crel, &sts[i]); err != nil {
			return err
		}
	}
	return c.finish(src, dst, rel, st)
}

// object copies one object of any type.
func (c *copier) object(src, dst, rel string, st *unix.Stat_t) error {
	id := inodeID{dev: st.Dev, ino: st.Ino}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR && st.Nlink > 1 {
		if first, ok := c.links[id]; ok {
			if err := unix.Link(first, dst); err != nil {
				return fmt.Errorf("linking %q: %w", dst, err)
			}
			return c.linkedStamp(dst, rel)
		}
		c.links[id] = dst
		if c.stamps != nil {
			c.linked = append(c.linked, rel)
		}
	}
	var err error
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		if err := unix.Mkdir(dst, 0o700); err != nil {
			return fmt.Errorf("creating %q: %w", dst, err)
		}
		return c.dir(src, dst, rel, st)
	case unix.S_IFREG:
		err = copyFile(src, dst, st)
	case unix.S_IFLNK:
		var target string
		if target, err = os.Readlink(src); err == nil {
			err = unix.Symlink(target, dst)
		}
	case unix.S_IFCHR, unix.S_IFBLK, unix.S_IFIFO:
		err = unix.Mknod(dst, st.Mode&unix.S_IFMT|0o600, int(st.Rdev))
	default:
		return nil // sockets
	}
	if err != nil {
		return fmt.Errorf("copying %q: %w", src, err)
	}
	return c.finish(src, dst, rel, st)
}

// linkedStamp stamps a hardlink made to an earlier copy.
func (c *copier) linkedStamp(dst, rel string) error {
	if c.stamps == nil {
		return nil
	}
	c.linked = append(c.linked, rel)
	return c.stamp(dst, rel)
}

// copyFile copies the content of the regular file src to the new file dst.
func copyFile(src, dst string, st *unix.Stat_t) error {
	in, err := os.OpenFile(src, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	n, err := io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil && n != st.Size {
		err = fmt.Errorf("copied %d bytes, want %d", n, st.Size)
	}
	return err
}

// finish gives dst the owner, mode, xattrs and times of src, in that order
// (a change of owner clears setuid bits and file capabilities), and stamps
// it.
func (c *copier) finish(src, dst, rel string, st *unix.Stat_t) error {
	if err := unix.Lchown(dst, int(st.Uid), int(st.Gid)); err != nil {
		return fmt.Errorf("changing owner of %q: %w", dst, idmap.UnmappedError(err, int(st.Uid), int(st.Gid)))
	}
	if st.Mode&unix.S_IFMT != unix.S_IFLNK {
		// dst is the object just created, never a symlink.
		if err := unix.Chmod(dst, st.Mode&0o7777); err != nil {
			return fmt.Errorf("changing mode of %q: %w", dst, err)
		}
	}
	if err := copyXattrs(src, dst); err != nil {
		return err
	}
	ts := []unix.Timespec{st.Atim, st.Mtim}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, dst, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("setting times of %q: %w", dst, err)
	}
	return c.stamp(dst, rel)
}

// stamp records the inode and ctime of dst under rel.
func (c *copier) stamp(dst, rel string) error {
	if c.stamps == nil {
		return nil
	}
	var st unix.Stat_t
	if err := unix.Lstat(dst, &st); err != nil {
		return fmt.Errorf("inspecting %q: %w", dst, err)
	}
	c.stamps[rel] = stamp{ino: st.Ino, ctime: st.Ctim}
	if st.Ctim.Sec > c.maxCtime.Sec || st.Ctim.Sec == c.maxCtime.Sec && st.Ctim.Nsec > c.maxCtime.Nsec {
		c.maxCtime = st.Ctim
	}
	return nil
}

// copyXattrs copies every xattr of src but overlayfs metadata to dst,
// neither followed.
func copyXattrs(src, dst string) error {
	names, err := unixfs.Llistxattr(src)
	if errors.Is(err, unix.ENOTSUP) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("listing xattrs of %q: %w", src, err)
	}
	for _, key := range names {
		if key == "" || strings.HasPrefix(key, "trusted.overlay.") || strings.HasPrefix(key, "user.overlay.") {
			continue
		}
		val, err := unixfs.Lgetxattr(src, key)
		if errors.Is(err, unix.ENODATA) {
			continue
		}
		if err != nil {
			return fmt.Errorf("reading xattr %s of %q: %w", key, src, err)
		}
		if err := unix.Lsetxattr(dst, key, val, 0); err != nil && !errors.Is(err, unix.ENOTSUP) {
			return fmt.Errorf("setting xattr %s of %q: %w", key, dst, err)
		}
	}
	return nil
}
