package container

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/minibuild/minibuild/snapshot"
	"github.com/minibuild/minibuild/tarutil"
)

// printDiff prints what the container changed, as docker diff does: one
// "A PATH" (added), "C PATH" (changed: it was in the image) or "D PATH"
// (deleted) line per path, sorted by path.
func printDiff(ctx context.Context, mnt snapshot.Mount, chain []snapshot.Layer, w io.Writer) error {
	entries, err := mnt.Diff(ctx)
	if err != nil {
		return fmt.Errorf("computing the container's changes: %w", err)
	}
	if len(entries) == 0 {
		return nil
	}
	img, err := imagePaths(chain)
	if err != nil {
		return fmt.Errorf("listing the image's files: %w", err)
	}
	for _, l := range diffLines(entries, img) {
		if _, err := fmt.Fprintln(w, l); err != nil {
			return err
		}
	}
	return nil
}

// diffLines turns a snapshot's diff entries into docker diff lines: a
// whiteout "dir/.wh.NAME" is "D /dir/NAME"; an opaque marker deletes each
// path the image had directly in that directory that the diff does not
// bring back; any other entry is "C" when its path is in the image and
// "A" when it is not.
func diffLines(entries []tarutil.Entry, img pathSet) []string {
	byPath := map[string]string{}
	present := map[string]bool{}
	for _, e := range entries {
		present[path.Clean("/"+e.Name)] = true
	}
	for _, e := range entries {
		p := path.Clean("/" + e.Name)
		dir, base := path.Split(p)
		dir = path.Clean(dir)
		switch {
		case base == ".wh..wh..opq":
			for _, c := range img.children(dir) {
				if !present[c] {
					byPath[c] = "D"
				}
			}
		case strings.HasPrefix(base, ".wh."):
			byPath[path.Join(dir, base[len(".wh."):])] = "D"
		case p == "/":
		case img.has(p):
			byPath[p] = "C"
		default:
			byPath[p] = "A"
		}
	}
	paths := make([]string, 0, len(byPath))
	for p := range byPath {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	lines := make([]string, len(paths))
	for i, p := range paths {
		lines[i] = byPath[p] + " " + p
	}
	return lines
}

// pathSet is the set of paths an image's filesystem holds: absolute and
// clean, and for each whether it is a directory.
type pathSet map[string]bool

func (s pathSet) has(p string) bool {
	_, ok := s[p]
	return ok
}

// children lists the paths directly in dir, sorted.
func (s pathSet) children(dir string) []string {
	var out []string
	for p := range s {
		if p != "/" && path.Dir(p) == dir {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// removeBelow removes every path under dir (not dir itself).
func (s pathSet) removeBelow(dir string) {
	prefix := strings.TrimSuffix(dir, "/") + "/"
	for p := range s {
		if strings.HasPrefix(p, prefix) {
			delete(s, p)
		}
	}
}

// imagePaths applies the chain's layers, reading only their tar headers:
// in each layer, opaque markers and whiteouts delete from the layers below
// first, then its entries are added (a non-directory over a directory
// replaces the whole subtree).
func imagePaths(chain []snapshot.Layer) (pathSet, error) {
	set := pathSet{"/": true}
	for _, l := range chain {
		if err := applyLayerPaths(set, l); err != nil {
			return nil, fmt.Errorf("layer %s: %w", l.DiffID, err)
		}
	}
	return set, nil
}

func applyLayerPaths(set pathSet, l snapshot.Layer) error {
	rc, err := l.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	type add struct {
		p   string
		dir bool
	}
	var adds []add
	var opaque, whiteouts []string
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		p := path.Clean("/" + h.Name)
		dir, base := path.Split(p)
		switch {
		case base == ".wh..wh..opq":
			opaque = append(opaque, path.Clean(dir))
		case strings.HasPrefix(base, ".wh."):
			whiteouts = append(whiteouts, path.Join(dir, base[len(".wh."):]))
		default:
			adds = append(adds, add{p, h.Typeflag == tar.TypeDir})
		}
	}
	for _, d := range opaque {
		set.removeBelow(d)
	}
	for _, p := range whiteouts {
		if set[p] {
			set.removeBelow(p)
		}
		delete(set, p)
	}
	for _, a := range adds {
		if isDir, ok := set[a.p]; ok && isDir && !a.dir {
			set.removeBelow(a.p)
		}
		set[a.p] = a.dir
		for d := path.Dir(a.p); d != "/" && !set.has(d); d = path.Dir(d) {
			set[d] = true
		}
	}
	return nil
}
