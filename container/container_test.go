package container

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/minibuild/minibuild/snapshot"
	"github.com/minibuild/minibuild/tarutil"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestContainerArgs(t *testing.T) {
	img := ocispec.ImageConfig{Entrypoint: []string{"/entry", "-v"}, Cmd: []string{"serve"}}
	for _, tc := range []struct {
		name   string
		cfg    ocispec.ImageConfig
		ep     *string
		cmd    []string
		want   []string
		usageE bool
	}{
		{"image's entrypoint and cmd", img, nil, nil, []string{"/entry", "-v", "serve"}, false},
		{"cmd replaced, entrypoint stays", img, nil, []string{"ls", "-l"}, []string{"/entry", "-v", "ls", "-l"}, false},
		{"--entrypoint drops the image's cmd", img, str("sh"), nil, []string{"sh"}, false},
		{"--entrypoint with cmd", img, str("echo"), []string{"a"}, []string{"echo", "a"}, false},
		{"--entrypoint '' clears it", img, str(""), []string{"id"}, []string{"id"}, false},
		{"cmd only", ocispec.ImageConfig{Cmd: []string{"/bin/sh"}}, nil, nil, []string{"/bin/sh"}, false},
		{"nothing to run", ocispec.ImageConfig{}, nil, nil, nil, true},
		{"--entrypoint '' and no cmd", img, str(""), nil, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := commandOf(tc.cfg, tc.ep, tc.cmd)
			if tc.usageE {
				if !errors.As(err, new(*ArgumentError)) {
					t.Fatalf("got %q, %v; want a usage error", got, err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestContainerEnv(t *testing.T) {
	host := map[string]string{"HOSTVAR": "from host"}
	lookup := func(k string) (string, bool) { v, ok := host[k]; return v, ok }
	got, err := environment([]string{"PATH=/bin", "A=1"}, []string{"A=2", "B=x=y", "HOSTVAR", "UNSET", "EMPTY="}, lookup)
	want := []string{"PATH=/bin", "A=2", "B=x=y", "HOSTVAR=from host", "EMPTY="}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
	if _, err := environment(nil, []string{"=v"}, lookup); !errors.As(err, new(*ArgumentError)) {
		t.Errorf("an empty name: %v, want a usage error", err)
	}
}

// tarLayer is a layer of the named entries; a name ending in "/" is a
// directory.
func tarLayer(t *testing.T, names ...string) snapshot.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		h := &tar.Header{Name: n, Typeflag: tar.TypeReg, Mode: 0o644}
		if strings.HasSuffix(n, "/") {
			h.Typeflag, h.Mode = tar.TypeDir, 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	return snapshot.Layer{DiffID: "sha256:test", Open: func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}}
}

func TestImagePaths(t *testing.T) {
	chain := []snapshot.Layer{
		tarLayer(t, "etc/", "etc/passwd", "data/", "data/a", "data/b/", "data/b/c", "gone/", "gone/x", "dir2file/", "dir2file/inner", "./usr/bin/tool"),
		tarLayer(t, "data/.wh..wh..opq", "data/new", "data/a", ".wh.gone", "dir2file", "etc/.wh.passwd"),
	}
	set, err := imagePaths(chain)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for p := range set {
		got = append(got, p)
	}
	sort.Strings(got)
	// The opaque directory keeps only this layer's entries (data/a came
	// back); a whiteout removes a subtree; a file over a directory drops
	// the directory's children; parents missing from a tar are implied.
	want := []string{"/", "/data", "/data/a", "/data/new", "/dir2file", "/etc", "/usr", "/usr/bin", "/usr/bin/tool"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("paths %q\nwant  %q", got, want)
	}
	if set["/dir2file"] || !set["/data"] {
		t.Errorf("directory flags: /dir2file %v, /data %v", set["/dir2file"], set["/data"])
	}
}

func TestDiffLines(t *testing.T) {
	img := pathSet{"/": true, "/data": true, "/data/a": false, "/data/b": false, "/data/sub": true,
		"/data/sub/x": false, "/etc": true, "/etc/hosts": false}
	entries := func(names ...string) []tarutil.Entry {
		out := make([]tarutil.Entry, len(names))
		for i, n := range names {
			out[i] = tarutil.Entry{Name: n}
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		entries []tarutil.Entry
		want    []string
	}{
		{"add and change", entries("data", "data/a", "data/new", "new-top"), []string{"C /data", "C /data/a", "A /data/new", "A /new-top"}},
		{"whiteouts", entries("data", "data/.wh.b", "data/.wh.sub", "etc", "etc/.wh.hosts"), []string{"C /data", "D /data/b", "D /data/sub", "C /etc", "D /etc/hosts"}},
		{"opaque directory", entries("data", "data/.wh..wh..opq", "data/b", "data/fresh"), []string{"C /data", "D /data/a", "C /data/b", "A /data/fresh", "D /data/sub"}},
		{"root entry skipped", entries("", "tmp"), []string{"A /tmp"}},
		{"nothing", nil, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := diffLines(tc.entries, img); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func str(s string) *string { return &s }
