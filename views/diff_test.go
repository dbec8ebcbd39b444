package views

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/minibuild/minibuild/imagediff"
	digest "github.com/opencontainers/go-digest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// diffResult is a Result with one of everything PrintDiff shows.
func diffResult() *imagediff.Result {
	d := func(s string) digest.Digest { return digest.FromString(s) }
	la := &imagediff.Layer{Digest: d("blob0"), DiffID: d("diff0"), CreatedBy: "COPY busybox /bin/busybox"}
	lb := &imagediff.Layer{Digest: d("blob1"), DiffID: d("diff1"), CreatedBy: "COPY f.txt /f.txt"}
	lc := &imagediff.Layer{Digest: d("blob2"), DiffID: d("diff2"), CreatedBy: "COPY f.txt /f.txt"}
	recompressed := &imagediff.Layer{Digest: d("blob0-zstd"), DiffID: d("diff0"), CreatedBy: la.CreatedBy}
	epoch, later := time.Unix(0, 0).UTC(), time.Unix(1700000000, 5).UTC()
	return &imagediff.Result{
		A:      imagediff.ImageInfo{Name: "app:a", Manifest: d("ma"), Config: d("ca"), Platform: "linux/amd64"},
		B:      imagediff.ImageInfo{Name: "oci:out:b", Manifest: d("mb"), Config: d("cb"), Platform: "linux/amd64"},
		Differ: true,
		Config: []imagediff.ConfigChange{
			{Field: "config.Env", Key: "MODE", A: "a", B: "b"},
			{Field: "config.ExposedPorts", A: nil, B: "8080/tcp"},
			{Field: "config.Cmd", A: []string{"/bin/sh"}, B: nil},
		},
		Layers: []imagediff.LayerPair{
			{Index: 0, Shared: true, A: la, B: recompressed},
			{Index: 1, A: lb, B: lc},
			{Index: 2, A: lb},
		},
		Files: []imagediff.FileChange{
			{Path: "/dev/null", Kind: imagediff.Changed, Changes: []string{"device"},
				A: &imagediff.File{Type: "char", Mode: 0o666, Devmajor: 1, Devminor: 3},
				B: &imagediff.File{Type: "char", Mode: 0o666, Devmajor: 1, Devminor: 5}},
			{Path: "/f.txt", Kind: imagediff.Changed, Changes: []string{"content", "mode", "owner", "mtime", "xattrs"},
				A: &imagediff.File{Type: "file", Mode: 0o644, Size: 9, Digest: d("fa"), ModTime: epoch},
				B: &imagediff.File{Type: "file", Mode: 0o755, UID: 1000, GID: 1000, Size: 2048, Digest: d("fb"), ModTime: later,
					Xattrs: map[string]string{"user.b": "2", "user.a": "1"}}},
			{Path: "/g", Kind: imagediff.Changed, Changes: []string{"type", "hardlink"},
				A: &imagediff.File{Type: "symlink", Mode: 0o777, Link: "f.txt"},
				B: &imagediff.File{Type: "file", Mode: 0o644, Size: 9, Digest: d("fa"), Hardlink: "/f.txt"}},
			{Path: "/lnk", Kind: imagediff.Changed, Changes: []string{"link"},
				A: &imagediff.File{Type: "symlink", Mode: 0o777, Link: "a"}, B: &imagediff.File{Type: "symlink", Mode: 0o777, Link: "b"}},
			{Path: "/new", Kind: imagediff.Added, B: &imagediff.File{Type: "dir", Mode: 0o755}},
			{Path: "/new/x", Kind: imagediff.Added, B: &imagediff.File{Type: "symlink", Mode: 0o777, Link: "/f.txt"}},
			{Path: "/old\n", Kind: imagediff.Deleted, A: &imagediff.File{Type: "file", Mode: 0o600, Size: 1, Digest: d("o")}},
		},
	}
}

func TestPrintDiff(t *testing.T) {
	noFiles := diffResult()
	noFiles.Config, noFiles.Files = nil, nil
	timesOnly := diffResult()
	timesOnly.Config, timesOnly.Files, timesOnly.Differ, timesOnly.IgnoreTimes = nil, nil, false, true
	timesOnly.Layers = timesOnly.Layers[:2]
	sameManifest := &imagediff.Result{Identical: true, Same: "manifest", A: diffResult().A, B: diffResult().A}
	sameConfig := &imagediff.Result{Identical: true, Same: "config", A: diffResult().A, B: diffResult().B}
	sameConfig.B.Config = sameConfig.A.Config
	tests := []struct {
		golden  string
		res     *imagediff.Result
		noTrunc bool
	}{
		{"diff.txt", diffResult(), false},
		{"diff-notrunc.txt", diffResult(), true},
		{"diff-layers-only.txt", noFiles, false},
		{"diff-times-only.txt", timesOnly, false},
		{"diff-same-manifest.txt", sameManifest, false},
		{"diff-same-config.txt", sameConfig, false},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			var buf bytes.Buffer
			if err := PrintDiff(&buf, tt.res, tt.noTrunc); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tt.golden)
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test ./views -run TestPrintDiff -update writes it)", err)
			}
			if got := buf.String(); got != string(want) {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}
