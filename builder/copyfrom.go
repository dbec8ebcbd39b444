package builder

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/minibuild/minibuild/dockerfile"
	"github.com/minibuild/minibuild/rootfs"
	"github.com/minibuild/minibuild/snapshot"
	"github.com/minibuild/minibuild/tarutil"
	digest "github.com/opencontainers/go-digest"
)

// planCopyFrom works out a COPY --from: the sources come from an earlier
// stage, a --build-context image or an image in the store. The key holds
// the identity of the source's filesystem (its layers' diffIDs), so a
// rebuilt stage that produced the same layers still hits.
func (b *build) planCopyFrom(_ context.Context, s *stage, in *dockerfile.CopyInstruction, p *stepPlan, c *copier) (*stepPlan, error) {
	for i, src := range in.Sources {
		if in.IsHeredocSource(i) || isRemote(src) {
			return nil, fmt.Errorf("%s --from=%s: source %s must be a path", in.Keyword(), in.From, src)
		}
	}
	chain, identity, err := b.sourceImage(s, in.From)
	if err != nil {
		return nil, err
	}
	p.key.Extra = append(p.key.Extra, fromExtra+identity.String())
	p.from = identity
	p.change = func(ctx context.Context, root *rootfs.Root) error {
		return b.inSource(ctx, chain, in.From, func(src *rootfs.Root) error {
			sources, err := rootSources(src, in.Sources, c)
			if err != nil {
				return fmt.Errorf("--from=%s: %w", in.From, err)
			}
			if len(sources) > 1 {
				c.destDir = true
			}
			return c.copy(ctx, root, sources)
		})
	}
	return p, nil
}

// inSource calls fn with a throwaway rootfs of chain, the filesystem of
// the stage or image from names, open.
func (b *build) inSource(ctx context.Context, chain []snapshot.Layer, from string, fn func(src *rootfs.Root) error) error {
	m, err := b.tools.Snapshotter.Prepare(ctx, chain)
	if err != nil {
		return fmt.Errorf("preparing --from=%s: %w", from, err)
	}
	defer m.Release()
	src, err := rootfs.Open(m.Root())
	if err != nil {
		return err
	}
	defer src.Close()
	return fn(src)
}

// fromExtra opens the key's Extra field that holds a COPY --from's
// source identity.
const fromExtra = "from="

// sourceImage finds what COPY --from names: an earlier stage by name or
// index, a --build-context image, or an image in the store. It returns
// the layer chain and an identity of the filesystem the chain makes.
func (b *build) sourceImage(s *stage, name string) ([]snapshot.Layer, digest.Digest, error) {
	if dep := b.stageRef(name, s.index); dep >= 0 {
		st := b.stageDone(dep)
		if st == nil {
			return nil, "", fmt.Errorf("stage %s was not built", name)
		}
		if st.layersUnknown {
			return nil, "", &unknownError{Reason{Kind: ReasonUnknown, Cause: CauseStageRebuilt, Name: name}}
		}
		chain, err := b.chainOf(st.layers, st.img.RootFS.DiffIDs)
		return chain, chainIdentity(st.img.RootFS.DiffIDs), err
	}
	if b.stageRef(name, len(b.set.Dockerfile.Stages)) >= 0 {
		return nil, "", fmt.Errorf("--from=%s refers to a later stage or this one: a stage can copy only from stages before it", name)
	}
	img, layers, _, err := b.loadImage(name, s.platform)
	if err != nil && b.set.DryRun {
		return nil, "", &unknownError{Reason{Kind: ReasonUnknown, Cause: CauseFromImage, Name: name, Detail: err.Error()}}
	}
	if err != nil {
		return nil, "", err
	}
	chain, err := b.chainOf(layers, img.RootFS.DiffIDs)
	return chain, chainIdentity(img.RootFS.DiffIDs), err
}

// chainIdentity identifies the filesystem a list of diffIDs makes.
func chainIdentity(diffIDs []digest.Digest) digest.Digest {
	parts := make([]string, len(diffIDs))
	for i, d := range diffIDs {
		parts[i] = d.String()
	}
	return digest.FromString("layers v1\n" + strings.Join(parts, "\n"))
}

