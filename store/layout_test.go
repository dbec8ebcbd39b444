package store

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minibuild/minibuild/internal/storetest"
)

func TestLayoutReadsInPlace(t *testing.T) {
	dir, a, b := exportedLayout(t)
	before := layoutFiles(t, dir)
	l := OpenLayout(dir)
	for _, tc := range []struct {
		tag  string
		want testImage
	}{{"one", a}, {"two", b}} {
		desc, err := l.Resolve(tc.tag, amd64)
		if err != nil {
			t.Fatalf("Resolve %s: %v", tc.tag, err)
		}
		if desc.Digest != tc.want.manifest.Digest {
			t.Fatalf("tag %s: got %s, want %s", tc.tag, desc.Digest, tc.want.manifest.Digest)
		}
		m, err := l.Manifest(desc)
		if err != nil {
			t.Fatal(err)
		}
		if m.Config.Digest != tc.want.config.Digest || len(m.Layers) != 1 || m.Layers[0].Digest != tc.want.layer.Digest {
			t.Fatalf("tag %s: manifest %+v", tc.tag, m)
		}
		if _, err := l.ReadBlob(m.Config); err != nil {
			t.Fatal(err)
		}
		rc, err := l.OpenDescriptor(m.Layers[0])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, rc); err != nil {
			t.Fatalf("reading layer: %v", err)
		}
		rc.Close()
	}
	if after := layoutFiles(t, dir); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Errorf("reading the layout changed its files:\n%v\nwant\n%v", after, before)
	}
}

func TestLayoutVerifiesBlobs(t *testing.T) {
	dir, a, _ := exportedLayout(t)
	storetest.FlipBit(t, filepath.Join(dir, "blobs", "sha256", a.layer.Digest.Encoded()))
	rc, err := OpenLayout(dir).OpenDescriptor(a.layer)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.Copy(io.Discard, rc); err == nil || !strings.Contains(err.Error(), a.layer.Digest.String()) {
		t.Fatalf("err = %v, want one naming %s", err, a.layer.Digest)
	}
}

// layoutFiles lists the files under dir with their sizes.
func layoutFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, rel+" "+fi.Mode().String())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSplitLayoutRef(t *testing.T) {
	for _, tc := range []struct{ in, dir, tag string }{
		{"out", "out", ""},
		{"out:dev", "out", "dev"},
		{"/tmp/out:v1.2", "/tmp/out", "v1.2"},
		{"./a:b/c", "./a:b/c", ""},
		{"./a:b/c:t", "./a:b/c", "t"},
		{"out:", "out", ""},
	} {
		if dir, tag := SplitLayoutRef(tc.in); dir != tc.dir || tag != tc.tag {
			t.Errorf("SplitLayoutRef(%q) = %q, %q; want %q, %q", tc.in, dir, tag, tc.dir, tc.tag)
		}
	}
}
