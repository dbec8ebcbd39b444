package builder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/minibuild/minibuild/buildcontext"
	"github.com/minibuild/minibuild/cache"
	"github.com/minibuild/minibuild/dockerfile"
	"github.com/minibuild/minibuild/rootfs"
	"github.com/minibuild/minibuild/tarutil"
)

// copySource is one resolved COPY/ADD source and the files it brings.
type copySource struct {
	src   buildcontext.Source
	files []buildcontext.File
}

// planCopy resolves and hashes a COPY or ADD's sources from the context.
func (b *build) planCopy(_ context.Context, s *stage, in *dockerfile.CopyInstruction, p *stepPlan) (*stepPlan, error) {
	kw := in.Keyword()
	switch {
	case in.From != "":
		return nil, fmt.Errorf("%s --from is not supported by minibuild yet", kw)
	case len(in.Heredocs) > 0:
		return nil, fmt.Errorf("%s with a heredoc is not supported by minibuild yet", kw)
	case in.Parents || len(in.Excludes) > 0:
		return nil, fmt.Errorf("%s --parents and --exclude are not supported by minibuild yet", kw)
	case in.Checksum != "":
		return nil, fmt.Errorf("ADD --checksum is not supported by minibuild yet")
	}
	for _, src := range in.Sources {
		if isRemote(src) {
			if !in.IsAdd {
				return nil, fmt.Errorf("COPY source %s: a URL is only allowed in ADD", src)
			}
			return nil, fmt.Errorf("ADD of a URL (%s) is not supported by minibuild yet", src)
		}
	}
	dest, destDir := copyDest(in.Dest, s.img.Config.WorkingDir)
	if len(in.Sources) > 1 && !destDir {
		return nil, fmt.Errorf("when using %s with more than one source file, the destination must be a directory and end with a /", kw)
	}
	var chmod *fs.FileMode
	if in.Chmod != "" {
		m, err := parseChmod(in.Chmod)
		if err != nil {
			return nil, err
		}
		chmod = &m
	}
	resolved, err := b.o.Context.Resolve(in.Sources)
	if err != nil {
		return nil, err
	}
	if len(resolved) > 1 {
		destDir = true
	}
	sources := make([]copySource, len(resolved))
	for i, src := range resolved {
		files, err := b.o.Context.Files(src)
		if err != nil {
			return nil, err
		}
		sources[i] = copySource{src: src, files: files}
		for _, f := range files {
			sf := cache.SourceFile{Path: f.Path, Mode: uint32(f.Mode), Linkname: f.Linkname}
			if f.Mode.IsRegular() {
				if sf.Digest, err = b.o.Context.FileDigest(f.Path); err != nil {
					return nil, err
				}
			}
			p.key.Sources = append(p.key.Sources, sf)
		}
	}
	p.createdBy = fmt.Sprintf("%s %s %s", kw, strings.Join(in.Sources, " "), in.Dest)
	c := &copier{ctx: b.o.Context, in: in, dest: dest, destDir: destDir, chmod: chmod, epoch: b.o.Epoch}
	p.change = func(ctx context.Context, root *rootfs.Root) error { return c.copy(ctx, root, sources) }
	return p, nil
}

// isRemote reports whether an ADD source is a URL or a git reference.
func isRemote(src string) bool {
	for _, prefix := range []string{"http://", "https://", "git@", "git://"} {
		if strings.HasPrefix(src, prefix) {
			return true
		}
	}
	return false
}

// copyDest makes a COPY destination absolute against the working
// directory and says whether it names a directory (Docker's rule: it ends
// with "/", or is "." or empty).
func copyDest(dest, workdir string) (string, bool) {
	dir := dest == "" || dest == "." || strings.HasSuffix(dest, "/") || strings.HasSuffix(dest, "/.")
	if !path.IsAbs(dest) {
		dest = path.Join("/", workdir, dest)
	}
	return path.Clean(dest), dir
}

// parseChmod parses an octal --chmod value.
func parseChmod(s string) (fs.FileMode, error) {
	v, err := strconv.ParseUint(s, 8, 32)
	if err != nil || v > 0o7777 {
		return 0, fmt.Errorf("invalid --chmod=%s: want octal permission bits like 0755", s)
	}
	m := fs.FileMode(v & 0o777)
	if v&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if v&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if v&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	return m, nil
}

// copier writes a COPY/ADD's sources into a rootfs.
type copier struct {
	ctx     *buildcontext.Context
	in      *dockerfile.CopyInstruction
	dest    string
	destDir bool
	chmod   *fs.FileMode
	epoch   time.Time
}

