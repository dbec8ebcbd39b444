package rootfs

import (
	"errors"
	"io/fs"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// statTree lays out the usual symlink tricks in a fixture's root.
func statTree(f *fixture) {
	f.mkdir("/bin", "/dir")
	f.write("/bin/busybox", "bb")
	f.symlink("/bin/busybox", "/bin/sh")
	f.symlink("/", "/etc")
	f.symlink("../../../..", "/up")
	f.symlink("/nope", "/dangling")
	f.symlink(f.sentinel, "/abs-escape")
	f.symlink("../sentinel", "/rel-escape")
	f.symlink("/proc/self/root"+f.sentinel, "/magic")
}

func TestLstatStat(t *testing.T) {
	f := newFixture(t)
	statTree(f)
	const missing = fs.ModeIrregular // marker: want fs.ErrNotExist
	tests := []struct {
		path      string
		lstatType fs.FileMode
		linkname  string
		statType  fs.FileMode
	}{
		{"/bin/sh", fs.ModeSymlink, "/bin/busybox", 0},
		{"bin/sh", fs.ModeSymlink, "/bin/busybox", 0},
		{"/etc/bin/sh", fs.ModeSymlink, "/bin/busybox", 0},
		{"/etc/etc/etc/bin/busybox", 0, "", 0},
		{"/up", fs.ModeSymlink, "../../../..", fs.ModeDir},
		{"/up/bin/busybox", 0, "", 0},
		{"/up/sentinel/file", missing, "", missing},
		{"/abs-escape/file", missing, "", missing},
		{"/rel-escape/file", missing, "", missing},
		{"/magic/file", missing, "", missing},
		{"/dangling", fs.ModeSymlink, "/nope", missing},
		{"/missing", missing, "", missing},
		{"/../../sentinel/file", missing, "", missing},
		{"/", fs.ModeDir, "", fs.ModeDir},
		{"", fs.ModeDir, "", fs.ModeDir},
		{"/dir/", fs.ModeDir, "", fs.ModeDir},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			li, err := f.r.Lstat(tt.path)
			switch {
			case tt.lstatType == missing:
				if !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("Lstat = %+v, %v; want ErrNotExist", li, err)
				}
			case err != nil:
				t.Errorf("Lstat: %v", err)
			case li.Mode.Type() != tt.lstatType || li.Linkname != tt.linkname:
				t.Errorf("Lstat = type %v link %q; want %v %q", li.Mode.Type(), li.Linkname, tt.lstatType, tt.linkname)
			}
			si, err := f.r.Stat(tt.path)
			switch {
			case tt.statType == missing:
				if !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("Stat = %+v, %v; want ErrNotExist", si, err)
				}
			case err != nil:
				t.Errorf("Stat: %v", err)
			case si.Mode.Type() != tt.statType || si.Linkname != "":
				t.Errorf("Stat = type %v link %q; want %v", si.Mode.Type(), si.Linkname, tt.statType)
			}
		})
	}
}

func TestStatAttributes(t *testing.T) {
	needRoot(t)
	f := newFixture(t)
	statTree(f)
	mtime := time.Date(2020, 1, 2, 3, 4, 5, 600, time.UTC)
	if err := os.Chown(f.host("/bin/busybox"), 1000, 1001); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(f.host("/bin/busybox"), 0o4755|os.ModeSetuid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(f.host("/bin/busybox"), mtime, mtime); err != nil {
		t.Fatal(err)
	}
	want := Info{Mode: 0o755 | fs.ModeSetuid, UID: 1000, GID: 1001, Size: 2, ModTime: mtime}
	for _, p := range []string{"/bin/busybox", "/bin/sh", "/up/etc/bin/sh"} {
		got, err := f.r.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if !got.ModTime.Equal(want.ModTime) || got.Mode != want.Mode || got.UID != want.UID || got.GID != want.GID || got.Size != want.Size {
			t.Errorf("Stat(%s) = %+v; want %+v", p, got, want)
		}
	}
	li, err := f.r.Lstat("/bin/sh")
	if err != nil {
		t.Fatal(err)
	}
	if li.Size != int64(len("/bin/busybox")) || li.Mode != fs.ModeSymlink|0o777 {
		t.Errorf("Lstat(/bin/sh) = %+v", li)
	}
}

func TestStatNotDir(t *testing.T) {
	f := newFixture(t)
	statTree(f)
	for _, p := range []string{"/bin/busybox/x", "/bin/sh/x"} {
		if _, err := f.r.Lstat(p); !errors.Is(err, unix.ENOTDIR) {
			t.Errorf("Lstat(%s) error = %v; want ENOTDIR", p, err)
		}
		if _, err := f.r.Stat(p); !errors.Is(err, unix.ENOTDIR) {
			t.Errorf("Stat(%s) error = %v; want ENOTDIR", p, err)
		}
	}
}

func TestSymlinkLoop(t *testing.T) {
	f := newFixture(t)
	f.symlink("/l2", "/l1")
	f.symlink("l1", "/l2")
	if _, err := f.r.Stat("/l1"); !errors.Is(err, unix.ELOOP) {
		t.Errorf("Stat(/l1) error = %v; want ELOOP", err)
	}
	if _, err := f.r.Lstat("/l1"); err != nil {
		t.Errorf("Lstat(/l1): %v", err)
	}
}

func TestClosed(t *testing.T) {
	dir := t.TempDir()
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.Dir() != dir {
		t.Errorf("Dir() = %q; want %q", r.Dir(), dir)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("second Close = %v; want ErrClosed", err)
	}
	if _, err := r.Stat("/"); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Stat after Close = %v; want ErrClosed", err)
	}
	if _, err := r.MkdirAll("/x", 0o755, 0, 0); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("MkdirAll after Close = %v; want ErrClosed", err)
	}
	if _, err := Open(dir + "/missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(missing) = %v; want ErrNotExist", err)
	}
}
