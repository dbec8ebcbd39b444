package snapshot

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/minibuild/minibuild/tarutil"
	"golang.org/x/sys/unix"
)

// diffCase is one build step's change and the canonical diff both
// snapshotters must report for it.
type diffCase struct {
	name string
	op   func(t *testing.T, root string)
	want []string
	// devices says the case makes device nodes, which no user namespace
	// but the initial one may: it is skipped rootless.
	devices bool
	// mergedInodes says the case's rootfs reads with the wrong inode
	// numbers on an overlay mounted with userxattr (a hardlink to a
	// copied-up lower file: one name shows the lower inode, the other the
	// upper one), so the round trip cannot find the link there; the layer
	// still holds it.
	mergedInodes bool
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, body string, mode os.FileMode) {
	t.Helper()
	must(t, os.WriteFile(path, []byte(body), mode))
	must(t, os.Chmod(path, mode))
}

func mkdir(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	must(t, os.Mkdir(path, mode))
	must(t, os.Chmod(path, mode))
}

func diffCases() []diffCase {
	return []diffCase{
		{name: "no change", op: func(t *testing.T, root string) {}, want: []string{}},
		{
			name: "create file at the root",
			op:   func(t *testing.T, root string) { writeFile(t, root+"/new", "new", 0o644) },
			want: []string{"new|f|644|0:0|new"},
		},
		{
			name: "create file in a lower directory",
			op:   func(t *testing.T, root string) { writeFile(t, root+"/etc/new", "new", 0o644) },
			want: []string{"etc|d|755|0:0|", "etc/new|f|644|0:0|new"},
		},
		{
			name: "modify file in place",
			op: func(t *testing.T, root string) {
				f, err := os.OpenFile(root+"/etc/conf", os.O_WRONLY|os.O_APPEND, 0)
				must(t, err)
				_, err = f.WriteString("+")
				must(t, err)
				must(t, f.Close())
			},
			want: []string{"etc/conf|f|644|0:0|conf v1+"},
		},
		{
			name: "rewrite with the same content",
			op:   func(t *testing.T, root string) { writeFile(t, root+"/etc/conf", "conf v1", 0o644) },
			want: []string{"etc/conf|f|644|0:0|conf v1"},
		},
		{
			name: "open for writing without writing",
			op: func(t *testing.T, root string) {
				f, err := os.OpenFile(root+"/etc/conf", os.O_WRONLY, 0)
				must(t, err)
				must(t, f.Close())
			},
			want: []string{},
		},
		{
			name: "same size content with the mtime restored",
			op: func(t *testing.T, root string) {
				writeFile(t, root+"/etc/conf", "conf v2", 0o644)
				must(t, os.Chtimes(root+"/etc/conf", testTime, testTime))
			},
			want: []string{"etc/conf|f|644|0:0|conf v2"},
		},
		{
			name: "chmod file",
			op:   func(t *testing.T, root string) { must(t, os.Chmod(root+"/usr/bin/tool", 0o700)) },
			want: []string{"usr/bin/tool|f|700|0:0|#!tool"},
		},
		{
			name: "setuid",
			op:   func(t *testing.T, root string) { must(t, unix.Chmod(root+"/usr/bin/tool", 0o4755)) },
			want: []string{"usr/bin/tool|f|4755|0:0|#!tool"},
		},
		{
			name: "chown file",
			op:   func(t *testing.T, root string) { must(t, os.Lchown(root+"/etc/conf", 1000, 1000)) },
			want: []string{"etc/conf|f|644|1000:1000|conf v1"},
		},
		{
			name: "chmod directory",
			op:   func(t *testing.T, root string) { must(t, os.Chmod(root+"/etc", 0o700)) },
			want: []string{"etc|d|700|0:0|"},
		},
		{
			name: "set xattr",
			op: func(t *testing.T, root string) {
				must(t, unix.Lsetxattr(root+"/etc/other", "user.x", []byte("1"), 0))
			},
			want: []string{"etc/other|f|644|0:0|other|user.x=1"},
		},
		{
			name: "delete lower file",
			op:   func(t *testing.T, root string) { must(t, os.Remove(root+"/var/lib/data/a")) },
			want: []string{"var/lib/data|d|755|0:0|", "var/lib/data/.wh.a|f|0|0:0|"},
		},
		{
			name: "delete every child of a directory",
			op: func(t *testing.T, root string) {
				must(t, os.Remove(root+"/var/lib/data/a"))
				must(t, os.Remove(root+"/var/lib/data/b"))
			},
			want: []string{"var/lib/data|d|755|0:0|", "var/lib/data/.wh..wh..opq|f|0|0:0|"},
		},
		{
			name: "delete lower directory",
			op:   func(t *testing.T, root string) { must(t, os.RemoveAll(root+"/opt/old")) },
			want: []string{"opt|d|755|0:0|", "opt/.wh.old|f|0|0:0|"},
		},
		{
			name: "replace directory with file",
			op: func(t *testing.T, root string) {
				must(t, os.RemoveAll(root+"/opt/old"))
				writeFile(t, root+"/opt/old", "file", 0o644)
			},
			want: []string{"opt|d|755|0:0|", "opt/old|f|644|0:0|file"},
		},
		{
			name: "replace file with directory",
			op: func(t *testing.T, root string) {
				must(t, os.Remove(root+"/etc/other"))
				mkdir(t, root+"/etc/other", 0o755)
				writeFile(t, root+"/etc/other/f", "f", 0o644)
			},
			want: []string{"etc|d|755|0:0|", "etc/other|d|755|0:0|", "etc/other/f|f|644|0:0|f"},
		},
		{
			name: "rm -rf and mkdir again",
			op: func(t *testing.T, root string) {
				must(t, os.RemoveAll(root+"/var/lib/data"))
				mkdir(t, root+"/var/lib/data", 0o755)
			},
			want: []string{"var/lib|d|755|0:0|", "var/lib/data|d|755|0:0|", "var/lib/data/.wh..wh..opq|f|0|0:0|"},
		},
		{
			name: "rm -rf, mkdir and recreate one name",
			op: func(t *testing.T, root string) {
				must(t, os.RemoveAll(root+"/var/lib/data"))
				mkdir(t, root+"/var/lib/data", 0o755)
				writeFile(t, root+"/var/lib/data/a", "a2", 0o644)
			},
			want: []string{"var/lib|d|755|0:0|", "var/lib/data|d|755|0:0|", "var/lib/data/.wh.b|f|0|0:0|", "var/lib/data/a|f|644|0:0|a2"},
		},
		{
			name: "rm -rf and mkdir a nested directory",
			op: func(t *testing.T, root string) {
				must(t, os.RemoveAll(root+"/opt/old"))
				must(t, os.MkdirAll(root+"/opt/old/y", 0o755))
				must(t, os.Chmod(root+"/opt/old", 0o755))
				must(t, os.Chmod(root+"/opt/old/y", 0o700))
			},
			want: []string{
				"opt|d|755|0:0|", "opt/old|d|755|0:0|", "opt/old/.wh.x|f|0|0:0|",
				"opt/old/y|d|700|0:0|", "opt/old/y/.wh..wh..opq|f|0|0:0|",
			},
		},
		{
			name: "symlink",
			op:   func(t *testing.T, root string) { must(t, os.Symlink("/etc/conf", root+"/link")) },
			want: []string{"link|l|777|0:0|/etc/conf"},
		},
		{
			name: "hardlink between new files",
			op: func(t *testing.T, root string) {
				writeFile(t, root+"/f", "x", 0o644)
				must(t, os.Link(root+"/f", root+"/g"))
			},
			want: []string{"f|f|644|0:0|x", "g|h|644|0:0|f"},
		},
		{
			name:         "hardlink to a lower file",
			op:           func(t *testing.T, root string) { must(t, os.Link(root+"/etc/conf", root+"/etc/conf.bak")) },
			want:         []string{"etc|d|755|0:0|", "etc/conf|f|644|0:0|conf v1", "etc/conf.bak|h|644|0:0|etc/conf"},
			mergedInodes: true,
		},
		{
			name: "mkdir nested",
			op:   func(t *testing.T, root string) { must(t, os.MkdirAll(root+"/a/b/c", 0o755)) },
			want: []string{"a|d|755|0:0|", "a/b|d|755|0:0|", "a/b/c|d|755|0:0|"},
		},
		{
			name: "device and fifo",
			op: func(t *testing.T, root string) {
				must(t, unix.Mknod(root+"/null", unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
				must(t, unix.Chmod(root+"/null", 0o666))
				must(t, unix.Mkfifo(root+"/fifo", 0o644))
				must(t, unix.Chmod(root+"/fifo", 0o644))
			},
			want:    []string{"fifo|p|644|0:0|", "null|c|666|0:0|1,3"},
			devices: true,
		},
		{
			name: "rename directory with mv",
			op: func(t *testing.T, root string) {
				// overlayfs refuses to rename a lower directory
				// (redirect_dir=off); mv copies it instead.
				if out, err := exec.Command("mv", root+"/keep", root+"/keep2").CombinedOutput(); err != nil {
					t.Fatalf("mv: %v: %s", err, out)
				}
			},
			want: []string{".wh.keep|f|0|0:0|", "keep2|d|750|1:0|", "keep2/k|f|600|1:0|k|user.k=v"},
		},
		{
			name: "recreate a name a lower layer whited out",
			op:   func(t *testing.T, root string) { writeFile(t, root+"/opt/gone", "again", 0o644) },
			want: []string{"opt|d|755|0:0|", "opt/gone|f|644|0:0|again"},
		},
		{
			name: "delete in a directory a lower layer made opaque",
			op:   func(t *testing.T, root string) { must(t, os.Remove(root+"/var/cache/new")) },
			want: []string{"var/cache|d|755|0:0|", "var/cache/.wh.new|f|0|0:0|"},
		},
		{
			name: "delete a lower hardlink name",
			op:   func(t *testing.T, root string) { must(t, os.Remove(root+"/hl2")) },
			want: []string{".wh.hl2|f|0|0:0|"},
		},
	}
}

// snapshotters returns the snapshotters to test, sharing stateDir.
func snapshotters(t *testing.T, stateDir string) map[string]Snapshotter {
	t.Helper()
	out := map[string]Snapshotter{"native": NewNative(stateDir + "/snapshots")}
	if CheckOverlay(stateDir+"/snapshots") == nil {
		out["overlay"] = NewOverlay(stateDir+"/snapshots", NewUnpacker(stateDir+"/layers"))
	} else {
		t.Log("overlayfs not usable here: testing the native snapshotter only")
	}
	return out
}

// TestDiff runs every case through both snapshotters: each Diff must equal
// the expected list (and so each other), and the chain plus the diff as a
// layer must reproduce the step's rootfs.
func TestDiff(t *testing.T) {
	requireRoot(t)
	state := t.TempDir()
	chain := testChain(t)
	sns := snapshotters(t, state)
	for _, tc := range diffCases() {
		t.Run(tc.name, func(t *testing.T) {
			if tc.devices && rootless() {
				t.Skip("no device node can be made in this user namespace")
			}
			results := map[string][]string{}
			for name, sn := range sns {
				t.Run(name, func(t *testing.T) {
					ctx := context.Background()
					m, err := sn.Prepare(ctx, chain)
					must(t, err)
					defer func() { must(t, m.Release()) }()
					tc.op(t, m.Root())
					entries, err := m.Diff(ctx)
					must(t, err)
					got := render(t, entries)
					if d := diffLines(got, tc.want); d != "" {
						t.Errorf("Diff:\n%s", d)
					}
					results[name] = got
					if tc.mergedInodes && name == "overlay" && rootless() {
						t.Log("not comparing with the rootfs: overlayfs with userxattr shows a hardlink to a copied-up file as two inodes")
						return
					}
					checkRoundTrip(t, chain, entries, m.Root())
				})
			}
			if o, n := results["overlay"], results["native"]; o != nil && n != nil {
				if d := diffLines(o, n); d != "" {
					t.Errorf("overlay and native disagree:\n%s", d)
				}
			}
		})
	}
}

// checkRoundTrip writes entries as a layer and checks that the chain plus
// that layer, applied, equals root (mtimes aside).
func checkRoundTrip(t *testing.T, chain []Layer, entries []tarutil.Entry, root string) {
	t.Helper()
	var buf bytes.Buffer
	_, err := tarutil.WriteLayer(&buf, entries, tarutil.LayerOptions{
		Compression: tarutil.Uncompressed, Epoch: time.Now().Add(time.Hour), Clamp: true,
	})
	if err != nil {
		t.Fatalf("writing the diff as a layer: %v", err)
	}
	opens := []func() (io.ReadCloser, error){}
	for _, l := range chain {
		opens = append(opens, l.Open)
	}
	opens = append(opens, func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil })
	applied := applyChain(t, opens...)
	if d := diffLines(treeLines(t, applied), treeLines(t, root)); d != "" {
		t.Errorf("chain + diff layer, applied (got) differs from the rootfs (want):\n%s", d)
	}
}

func TestDiffRefusesWhiteoutNames(t *testing.T) {
	requireRoot(t)
	state := t.TempDir()
	chain := testChain(t)
	// Each would read as a whiteout, an opaque marker, AUFS metadata or a
	// malformed whiteout once in a layer.
	for _, file := range []string{"etc/.wh.conf", ".wh..wh..opq", "etc/.wh..wh.aufs", "etc/.wh."} {
		for name, sn := range snapshotters(t, state) {
			t.Run(name+"/"+file, func(t *testing.T) {
				m, err := sn.Prepare(context.Background(), chain)
				must(t, err)
				defer func() { must(t, m.Release()) }()
				writeFile(t, m.Root()+"/"+file, "", 0o644)
				if _, err := m.Diff(context.Background()); err == nil || !strings.Contains(err.Error(), "whiteout") {
					t.Errorf("Diff = %v, want an error about the whiteout name", err)
				}
			})
		}
	}
}

// TestDiffLowerHardlinks pins the one documented divergence: changes to
// an inode the chain gave several names. overlayfs copies up only the name
// used and breaks the link; the native copy keeps the link, so every name
// changed. Either layer reproduces its own rootfs.
func TestDiffLowerHardlinks(t *testing.T) {
	requireRoot(t)
	state := t.TempDir()
	chain := testChain(t)
	cases := []struct {
		name string
		op   func(t *testing.T, root string)
		want map[string][]string
	}{
		{
			name: "write through one name",
			op: func(t *testing.T, root string) {
				f, err := os.OpenFile(root+"/hl1", os.O_WRONLY|os.O_APPEND, 0)
				must(t, err)
				_, err = f.WriteString("+")
				must(t, err)
				must(t, f.Close())
			},
			want: map[string][]string{
				"overlay": {"hl1|f|644|0:0|linked+"},
				"native":  {"hl1|f|644|0:0|linked+", "hl2|h|644|0:0|hl1"},
			},
		},
		{
			name: "link to one name",
			op:   func(t *testing.T, root string) { must(t, os.Link(root+"/hl1", root+"/hl3")) },
			want: map[string][]string{
				"overlay": {"hl1|f|644|0:0|linked", "hl3|h|644|0:0|hl1"},
				"native":  {"hl1|f|644|0:0|linked", "hl2|h|644|0:0|hl1", "hl3|h|644|0:0|hl1"},
			},
		},
	}
	sns := snapshotters(t, state)
	for _, tc := range cases {
		for name, sn := range sns {
			t.Run(tc.name+"/"+name, func(t *testing.T) {
				m, err := sn.Prepare(context.Background(), chain)
				must(t, err)
				defer func() { must(t, m.Release()) }()
				tc.op(t, m.Root())
				entries, err := m.Diff(context.Background())
				must(t, err)
				if d := diffLines(render(t, entries), tc.want[name]); d != "" {
					t.Error(d)
				}
				checkRoundTrip(t, chain, entries, m.Root())
			})
		}
	}
}
