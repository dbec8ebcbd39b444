package snapshot

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/minibuild/minibuild/internal/unixfs"
)

// manyLayers returns n layers, layer i adding the file fI.
func manyLayers(t *testing.T, n int) []Layer {
	t.Helper()
	chain := make([]Layer, n)
	for i := range chain {
		chain[i] = makeLayer(layerTar(t, []tentry{fileE(fmt.Sprintf("f%02d", i), fmt.Sprint(i))})).Layer
	}
	return chain
}

func TestOverlayManyLayers(t *testing.T) {
	tmp := t.TempDir()
	requireOverlay(t, tmp+"/probe")
	chain := manyLayers(t, 60)
	long := tmp + "/" + strings.Repeat("long-directory-name/", 8)
	cases := []struct {
		name   string
		layers string
		method mountMethod
	}{
		{name: "auto", layers: tmp + "/layers"},
		{name: "auto with long paths", layers: long + "layers"},
		{name: "descriptors", layers: long + "layers", method: mountFds},
		{name: "fsconfig", layers: tmp + "/layers", method: mountFsconfig},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := NewUnpacker(tc.layers)
			o := &overlaySnapshotter{stateDir: tmp + "/snapshots", u: u, method: tc.method}
			m, err := o.Prepare(context.Background(), chain)
			must(t, err)
			defer func() { must(t, m.Release()) }()
			// Linux 6.x shows the option as fsync=volatile.
			if opts := "," + superOptions(t, m.Root()) + ","; !strings.Contains(opts, ",volatile,") && !strings.Contains(opts, ",fsync=volatile,") {
				t.Errorf("overlay mounted with %q: not volatile, so unmounting it syncs the file system", opts)
			}
			for i := range chain {
				b, err := os.ReadFile(fmt.Sprintf("%s/f%02d", m.Root(), i))
				if err != nil || string(b) != fmt.Sprint(i) {
					t.Fatalf("f%02d = %q, %v", i, b, err)
				}
			}
			writeFile(t, m.Root()+"/top", "top", 0o644)
			entries, err := m.Diff(context.Background())
			must(t, err)
			if d := diffLines(render(t, entries), []string{"top|f|644|0:0|top"}); d != "" {
				t.Error(d)
			}
		})
	}
}

func TestPrepareEmptyChain(t *testing.T) {
	requireRoot(t)
	state := t.TempDir()
	for name, sn := range snapshotters(t, state) {
		t.Run(name, func(t *testing.T) {
			m, err := sn.Prepare(context.Background(), nil)
			must(t, err)
			defer func() { must(t, m.Release()) }()
			names, err := unixfs.ReadDirNames(m.Root())
			must(t, err)
			if len(names) != 0 {
				t.Errorf("empty chain rootfs holds %v", names)
			}
			mkdir(t, m.Root()+"/d", 0o755)
			writeFile(t, m.Root()+"/d/f", "f", 0o600)
			entries, err := m.Diff(context.Background())
			must(t, err)
			if d := diffLines(render(t, entries), []string{"d|d|755|0:0|", "d/f|f|600|0:0|f"}); d != "" {
				t.Error(d)
			}
		})
	}
}

// snapshotDir returns the directory a mount lives in.
func snapshotDir(m Mount) string {
	switch m := m.(type) {
	case *overlayMount:
		return m.dir
	case *nativeMount:
		return m.dir
	}
	return ""
}

func TestRelease(t *testing.T) {
	requireRoot(t)
	state := t.TempDir()
	chain := testChain(t)
	for name, sn := range snapshotters(t, state) {
		t.Run(name, func(t *testing.T) {
			m, err := sn.Prepare(context.Background(), chain)
			must(t, err)
			dir := snapshotDir(m)
			mps, err := mountPoints(dir)
			must(t, err)
			if wantMounted := name == "overlay"; (len(mps) > 0) != wantMounted {
				t.Errorf("mounts under the snapshot after Prepare: %v", mps)
			}
			must(t, m.Release())
			if mps, err := mountPoints(dir); err != nil || len(mps) > 0 {
				t.Errorf("mounts left after Release: %v, %v", mps, err)
			}
			if _, err := os.Lstat(dir); !os.IsNotExist(err) {
				t.Errorf("snapshot directory left after Release: %v", err)
			}
			must(t, m.Release())
			if _, err := m.Diff(context.Background()); err == nil {
				t.Error("Diff after Release succeeded")
			}
		})
	}
}

