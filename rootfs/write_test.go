package rootfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

var (
	mtime1 = time.Date(2019, 5, 6, 7, 8, 9, 123456789, time.UTC)
	mtime2 = time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
)

// writeTree lays out targets for WriteFile, Symlink and Mkdir in a fixture.
func writeTree(f *fixture) {
	f.mkdir("/real", "/dir/child", "/etcdir")
	f.write("/target", "target\n")
	f.write("/existing", "old\n")
	f.write("/dir/child/keep", "keep\n")
	f.symlink("/target", "/link-in")
	f.symlink("/nope", "/dangling")
	f.symlink(f.sentinel+"/file", "/link-abs-host")
	f.symlink("../sentinel/file", "/link-rel-host")
	f.symlink("../../../../../../sentinel/file", "/link-deep-host")
	f.symlink("/real", "/d")
	f.symlink("/", "/etc")
	f.symlink("../../../..", "/up")
	f.symlink(f.sentinel, "/esc")
	if err := os.Link(f.base+"/linked", f.host("/hardlink")); err != nil {
		f.t.Fatal(err)
	}
}

func TestWriteFile(t *testing.T) {
	needRoot(t)
	tests := []struct {
		name    string
		path    string
		landsAt string // host-side image path of the new regular file
		err     error  // want errors.Is
		untouch []string
	}{
		{name: "new file", path: "/new", landsAt: "/new"},
		{name: "relative path", path: "real/new", landsAt: "/real/new"},
		{name: "replaces file", path: "/existing", landsAt: "/existing"},
		{name: "replaces symlink not its target", path: "/link-in", landsAt: "/link-in", untouch: []string{"/target"}},
		{name: "replaces dangling symlink", path: "/dangling", landsAt: "/dangling", untouch: []string{"/nope"}},
		{name: "replaces symlink to host path", path: "/link-abs-host", landsAt: "/link-abs-host"},
		{name: "replaces relative escaping symlink", path: "/link-rel-host", landsAt: "/link-rel-host"},
		{name: "replaces deep escaping symlink", path: "/link-deep-host", landsAt: "/link-deep-host"},
		{name: "unlinks hard link to outside", path: "/hardlink", landsAt: "/hardlink"},
		{name: "through absolute dir symlink", path: "/d/f", landsAt: "/real/f"},
		{name: "etc -> /", path: "/etc/passwd", landsAt: "/passwd"},
		{name: "up -> ../../../..", path: "/up/new", landsAt: "/new"},
		{name: "dotdot cleaned", path: "/../../../new", landsAt: "/new"},
		{name: "escape through up", path: "/up/sentinel/new", err: fs.ErrNotExist},
		{name: "escape through host path link", path: "/esc/new", err: fs.ErrNotExist},
		{name: "existing dir", path: "/dir", err: unix.EISDIR, untouch: []string{"/dir/child/keep"}},
		{name: "root", path: "/", err: unix.EISDIR},
		{name: "missing parent", path: "/nope/x", err: fs.ErrNotExist},
		{name: "parent is file", path: "/target/x", err: unix.ENOTDIR},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			writeTree(f)
			before := map[string]string{}
			for _, p := range tt.untouch {
				before[p] = f.read(p)
			}
			err := f.r.WriteFile(tt.path, strings.NewReader("new content"), 0o640, 1000, 1001, mtime1)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("WriteFile error = %v; want %v", err, tt.err)
				}
			} else {
				if err != nil {
					t.Fatalf("WriteFile: %v", err)
				}
				fi, st := f.lstat(tt.landsAt)
				if !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o640 || st.Uid != 1000 || st.Gid != 1001 ||
					!fi.ModTime().Equal(mtime1) || f.read(tt.landsAt) != "new content" {
					t.Errorf("%s: mode %v owner %d:%d mtime %v content %q", tt.landsAt, fi.Mode(), st.Uid, st.Gid, fi.ModTime(), f.read(tt.landsAt))
				}
			}
			for _, p := range tt.untouch {
				if got := f.read(p); got != before[p] {
					t.Errorf("%s changed to %q", p, got)
				}
			}
			if _, err := os.Lstat(f.host("/nope")); !os.IsNotExist(err) {
				t.Errorf("/nope was created")
			}
		})
	}
}

