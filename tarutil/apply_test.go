package tarutil

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// listTree returns the sorted relative paths under dir (dirs end in "/").
func listTree(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		if fi.IsDir() {
			rel += "/"
		}
		out = append(out, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func withMode(e tEntry, mode int64) tEntry { e.hdr.Mode = mode; return e }

func withOwner(e tEntry, uid, gid int) tEntry { e.hdr.Uid, e.hdr.Gid = uid, gid; return e }

func withTime(e tEntry, mtime time.Time) tEntry { e.hdr.ModTime = mtime; return e }

func TestApplyWhiteouts(t *testing.T) {
	requireRoot(t)
	tests := []struct {
		name  string
		lower []tEntry
		layer []tEntry
		want  []string // the tree afterwards
		check func(t *testing.T, root string)
	}{
		{name: "whiteout file",
			lower: []tEntry{dirE("a/"), reg("a/f", "f"), reg("a/g", "g")},
			layer: []tEntry{reg("a/.wh.f", "")},
			want:  []string{"a/", "a/g"}},
		{name: "whiteout directory",
			lower: []tEntry{dirE("d/"), dirE("d/x/"), reg("d/x/y", "y"), reg("e", "e")},
			layer: []tEntry{reg(".wh.d", "")},
			want:  []string{"e"}},
		{name: "whiteout of missing names creates nothing",
			layer: []tEntry{reg(".wh.nothing", ""), reg("x/.wh.y", "")},
			want:  nil},
		{name: "whiteout spares this layer's entry",
			layer: []tEntry{reg("n", "mine"), reg(".wh.n", ""), reg("p/q", "q"), reg(".wh.p", "")},
			want:  []string{"n", "p/", "p/q"}},
		{name: "whiteout then recreate",
			lower: []tEntry{dirE("n/"), reg("n/old", "old")},
			layer: []tEntry{reg(".wh.n", ""), dirE("n/"), reg("n/new", "new")},
			want:  []string{"n/", "n/new"}},
		{name: "opaque marker first",
			lower: []tEntry{dirE("d/"), reg("d/old", "o"), dirE("d/keep/"), reg("d/keep/x", "x"), reg("other", "o")},
			layer: []tEntry{dirE("d/"), reg("d/.wh..wh..opq", ""), reg("d/new", "n"), dirE("d/keep/"), reg("d/keep/y", "y")},
			want:  []string{"d/", "d/keep/", "d/keep/y", "d/new", "other"}},
		{name: "opaque marker after children",
			lower: []tEntry{dirE("d/"), reg("d/old", "o"), dirE("d/keep/"), reg("d/keep/x", "x"), reg("other", "o")},
			layer: []tEntry{dirE("d/"), reg("d/new", "n"), dirE("d/keep/"), reg("d/keep/y", "y"), reg("d/.wh..wh..opq", "")},
			want:  []string{"d/", "d/keep/", "d/keep/y", "d/new", "other"}},
		{name: "opaque marker keeps implied parents",
			lower: []tEntry{dirE("d/"), dirE("d/sub/"), reg("d/sub/old", "o")},
			layer: []tEntry{reg("d/sub/deep/new", "n"), reg("d/.wh..wh..opq", "")},
			want:  []string{"d/", "d/sub/", "d/sub/deep/", "d/sub/deep/new"}},
		{name: "opaque root",
			lower: []tEntry{reg("a", "a"), dirE("b/"), reg("b/c", "c")},
			layer: []tEntry{reg("c", "c"), reg(".wh..wh..opq", "")},
			want:  []string{"c"}},
		{name: "opaque marker without directory entry",
			lower: []tEntry{dirE("d/"), reg("d/old", "o")},
			layer: []tEntry{reg("d/.wh..wh..opq", "")},
			want:  []string{"d/"}},
		{name: "directory over directory keeps children, takes attributes",
			lower: []tEntry{withOwner(withMode(dirE("d/"), 0o700), 5, 5), reg("d/child", "c")},
			layer: []tEntry{withOwner(withMode(dirE("d/"), 0o751), 7, 8)},
			want:  []string{"d/", "d/child"},
			check: func(t *testing.T, root string) {
				if st := lstat(t, filepath.Join(root, "d")); st.Mode&0o7777 != 0o751 || st.Uid != 7 || st.Gid != 8 {
					t.Errorf("d: mode %o owner %d:%d, want 751 7:8", st.Mode&0o7777, st.Uid, st.Gid)
				}
			}},
		{name: "file over directory",
			lower: []tEntry{dirE("d/"), reg("d/child", "c")},
			layer: []tEntry{reg("d", "file")},
			want:  []string{"d"}},
		{name: "directory over file",
			lower: []tEntry{reg("d", "file")},
			layer: []tEntry{dirE("d/")},
			want:  []string{"d/"}},
		{name: "file over symlink to a lower file",
			lower: []tEntry{reg("target", "keep"), symE("l", "target")},
			layer: []tEntry{withMode(reg("l", "new"), 0o600)},
			want:  []string{"l", "target"},
			check: func(t *testing.T, root string) {
				if got := readFile(t, filepath.Join(root, "target")); got != "keep" {
					t.Errorf("target = %q, written through the symlink", got)
				}
				if st := lstat(t, filepath.Join(root, "target")); st.Mode&0o7777 != 0o644 {
					t.Errorf("target mode %o changed through the symlink", st.Mode&0o7777)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			if tc.lower != nil {
				if _, err := applyTar(t, root, buildTar(t, tc.lower...), ApplyOptions{}); err != nil {
					t.Fatalf("lower: %v", err)
				}
			}
			if _, err := applyTar(t, root, buildTar(t, tc.layer...), ApplyOptions{}); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if got := listTree(t, root); strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("tree = %q, want %q", got, tc.want)
			}
			if tc.check != nil {
				tc.check(t, root)
			}
		})
	}
}

// isOverlayWhiteout reports whether p is a 0:0 character device.
func isOverlayWhiteout(t testing.TB, p string) bool {
	t.Helper()
	st := lstat(t, p)
	return st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == 0
}

// opaqueXattrs returns the overlay opaque xattrs of p, trusted and user,
// as "KEY=VALUE" joined by spaces.
func opaqueXattrs(p string) string {
	var out []string
	for _, key := range []string{OverlayOpaqueXattr, OverlayUserOpaqueXattr} {
		if v := xattrValue(p, key); v != "" {
			out = append(out, key+"="+v)
		}
	}
	return strings.Join(out, " ")
}

func xattrValue(p, key string) string {
	buf := make([]byte, 16)
	n, err := unix.Lgetxattr(p, key, buf)
	if err != nil {
		return ""
	}
	return string(buf[:n])
}

func TestApplyOverlayWhiteouts(t *testing.T) {
	requireRoot(t)
	for _, mode := range []WhiteoutMode{WhiteoutOverlay, WhiteoutUserOverlay} {
		t.Run(mode.OpaqueXattr(), func(t *testing.T) {
			if mode == WhiteoutOverlay && rootless() {
				t.Skip("trusted.* xattrs cannot be set in this user namespace")
			}
			testApplyOverlayWhiteouts(t, mode)
		})
	}
}

// testApplyOverlayWhiteouts checks the overlay markers of mode, which
// marks opaque directories with its own xattr and never the other.
func testApplyOverlayWhiteouts(t *testing.T, mode WhiteoutMode) {
	opaque := mode.OpaqueXattr() + "=y"
	forged := dirE("forged/")
	forged.hdr.PAXRecords = map[string]string{"SCHILY.xattr." + OverlayOpaqueXattr: "y", "SCHILY.xattr." + OverlayUserOpaqueXattr: "y", "SCHILY.xattr.user.ok": "1"}
	tests := []struct {
		name  string
		lower []tEntry
		layer []tEntry
		want  []string
		check func(t *testing.T, root string)
	}{
		{name: "whiteouts become devices, opaque becomes xattr",
			layer: []tEntry{dirE("a/"), reg("a/.wh.f", ""), reg(".wh.b", ""), dirE("d/"), reg("d/new", "n"), reg("d/.wh..wh..opq", "")},
			want:  []string{"a/", "a/f", "b", "d/", "d/new"},
			check: func(t *testing.T, root string) {
				for _, p := range []string{"a/f", "b"} {
					if !isOverlayWhiteout(t, filepath.Join(root, p)) {
						t.Errorf("%s is not a 0:0 character device", p)
					}
				}
				if got := opaqueXattrs(filepath.Join(root, "d")); got != opaque {
					t.Errorf("d opaque xattr = %q, want %s", got, opaque)
				}
				if got := opaqueXattrs(filepath.Join(root, "a")); got != "" {
					t.Errorf("a opaque xattr = %q, want none", got)
				}
			}},
		{name: "whiteout replaces a lower name",
			lower: []tEntry{reg("f", "old")},
			layer: []tEntry{reg(".wh.f", "")},
			want:  []string{"f"},
			check: func(t *testing.T, root string) {
				if !isOverlayWhiteout(t, filepath.Join(root, "f")) {
					t.Error("f is not a whiteout device")
				}
			}},
		{name: "whiteout then directory makes it opaque",
			layer: []tEntry{reg(".wh.x", ""), dirE("x/"), reg("x/y", "y")},
			want:  []string{"x/", "x/y"},
			check: func(t *testing.T, root string) {
				if got := opaqueXattrs(filepath.Join(root, "x")); got != opaque {
					t.Errorf("x opaque xattr = %q, want %s", got, opaque)
				}
			}},
		{name: "opaque marker in a missing directory",
			layer: []tEntry{reg("m/.wh..wh..opq", "")},
			want:  []string{"m/"},
			check: func(t *testing.T, root string) {
				if got := opaqueXattrs(filepath.Join(root, "m")); got != opaque {
					t.Errorf("m opaque xattr = %q, want %s", got, opaque)
				}
			}},
		{name: "overlay xattrs in the layer are not trusted",
			layer: []tEntry{forged},
			want:  []string{"forged/"},
			check: func(t *testing.T, root string) {
				if got := opaqueXattrs(filepath.Join(root, "forged")); got != "" {
					t.Errorf("forged opaque xattr applied: %q", got)
				}
				buf := make([]byte, 8)
				if n, err := unix.Lgetxattr(filepath.Join(root, "forged"), "user.ok", buf); err != nil || string(buf[:n]) != "1" {
					t.Errorf("user.ok = %q, %v; want 1", buf[:n], err)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			opts := ApplyOptions{Whiteouts: mode}
			if tc.lower != nil {
				if _, err := applyTar(t, root, buildTar(t, tc.lower...), opts); err != nil {
					t.Fatalf("lower: %v", err)
				}
			}
			if _, err := applyTar(t, root, buildTar(t, tc.layer...), opts); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if got := listTree(t, root); strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("tree = %q, want %q", got, tc.want)
			}
			if tc.check != nil {
				tc.check(t, root)
			}
		})
	}
}

func TestApplyAttributes(t *testing.T) {
	requireRoot(t)
	t0 := time.Unix(1_500_000_000, 0)
	t1 := time.Unix(1_500_000_100, 0)
	t2 := time.Unix(1_500_000_200, 0)
	rootEntry := withTime(withMode(dirE("./"), 0o750), t0)
	layer := buildTar(t,
		rootEntry,
		withTime(withMode(dirE("d/"), 0o711), t1),
		withTime(withOwner(withMode(reg("d/suid", "#!/bin/true\n"), 0o4755), 1000, 1000), t2),
		withTime(withOwner(withMode(reg("d/sgid", "x"), 0o2755), 1000, 1000), t2),
		withTime(withMode(dirE("d/sticky/"), 0o1777), t2),
		withTime(reg("d/sticky/f", "y"), t2),
		withTime(withOwner(symE("d/link", "suid"), 33, 33), t1),
		tEntry{hdr: tar.Header{Typeflag: tar.TypeFifo, Name: "d/fifo", Mode: 0o640, Uid: 2, Gid: 3, ModTime: t1}},
		tEntry{hdr: tar.Header{Typeflag: tar.TypeChar, Name: "d/null", Mode: 0o666, Devmajor: 1, Devminor: 3, ModTime: t1}},
		tEntry{hdr: tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "global", PAXRecords: map[string]string{"comment": "x"}}},
	)
	root := t.TempDir()
	n, err := applyTar(t, root, layer, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len("#!/bin/true\n")+2) {
		t.Errorf("bytes written = %d, want %d", n, len("#!/bin/true\n")+2)
	}
	tests := []struct {
		path     string
		mode     uint32 // full st_mode
		uid, gid uint32
		mtime    time.Time
		rdev     uint64
	}{
		{".", unix.S_IFDIR | 0o750, 0, 0, t0, 0},
		{"d", unix.S_IFDIR | 0o711, 0, 0, t1, 0},
		{"d/suid", unix.S_IFREG | 0o4755, 1000, 1000, t2, 0},
		{"d/sgid", unix.S_IFREG | 0o2755, 1000, 1000, t2, 0},
		{"d/sticky", unix.S_IFDIR | 0o1777, 0, 0, t2, 0},
		{"d/link", unix.S_IFLNK | 0o777, 33, 33, t1, 0},
		{"d/fifo", unix.S_IFIFO | 0o640, 2, 3, t1, 0},
		{"d/null", unix.S_IFCHR | 0o666, 0, 0, t1, unix.Mkdev(1, 3)},
	}
	for _, tc := range tests {
		if tc.mode&unix.S_IFMT == unix.S_IFCHR && rootless() {
			if _, err := os.Lstat(filepath.Join(root, tc.path)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s: %v, want it left out (no device node can be made in a user namespace)", tc.path, err)
			}
			continue
		}
		st := lstat(t, filepath.Join(root, tc.path))
		mtime := time.Unix(st.Mtim.Sec, st.Mtim.Nsec)
		if st.Mode != tc.mode || st.Uid != tc.uid || st.Gid != tc.gid || !mtime.Equal(tc.mtime) || st.Rdev != tc.rdev {
			t.Errorf("%s: mode %o owner %d:%d mtime %v rdev %d; want %o %d:%d %v %d",
				tc.path, st.Mode, st.Uid, st.Gid, mtime, st.Rdev, tc.mode, tc.uid, tc.gid, tc.mtime, tc.rdev)
		}
	}
	if exists(filepath.Join(root, "global")) {
		t.Error("the global PAX header became a file")
	}
}

func TestApplyNoChown(t *testing.T) {
	root := t.TempDir()
	layer := buildTar(t, withOwner(reg("f", "x"), 4242, 4243), withOwner(dirE("d/"), 4242, 4243), withOwner(symE("l", "f"), 4242, 4243))
	if _, err := applyTar(t, root, layer, ApplyOptions{NoChown: true}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"f", "d", "l"} {
		if st := lstat(t, filepath.Join(root, p)); st.Uid == 4242 || st.Gid == 4243 {
			t.Errorf("%s was chowned to %d:%d despite NoChown", p, st.Uid, st.Gid)
		}
	}
}

func TestApplyErrors(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"unsupported type", buildTar(t, tEntry{hdr: tar.Header{Typeflag: 'V', Name: "vol"}}), "unsupported tar entry type"},
		{"truncated content", buildTar(t, reg("f", "0123456789"))[:512+5], `entry "f"`},
		{"garbage", bytes.Repeat([]byte("not a tar "), 100), "reading the first tar header"},
		{"dangling hardlink", buildTar(t, linkE("l", "missing")), `entry "l"`},
		{"hardlink to directory", buildTar(t, dirE("d/"), linkE("l", "d")), `entry "l"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := applyTar(t, t.TempDir(), tc.data, ApplyOptions{LayerName: "L", NoChown: true})
			mustContain(t, err, "layer L", tc.want)
		})
	}
	t.Run("missing root", func(t *testing.T) {
		_, err := applyTar(t, filepath.Join(t.TempDir(), "nope"), buildTar(t, reg("f", "")), ApplyOptions{LayerName: "L"})
		mustContain(t, err, "layer L", "opening root")
	})
}

func TestApplyCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	root := t.TempDir()
	_, err := Apply(ctx, root, bytes.NewReader(buildTar(t, reg("f", "x"))), ApplyOptions{NoChown: true})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if exists(filepath.Join(root, "f")) {
		t.Error("an entry was applied after cancellation")
	}
}

// TestRoundTrip reads a tree with DirEntries, writes it with WriteLayer,
// applies it with Apply and reads the result back.
func TestRoundTrip(t *testing.T) {
	requireRoot(t)
	src := t.TempDir()
	buildSourceTree(t, src)
	entries, err := DirEntries(src, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []Compression{Gzip, Zstd, Uncompressed} {
		t.Run(c.String(), func(t *testing.T) {
			var blob bytes.Buffer
			if _, err := WriteLayer(&blob, entries, LayerOptions{Compression: c, Epoch: epoch, Clamp: true}); err != nil {
				t.Fatal(err)
			}
			rc, err := Decompress(&blob)
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			dst := t.TempDir()
			n, err := Apply(context.Background(), dst, rc, ApplyOptions{LayerName: "roundtrip"})
			if err != nil {
				t.Fatal(err)
			}
			var want int64
			for _, e := range entries {
				want += e.Size
			}
			if n != want {
				t.Errorf("Apply wrote %d bytes, want %d", n, want)
			}
			got, err := DirEntries(dst, "")
			if err != nil {
				t.Fatal(err)
			}
			compareEntries(t, got, entries, mtimePolicy(LayerOptions{Epoch: epoch, Clamp: true}))
		})
	}
}

// TestApplyReplacedParent covers a layer that replaces an implied parent of
// one of its own directories: the directory is gone, and Apply must not
// fail setting its times at the end.
func TestApplyReplacedParent(t *testing.T) {
	root := t.TempDir()
	layer := buildTar(t, dirE("a/b/"), reg("a", "now a file"))
	if _, err := applyTar(t, root, layer, ApplyOptions{NoChown: true}); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(root, "a")); got != "now a file" {
		t.Errorf("a = %q", got)
	}
}
