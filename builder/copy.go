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

	"github.com/minibuild/minibuild/buildcontext"
	"github.com/minibuild/minibuild/cache"
	"github.com/minibuild/minibuild/dockerfile"
	"github.com/minibuild/minibuild/rootfs"
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