func (c *copier) copy(ctx context.Context, root *rootfs.Root, sources []copySource) error {
	uid, gid := 0, 0
	if c.in.Chown != "" {
		u, err := root.LookupUser(c.in.Chown, true)
		if err != nil {
			return fmt.Errorf("--chown=%s: %w", c.in.Chown, err)
		}
		uid, gid = u.UID, u.GID
	}
	o := owner{uid: uid, gid: gid}
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
		if cs.src.IsDir {
			if _, err := root.MkdirAll(c.dest, dirMode, uid, gid); err != nil {
				return fmt.Errorf("creating %s: %w", c.dest, err)
			}
			for _, f := range cs.files {
				if err := c.writeOne(root, f, path.Join(c.dest, f.Rel), o); err != nil {
					return err
				}
			}
			continue
		}
		if len(cs.files) != 1 {
			return fmt.Errorf("source %s: expected one file, found %d", cs.src.Path, len(cs.files))
		}
		f := cs.files[0]
		if c.in.IsAdd && f.Mode.IsRegular() {
			done, err := c.extract(ctx, root, f, o)
			if err != nil || done {
				return err
			}
		}
		target := c.dest
		if c.destDir || isDir(root, c.dest) {
			target = path.Join(c.dest, path.Base(cs.src.Path))
		}
		if _, err := root.MkdirAll(path.Dir(target), dirMode, uid, gid); err != nil {
			return fmt.Errorf("creating %s: %w", path.Dir(target), err)
		}
		if err := c.writeOne(root, f, target, o); err != nil {
			return err
		}
	}
	return nil
}

type owner struct{ uid, gid int }

func isDir(root *rootfs.Root, p string) bool {
	info, err := root.Stat(p)
	return err == nil && info.Mode.IsDir()
}

// writeOne writes one context file at target in the rootfs.
func (c *copier) writeOne(root *rootfs.Root, f buildcontext.File, target string, o owner) error {
	mode := f.Mode.Perm() | f.Mode&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)
	if c.chmod != nil {
		mode = *c.chmod
	}
	mtime := c.epoch
	var err error
	switch {
	case f.Mode.IsDir():
		err = root.Mkdir(target, mode, o.uid, o.gid, mtime)
	case f.Mode&fs.ModeSymlink != 0:
		err = root.Symlink(f.Linkname, target, o.uid, o.gid, mtime)
	case f.Mode.IsRegular():
		var fh io.ReadCloser
		fh, err = c.ctx.Open(f.Path)
		if err != nil {
			return err
		}
		err = root.WriteFile(target, fh, mode, o.uid, o.gid, mtime)
		fh.Close()
	default:
		return fmt.Errorf("%s: unsupported file type %s in the build context", f.Path, f.Mode.Type())
	}
	if err != nil {
		return fmt.Errorf("copying %s to %s: %w", f.Path, target, err)
	}
	return nil
}

// extract unpacks a local tar archive for ADD (Docker's rule: a local
// archive, plain or compressed, is extracted into the destination
// directory). It reports whether f was an archive.
func (c *copier) extract(ctx context.Context, root *rootfs.Root, f buildcontext.File, o owner) (bool, error) {
	fh, err := c.ctx.Open(f.Path)
	if err != nil {
		return false, err
	}
	defer fh.Close()
	ok, err := tarutil.IsArchive(fh)
	if err != nil {
		return false, fmt.Errorf("ADD %s: %w", f.Path, err)
	}
	if !ok {
		return false, nil
	}
	if _, err := fh.Seek(0, io.SeekStart); err != nil {
		return false, err
	}
	if _, err := root.MkdirAll(c.dest, 0o755, o.uid, o.gid); err != nil {
		return false, fmt.Errorf("creating %s: %w", c.dest, err)
	}
	dir, err := root.OpenDir(c.dest)
	if err != nil {
		return false, err
	}
	defer dir.Close()
	dr, err := tarutil.Decompress(fh)
	if err != nil {
		return false, fmt.Errorf("ADD %s: %w", f.Path, err)
	}
	defer dr.Close()
	target := fmt.Sprintf("/proc/self/fd/%d", dir.Fd())
	if _, err := tarutil.Apply(ctx, target, dr, tarutil.ApplyOptions{LayerName: "archive " + f.Path}); err != nil {
		if errors.Is(err, context.Canceled) {
			return false, err
		}
		return false, fmt.Errorf("ADD %s: extracting: %w", f.Path, err)
	}
	return true, nil
}
