package unixfs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestFileModeMatchesLstat(t *testing.T) {
	dir := t.TempDir()
	mk := map[string]func(p string) error{
		"file": func(p string) error { return os.WriteFile(p, nil, 0o640) },
		"setuid": func(p string) error {
			os.WriteFile(p, nil, 0o755)
			return os.Chmod(p, 0o755|os.ModeSetuid|os.ModeSetgid)
		},
		"dir":     func(p string) error { return os.Mkdir(p, 0o755) },
		"sticky":  func(p string) error { os.Mkdir(p, 0o777); return os.Chmod(p, 0o777|os.ModeSticky) },
		"link":    func(p string) error { return os.Symlink("file", p) },
		"fifo":    func(p string) error { return unix.Mkfifo(p, 0o600) },
		"chardev": func(p string) error { return unix.Mknod(p, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))) },
	}
	for name, make := range mk {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name)
			if err := make(p); err != nil {
				t.Skipf("cannot make a %s here: %v", name, err)
			}
			fi, err := os.Lstat(p)
			if err != nil {
				t.Fatal(err)
			}
			var st unix.Stat_t
			if err := unix.Lstat(p, &st); err != nil {
				t.Fatal(err)
			}
			if got := FileMode(st.Mode); got != fi.Mode() {
				t.Fatalf("FileMode = %v, os.Lstat says %v", got, fi.Mode())
			}
		})
	}
}

func TestReadlinkat(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("x/", 300) + "end"
	for name, target := range map[string]string{"short": "a", "long": long} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	for name, want := range map[string]string{"short": "a", "long": long} {
		if got, err := Readlinkat(fd, name); err != nil || got != want {
			t.Errorf("Readlinkat(%s) = %q, %v", name, got, err)
		}
	}
	if _, err := Readlinkat(fd, "missing"); err != unix.ENOENT {
		t.Errorf("Readlinkat(missing) = %v, want ENOENT", err)
	}
}