func TestCleanup(t *testing.T) {
	requireRoot(t)
	state := t.TempDir()
	chain := testChain(t)
	stateDir := state + "/snapshots"
	for name, sn := range snapshotters(t, state) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			dead, err := sn.Prepare(ctx, chain)
			must(t, err)
			live, err := sn.Prepare(ctx, chain)
			must(t, err)
			defer func() { must(t, live.Release()) }()
			// A build that died without Release leaves its mount and
			// directory, but its lock dies with it.
			deadDir := snapshotDir(dead)
			switch m := dead.(type) {
			case *overlayMount:
				m.lock.Unlock()
			case *nativeMount:
				m.lock.Unlock()
			}
			// A half-built native base of a dead build.
			tmpBase := stateDir + "/native/tmp/sha256-" + strings.Repeat("c", 64) + "-9"
			must(t, os.MkdirAll(tmpBase, 0o700))
			must(t, Cleanup(stateDir))
			if mps, err := mountPoints(deadDir); err != nil || len(mps) > 0 {
				t.Errorf("stale mounts left: %v, %v", mps, err)
			}
			if _, err := os.Lstat(deadDir); !os.IsNotExist(err) {
				t.Errorf("stale snapshot left: %v", err)
			}
			if isDirectory(tmpBase) {
				t.Error("stale native base left")
			}
			writeFile(t, live.Root()+"/alive", "yes", 0o644)
			entries, err := live.Diff(ctx)
			must(t, err)
			if d := diffLines(render(t, entries), []string{"alive|f|644|0:0|yes"}); d != "" {
				t.Errorf("live snapshot after Cleanup: %s", d)
			}
		})
	}
}

func TestCleanupMissingStateDir(t *testing.T) {
	if err := Cleanup(t.TempDir() + "/none"); err != nil {
		t.Fatal(err)
	}
}

func TestUnescapeMountinfo(t *testing.T) {
	cases := map[string]string{
		`/plain`:            "/plain",
		`/with\040space`:    "/with space",
		`/tab\011and\134bs`: "/tab\tand\\bs",
		`/trailing\04`:      `/trailing\04`,
	}
	for in, want := range cases {
		if got := unescapeMountinfo(in); got != want {
			t.Errorf("unescapeMountinfo(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLegacyDataFitsSixtyStoreLayers(t *testing.T) {
	s := &overlaySpec{upper: "/var/lib/minibuild/snapshots/mounts/0123456789abcdef/upper", work: "/var/lib/minibuild/snapshots/mounts/0123456789abcdef/work"}
	for i := range 60 {
		s.lowers = append(s.lowers, fmt.Sprintf("/var/lib/minibuild/layers/l/%016x", i))
	}
	if data, ok := s.legacyData(); !ok {
		t.Errorf("60 layers of a store in /var/lib do not fit in a page: %d bytes", len(data))
	}
}

func TestLegacyData(t *testing.T) {
	s := &overlaySpec{lowers: []string{"/l/b", "/l/a"}, upper: "/s/u", work: "/s/w"}
	data, ok := s.legacyData()
	want := "index=off,redirect_dir=off,metacopy=off,lowerdir=/l/b:/l/a,upperdir=/s/u,workdir=/s/w"
	if !ok || data != want {
		t.Errorf("legacyData = %q, %v; want %q", data, ok, want)
	}
	s.volatile = true
	data, _ = s.legacyData()
	if want := "index=off,redirect_dir=off,metacopy=off,volatile,lowerdir=/l/b:/l/a,upperdir=/s/u,workdir=/s/w"; data != want {
		t.Errorf("volatile legacyData = %q; want %q", data, want)
	}
	s.lowers[0] = "/l/with:colon"
	if _, ok := s.legacyData(); ok {
		t.Error("a path with a colon was accepted for mount(2)")
	}
}

// superOptions returns the super block options /proc/self/mountinfo gives
// the mount at target.
func superOptions(t *testing.T, target string) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	must(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 10 || unescapeMountinfo(f[4]) != target {
			continue
		}
		return f[len(f)-1]
	}
	t.Fatalf("%s is not a mount point", target)
	return ""
}
