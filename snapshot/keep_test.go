package snapshot

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minibuild/minibuild/internal/unixfs"
	"github.com/minibuild/minibuild/tarutil"
	"golang.org/x/sys/unix"
)

// setTimes sets the atime and mtime of path, not following it.
func setTimes(t *testing.T, path string, mt time.Time) {
	t.Helper()
	ts := unix.NsecToTimespec(mt.UnixNano())
	must(t, unix.UtimesNanoAt(unix.AT_FDCWD, path, []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW))
}

// layerDirLines renders the unpacked layer dir with mtimes and the overlay
// opaque marker, except the mtimes that Unpack leaves to the clock: of
// whiteout devices and of directories the layer only implies.
func layerDirLines(t *testing.T, dir string, entries []tarutil.Entry) []string {
	t.Helper()
	named := map[string]bool{}
	for _, e := range entries {
		named[e.Name] = true
	}
	got, err := tarutil.DirEntries(dir, "")
	must(t, err)
	lines := render(t, got)
	for i, e := range got {
		if e.Type == tar.TypeDir && !named[e.Name] || e.Type == tar.TypeChar && e.Devmajor == 0 && e.Devminor == 0 {
			lines[i] += "|-"
		} else {
			lines[i] += "|" + fmt.Sprint(e.ModTime.UnixNano())
		}
		if e.Type == tar.TypeDir {
			if ok, _ := isOpaqueDir(dir+"/"+e.Name, NewUnpacker("").opaqueXattr()); ok {
				lines[i] += "|opaque"
			}
		}
		keys, err := unixfs.Llistxattr(dir + "/" + e.Name)
		must(t, err)
		slices.Sort(keys)
		lines[i] += "|xattrs:" + strings.Join(keys, ",")
		var atime unix.Stat_t
		must(t, unix.Lstat(dir+"/"+e.Name, &atime))
		if e.Type != tar.TypeDir || named[e.Name] {
			if atime.Atim != atime.Mtim && e.Type != tar.TypeChar {
				lines[i] += "|atime differs"
			}
		}
	}
	var root unix.Stat_t
	must(t, unix.Lstat(dir, &root))
	keys, err := unixfs.Llistxattr(dir)
	must(t, err)
	slices.Sort(keys)
	lines = append(lines, fmt.Sprintf(".|%o|%d:%d|xattrs:%s", root.Mode, root.Uid, root.Gid, strings.Join(keys, ",")))
	return lines
}

func TestKeepAsLayer(t *testing.T) {
	ctx := context.Background()
	policies := []MTimes{
		{Epoch: time.Now().Add(-time.Hour), Clamp: true},
		{Epoch: time.Unix(1700000000, 0)},
		{Clamp: true},
	}
	for _, c := range keepCases() {
		for pi, mt := range policies {
			t.Run(fmt.Sprintf("%s/policy%d", c.name, pi), func(t *testing.T) {
				tmp := t.TempDir()
				state := tmp + "/snapshots"
				requireOverlay(t, state)
				u := NewUnpacker(tmp + "/layers")
				chain := testChain(t)
				m, err := NewOverlay(state, u).Prepare(ctx, chain)
				must(t, err)
				defer func() { must(t, m.Release()) }()
				c.change(t, m.Root())
				entries, err := m.Diff(ctx)
				must(t, err)
				var blob bytes.Buffer
				l, err := tarutil.WriteLayer(&blob, entries, tarutil.LayerOptions{Compression: tarutil.Uncompressed, Epoch: mt.Epoch, Clamp: mt.Clamp})
				must(t, err)
				kept, err := m.(LayerKeeper).KeepAsLayer(ctx, l.DiffID, entries, mt)
				must(t, err)
				if kept != c.keep {
					t.Fatalf("KeepAsLayer = %v, want %v", kept, c.keep)
				}
				must(t, m.Release())
				if mps, err := mountPoints(tmp); err != nil || len(mps) > 0 {
					t.Errorf("mounts left: %v, %v", mps, err)
				}
				if c.keep {
					// The entries now read the kept layer: the same
					// layer can be written after Release.
					var again bytes.Buffer
					l2, err := tarutil.WriteLayer(&again, entries, tarutil.LayerOptions{Compression: tarutil.Uncompressed, Epoch: mt.Epoch, Clamp: mt.Clamp})
					must(t, err)
					if l2.DiffID != l.DiffID {
						t.Errorf("the layer written again after Release is %s, was %s", l2.DiffID, l.DiffID)
					}
				}
				layer := makeLayer(blob.Bytes())
				if layer.DiffID != l.DiffID {
					t.Fatalf("diffID %s, blob %s", l.DiffID, layer.DiffID)
				}
				dir, err := u.Unpack(ctx, layer.Layer)
				must(t, err)
				if opened := layer.opens.Load() > 0; opened == c.keep {
					t.Errorf("layer blob opened: %v, with the layer kept: %v", opened, c.keep)
				}
				fresh, err := NewUnpacker(tmp+"/fresh").Unpack(ctx, layer.Layer)
				must(t, err)
				if d := diffLines(layerDirLines(t, dir, entries), layerDirLines(t, fresh, entries)); d != "" {
					t.Errorf("kept layer (got) differs from the blob unpacked (want):\n%s", d)
				}
				// The next step sees the chain plus the layer, and no change.
				next, err := NewOverlay(state, u).Prepare(ctx, append(chain, layer.Layer))
				must(t, err)
				defer func() { must(t, next.Release()) }()
				var opens []func() (io.ReadCloser, error)
				for _, l := range append(chain, layer.Layer) {
					opens = append(opens, l.Open)
				}
				if d := diffLines(treeLines(t, next.Root()), treeLines(t, applyChain(t, opens...))); d != "" {
					t.Errorf("the next step's rootfs (got) is not the layers applied (want):\n%s", d)
				}
				again, err := next.Diff(ctx)
				must(t, err)
				if len(again) != 0 {
					t.Errorf("a step that changes nothing over the kept layer has a diff: %v", render(t, again))
				}
				must(t, next.Release())
				must(t, EmptyTrash(state))
				if names, err := unixfs.ReadDirNames(trashDir(state)); err != nil || len(names) != 0 {
					t.Errorf("trash left after EmptyTrash: %v, %v", names, err)
				}
			})
		}
	}
}