// rootSources resolves COPY --from source paths inside a source rootfs,
// with chroot semantics. A glob may appear in the last path component.
func rootSources(src *rootfs.Root, patterns []string, c *copier) ([]copySource, error) {
	var out []copySource
	for _, pat := range patterns {
		p := path.Clean("/" + pat)
		matches := []string{p}
		if strings.ContainsAny(p, "*?[") {
			var err error
			if matches, err = globIn(src, p); err != nil {
				return nil, err
			}
			if len(matches) == 0 {
				return nil, fmt.Errorf("source %s: no such file or directory", pat)
			}
		}
		for _, m := range matches {
			info, err := src.Stat(m)
			if err != nil {
				return nil, fmt.Errorf("source %s: %w", m, err)
			}
			cs := copySource{name: m, keepOwner: true}
			switch {
			case info.Mode.IsDir():
				cs.isDir = true
				if cs.files, err = dirFiles(src, m, c); err != nil {
					return nil, err
				}
			case info.Mode.IsRegular():
				if c.excluded(false, "", strings.TrimPrefix(m, "/")) {
					continue
				}
				m := m
				cs.files = []copyFile{{mode: info.Mode, uid: info.UID, gid: info.GID,
					open: func() (io.ReadCloser, error) { return src.OpenFile(m) }}}
			default:
				return nil, fmt.Errorf("source %s: unsupported file type %s", m, info.Mode.Type())
			}
			out = append(out, cs)
		}
	}
	return out, nil
}

// globIn matches a pattern's last component against a directory's names.
func globIn(src *rootfs.Root, pattern string) ([]string, error) {
	dir, base := path.Split(pattern)
	if strings.ContainsAny(dir, "*?[") {
		return nil, fmt.Errorf("source %s: a wildcard is allowed only in the last path component", pattern)
	}
	d, err := src.OpenDir(dir)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", pattern, err)
	}
	defer d.Close()
	f, err := os.Open(fmt.Sprintf("/proc/self/fd/%d", d.Fd()))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []string
	for _, n := range names {
		if ok, err := path.Match(base, n); err != nil {
			return nil, fmt.Errorf("source %s: %w", pattern, err)
		} else if ok {
			out = append(out, path.Join(dir, n))
		}
	}
	return out, nil
}

// dirFiles lists a directory of a source rootfs recursively, as copy files
// that keep their owners; hardlinked names are copied as files.
func dirFiles(src *rootfs.Root, dir string, c *copier) ([]copyFile, error) {
	d, err := src.OpenDir(dir)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", dir, err)
	}
	host, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", d.Fd()))
	d.Close()
	if err != nil {
		return nil, err
	}
	entries, err := tarutil.DirEntries(host, "")
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", dir, err)
	}
	byName := map[string]tarutil.Entry{}
	var out []copyFile
	for _, e := range entries {
		byName[e.Name] = e
		if c.excluded(true, e.Name, dir) {
			continue
		}
		f := copyFile{rel: e.Name, uid: e.UID, gid: e.GID, linkname: e.Linkname, mode: modeFromTar(e.Mode), open: e.Open}
		switch e.Type {
		case tar.TypeDir:
			f.mode |= fs.ModeDir
		case tar.TypeReg:
		case tar.TypeSymlink:
			f.mode = fs.ModeSymlink | 0o777
		case tar.TypeLink:
			t, ok := byName[e.Linkname]
			if !ok {
				return nil, fmt.Errorf("source %s: hardlink %s to unknown %s", dir, e.Name, e.Linkname)
			}
			f.mode, f.linkname, f.open, f.uid, f.gid = modeFromTar(t.Mode), "", t.Open, t.UID, t.GID
		default:
			return nil, fmt.Errorf("source %s: cannot copy %s: device nodes and FIFOs are not supported", dir, e.Name)
		}
		out = append(out, f)
	}
	return out, nil
}
