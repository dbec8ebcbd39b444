package rootfs

import (
	"errors"
	"io"
	"io/fs"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestOpenFile(t *testing.T) {
	f := newFixture(t)
	statTree(f)
	f.write("/dir/a", "A")
	if err := unix.Mkfifo(f.host("/fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	f.symlink("/fifo", "/fifo-link")
	tests := []struct {
		path    string
		content string // for a regular file
		names   string // for a directory: its entries, comma-separated
		err     error
		errHas  string
	}{
		{path: "/bin/busybox", content: "bb"},
		{path: "/bin/sh", content: "bb"},
		{path: "/etc/up/bin/sh", content: "bb"},
		{path: "/dir", names: "a"},
		{path: "/abs-escape/file", err: fs.ErrNotExist},
		{path: "/up/sentinel/file", err: fs.ErrNotExist},
		{path: "/fifo", errHas: "not a regular file"},
		{path: "/fifo-link", errHas: "not a regular file"},
		{path: "/dangling", err: fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			var got string
			var err error
			within(t, 5*time.Second, func() {
				file, oerr := f.r.OpenFile(tt.path)
				if err = oerr; err != nil {
					return
				}
				defer file.Close()
				if tt.names != "" {
					var names []string
					names, err = file.Readdirnames(-1)
					got = strings.Join(names, ",")
					return
				}
				var data []byte
				data, err = io.ReadAll(file)
				got = string(data)
			})
			switch {
			case tt.err != nil || tt.errHas != "":
				if err == nil || tt.err != nil && !errors.Is(err, tt.err) || !strings.Contains(err.Error(), tt.errHas) {
					t.Errorf("OpenFile error = %v; want %v %q", err, tt.err, tt.errHas)
				}
			case err != nil:
				t.Errorf("OpenFile: %v", err)
			case got != tt.content+tt.names:
				t.Errorf("read %q; want %q", got, tt.content+tt.names)
			}
		})
	}
}

func TestOpenFileDevice(t *testing.T) {
	needRoot(t)
	f := newFixture(t)
	f.mkdir("/dev")
	if err := unix.Mknod(f.host("/dev/zero"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 5))); err != nil {
		t.Fatal(err)
	}
	within(t, 5*time.Second, func() {
		if _, err := f.r.OpenFile("/dev/zero"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("OpenFile(/dev/zero) error = %v; want not a regular file", err)
		}
	})
}

func TestOpenDir(t *testing.T) {
	f := newFixture(t)
	statTree(f)
	f.mkdir("/real/sub")
	f.write("/real/sub/file", "x")
	f.symlink("/real", "/d")
	for _, p := range []string{"/real/sub", "/d/sub", "/etc/d/sub", "/up/d/sub"} {
		t.Run(p, func(t *testing.T) {
			dir, err := f.r.OpenDir(p)
			if err != nil {
				t.Fatal(err)
			}
			defer dir.Close()
			flags, err := unix.FcntlInt(dir.Fd(), unix.F_GETFL, 0)
			if err != nil || flags&unix.O_PATH == 0 {
				t.Errorf("flags = %#x, %v; want O_PATH", flags, err)
			}
			var st unix.Stat_t
			if err := unix.Fstatat(int(dir.Fd()), "file", &st, unix.AT_SYMLINK_NOFOLLOW); err != nil || st.Size != 1 {
				t.Errorf("file through the descriptor: size %d, %v", st.Size, err)
			}
		})
	}
	for _, tt := range []struct {
		path string
		err  error
	}{
		{"/bin/busybox", unix.ENOTDIR},
		{"/bin/sh", unix.ENOTDIR},
		{"/abs-escape", fs.ErrNotExist},
		{"/rel-escape", fs.ErrNotExist},
	} {
		if _, err := f.r.OpenDir(tt.path); !errors.Is(err, tt.err) {
			t.Errorf("OpenDir(%s) error = %v; want %v", tt.path, err, tt.err)
		}
	}
}
