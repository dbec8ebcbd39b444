package rootfs

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fixture is a root directory with a sentinel directory beside it whose
// every entry (names, modes, owners, sizes, content, mtimes and ctimes) must
// be unchanged when the test ends: nothing may escape the root.
type fixture struct {
	t        *testing.T
	base     string // t.TempDir(), holding root/ and sentinel/
	dir      string // the root filesystem
	sentinel string
	r        *Root
}

// oldTime is given to every sentinel entry, so a touch would show.
var oldTime = time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)

func newFixture(t *testing.T) *fixture {
	t.Helper()
	base := t.TempDir()
	f := &fixture{t: t, base: base, dir: filepath.Join(base, "root"), sentinel: filepath.Join(base, "sentinel")}
	for _, d := range []string{f.dir, f.sentinel, filepath.Join(f.sentinel, "sub"), filepath.Join(f.sentinel, "etc")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, content := range map[string]string{
		"file":       "precious\n",
		"sub/x":      "x\n",
		"etc/passwd": "hostonly:x:4242:4242::/host:/bin/sh\n",
		"etc/group":  "hostgroup:x:4242:hostonly\n",
	} {
		if err := os.WriteFile(filepath.Join(f.sentinel, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"file", "sub/x", "etc/passwd", "etc/group", "sub", "etc", "."} {
		if err := os.Chtimes(filepath.Join(f.sentinel, name), oldTime, oldTime); err != nil {
			t.Fatal(err)
		}
	}
	// linked is a file outside the root that writeTree hard-links into it:
	// its content and mtime must survive, its ctime moves with its link count.
	if err := os.WriteFile(filepath.Join(base, "linked"), []byte("linked\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(filepath.Join(base, "linked"), oldTime, oldTime); err != nil {
		t.Fatal(err)
	}
	before := f.snapshot()
	r, err := Open(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	f.r = r
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if after := f.snapshot(); after != before {
			t.Errorf("outside the root changed:\nbefore:\n%s\nafter:\n%s", before, after)
		}
	})
	return f
}

// snapshot describes everything under base except the inside of the root.
func (f *fixture) snapshot() string {
	f.t.Helper()
	var lines []string
	err := filepath.WalkDir(f.base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(f.base, p)
		if rel == "root" {
			lines = append(lines, "root/")
			return filepath.SkipDir
		}
		if rel == "." {
			return nil // base itself: only its entries matter
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		line := fmt.Sprintf("%s %v %d:%d size=%d mtime=%d", rel, fi.Mode(), st.Uid, st.Gid, fi.Size(), fi.ModTime().UnixNano())
		if rel != "linked" {
			line += fmt.Sprintf(" ctime=%d.%d", st.Ctim.Sec, st.Ctim.Nsec)
		}
		if fi.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			line += fmt.Sprintf(" sha256=%x", sha256.Sum256(data))
		}
		lines = append(lines, line)
		return nil
	})
	if err != nil {
		f.t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// host returns the host path of an image path, for checking results.
func (f *fixture) host(p string) string {
	return filepath.Join(f.dir, filepath.FromSlash(p))
}

// mkdir creates directories in the root (test setup, host paths).
func (f *fixture) mkdir(paths ...string) {
	f.t.Helper()
	for _, p := range paths {
		if err := os.MkdirAll(f.host(p), 0o755); err != nil {
			f.t.Fatal(err)
		}
	}
}

// write creates a file in the root (test setup).
func (f *fixture) write(p, content string) {
	f.t.Helper()
	if err := os.WriteFile(f.host(p), []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

// symlink creates a symlink in the root (test setup).
func (f *fixture) symlink(target, p string) {
	f.t.Helper()
	if err := os.Symlink(target, f.host(p)); err != nil {
		f.t.Fatal(err)
	}
}

// read returns a file's content in the root, "" if missing.
func (f *fixture) read(p string) string {
	f.t.Helper()
	data, err := os.ReadFile(f.host(p))
	if err != nil && !os.IsNotExist(err) {
		f.t.Fatal(err)
	}
	return string(data)
}

// lstat stats a path of the root on the host, without following.
func (f *fixture) lstat(p string) (fs.FileInfo, *syscall.Stat_t) {
	f.t.Helper()
	fi, err := os.Lstat(f.host(p))
	if err != nil {
		f.t.Fatal(err)
	}
	return fi, fi.Sys().(*syscall.Stat_t)
}

// needRoot skips a test that changes ownership or makes device nodes.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: needs root (chown to other ids, mknod)")
	}
}

// within fails the test if fn does not return within d (a hang guard).
func within(t *testing.T, d time.Duration, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("did not return within %v", d)
	}
}
