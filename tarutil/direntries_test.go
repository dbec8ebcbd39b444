package tarutil

import (
	"archive/tar"
	"bytes"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// buildSourceTree fills dir with every kind of object DirEntries handles.
func buildSourceTree(t testing.TB, dir string) {
	t.Helper()
	p := func(rel string) string { return filepath.Join(dir, rel) }
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	mkdir := func(rel string, mode uint32, uid, gid int) {
		check(os.MkdirAll(p(rel), 0o755))
		check(os.Lchown(p(rel), uid, gid))
		check(unix.Chmod(p(rel), mode))
	}
	file := func(rel, body string, mode uint32, uid, gid int) {
		check(os.WriteFile(p(rel), []byte(body), 0o600))
		check(os.Lchown(p(rel), uid, gid))
		check(unix.Chmod(p(rel), mode))
	}
	mkdir("app", 0o755, 0, 0)
	mkdir("app/bin", 0o2755, 0, 50)
	mkdir("tmp", 0o1777, 0, 0)
	mkdir("deep/a/b/c", 0o700, 12, 13)
	mkdir("zz", 0o755, 0, 0)
	file("app/bin/tool", "tool\n", 0o4755, 1000, 1000)
	file("app/data.txt", "data\n", 0o644, 0, 0)
	file("app/empty", "", 0o600, 0, 0)
	big := make([]byte, 300<<10)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range big {
		big[i] = byte(r.IntN(256))
	}
	file("deep/a/b/c/big.bin", string(big), 0o640, 12, 13)
	file("app/xattrs", "x", 0o644, 0, 0)
	check(unix.Lsetxattr(p("app/xattrs"), "user.foo", []byte("bar"), 0))
	check(unix.Lsetxattr(p("app/xattrs"), "trusted.keep", []byte("1"), 0))
	check(unix.Lsetxattr(p("app/xattrs"), OverlayOpaqueXattr, []byte("y"), 0))
	check(unix.Lsetxattr(p("app/bin"), "user.dir", []byte("d"), 0))
	check(os.Link(p("app/data.txt"), p("app/hard")))
	check(os.Link(p("app/data.txt"), p("zz/hard2")))
	check(os.Symlink("bin/tool", p("app/link")))
	check(os.Lchown(p("app/link"), 7, 7))
	check(os.Symlink("/etc/passwd", p("app/abs")))
	check(os.Symlink("nowhere", p("app/dangling")))
	check(unix.Mkfifo(p("app/fifo"), 0o640))
	check(unix.Chmod(p("app/fifo"), 0o640))
	mkdir("dev", 0o755, 0, 0)
	check(unix.Mknod(p("dev/null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
	check(unix.Chmod(p("dev/null"), 0o666))
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: p("app/sock"), Net: "unix"})
	check(err)
	l.SetUnlinkOnClose(false)
	l.Close()

	// Times: some before the test epoch (kept by clamping), some after.
	old := time.Date(2020, 2, 3, 4, 5, 6, 789, time.UTC)
	recent := epoch.Add(48 * time.Hour)
	i := 0
	err = filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if err != nil || path == dir || fi.IsDir() {
			return err
		}
		i++
		ts := old.Add(time.Duration(i) * time.Hour)
		if i%2 == 0 {
			ts = recent
		}
		return unix.UtimesNanoAt(unix.AT_FDCWD, path, timespecs(ts, ts), unix.AT_SYMLINK_NOFOLLOW)
	})
	check(err)
	for j, d := range []string{"deep/a/b/c", "deep/a/b", "deep/a", "deep", "app/bin", "app", "tmp", "zz", "dev"} {
		ts := old.Add(time.Duration(j) * time.Minute)
		if j%2 == 1 {
			ts = recent
		}
		check(unix.UtimesNanoAt(unix.AT_FDCWD, p(d), timespecs(ts, ts), unix.AT_SYMLINK_NOFOLLOW))
	}
}

