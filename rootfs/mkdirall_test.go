package rootfs

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestMkdirAll(t *testing.T) {
	needRoot(t)
	tests := []struct {
		name    string
		setup   func(f *fixture)
		path    string
		created func(f *fixture) []string
		errIs   error
		errHas  string
	}{
		{name: "fresh chain", path: "/a/b/c", created: fixed("/a", "/a/b", "/a/b/c")},
		{name: "relative path", path: "a/b", created: fixed("/a", "/a/b")},
		{name: "partly existing", setup: func(f *fixture) { f.mkdir("/a") }, path: "/a/b", created: fixed("/a/b")},
		{name: "all existing", setup: func(f *fixture) { f.mkdir("/a/b") }, path: "/a/b", created: fixed()},
		{name: "root", path: "/", created: fixed()},
		{name: "absolute link to existing dir", setup: func(f *fixture) { f.mkdir("/b"); f.symlink("/b", "/a") },
			path: "/a/c", created: fixed("/b/c")},
		{name: "absolute dangling link", setup: func(f *fixture) { f.symlink("/b", "/a") },
			path: "/a/c", created: fixed("/b", "/b/c")},
		{name: "last component is a link to a dir", setup: func(f *fixture) { f.mkdir("/b"); f.symlink("/b", "/a") },
			path: "/a", created: fixed()},
		{name: "last component is a dangling link", setup: func(f *fixture) { f.symlink("/x/y", "/a") },
			path: "/a", created: fixed("/x", "/x/y")},
		{name: "relative link with dotdot", setup: func(f *fixture) { f.mkdir("/y"); f.symlink("y/../z", "/x") },
			path: "/x/w", created: fixed("/z", "/z/w")},
		{name: "nested relative link", setup: func(f *fixture) { f.mkdir("/p/q"); f.symlink("../r", "/p/q/s") },
			path: "/p/q/s/t", created: fixed("/p/r", "/p/r/t")},
		{name: "etc -> /", setup: func(f *fixture) { f.symlink("/", "/etc") },
			path: "/etc/etc/foo", created: fixed("/foo")},
		{name: "link escaping with dotdot", setup: func(f *fixture) { f.symlink("../../../..", "/up") },
			path: "/up/sentinel/x", created: fixed("/sentinel", "/sentinel/x")},
		{name: "link to the host sentinel path", setup: func(f *fixture) { f.symlink(f.sentinel, "/esc") },
			path: "/esc/x", created: hostChain},
		{name: "dotdot in path cleaned", path: "/../../a/../b", created: fixed("/b")},
		{name: "file in the way", setup: func(f *fixture) { f.mkdir("/a"); f.write("/a/f", "") },
			path: "/a/f/x", errIs: unix.ENOTDIR, errHas: "/a/f exists and is not a directory"},
		{name: "file at the end", setup: func(f *fixture) { f.write("/f", "") },
			path: "/f", errIs: unix.ENOTDIR, errHas: "/f exists"},
		{name: "link to a file in the way", setup: func(f *fixture) { f.mkdir("/bin"); f.write("/bin/f", ""); f.symlink("/bin/f", "/l") },
			path: "/l/x", errIs: unix.ENOTDIR, errHas: "/bin/f exists"},
		{name: "symlink loop", setup: func(f *fixture) { f.symlink("/l2", "/l1"); f.symlink("l1", "/l2") },
			path: "/l1/x", errIs: unix.ELOOP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			if tt.setup != nil {
				tt.setup(f)
			}
			var existing []string
			_ = fsWalk(f.dir, func(p string) { existing = append(existing, p) })
			got, err := f.r.MkdirAll(tt.path, 0o750, 1000, 1001)
			if tt.errIs != nil {
				if !errors.Is(err, tt.errIs) || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("MkdirAll error = %v; want %v containing %q", err, tt.errIs, tt.errHas)
				}
				return
			}
			if err != nil {
				t.Fatalf("MkdirAll: %v", err)
			}
			want := tt.created(f)
			if !reflect.DeepEqual(got, want) && (len(got) != 0 || len(want) != 0) {
				t.Fatalf("created %q; want %q", got, want)
			}
			for _, p := range want {
				fi, st := f.lstat(p)
				if !fi.IsDir() || fi.Mode().Perm() != 0o750 || st.Uid != 1000 || st.Gid != 1001 {
					t.Errorf("%s: mode %v owner %d:%d", p, fi.Mode(), st.Uid, st.Gid)
				}
			}
			for _, p := range existing {
				if _, st := f.lstat(p); st.Uid == 1000 {
					t.Errorf("existing %s was chowned", p)
				}
			}
			if info, err := f.r.Stat(tt.path); err != nil || !info.Mode.IsDir() {
				t.Errorf("Stat(%s) after MkdirAll = %+v, %v; want a directory", tt.path, info, err)
			}
		})
	}
}

// fixed returns a constant list of image paths.
func fixed(paths ...string) func(*fixture) []string {
	return func(*fixture) []string { return paths }
}

// hostChain is what MkdirAll creates for "/esc/x" with esc -> <sentinel's
// host path>: that host path, re-rooted, component by component.
func hostChain(f *fixture) []string {
	var out []string
	p := "/"
	for _, c := range splitPath(f.sentinel + "/x") {
		p = path.Join(p, c)
		out = append(out, p)
	}
	return out
}

// fsWalk calls fn with the image path of every entry under dir.
func fsWalk(dir string, fn func(string)) error {
	return fsWalkRel(dir, "/", fn)
}

func fsWalkRel(dir, rel string, fn func(string)) error {
	entries, err := os.ReadDir(dir + rel)
	if err != nil {
		return err
	}
	for _, e := range entries {
		p := path.Join(rel, e.Name())
		fn(p)
		if e.Type()&fs.ModeDir != 0 {
			if err := fsWalkRel(dir, p, fn); err != nil {
				return err
			}
		}
	}
	return nil
}
