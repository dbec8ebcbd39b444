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
	"github.com/moby/patternmatcher"
	digest "github.com/opencontainers/go-digest"
)

// copyFile is one file system object a COPY or ADD brings, wherever it
// comes from (the context, a heredoc, a URL, another stage).
type copyFile struct {
	rel      string      // path under the source directory; "" for a file source
	mode     fs.FileMode // Go mode, type bits included
	uid, gid int         // owner in the source (kept for --from sources)
	linkname string
	open     func() (io.ReadCloser, error)
	// digest returns the content digest cheaply when the source can (the
	// context's stat cache); nil means hash what open returns.
	digest func() (digest.Digest, error)
	// openHashing, for a context file, opens it hashing what is read;
	// the copy then leaves the digest in *sum (see stepPlan.keyLater).
	openHashing func() (*buildcontext.HashingFile, error)
	sum         *digest.Digest
}

// digestOf returns the content digest of a regular file.
func digestOf(f copyFile) (digest.Digest, error) {
	if f.sum != nil && *f.sum != "" {
		return *f.sum, nil // hashed while it was copied
	}
	if f.digest != nil {
		return f.digest()
	}
	rc, err := f.open()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	return digest.FromReader(rc)
}

// copySource is one resolved source of a COPY or ADD.
type copySource struct {
	name        string // its path (context-relative or in the source rootfs); base name when copied into a dir
	isDir       bool
	files       []copyFile
	keepOwner   bool // files keep their owner (sources from a stage or image)
	fromContext bool // a local file: ADD extracts it when it is a tar archive
}

// planCopy works out a COPY or ADD: its sources, their content for the
// key, and the change that writes them into the rootfs.
func (b *build) planCopy(ctx context.Context, s *stage, in *dockerfile.CopyInstruction, p *stepPlan) (*stepPlan, error) {
	kw := in.Keyword()
	if in.KeepGitDir {
		return nil, errors.New("ADD --keep-git-dir: git sources are not supported by minibuild")
	}
	dest, destDir := copyDest(in.Dest, s.img.Config.WorkingDir)
	if len(in.Sources) > 1 && !destDir {
		return nil, fmt.Errorf("when using %s with more than one source file, the destination must be a directory and end with a /", kw)
	}
	c := &copier{in: in, dest: dest, destDir: destDir, epoch: b.set.Epoch, maxBytes: b.set.MaxUnpackBytes}
	if in.Chmod != "" {
		m, err := parseChmod(in.Chmod)
		if err != nil {
			return nil, err
		}
		c.chmod = &m
	}
	if len(in.Excludes) > 0 {
		pm, err := patternmatcher.New(in.Excludes)
		if err != nil {
			return nil, fmt.Errorf("--exclude: %w", err)
		}
		c.exclude = pm
	}
	p.createdBy = fmt.Sprintf("%s %s %s", kw, strings.Join(in.Sources, " "), in.Dest)
	if in.From != "" {
		return b.planCopyFrom(ctx, s, in, p, c)
	}
	if in.Checksum != "" && !allRemote(in.Sources) {
		return nil, errors.New("ADD --checksum can only be used with URL sources")
	}
	var sources []copySource
	for i, src := range in.Sources {
		var got []copySource
		var err error
		switch {
		case in.IsHeredocSource(i):
			got, err = heredocSource(in, src)
		case isRemote(src):
			if !in.IsAdd {
				return nil, fmt.Errorf("COPY source %s: a URL is only allowed in ADD", src)
			}
			got, err = b.urlSource(ctx, src, in.Checksum)
		default:
			got, err = b.contextSources(src, c)
		}
		if err != nil {
			return nil, err
		}
		sources = append(sources, got...)
	}
	if len(sources) > 1 {
		c.destDir = true
	}
	p.change = func(ctx context.Context, root *rootfs.Root) error { return c.copy(ctx, root, sources) }
	keys := func(ctx context.Context) error {
		for _, cs := range sources {
			keys, err := b.sourceKeys(ctx, cs)
			if err != nil {
				return err
			}
			p.key.Sources = append(p.key.Sources, keys...)
		}
		return nil
	}
	if in.IsAdd || !allFromContext(sources) {
		return p, keys(ctx)
	}
	// A COPY of context files may hash them while it copies them, when
	// the step is sure to miss (the step loop decides).
	p.keyLater = keys
	p.hashWhileCopying = func() { c.hashing = true }
	return p, nil
}

