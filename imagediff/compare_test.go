package imagediff

import (
	"archive/tar"
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minibuild/minibuild/builder"
	digest "github.com/opencontainers/go-digest"
)

func TestCompareFiles(t *testing.T) {
	base := []ent{dir("etc"), file("etc/hosts", "127.0.0.1"), file("bin", "sh"), symlink("lnk", "etc/hosts")}
	tests := []struct {
		name        string
		a, b        [][]ent // layers on top of base
		ignoreTimes bool
		want        []string
		differ      bool
	}{{
		name:   "added and removed",
		a:      [][]ent{{file("old", "o")}},
		b:      [][]ent{{dir("new"), file("new/f", "n")}},
		want:   []string{"A /new", "A /new/f", "D /old"},
		differ: true,
	}, {
		name:   "content",
		a:      [][]ent{{file("etc/hosts", "127.0.0.1")}},
		b:      [][]ent{{file("etc/hosts", "127.0.0.2")}},
		want:   []string{"C /etc/hosts content"},
		differ: true,
	}, {
		name:   "mode, owner and mtime",
		a:      [][]ent{{{name: "f", body: "x"}}},
		b:      [][]ent{{{name: "f", body: "x", mode: 0o4755, uid: 1000, gid: 100, mtime: 1700000000}}},
		want:   []string{"C /f mode,owner,mtime"},
		differ: true,
	}, {
		name:        "mtimes ignored",
		a:           [][]ent{{{name: "f", body: "x"}}},
		b:           [][]ent{{{name: "f", body: "x", mtime: 1700000000}}},
		ignoreTimes: true,
		want:        []string{},
		differ:      false,
	}, {
		name:   "link target and type",
		a:      [][]ent{{symlink("lnk", "bin"), file("t", "x")}},
		b:      [][]ent{{symlink("lnk", "etc/hosts"), symlink("t", "bin")}},
		want:   []string{"C /lnk link", "C /t type,mode"},
		differ: true,
	}, {
		name:   "xattrs",
		a:      [][]ent{{{name: "f", body: "x", xattrs: map[string]string{"user.a": "1"}}}},
		b:      [][]ent{{{name: "f", body: "x", xattrs: map[string]string{"user.a": "2"}}}},
		want:   []string{"C /f xattrs"},
		differ: true,
	}, {
		name:   "device numbers",
		a:      [][]ent{{{name: "dev/null", typ: tar.TypeChar, mode: 0o666, major: 1, minor: 3}}},
		b:      [][]ent{{{name: "dev/null", typ: tar.TypeChar, mode: 0o666, major: 1, minor: 5}}},
		want:   []string{"C /dev/null device"},
		differ: true,
	}, {
		name:   "a hard link against a copy",
		a:      [][]ent{{file("f", "data"), hardlink("g", "f")}},
		b:      [][]ent{{file("f", "data"), file("g", "data")}},
		want:   []string{"C /g hardlink"},
		differ: true,
	}, {
		name:   "a directory against a file lists the subtree",
		a:      [][]ent{{dir("d"), file("d/x", "1"), file("d/y", "2")}},
		b:      [][]ent{{file("d", "f")}},
		want:   []string{"C /d type,mode", "D /d/x", "D /d/y"},
		differ: true,
	}, {
		name:   "a whiteout in an upper layer against never having the file",
		a:      [][]ent{{file("tmp", "junk")}, {file(".wh.tmp", "")}},
		b:      [][]ent{},
		want:   []string{},
		differ: true, // the layers differ, though no file does
	}, {
		name:   "an opaque directory against a removal file by file",
		a:      [][]ent{{file("etc/.wh..wh..opq", ""), file("etc/new", "n")}},
		b:      [][]ent{{file("etc/.wh.hosts", ""), file("etc/new", "n")}},
		want:   []string{},
		differ: true,
	}, {
		name:   "an opaque directory hides only the lower files",
		a:      [][]ent{{file("etc/.wh..wh..opq", "")}},
		b:      [][]ent{},
		want:   []string{"A /etc/hosts"},
		differ: true,
	}, {
		name: "the same files in other layers",
		a:    [][]ent{{file("x", "1")}, {file("y", "2")}},
		b:    [][]ent{{file("x", "1"), file("y", "2")}},
		want: []string{}, differ: true,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := testImage(t, "a", builder.Image{}, tars(t, base, tt.a)...)
			b := testImage(t, "b", builder.Image{}, tars(t, base, tt.b)...)
			a.Config.History, b.Config.History = nil, nil // only files here
			res, err := Compare(context.Background(), a, b, Options{IgnoreTimes: tt.ignoreTimes})
			if err != nil {
				t.Fatal(err)
			}
			if got := changeLines(res.Files); !slices.Equal(got, tt.want) {
				t.Errorf("files:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if res.Differ != tt.differ || res.Identical {
				t.Errorf("differ %v identical %v, want differ %v", res.Differ, res.Identical, tt.differ)
			}
			if !res.Layers[0].Shared {
				t.Errorf("the base layer is not shared: %+v", res.Layers[0])
			}
		})
	}
}