func TestWriteFileSetuidSurvivesChown(t *testing.T) {
	needRoot(t)
	f := newFixture(t)
	mode := fs.FileMode(0o755) | fs.ModeSetuid | fs.ModeSetgid
	if err := f.r.WriteFile("/su", strings.NewReader("x"), mode, 1000, 1000, time.Time{}); err != nil {
		t.Fatal(err)
	}
	info, err := f.r.Lstat("/su")
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode != mode || info.UID != 1000 || info.GID != 1000 {
		t.Errorf("Lstat = %+v; want mode %v owner 1000:1000", info, mode)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestWriteFileReaderErrorRemovesFile(t *testing.T) {
	f := newFixture(t)
	err := f.r.WriteFile("/partial", io.MultiReader(strings.NewReader("some"), failingReader{}), 0o644, os.Getuid(), os.Getgid(), mtime1)
	if err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("WriteFile error = %v; want the reader's error", err)
	}
	if _, err := os.Lstat(f.host("/partial")); !os.IsNotExist(err) {
		t.Errorf("partial file left behind: %v", err)
	}
}

func TestSymlink(t *testing.T) {
	needRoot(t)
	tests := []struct {
		name    string
		path    string
		landsAt string
		err     error
	}{
		{name: "new", path: "/sh", landsAt: "/sh"},
		{name: "replaces file", path: "/existing", landsAt: "/existing"},
		{name: "replaces symlink", path: "/link-in", landsAt: "/link-in"},
		{name: "replaces symlink to host", path: "/link-abs-host", landsAt: "/link-abs-host"},
		{name: "through absolute dir symlink", path: "/d/sh", landsAt: "/real/sh"},
		{name: "escape through host path link", path: "/esc/new", err: fs.ErrNotExist},
		{name: "existing dir", path: "/dir", err: unix.EISDIR},
		{name: "missing parent", path: "/nope/sh", err: fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			writeTree(f)
			err := f.r.Symlink("/bin/busybox", tt.path, 1000, 1001, mtime1)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("Symlink error = %v; want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Symlink: %v", err)
			}
			fi, st := f.lstat(tt.landsAt)
			target, _ := os.Readlink(f.host(tt.landsAt))
			if fi.Mode().Type() != fs.ModeSymlink || target != "/bin/busybox" || st.Uid != 1000 || st.Gid != 1001 || !fi.ModTime().Equal(mtime1) {
				t.Errorf("%s: mode %v -> %q owner %d:%d mtime %v", tt.landsAt, fi.Mode(), target, st.Uid, st.Gid, fi.ModTime())
			}
			if got := f.read("/target"); got != "target\n" {
				t.Errorf("/target changed: %q", got)
			}
		})
	}
}

func TestMkdir(t *testing.T) {
	needRoot(t)
	mode := fs.FileMode(0o775) | fs.ModeSetgid
	tests := []struct {
		name    string
		path    string
		landsAt string
		keep    string // a child that must survive
		err     error
	}{
		{name: "new", path: "/newdir", landsAt: "/newdir"},
		{name: "existing dir takes attributes", path: "/dir/child", landsAt: "/dir/child", keep: "/dir/child/keep"},
		{name: "root takes attributes", path: "/", landsAt: "/", keep: "/dir/child/keep"},
		{name: "replaces file", path: "/existing", landsAt: "/existing"},
		{name: "replaces symlink to dir", path: "/d", landsAt: "/d"},
		{name: "replaces symlink to host", path: "/esc", landsAt: "/esc"},
		{name: "through absolute dir symlink", path: "/d/sub", landsAt: "/real/sub"},
		{name: "missing parent", path: "/nope/x", err: fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			writeTree(f)
			realBefore, _ := f.lstat("/real")
			err := f.r.Mkdir(tt.path, mode, 1000, 1001, mtime1)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("Mkdir error = %v; want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Mkdir: %v", err)
			}
			fi, st := f.lstat(tt.landsAt)
			if !fi.IsDir() || fi.Mode()&(fs.ModePerm|fs.ModeSetgid) != mode || st.Uid != 1000 || st.Gid != 1001 || !fi.ModTime().Equal(mtime1) {
				t.Errorf("%s: mode %v owner %d:%d mtime %v", tt.landsAt, fi.Mode(), st.Uid, st.Gid, fi.ModTime())
			}
			if tt.keep != "" && f.read(tt.keep) != "keep\n" {
				t.Errorf("%s lost", tt.keep)
			}
			if tt.landsAt != "/real/sub" && tt.landsAt != "/" {
				realAfter, _ := f.lstat("/real")
				if realAfter.Mode() != realBefore.Mode() || !realAfter.ModTime().Equal(realBefore.ModTime()) {
					t.Errorf("symlink target /real changed: %v %v", realAfter.Mode(), realAfter.ModTime())
				}
			}
		})
	}
}

func TestChtimes(t *testing.T) {
	tests := []struct {
		name     string
		path     string
		changed  string // image path whose mtime must become mtime2 (not followed)
		constant string // image path whose mtime must not change
		err      error
	}{
		{name: "symlink changes the link", path: "/link-in", changed: "/link-in", constant: "/target"},
		{name: "symlink to host", path: "/link-abs-host", changed: "/link-abs-host"},
		{name: "file", path: "/target", changed: "/target"},
		{name: "dir", path: "/real", changed: "/real", constant: "/d"},
		{name: "trailing slash is cleaned away", path: "/link-in/", changed: "/link-in", constant: "/target"},
		{name: "parent through symlink", path: "/d/../etc/real", changed: "/real", constant: "/d"},
		{name: "root", path: "/", changed: "/"},
		{name: "missing", path: "/nope", err: fs.ErrNotExist},
		{name: "escape", path: "/up/sentinel", err: fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			writeTree(f)
			var constBefore time.Time
			if tt.constant != "" {
				fi, _ := f.lstat(tt.constant)
				constBefore = fi.ModTime()
			}
			err := f.r.Chtimes(tt.path, mtime2)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("Chtimes error = %v; want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Chtimes: %v", err)
			}
			if fi, _ := f.lstat(tt.changed); !fi.ModTime().Equal(mtime2) {
				t.Errorf("%s mtime = %v; want %v", tt.changed, fi.ModTime(), mtime2)
			}
			if tt.constant != "" {
				if fi, _ := f.lstat(tt.constant); !fi.ModTime().Equal(constBefore) {
					t.Errorf("%s mtime changed to %v", tt.constant, fi.ModTime())
				}
			}
		})
	}
}