// allFromContext reports whether every source is a context path.
func allFromContext(sources []copySource) bool {
	for _, cs := range sources {
		if !cs.fromContext {
			return false
		}
	}
	return true
}

// sourceKeys are the cache-key records of a source's files: path, mode,
// link target and content digest (never the mtime).
// Files are hashed by one worker per CPU: on a cold build, hashing the
// context is a pass over every byte it copies.
func (b *build) sourceKeys(ctx context.Context, cs copySource) ([]cache.SourceFile, error) {
	out := make([]cache.SourceFile, len(cs.files))
	var regular []int
	clean := path.Clean(cs.name) == cs.name && cs.name != "."
	for i, f := range cs.files {
		p := cs.name + "/" + f.rel // path.Join, without cleaning clean parts again
		if !clean || f.rel == "" {
			p = path.Join(cs.name, f.rel)
		}
		out[i] = cache.SourceFile{Path: p, Mode: uint32(f.mode), Linkname: f.linkname}
		if f.mode.IsRegular() {
			regular = append(regular, i)
		}
	}
	err := forEach(ctx, len(regular), func(j int) error {
		i := regular[j]
		d, err := digestOf(cs.files[i])
		out[i].Digest = d
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// contextSources resolves one context pattern into its sources.
func (b *build) contextSources(pattern string, c *copier) ([]copySource, error) {
	resolved, err := b.tools.Context.Resolve([]string{pattern})
	if err != nil {
		return nil, err
	}
	var out []copySource
	for _, src := range resolved {
		files, err := b.tools.Context.Files(src)
		if err != nil {
			return nil, err
		}
		cs := copySource{name: src.Path, isDir: src.IsDir, fromContext: true, files: make([]copyFile, 0, len(files))}
		for i := range files {
			f := &files[i] // the closures keep files, not a copy per file
			if c.excluded(src.IsDir, f.Rel, src.Path) {
				continue
			}
			cf := copyFile{rel: f.Rel, mode: f.Mode, linkname: f.Linkname}
			if f.Mode.IsRegular() {
				cf.open = func() (io.ReadCloser, error) { return b.tools.Context.Open(f.Path) }
				cf.digest = func() (digest.Digest, error) { return b.tools.Context.Digest(*f) }
				cf.openHashing = func() (*buildcontext.HashingFile, error) { return b.tools.Context.OpenHashing(*f) }
				cf.sum = new(digest.Digest)
			}
			cs.files = append(cs.files, cf)
		}
		if !src.IsDir && len(cs.files) == 0 {
			continue // the file itself is excluded
		}
		out = append(out, cs)
	}
	return out, nil
}

// heredocSource is a COPY <<EOF source: a file named after the heredoc.
func heredocSource(in *dockerfile.CopyInstruction, name string) ([]copySource, error) {
	h, ok := in.HeredocByName(name)
	if !ok {
		return nil, fmt.Errorf("heredoc %s not found", name)
	}
	content := h.Content
	return []copySource{{name: h.Name, files: []copyFile{{
		mode: 0o644,
		open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(content)), nil },
	}}}}, nil
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
	return modeFromTar(int64(v)), nil
}

// modeFromTar turns tar permission bits (with setuid, setgid, sticky) into a Go mode.
func modeFromTar(v int64) fs.FileMode {
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
	return m
}

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
