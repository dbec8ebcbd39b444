package tarutil

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// pathsList returns the paths of p as listTree lists a directory: sorted,
// relative, directories ending in "/", symlinks not followed.
func pathsList(p *Paths) []string {
	var out []string
	var walk func(n *pathNode, prefix string)
	walk = func(n *pathNode, prefix string) {
		for name, c := range n.children {
			rel := prefix + name
			if c.kind == tar.TypeDir {
				out = append(out, rel+"/")
				walk(c, rel+"/")
			} else {
				out = append(out, rel)
			}
		}
	}
	walk(p.root, "")
	slices.Sort(out)
	return out
}

// pathsCase is a chain of layers and the paths it leaves, or the error
// its last layer gets.
type pathsCase struct {
	name   string
	layers [][]tEntry
	want   []string
	err    string // "" for success, else a part of the error
}

func pathsCases() []pathsCase {
	return []pathsCase{
		{name: "parents implied",
			layers: [][]tEntry{{reg("./usr/bin/tool", "t"), reg("/etc/passwd", "p")}},
			want:   []string{"etc/", "etc/passwd", "usr/", "usr/bin/", "usr/bin/tool"}},
		{name: "the old image paths case",
			layers: [][]tEntry{
				{dirE("etc/"), reg("etc/passwd", ""), dirE("data/"), reg("data/a", ""), dirE("data/b/"), reg("data/b/c", ""),
					dirE("gone/"), reg("gone/x", ""), dirE("dir2file/"), reg("dir2file/inner", ""), reg("./usr/bin/tool", "")},
				{reg("data/.wh..wh..opq", ""), reg("data/new", ""), reg("data/a", ""), reg(".wh.gone", ""), reg("dir2file", ""), reg("etc/.wh.passwd", "")},
			},
			want: []string{"data/", "data/a", "data/new", "dir2file", "etc/", "usr/", "usr/bin/", "usr/bin/tool"}},
		{name: "whiteout of a directory removes the subtree",
			layers: [][]tEntry{{dirE("d/"), dirE("d/x/"), reg("d/x/y", ""), reg("e", "")}, {reg(".wh.d", "")}},
			want:   []string{"e"}},
		{name: "whiteout of missing names creates nothing",
			layers: [][]tEntry{{reg(".wh.nothing", ""), reg("x/.wh.y", "")}},
			want:   nil},
		{name: "whiteout spares what this layer made, an implied parent included",
			layers: [][]tEntry{{dirE("p/"), reg("p/lower", ""), reg("n", "")}, {reg("n", ""), reg(".wh.n", ""), reg("p/q", ""), reg(".wh.p", "")}},
			want:   []string{"n", "p/", "p/lower", "p/q"}},
		{name: "whiteout before the entry deletes the lower one",
			layers: [][]tEntry{{dirE("p/"), reg("p/lower", "")}, {reg(".wh.p", ""), reg("p/q", "")}},
			want:   []string{"p/", "p/q"}},
		{name: "opaque marker first",
			layers: [][]tEntry{{dirE("d/"), reg("d/old", ""), dirE("d/keep/"), reg("d/keep/x", ""), reg("other", "")},
				{dirE("d/"), reg("d/.wh..wh..opq", ""), reg("d/new", ""), dirE("d/keep/"), reg("d/keep/y", "")}},
			want: []string{"d/", "d/keep/", "d/keep/y", "d/new", "other"}},
		{name: "opaque marker after the directory's entries",
			layers: [][]tEntry{{dirE("d/"), reg("d/old", ""), dirE("d/keep/"), reg("d/keep/x", ""), reg("other", "")},
				{dirE("d/"), reg("d/new", ""), dirE("d/keep/"), reg("d/keep/y", ""), reg("d/.wh..wh..opq", "")}},
			want: []string{"d/", "d/keep/", "d/keep/y", "d/new", "other"}},
		{name: "opaque marker keeps implied parents",
			layers: [][]tEntry{{dirE("d/"), dirE("d/sub/"), reg("d/sub/old", "")}, {reg("d/sub/deep/new", ""), reg("d/.wh..wh..opq", "")}},
			want:   []string{"d/", "d/sub/", "d/sub/deep/", "d/sub/deep/new"}},
		{name: "opaque marker at the root",
			layers: [][]tEntry{{reg("a", ""), dirE("b/"), reg("b/c", "")}, {reg("c", ""), reg(".wh..wh..opq", "")}},
			want:   []string{"c"}},
		{name: "opaque marker at the root, first",
			layers: [][]tEntry{{reg("a", ""), dirE("b/"), reg("b/c", "")}, {reg("/.wh..wh..opq", ""), dirE("b/"), reg("b/d", "")}},
			want:   []string{"b/", "b/d"}},
		{name: "opaque marker without a directory entry makes the directory",
			layers: [][]tEntry{{reg("m/.wh..wh..opq", "")}},
			want:   []string{"m/"}},
		{name: "file over directory drops the subtree",
			layers: [][]tEntry{{dirE("d/"), reg("d/child", "")}, {reg("d", "")}},
			want:   []string{"d"}},
		{name: "directory over directory keeps the children",
			layers: [][]tEntry{{dirE("d/"), reg("d/child", "")}, {dirE("d/")}},
			want:   []string{"d/", "d/child"}},
		{name: "directory over file",
			layers: [][]tEntry{{reg("d", "")}, {dirE("d/"), reg("d/x", "")}},
			want:   []string{"d/", "d/x"}},
		{name: "dotdot inside names stays lexical",
			layers: [][]tEntry{{reg("a/b/../c", ""), reg("./x/./y", "")}},
			want:   []string{"a/", "a/c", "x/", "x/y"}},
		{name: "dotdot climbing is refused",
			layers: [][]tEntry{{reg("a/../../x", "")}}, err: "leaves the root"},
		{name: "dotdot whiteout is refused",
			layers: [][]tEntry{{reg("a/.wh...", "")}}, err: "invalid whiteout"},
		{name: "bare whiteout is refused",
			layers: [][]tEntry{{reg(".wh.", "")}}, err: "invalid whiteout"},
		{name: "AUFS metadata is skipped",
			layers: [][]tEntry{{dirE(".wh..wh.plnk/"), reg(".wh..wh.plnk/1", ""), reg("d/.wh..wh.aufs", ""), reg("f", "")}},
			want:   []string{"f"}},
		{name: "duplicate is refused",
			layers: [][]tEntry{{dirE("d/"), dirE("./d")}}, err: "duplicate"},
		{name: "root entry must be a directory",
			layers: [][]tEntry{{reg(".", "")}}, err: "root directory"},
		{name: "entries through a relative symlink land in its target",
			layers: [][]tEntry{{dirE("usr/"), dirE("usr/lib/"), symE("lib", "usr/lib")}, {reg("lib/x", "")}},
			want:   []string{"lib", "usr/", "usr/lib/", "usr/lib/x"}},
		{name: "absolute and climbing symlinks resolve in the root",
			layers: [][]tEntry{{dirE("etc/"), symE("e", "/etc"), symE("up", "../../.."), reg("e/a", ""), reg("up/b", "")}},
			want:   []string{"b", "e", "etc/", "etc/a", "up"}},
		{name: "whiteout through a symlink deletes in the target",
			layers: [][]tEntry{{dirE("d/"), reg("d/f", ""), reg("d/g", ""), symE("l", "d")}, {reg("l/.wh.f", "")}},
			want:   []string{"d/", "d/g", "l"}},
		{name: "whiteout of a symlink deletes the link only",
			layers: [][]tEntry{{dirE("d/"), reg("d/f", ""), symE("l", "d")}, {reg(".wh.l", "")}},
			want:   []string{"d/", "d/f"}},
		{name: "whiteout through a dangling symlink does nothing",
			layers: [][]tEntry{{symE("l", "../sentinel")}, {reg("l/.wh.file", "")}},
			want:   []string{"l"}},
		{name: "entry through a dangling symlink is refused",
			layers: [][]tEntry{{symE("foo", "../sentinel"), reg("foo/file", "")}}, err: `"foo/file"`},
		{name: "symlink loop is refused",
			layers: [][]tEntry{{symE("a", "b"), symE("b", "a"), reg("a/x", "")}}, err: `"a/x"`},
		{name: "entry below a file is refused",
			layers: [][]tEntry{{reg("f", ""), reg("f/x", "")}}, err: `"f/x"`},
		{name: "hardlink to a symlink is a symlink",
			layers: [][]tEntry{{dirE("d/"), symE("s", "d"), linkE("h", "s")}, {reg("h/x", "")}},
			want:   []string{"d/", "d/x", "h", "s"}},
		{name: "hardlink to a missing file is refused",
			layers: [][]tEntry{{linkE("h", "missing")}}, err: `"h"`},
		{name: "hardlink leaving the root is refused",
			layers: [][]tEntry{{linkE("h", "../../etc/passwd")}}, err: `"h"`},
		{name: "file over a symlink replaces the link",
			layers: [][]tEntry{{dirE("d/"), symE("l", "d")}, {reg("l", "")}},
			want:   []string{"d/", "l"}},
	}
}

