package snapshot

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minibuild/minibuild/tarutil"
	digest "github.com/opencontainers/go-digest"
)

// requireRoot skips tests that mount, chown or mknod.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: needs root (mounts, chown, mknod, trusted xattrs)")
	}
}

// requireOverlay skips tests of the overlay snapshotter where it cannot
// work.
func requireOverlay(t *testing.T, stateDir string) {
	t.Helper()
	requireRoot(t)
	if err := CheckOverlay(stateDir); err != nil {
		t.Skipf("skipping: overlayfs not usable: %v", err)
	}
}

// tentry is one entry of a test layer.
type tentry struct {
	name     string
	typ      byte
	mode     int64
	uid, gid int
	body     string
	link     string
	xattrs   map[string]string
	mtime    time.Time
}

// testTime is the mtime of every test layer entry without one; its
// nanoseconds check that copies keep them.
var testTime = time.Unix(1577836800, 123456789)

func dirE(name string, mode int64) tentry { return tentry{name: name, typ: tar.TypeDir, mode: mode} }
func fileE(name, body string) tentry {
	return tentry{name: name, typ: tar.TypeReg, mode: 0o644, body: body}
}

// layerTar encodes entries as a PAX tar stream.
func layerTar(t *testing.T, entries []tentry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		mt := e.mtime
		if mt.IsZero() {
			mt = testTime
		}
		hdr := &tar.Header{
			Typeflag: e.typ, Name: e.name, Mode: e.mode, Uid: e.uid, Gid: e.gid,
			Linkname: e.link, ModTime: mt, Format: tar.FormatPAX,
		}
		if e.typ == tar.TypeReg {
			hdr.Size = int64(len(e.body))
		}
		for k, v := range e.xattrs {
			if hdr.PAXRecords == nil {
				hdr.PAXRecords = map[string]string{}
			}
			hdr.PAXRecords["SCHILY.xattr."+k] = v
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// countedLayer is a test layer that counts how often it is opened.
type countedLayer struct {
	Layer
	opens *atomic.Int64
}

// makeLayer turns raw tar bytes into a Layer.
func makeLayer(data []byte) countedLayer {
	opens := new(atomic.Int64)
	return countedLayer{
		Layer: Layer{
			DiffID: digest.FromBytes(data),
			Open: func() (io.ReadCloser, error) {
				opens.Add(1)
				return io.NopCloser(bytes.NewReader(data)), nil
			},
		},
		opens: opens,
	}
}

// testChain returns the chain the diff tests start from: a base layer and
// a second one with a whiteout, an opaque directory and merged directories.
func testChain(t *testing.T) []Layer {
	t.Helper()
	l1 := []tentry{
		dirE("etc/", 0o755),
		fileE("etc/conf", "conf v1"),
		fileE("etc/other", "other"),
		dirE("usr/", 0o755), dirE("usr/bin/", 0o755),
		{name: "usr/bin/tool", typ: tar.TypeReg, mode: 0o755, body: "#!tool"},
		dirE("var/", 0o755), dirE("var/lib/", 0o755), dirE("var/lib/data/", 0o755),
		fileE("var/lib/data/a", "a"), fileE("var/lib/data/b", "b"),
		dirE("var/cache/", 0o755), fileE("var/cache/old", "old"),
		dirE("opt/", 0o755), dirE("opt/old/", 0o755), fileE("opt/old/x", "x"),
		dirE("opt/old/y/", 0o700), fileE("opt/old/y/z", "z"),
		fileE("opt/gone", "gone"), fileE("opt/stay", "stay"),
		{name: "keep/", typ: tar.TypeDir, mode: 0o750, uid: 1},
		{name: "keep/k", typ: tar.TypeReg, mode: 0o600, uid: 1, body: "k", xattrs: map[string]string{"user.k": "v"}},
		fileE("hl1", "linked"),
		{name: "hl2", typ: tar.TypeLink, link: "hl1"},
		dirE("srv/", 0o755),
	}
	l2 := []tentry{
		dirE("etc/", 0o755),
		fileE("etc/conf2", "conf2"),
		dirE("opt/", 0o755),
		fileE("opt/.wh.gone", ""),
		dirE("var/", 0o755), dirE("var/cache/", 0o755),
		fileE("var/cache/.wh..wh..opq", ""),
		fileE("var/cache/new", "new"), fileE("var/cache/new2", "new2"),
		dirE("usr/", 0o755), dirE("usr/bin/", 0o755),
		{name: "usr/bin/tool2", typ: tar.TypeReg, mode: 0o755, body: "tool2"},
	}
	return []Layer{makeLayer(layerTar(t, l1)).Layer, makeLayer(layerTar(t, l2)).Layer}
}

// render describes entries as comparable lines, without mtimes:
// "name|type|mode|uid:gid|detail[|xattrs]". Regular files show their
// content read through Open.
func render(t *testing.T, entries []tarutil.Entry) []string {
	t.Helper()
	out := []string{}
	for _, e := range entries {
		var detail string
		switch e.Type {
		case tar.TypeReg:
			if e.Open != nil {
				rc, err := e.Open()
				if err != nil {
					t.Fatalf("opening %s: %v", e.Name, err)
				}
				b, err := io.ReadAll(rc)
				rc.Close()
				if err != nil {
					t.Fatalf("reading %s: %v", e.Name, err)
				}
				if int64(len(b)) != e.Size {
					t.Fatalf("%s: read %d bytes, Size %d", e.Name, len(b), e.Size)
				}
				detail = string(b)
			} else if e.Size != 0 {
				t.Fatalf("%s: size %d without Open", e.Name, e.Size)
			}
		case tar.TypeSymlink, tar.TypeLink:
			detail = e.Linkname
		case tar.TypeChar, tar.TypeBlock:
			detail = fmt.Sprintf("%d,%d", e.Devmajor, e.Devminor)
		}
		line := fmt.Sprintf("%s|%s|%o|%d:%d|%s", e.Name, typeName(e.Type), e.Mode, e.UID, e.GID, detail)
		if len(e.Xattrs) > 0 {
			var kv []string
			for k, v := range e.Xattrs {
				kv = append(kv, k+"="+v)
			}
			slices.Sort(kv)
			line += "|" + strings.Join(kv, ",")
		}
		out = append(out, line)
	}
	return out
}

func typeName(typ byte) string {
	switch typ {
	case tar.TypeReg:
		return "f"
	case tar.TypeDir:
		return "d"
	case tar.TypeSymlink:
		return "l"
	case tar.TypeLink:
		return "h"
	case tar.TypeChar:
		return "c"
	case tar.TypeBlock:
		return "b"
	case tar.TypeFifo:
		return "p"
	}
	return string(typ)
}

// applyChain applies layers (uncompressed tars) into a fresh directory the
// way a consumer of the image would, and returns it.
func applyChain(t *testing.T, layers ...func() (io.ReadCloser, error)) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, open := range layers {
		rc, err := open()
		if err != nil {
			t.Fatal(err)
		}
		_, err = tarutil.Apply(context.Background(), dir, rc, tarutil.ApplyOptions{LayerName: fmt.Sprint(i)})
		rc.Close()
		if err != nil {
			t.Fatalf("applying layer %d: %v", i, err)
		}
	}
	return dir
}

// treeLines renders the whole tree at dir.
func treeLines(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := tarutil.DirEntries(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	return render(t, entries)
}

// diffLines reports the first difference between two line lists.
func diffLines(got, want []string) string {
	if slices.Equal(got, want) {
		return ""
	}
	return fmt.Sprintf("got:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
}
