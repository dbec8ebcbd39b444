package container

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"reflect"
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

// fakeMount is a snapshot.Mount whose Diff returns fixed entries.
type fakeMount struct{ entries []tarutil.Entry }

func (m fakeMount) Root() string                                  { return "/nonexistent" }
func (m fakeMount) Diff(context.Context) ([]tarutil.Entry, error) { return m.entries, nil }
func (m fakeMount) Release() error                                { return nil }

var _ snapshot.Mount = fakeMount{}

func TestPrintDiff(t *testing.T) {
	chain := []snapshot.Layer{
		tarLayer(t, "etc/", "etc/passwd", "data/", "data/a", "data/b/", "data/b/c", "gone/", "gone/x", "dir2file/", "dir2file/inner", "./usr/bin/tool"),
		tarLayer(t, "data/.wh..wh..opq", "data/new", "data/a", ".wh.gone", "dir2file", "etc/.wh.passwd"),
	}
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
		mounted []string
		want    string
	}{
		{"nothing", nil, nil, ""},
		{"add, change, delete", entries("", "data", "data/.wh.a", "etc", "etc/passwd", "usr/bin/.wh.tool", "tmp"), nil,
			"C /data\nD /data/a\nC /etc\nA /etc/passwd\nA /tmp\nD /usr/bin/tool\n"},
		{"opaque directory", entries("data", "data/.wh..wh..opq", "data/new2"), nil,
			"C /data\nD /data/a\nD /data/new\nA /data/new2\n"},
		{"file over a directory's old children", entries("dir2file/inner"), nil, "A /dir2file/inner\n"},
		// What is at or under a mount's target went into the mount.
		{"mounts left out", entries("data", "data/.wh.a", "data/new", "datadir", "etc", "etc/passwd", "tmp", "tmp/x"), []string{"/data", "/tmp"},
			"A /datadir\nC /etc\nA /etc/passwd\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := printDiff(context.Background(), fakeMount{tc.entries}, chain, tc.mounted, &out); err != nil {
				t.Fatal(err)
			}
			if out.String() != tc.want {
				t.Errorf("got\n%s\nwant\n%s", out.String(), tc.want)
			}
		})
	}
}

func TestPrintDiffBadLayer(t *testing.T) {
	chain := []snapshot.Layer{tarLayer(t, "../escape")}
	err := printDiff(context.Background(), fakeMount{[]tarutil.Entry{{Name: "a"}}}, chain, nil, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "sha256:test") || !strings.Contains(err.Error(), "../escape") {
		t.Fatalf("printDiff = %v, want an error naming the layer and the entry", err)
	}
}

func str(s string) *string { return &s }