func TestKeepAsLayerAlreadyUnpacked(t *testing.T) {
	ctx := context.Background()
	tmp := t.TempDir()
	state := tmp + "/snapshots"
	requireOverlay(t, state)
	u := NewUnpacker(tmp + "/layers")
	m, err := NewOverlay(state, u).Prepare(ctx, testChain(t))
	must(t, err)
	defer func() { must(t, m.Release()) }()
	writeFile(t, m.Root()+"/srv/x", "x", 0o644)
	entries, err := m.Diff(ctx)
	must(t, err)
	var blob bytes.Buffer
	l, err := tarutil.WriteLayer(&blob, entries, tarutil.LayerOptions{Compression: tarutil.Uncompressed})
	must(t, err)
	layer := makeLayer(blob.Bytes())
	dir, err := u.Unpack(ctx, layer.Layer)
	must(t, err)
	before := treeLines(t, dir)
	kept, err := m.(LayerKeeper).KeepAsLayer(ctx, l.DiffID, entries, MTimes{})
	must(t, err)
	if kept {
		t.Error("KeepAsLayer replaced an unpacked layer")
	}
	if d := diffLines(treeLines(t, dir), before); d != "" {
		t.Errorf("unpacked layer changed:\n%s", d)
	}
	// The snapshot is intact: its diff still works.
	if _, err := m.Diff(ctx); err != nil {
		t.Errorf("Diff after a refused KeepAsLayer: %v", err)
	}
}

func TestReleaseMovesToTrash(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	state := t.TempDir()
	chain := testChain(t)
	for name, sn := range snapshotters(t, state) {
		t.Run(name, func(t *testing.T) {
			stateDir := path.Dir(path.Dir(snapshotDirOf(t, sn, chain)))
			m, err := sn.Prepare(ctx, chain)
			must(t, err)
			writeFile(t, m.Root()+"/srv/x", "x", 0o644)
			dir := snapshotDir(m)
			must(t, m.Release())
			names, err := unixfs.ReadDirNames(trashDir(stateDir))
			must(t, err)
			if len(names) == 0 {
				t.Fatal("Release left nothing in the trash")
			}
			if mps, err := mountPoints(stateDir); err != nil || len(mps) > 0 {
				t.Errorf("mounts left: %v, %v", mps, err)
			}
			if _, err := os.Lstat(dir); !os.IsNotExist(err) {
				t.Errorf("snapshot directory left after Release: %v", err)
			}
			issues, err := CheckState(stateDir)
			must(t, err)
			if len(issues) != 0 {
				t.Errorf("CheckState reports the trash: %v", issues)
			}
			must(t, Cleanup(stateDir))
			names, err = unixfs.ReadDirNames(trashDir(stateDir))
			must(t, err)
			if len(names) != 0 {
				t.Errorf("trash left after Cleanup: %v", names)
			}
		})
	}
}

// snapshotDirOf prepares and releases one snapshot of sn to learn where its
// snapshot directories are.
func snapshotDirOf(t *testing.T, sn Snapshotter, chain []Layer) string {
	t.Helper()
	m, err := sn.Prepare(context.Background(), chain)
	must(t, err)
	dir := snapshotDir(m)
	must(t, m.Release())
	return dir
}

func TestMTimesStamp(t *testing.T) {
	epoch := time.Unix(1700000000, 500)
	cases := []struct {
		m    MTimes
		in   time.Time
		want time.Time
	}{
		{MTimes{Epoch: epoch, Clamp: true}, time.Unix(1600000000, 999), time.Unix(1600000000, 0)},
		{MTimes{Epoch: epoch, Clamp: true}, time.Unix(1800000000, 0), time.Unix(1700000000, 0)},
		{MTimes{Epoch: epoch, Clamp: true}, time.Unix(-5, 0), time.Unix(0, 0)},
		{MTimes{Epoch: epoch}, time.Unix(1600000000, 0), time.Unix(1700000000, 0)},
		{MTimes{Clamp: true}, time.Unix(1600000000, 0), time.Unix(0, 0)},
		{MTimes{Epoch: time.Unix(-10, 0), Clamp: true}, time.Unix(-20, 0), time.Unix(0, 0)},
	}
	for i, c := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			if got := c.m.stamp(c.in); !got.Equal(c.want) {
				t.Errorf("stamp(%v) = %v, want %v", c.in, got, c.want)
			}
			// The same as the header tarutil.WriteLayer writes.
			var buf bytes.Buffer
			_, err := tarutil.WriteLayer(&buf, []tarutil.Entry{{Name: "f", Type: tar.TypeReg, Mode: 0o644, ModTime: c.in}},
				tarutil.LayerOptions{Compression: tarutil.Uncompressed, Epoch: c.m.Epoch, Clamp: c.m.Clamp})
			must(t, err)
			hdr, err := tar.NewReader(&buf).Next()
			must(t, err)
			if !hdr.ModTime.Equal(c.m.stamp(c.in)) {
				t.Errorf("header mtime %v, stamp %v", hdr.ModTime, c.m.stamp(c.in))
			}
		})
	}
}