// applyPaths applies the layers of tc to a new Paths.
func applyPaths(t *testing.T, layers [][]tEntry) (*Paths, error) {
	p := NewPaths()
	for _, l := range layers {
		if err := p.ApplyHeaders(context.Background(), bytes.NewReader(buildTar(t, l...))); err != nil {
			return p, err
		}
	}
	return p, nil
}

func TestPaths(t *testing.T) {
	for _, tc := range pathsCases() {
		t.Run(tc.name, func(t *testing.T) {
			p, err := applyPaths(t, tc.layers)
			if tc.err != "" {
				mustContain(t, err, tc.err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := pathsList(p); !slices.Equal(got, tc.want) {
				t.Errorf("paths %q\nwant  %q", got, tc.want)
			}
		})
	}
}

// TestPathsMatchesApply applies every case above and every malicious
// layer with Apply and with Paths: both must fail, or both succeed and
// leave the same paths.
func TestPathsMatchesApply(t *testing.T) {
	requireRoot(t)
	cases := pathsCases()
	for _, m := range maliciousCases() {
		if m.raw == nil {
			cases = append(cases, pathsCase{name: "malicious/" + m.name, layers: [][]tEntry{m.lower, m.layer}})
		}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t)
			var applyErr error
			for _, l := range tc.layers {
				if _, applyErr = applyTar(t, s.root, buildTar(t, l...), ApplyOptions{}); applyErr != nil {
					break
				}
			}
			p, err := applyPaths(t, tc.layers)
			if (err == nil) != (applyErr == nil) {
				t.Fatalf("Paths: %v; Apply: %v", err, applyErr)
			}
			if err != nil {
				return
			}
			if got, want := pathsList(p), listTree(t, s.root); !slices.Equal(got, want) {
				t.Errorf("Paths %q\nApply %q", got, want)
			}
		})
	}
}

func TestPathsCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := NewPaths().ApplyHeaders(ctx, bytes.NewReader(buildTar(t, reg("a", ""))))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("ApplyHeaders = %v, want context.Canceled", err)
	}
}

func TestPathsLookupErrors(t *testing.T) {
	p, err := applyPaths(t, [][]tEntry{{reg("f", ""), symE("loop", "loop"), symE("dang", "nowhere")}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		dir    string
		create bool
		want   error
	}{
		{"f", false, unix.ENOTDIR},
		{"f/x", true, unix.ENOTDIR},
		{"loop", true, unix.ELOOP},
		{"dang", true, unix.ENOENT}, // never created inside a link's target
		{"dang/x", true, unix.ENOENT},
		{"missing/x", false, unix.ENOENT},
	}
	for _, tt := range tests {
		if _, err := p.resolveDir(tt.dir, tt.create); err != tt.want {
			t.Errorf("resolveDir(%q, %v) = %v, want %v", tt.dir, tt.create, err, tt.want)
		}
	}
	if p.lookup("dang") == nil || p.lookup("dang/x") != nil || p.lookup(".") != p.root {
		t.Error("lookup follows links or misses names")
	}
	if got := strings.Join(pathsList(p), " "); got != "dang f loop" {
		t.Errorf("failed lookups changed the paths: %s", got)
	}
}
