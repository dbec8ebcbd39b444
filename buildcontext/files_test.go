package buildcontext

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestFiles(t *testing.T) {
	top := t.TempDir()
	dir := filepath.Join(top, "ctx")
	mkTree(t, top, "outside/secret=HOST")
	mkTree(t, dir,
		"f=hello", "d/a=1", "d/sub/b=22", "d/empty/",
		"d/ln -> ../f", "d/out -> ../../outside/secret", "d/abs -> /etc/passwd",
		"lnf -> f", "lnd -> d", "lnout -> ../outside/secret",
	)
	if err := os.Chmod(filepath.Join(dir, "f"), 0o755|fs.ModeSetuid); err != nil {
		t.Fatal(err)
	}
	mtime := time.Date(2020, 1, 2, 3, 4, 5, 6, time.UTC)
	if err := os.Chtimes(filepath.Join(dir, "f"), mtime, mtime); err != nil {
		t.Fatal(err)
	}
	c := openCtx(t, dir, Options{})

	type entry struct {
		Rel, Path string
		Mode      fs.FileMode
		Size      int64
		Linkname  string
	}
	strip := func(files []File) []entry {
		out := make([]entry, len(files))
		for i, f := range files {
			out[i] = entry{f.Rel, f.Path, f.Mode, f.Size, f.Linkname}
		}
		return out
	}
	dirMode := fs.ModeDir | 0o755
	dContents := []entry{
		{"a", "d/a", 0o644, 1, ""},
		{"abs", "d/abs", fs.ModeSymlink | 0o777, 0, "/etc/passwd"},
		{"empty", "d/empty", dirMode, 0, ""},
		{"ln", "d/ln", fs.ModeSymlink | 0o777, 0, "../f"},
		{"out", "d/out", fs.ModeSymlink | 0o777, 0, "../../outside/secret"},
		{"sub", "d/sub", dirMode, 0, ""},
		{"sub/b", "d/sub/b", 0o644, 2, ""},
	}
	tests := []struct {
		name    string
		src     Source
		want    []entry
		wantErr string
	}{
		{name: "file", src: Source{Path: "f"}, want: []entry{{"", "f", 0o755 | fs.ModeSetuid, 5, ""}}},
		{name: "dir lists contents, links unfollowed", src: Source{Path: "d", IsDir: true}, want: dContents},
		{name: "top-level link to file is followed", src: Source{Path: "lnf"}, want: []entry{{"", "f", 0o755 | fs.ModeSetuid, 5, ""}}},
		{name: "top-level link to dir is followed", src: Source{Path: "lnd", IsDir: true}, want: dContents},
		{name: "empty dir", src: Source{Path: "d/empty", IsDir: true}, want: []entry{}},
		{name: "top-level link outside", src: Source{Path: "lnout"}, wantErr: "outside the build context"},
		{name: "escaping source", src: Source{Path: "../outside/secret"}, wantErr: "outside the build context"},
		{name: "missing", src: Source{Path: "nope"}, wantErr: "source nope: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files, err := c.Files(tt.src)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Files(%q) = %v, %v; want error %q", tt.src.Path, files, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Files(%q): %v", tt.src.Path, err)
			}
			if got := strip(files); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Files(%q)\n got %+v\nwant %+v", tt.src.Path, got, tt.want)
			}
		})
	}

	t.Run("metadata", func(t *testing.T) {
		files, err := c.Files(Source{Path: "f"})
		if err != nil {
			t.Fatal(err)
		}
		f := files[0]
		if !f.ModTime.Equal(mtime) {
			t.Errorf("ModTime = %v, want %v", f.ModTime, mtime)
		}
		if f.UID != os.Getuid() || f.GID != os.Getgid() {
			t.Errorf("owner = %d:%d, want %d:%d", f.UID, f.GID, os.Getuid(), os.Getgid())
		}
	})
	t.Run("root lists everything but sockets", func(t *testing.T) {
		files, err := c.Files(Source{Path: ".", IsDir: true})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"d", "d/a", "d/abs", "d/empty", "d/ln", "d/out", "d/sub", "d/sub/b", "f", "lnd", "lnf", "lnout"}
		if got := rels(files); !reflect.DeepEqual(got, want) {
			t.Fatalf("Files(.) = %q, want %q", got, want)
		}
		for _, f := range files {
			if f.Rel != f.Path {
				t.Errorf("root source: Rel %q != Path %q", f.Rel, f.Path)
			}
		}
	})
}

func TestFilesOwnersAndSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	mkTree(t, dir, "d/owned")
	if err := unix.Mkfifo(filepath.Join(dir, "d/fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	root := os.Geteuid() == 0
	if root {
		if err := os.Lchown(filepath.Join(dir, "d/owned"), 1234, 5678); err != nil {
			t.Fatal(err)
		}
		if err := unix.Mknod(filepath.Join(dir, "d/null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
			t.Fatal(err)
		}
	}
	c := openCtx(t, dir, Options{})
	files, err := c.Files(Source{Path: "d", IsDir: true})
	if err != nil {
		t.Fatal(err)
	}
	byRel := map[string]File{}
	for _, f := range files {
		byRel[f.Rel] = f
	}
	if f := byRel["fifo"]; f.Mode.Type() != fs.ModeNamedPipe || f.Mode.Perm() != 0o600 {
		t.Errorf("fifo mode = %v", f.Mode)
	}
	if !root {
		t.Skip("owners and device nodes need root; the rest passed")
	}
	if f := byRel["owned"]; f.UID != 1234 || f.GID != 5678 {
		t.Errorf("owned: owner %d:%d, want 1234:5678", f.UID, f.GID)
	}
	f := byRel["null"]
	if f.Mode.Type() != fs.ModeDevice|fs.ModeCharDevice || f.Devmajor != 1 || f.Devminor != 3 {
		t.Errorf("null: mode %v dev %d:%d, want char device 1:3", f.Mode, f.Devmajor, f.Devminor)
	}
}

func TestFilesUnreadableDir(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads every directory; run as non-root to check unreadable-directory errors")
	}
	dir := t.TempDir()
	mkTree(t, dir, "d/locked/x")
	locked := filepath.Join(dir, "d/locked")
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(locked, 0o755) })
	c := openCtx(t, dir, Options{})
	_, err := c.Files(Source{Path: "d", IsDir: true})
	if err == nil || !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), "d/locked") {
		t.Fatalf("Files error = %v, want a permission error naming d/locked", err)
	}
}

func TestOpen(t *testing.T) {
	top := t.TempDir()
	dir := filepath.Join(top, "ctx")
	mkTree(t, top, "outside/secret=HOST")
	mkTree(t, dir, "a=A", "ln -> a", "out -> ../outside/secret", "abs -> "+filepath.Join(top, "outside/secret"))
	c := openCtx(t, dir, Options{})
	if c.Dir() != dir {
		t.Errorf("Dir() = %q, want %q", c.Dir(), dir)
	}
	for _, tt := range []struct {
		path string
		want string // "" = must fail
	}{
		{"a", "A"}, {"/a", "A"}, {"ln", "A"},
		{"out", ""}, {"abs", ""}, {"../outside/secret", ""}, {"nope", ""},
	} {
		t.Run(tt.path, func(t *testing.T) {
			f, err := c.Open(tt.path)
			if tt.want == "" {
				if err == nil {
					f.Close()
					t.Fatalf("Open(%q) succeeded", tt.path)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			b := make([]byte, 10)
			n, _ := f.Read(b)
			if string(b[:n]) != tt.want {
				t.Fatalf("Open(%q) read %q, want %q", tt.path, b[:n], tt.want)
			}
		})
	}
}