// readAll returns the content of a regular entry.
func readAll(t testing.TB, e Entry) string {
	t.Helper()
	if e.Open == nil {
		return ""
	}
	rc, err := e.Open()
	if err != nil {
		t.Fatalf("opening %s: %v", e.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// compareEntries checks got against want, whose mtimes pass through stamp.
func compareEntries(t testing.TB, got, want []Entry, stamp func(time.Time) time.Time) {
	t.Helper()
	byName := map[string]Entry{}
	for _, e := range got {
		byName[e.Name] = e
	}
	if len(got) != len(want) {
		t.Errorf("got %d entries, want %d", len(got), len(want))
	}
	for _, w := range want {
		g, ok := byName[w.Name]
		if !ok {
			t.Errorf("missing %s", w.Name)
			continue
		}
		if g.Type != w.Type || g.Mode != w.Mode || g.UID != w.UID || g.GID != w.GID || g.Size != w.Size ||
			g.Linkname != w.Linkname || g.Devmajor != w.Devmajor || g.Devminor != w.Devminor {
			t.Errorf("%s: got %c %o %d:%d size=%d link=%q dev=%d,%d; want %c %o %d:%d size=%d link=%q dev=%d,%d",
				w.Name, g.Type, g.Mode, g.UID, g.GID, g.Size, g.Linkname, g.Devmajor, g.Devminor,
				w.Type, w.Mode, w.UID, w.GID, w.Size, w.Linkname, w.Devmajor, w.Devminor)
		}
		if !maps.Equal(g.Xattrs, w.Xattrs) {
			t.Errorf("%s: xattrs %v, want %v", w.Name, g.Xattrs, w.Xattrs)
		}
		if wt := stamp(w.ModTime); !g.ModTime.Equal(wt) {
			t.Errorf("%s: mtime %v, want %v", w.Name, g.ModTime, wt)
		}
		if w.Type == tar.TypeReg && readAll(t, g) != readAll(t, w) {
			t.Errorf("%s: content differs", w.Name)
		}
	}
}

func TestDirEntries(t *testing.T) {
	requireRoot(t)
	src := t.TempDir()
	buildSourceTree(t, src)
	entries, err := DirEntries(src, "")
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Entry{}
	var names []string
	for _, e := range entries {
		byName[e.Name] = e
		names = append(names, e.Name)
	}
	if !slices.IsSorted(names) {
		t.Errorf("entries not sorted: %q", names)
	}
	tests := []struct {
		name  string
		typ   byte
		mode  int64
		link  string
		check func(t *testing.T, e Entry)
	}{
		{name: "app", typ: tar.TypeDir, mode: 0o755},
		{name: "app/bin", typ: tar.TypeDir, mode: 0o2755, check: func(t *testing.T, e Entry) {
			if e.GID != 50 || e.Xattrs["user.dir"] != "d" {
				t.Errorf("gid %d xattrs %v", e.GID, e.Xattrs)
			}
		}},
		{name: "tmp", typ: tar.TypeDir, mode: 0o1777},
		{name: "app/bin/tool", typ: tar.TypeReg, mode: 0o4755, check: func(t *testing.T, e Entry) {
			if e.UID != 1000 || e.Size != 5 || readAll(t, e) != "tool\n" {
				t.Errorf("uid %d size %d", e.UID, e.Size)
			}
		}},
		{name: "app/data.txt", typ: tar.TypeReg, mode: 0o644},
		{name: "app/hard", typ: tar.TypeLink, mode: 0o644, link: "app/data.txt"},
		{name: "zz/hard2", typ: tar.TypeLink, mode: 0o644, link: "app/data.txt"},
		{name: "app/link", typ: tar.TypeSymlink, mode: 0o777, link: "bin/tool", check: func(t *testing.T, e Entry) {
			if e.UID != 7 || e.GID != 7 {
				t.Errorf("owner %d:%d, want 7:7", e.UID, e.GID)
			}
		}},
		{name: "app/abs", typ: tar.TypeSymlink, mode: 0o777, link: "/etc/passwd"},
		{name: "app/fifo", typ: tar.TypeFifo, mode: 0o640},
		{name: "dev/null", typ: tar.TypeChar, mode: 0o666, check: func(t *testing.T, e Entry) {
			if e.Devmajor != 1 || e.Devminor != 3 {
				t.Errorf("dev %d,%d", e.Devmajor, e.Devminor)
			}
		}},
		{name: "app/xattrs", typ: tar.TypeReg, mode: 0o644, check: func(t *testing.T, e Entry) {
			want := map[string]string{"user.foo": "bar", "trusted.keep": "1"}
			if !maps.Equal(e.Xattrs, want) {
				t.Errorf("xattrs %v, want %v", e.Xattrs, want)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, ok := byName[tc.name]
			if !ok {
				t.Fatalf("no entry %s", tc.name)
			}
			if e.Type != tc.typ || e.Mode != tc.mode || e.Linkname != tc.link {
				t.Errorf("got %c %o %q, want %c %o %q", e.Type, e.Mode, e.Linkname, tc.typ, tc.mode, tc.link)
			}
			if tc.check != nil {
				tc.check(t, e)
			}
		})
	}
	if _, ok := byName["app/sock"]; ok {
		t.Error("the socket became an entry")
	}
	if _, ok := byName[""]; ok {
		t.Error("the root became an entry")
	}
}

func TestDirEntriesPrefix(t *testing.T) {
	src := t.TempDir()
	if err := os.MkdirAll(filepath.Join(src, "a/b"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "a/b/f"), []byte("f"), 0o644); err != nil {
		t.Fatal(err)
	}
	entries, err := DirEntries(src, "app/")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name)
	}
	if want := []string{"app/a", "app/a/b", "app/a/b/f"}; !slices.Equal(names, want) {
		t.Errorf("names %q, want %q", names, want)
	}
	for _, bad := range []string{"app", "/app/", "../", "a//", "./a/"} {
		if _, err := DirEntries(src, bad); err == nil {
			t.Errorf("prefix %q accepted", bad)
		}
	}
	if _, err := DirEntries(filepath.Join(src, "missing"), ""); err == nil {
		t.Error("missing directory accepted")
	}
}

func TestDirEntriesOpenIsConfined(t *testing.T) {
	src := t.TempDir()
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"swapped", "d/f"} {
		if err := os.MkdirAll(filepath.Join(src, filepath.Dir(f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, f), []byte("orig"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(outside, filepath.Join(src, "ln")); err != nil {
		t.Fatal(err)
	}
	entries, err := DirEntries(src, "")
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Entry{}
	for _, e := range entries {
		byName[e.Name] = e
	}
	if _, ok := byName["ln/secret"]; ok {
		t.Fatal("DirEntries followed a symlinked directory")
	}
	// Replace one file by another inode and a parent by a symlink.
	if err := os.WriteFile(filepath.Join(src, "new"), []byte("evil"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(src, "new"), filepath.Join(src, "swapped")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(src, "d")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "f"), []byte("outside"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(src, "d")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"swapped", "d/f"} {
		rc, err := byName[name].Open()
		if err == nil {
			b, _ := io.ReadAll(rc)
			rc.Close()
			t.Errorf("Open(%s) succeeded after a swap, read %q", name, b)
		}
	}
	var buf bytes.Buffer
	if _, err := WriteLayer(&buf, entries, LayerOptions{}); err == nil {
		t.Error("WriteLayer succeeded over swapped files")
	}
}

func TestDirEntriesHardlinkGroups(t *testing.T) {
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "m"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "z", "b-c"} {
		if err := os.Link(filepath.Join(src, "m"), filepath.Join(src, n)); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := DirEntries(src, "p/")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name+" "+string(e.Type)+" "+e.Linkname)
	}
	want := []string{"p/a 0 ", "p/b-c 1 p/a", "p/m 1 p/a", "p/z 1 p/a"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
