package container

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/minibuild/minibuild/executor"
	"github.com/minibuild/minibuild/rootdir"
	"github.com/minibuild/minibuild/volume"
)

// imageRoot is a rootfs with content at /data, a nested directory, a link
// to / and an absolute symlink /etc-link -> /etc.
func imageRoot(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "data/sub"), 0o755))
	must(os.MkdirAll(filepath.Join(dir, "etc"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "data/f"), []byte("from the image\n"), 0o640))
	must(os.WriteFile(filepath.Join(dir, "data/sub/g"), []byte("g"), 0o600))
	must(os.Link(filepath.Join(dir, "data/f"), filepath.Join(dir, "data/hard")))
	must(os.Symlink("/", filepath.Join(dir, "data/up")))
	must(os.WriteFile(filepath.Join(dir, "etc/image-only"), []byte("image etc"), 0o644))
	must(os.Symlink("/etc", filepath.Join(dir, "etc-link")))
	must(os.Chmod(filepath.Join(dir, "data"), 0o750))
	if os.Geteuid() == 0 {
		must(os.Lchown(filepath.Join(dir, "data"), 1000, 1001))
		must(os.Lchown(filepath.Join(dir, "data/sub/g"), 1002, 1003))
	}
	return dir
}

// tree lists the paths under dir with their modes.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, rel+" "+fi.Mode().String())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func TestAttach(t *testing.T) {
	img := imageRoot(t)
	vols := volume.At(rootdir.At(t.TempDir()))
	host := t.TempDir()
	a, err := attach(context.Background(), vols, img, []MountSpec{
		{Kind: MountVolume, Source: "nocopy", Target: "/data/sub", NoCopy: true}, // after /data, given first
		{Kind: MountVolume, Source: "empty", Target: "/nothing/here", ReadOnly: true},
		{Kind: MountVolume, Source: "filled", Target: "/data"},
		{Kind: MountVolume, Source: "linked", Target: "/etc-link"},
		{Kind: MountBind, Source: host, Target: "/host", ReadOnly: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer a.release()
	mp := func(name string) string {
		v, err := vols.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		return v.Mountpoint
	}
	want := []executor.Mount{
		{Type: executor.MountBind, Source: mp("filled"), Target: "/data"},
		{Type: executor.MountBind, Source: mp("linked"), Target: "/etc-link"},
		{Type: executor.MountBind, Source: host, Target: "/host", ReadOnly: true},
		{Type: executor.MountBind, Source: mp("nocopy"), Target: "/data/sub"},
		{Type: executor.MountBind, Source: mp("empty"), Target: "/nothing/here", ReadOnly: true},
	}
	if !reflect.DeepEqual(a.mounts, want) {
		t.Errorf("mounts\n%+v\nwant\n%+v", a.mounts, want)
	}
	// The image's /data, copied whole: modes, links, the directory's own mode.
	wantTree := []string{". drwxr-x---", "f -rw-r-----", "hard -rw-r-----", "sub drwxr-xr-x", "sub/g -rw-------", "up Lrwxrwxrwx"}
	if got := tree(t, mp("filled")); !reflect.DeepEqual(got, wantTree) {
		t.Errorf("filled volume:\n%q\nwant\n%q", got, wantTree)
	}
	var st1, st2 syscall.Stat_t
	if err := syscall.Stat(filepath.Join(mp("filled"), "f"), &st1); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Stat(filepath.Join(mp("filled"), "hard"), &st2); err != nil {
		t.Fatal(err)
	}
	if st1.Ino != st2.Ino {
		t.Error("the hardlink pair was copied as two files")
	}
	if os.Geteuid() == 0 {
		var d, g syscall.Stat_t
		_ = syscall.Stat(mp("filled"), &d)
		_ = syscall.Stat(filepath.Join(mp("filled"), "sub/g"), &g)
		if d.Uid != 1000 || d.Gid != 1001 || g.Uid != 1002 || g.Gid != 1003 {
			t.Errorf("owners: root %d:%d, sub/g %d:%d; want 1000:1001 and 1002:1003", d.Uid, d.Gid, g.Uid, g.Gid)
		}
	}
	for _, name := range []string{"empty", "nocopy"} {
		if got := tree(t, mp(name)); !reflect.DeepEqual(got, []string{". drwxr-xr-x"}) {
			t.Errorf("volume %s: %q, want it empty", name, got)
		}
	}
	// /etc-link -> /etc resolves inside the image, never to the host's /etc.
	if got := tree(t, mp("linked")); !reflect.DeepEqual(got, []string{". drwxr-xr-x", "image-only -rw-r--r--"}) {
		t.Errorf("volume on a symlink: %q, want the image's /etc", got)
	}
	// In use while attached.
	if _, err := vols.Remove("filled"); !errors.Is(err, volume.ErrInUse) {
		t.Errorf("Remove of an attached volume = %v", err)
	}
	if err := a.release(); err != nil {
		t.Fatal(err)
	}
	if _, err := vols.Remove("filled"); err != nil {
		t.Errorf("Remove after release = %v", err)
	}
}

func TestAttachErrors(t *testing.T) {
	img := imageRoot(t)
	vols := volume.At(rootdir.At(t.TempDir()))
	missing := filepath.Join(t.TempDir(), "nosuch")
	for _, tc := range []struct {
		name  string
		specs []MountSpec
		want  string
	}{
		{"missing host path", []MountSpec{{Kind: MountVolume, Source: "v1", Target: "/a"}, {Kind: MountBind, Source: missing, Target: "/b"}},
			"bind source path does not exist: " + missing},
		{"two on one target", []MountSpec{{Kind: MountVolume, Source: "v1", Target: "/a"}, {Kind: MountVolume, Source: "v2", Target: "/a"}},
			"two mounts on /a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := attach(context.Background(), vols, img, tc.specs)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("attach = %v, want %q", err, tc.want)
			}
			// Nothing stays held.
			if _, err := vols.Prune(); err != nil {
				t.Fatal(err)
			}
			if v, _, _ := vols.List(); len(v) > 0 {
				t.Errorf("volumes left held: %+v", v)
			}
		})
	}
}