// tars makes the tars of base and the layers on top.
func tars(t *testing.T, base []ent, top [][]ent) [][]byte {
	out := [][]byte{layerTar(t, base...)}
	for _, l := range top {
		out = append(out, layerTar(t, l...))
	}
	return out
}

func TestCompareFileRecords(t *testing.T) {
	a := testImage(t, "a", builder.Image{}, layerTar(t, file("f", "one"), symlink("s", "f")))
	b := testImage(t, "b", builder.Image{}, layerTar(t, file("f", "three"), hardlink("s", "f")))
	res, err := Compare(context.Background(), a, b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 2 {
		t.Fatalf("files: %q", changeLines(res.Files))
	}
	f := res.Files[0]
	if f.A.Size != 3 || f.B.Size != 5 || f.A.Digest == f.B.Digest || f.A.Digest == "" {
		t.Errorf("content of /f: %+v -> %+v", f.A, f.B)
	}
	s := res.Files[1]
	if s.A.Type != TypeSymlink || s.A.Link != "f" || s.B.Type != TypeFile || s.B.Hardlink != "/f" || s.B.Digest != f.B.Digest {
		t.Errorf("/s: %+v -> %+v", s.A, s.B)
	}
	if got, want := strings.Join(s.Changes, ","), "type,mode,hardlink"; got != want {
		t.Errorf("changes of /s: %s, want %s", got, want)
	}
}

func TestCompareIdentical(t *testing.T) {
	l := layerTar(t, file("f", "x"))
	a := testImage(t, "a", builder.Image{}, l)
	res, err := Compare(context.Background(), a, a, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Identical || res.Same != "manifest" || res.Differ {
		t.Errorf("same image: %+v", res)
	}
	// The same config under another manifest (another compression, say).
	b := a
	b.Descriptor.Digest = digest.Digest("sha256:" + strings.Repeat("0", 64))
	res, err = Compare(context.Background(), a, b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Identical || res.Same != "config" || res.Differ || len(res.Layers) != 1 || !res.Layers[0].Shared {
		t.Errorf("same config: %+v", res)
	}
}

func TestCompareRefusesBadLayers(t *testing.T) {
	a := testImage(t, "a", builder.Image{}, layerTar(t, file("f", "x")))
	b := testImage(t, "b", builder.Image{}, layerTar(t, file("f", "y")))
	t.Run("a diffID that does not match", func(t *testing.T) {
		bad := b
		bad.Config.RootFS.DiffIDs = slices.Clone(a.Config.RootFS.DiffIDs)
		bad.Config.RootFS.DiffIDs[0] = digest.Digest("sha256:" + strings.Repeat("1", 64))
		if _, err := Compare(context.Background(), a, bad, Options{}); err == nil || !strings.Contains(err.Error(), "diff_id") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("a missing blob", func(t *testing.T) {
		bad := b
		bad.Blobs = memBlobs{}
		if _, err := Compare(context.Background(), a, bad, Options{}); err == nil || !strings.Contains(err.Error(), "image b: layer 0") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("layers without diff_ids", func(t *testing.T) {
		bad := b
		bad.Config.RootFS.DiffIDs = nil
		if _, err := Compare(context.Background(), a, bad, Options{}); err == nil || !strings.Contains(err.Error(), "1 layers but 0 diff_ids") {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestFileJSON: the JSON of a File, with its stable field names.
func TestFileJSON(t *testing.T) {
	for _, tc := range []struct {
		f    File
		want string
	}{
		{File{Type: TypeFile, Mode: 0o4755, UID: 1, GID: 2, Size: 3, Digest: digest.FromString("abc"), ModTime: time.Unix(1, 5).UTC()},
			`{"type":"file","mode":"4755","uid":1,"gid":2,"size":3,"digest":"` + digest.FromString("abc").String() + `","mtime":"1970-01-01T00:00:01.000000005Z"}`},
		{File{Type: TypeDir, Mode: 0o755, Implied: true}, `{"type":"dir","mode":"0755","uid":0,"gid":0,"size":0,"implied":true}`},
		{File{Type: TypeSymlink, Mode: 0o777, Link: "../x", Xattrs: map[string]string{"user.a": "1"}, ModTime: time.Unix(0, 0).UTC()},
			`{"type":"symlink","mode":"0777","uid":0,"gid":0,"size":0,"link":"../x","mtime":"1970-01-01T00:00:00Z","xattrs":{"user.a":"1"}}`},
		{File{Type: TypeChar, Mode: 0o666, Devmajor: 1, Devminor: 3, Hardlink: "/dev/other"},
			`{"type":"char","mode":"0666","uid":0,"gid":0,"size":0,"hardlink":"/dev/other","devmajor":1,"devminor":3}`},
	} {
		got, err := json.Marshal(tc.f)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
		var back File
		if err := json.Unmarshal(got, &back); err != nil || !reflect.DeepEqual(back, tc.f) {
			t.Errorf("round trip of %s: %+v, %v", got, back, err)
		}
	}
}
