package imagediff

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// flattenTars applies the layers to a new tree.
func flattenTars(t *testing.T, layers ...[]byte) (*tree, error) {
	t.Helper()
	tr := newTree()
	for i, l := range layers {
		if err := tr.apply(context.Background(), bytes.NewReader(l)); err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
	}
	return tr, nil
}

func TestApplyLayers(t *testing.T) {
	tests := []struct {
		name   string
		layers [][]ent
		want   []string
	}{{
		name:   "implied parents",
		layers: [][]ent{{file("a/b/c", "x")}},
		want:   []string{"/a dir 0755 0:0 implied", "/a/b dir 0755 0:0 implied", "/a/b/c file 0644 0:0 1"},
	}, {
		name:   "a whiteout deletes a lower file and its subtree",
		layers: [][]ent{{dir("d"), file("d/f", "x"), file("keep", "k")}, {file(".wh.d", "")}},
		want:   []string{"/keep file 0644 0:0 1"},
	}, {
		name:   "a whiteout leaves what its own layer made",
		layers: [][]ent{{file("f", "old")}, {file("f", "new!"), file(".wh.f", "")}},
		want:   []string{"/f file 0644 0:0 4"},
	}, {
		name:   "a whiteout of nothing, or below a file, is no error",
		layers: [][]ent{{file("f", "x")}, {file(".wh.missing", ""), file("f/.wh.g", "")}},
		want:   []string{"/f file 0644 0:0 1"},
	}, {
		name: "an opaque marker hides the lower children, wherever it sits in the tar",
		layers: [][]ent{
			{dir("d"), file("d/old", "o"), dir("d/sub"), file("d/sub/lower", "l"), file("top", "t")},
			{file("d/new", "n"), file("d/sub/mine", "m"), file("d/.wh..wh..opq", "")},
		},
		want: []string{"/d dir 0755 0:0", "/d/new file 0644 0:0 1", "/d/sub dir 0755 0:0", "/d/sub/mine file 0644 0:0 1", "/top file 0644 0:0 1"},
	}, {
		name:   "a directory over a directory keeps the children and takes the attributes",
		layers: [][]ent{{dir("d"), file("d/f", "x")}, {{name: "d", typ: tar.TypeDir, mode: 0o700, uid: 5, gid: 6}}},
		want:   []string{"/d dir 0700 5:6", "/d/f file 0644 0:0 1"},
	}, {
		name:   "a file over a directory replaces the subtree",
		layers: [][]ent{{dir("d"), file("d/f", "x")}, {file("d", "file now")}},
		want:   []string{"/d file 0644 0:0 8"},
	}, {
		name:   "a hardlink shares its target's attributes and content",
		layers: [][]ent{{{name: "a", body: "data", mode: 0o755, uid: 7}, hardlink("b", "a"), symlink("s", "a")}},
		want:   []string{"/a file 0755 7:0 4", "/b file 0755 7:0 =/a", "/s symlink 0777 0:0 ->a"},
	}, {
		name:   "AUFS metadata is skipped",
		layers: [][]ent{{file(".wh..wh.plnk/1.2", "x"), dir(".wh..wh.aufs"), file("f", "x")}},
		want:   []string{"/f file 0644 0:0 1"},
	}, {
		name:   "leading slashes and dots are cleaned",
		layers: [][]ent{{dir("./"), file("/etc/./hosts", "h")}},
		want:   []string{"/etc dir 0755 0:0 implied", "/etc/hosts file 0644 0:0 1"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tars [][]byte
			for _, l := range tt.layers {
				tars = append(tars, layerTar(t, l...))
			}
			tr, err := flattenTars(t, tars...)
			if err != nil {
				t.Fatal(err)
			}
			if got := describe(tr); !slices.Equal(got, tt.want) {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestApplyRefuses(t *testing.T) {
	tests := []struct {
		name   string
		layers [][]ent
		want   string
	}{
		{"a hardlink to nothing", [][]ent{{hardlink("b", "a")}}, `hardlink target "a" does not exist`},
		{"a hardlink to a directory", [][]ent{{dir("d"), hardlink("b", "d")}}, "is a directory"},
		{"a duplicate entry", [][]ent{{file("f", "1"), file("./f", "2")}}, "duplicate entry"},
		{"a name above the root", [][]ent{{file("../x", "1")}}, "leaves the root"},
		{"an entry below a symbolic link", [][]ent{{symlink("lib", "usr/lib")}, {file("lib/x", "1")}}, "symbolic link"},
		{"an entry below a file", [][]ent{{file("f", "1"), file("f/x", "1")}}, "not a directory"},
		{"a malformed whiteout", [][]ent{{file("d/.wh..", "")}}, "whiteout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tars [][]byte
			for _, l := range tt.layers {
				tars = append(tars, layerTar(t, l...))
			}
			if _, err := flattenTars(t, tars...); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestApplyDigestsContent: a regular file's digest is its content's.
func TestApplyDigestsContent(t *testing.T) {
	tr, err := flattenTars(t, layerTar(t, file("f", "hello")))
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("sha256:%x", sha256.Sum256([]byte("hello")))
	if got := tr.lookup("f"); got == nil || string(got.Digest) != want || got.Size != 5 {
		t.Fatalf("got %+v, want digest %s size 5", got, want)
	}
}

// TestCloneIsDeep: changing a clone leaves the original alone.
func TestCloneIsDeep(t *testing.T) {
	tr, err := flattenTars(t, layerTar(t, dir("d"), file("d/f", "x")))
	if err != nil {
		t.Fatal(err)
	}
	c := tr.clone()
	if err := c.apply(context.Background(), bytes.NewReader(layerTar(t, file("d/.wh.f", ""), file("d/g", "y")))); err != nil {
		t.Fatal(err)
	}
	if got, want := describe(tr), []string{"/d dir 0755 0:0", "/d/f file 0644 0:0 1"}; !slices.Equal(got, want) {
		t.Errorf("original changed: %q", got)
	}
}
