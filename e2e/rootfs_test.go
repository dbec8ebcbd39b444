package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestThroughBaseSymlinks: COPY and WORKDIR destinations resolve through
// the base image's symlinks, inside the rootfs (chroot semantics).
func TestThroughBaseSymlinks(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	busyboxBase(t, root)
	base := t.TempDir()
	writeTree(t, base, map[string]string{"Dockerfile": "FROM busybox:test\nRUN mkdir -p /srv/app /real && ln -s /srv/app /app && ln -s ../../../../real /up\n"})
	build(t, root, base, "-t", "links:test")
	ctx := t.TempDir()
	writeTree(t, ctx, map[string]string{
		"Dockerfile": "FROM links:test\nCOPY f /app/\nCOPY f /up/g\nWORKDIR /app/work\nCOPY f here\n",
		"f":          "F\n",
	})
	dest := filepath.Join(t.TempDir(), "rootfs")
	build(t, root, ctx, "-o", "type=local,dest="+dest)
	tree := describeTree(t, dest)
	for path, want := range map[string]string{
		"app":               "Lrwxrwxrwx 0:0 -> /srv/app",
		"srv/app/f":         "-rw-r--r-- 0:0 F\n",
		"real/g":            "-rw-r--r-- 0:0 F\n",
		"srv/app/work":      "drwxr-xr-x 0:0",
		"srv/app/work/here": "-rw-r--r-- 0:0 F\n",
	} {
		if tree[path] != want {
			t.Errorf("%s: got %q, want %q", path, tree[path], want)
		}
	}
}

// TestCachedStepsUnpackNothing: when every step hits, no layer is unpacked.
func TestCachedStepsUnpackNothing(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	busyboxBase(t, root)
	ctx := t.TempDir()
	writeTree(t, ctx, map[string]string{"Dockerfile": "FROM busybox:test\nRUN echo a > /a\nCOPY Dockerfile /\nRUN echo b > /b\n"})
	build(t, root, ctx)
	layers := filepath.Join(root, "layers")
	if err := os.RemoveAll(layers); err != nil {
		t.Fatal(err)
	}
	md, _ := build(t, root, ctx)
	for _, s := range md.Steps[1:] {
		if s.Cache != "hit" {
			t.Fatalf("step %d: %s", s.Index, s.Cache)
		}
	}
	var unpacked []string
	_ = filepath.Walk(layers, func(p string, info os.FileInfo, err error) error {
		if err == nil && p != layers && info.IsDir() {
			unpacked = append(unpacked, p)
		}
		return nil
	})
	if len(unpacked) > 0 {
		t.Errorf("a fully cached build unpacked layers: %v", unpacked)
	}
}

// TestInterruptTearsDown: SIGINT during a RUN stops the build within a
// couple of seconds, non-zero, with nothing left mounted; the next build works.
func TestInterruptTearsDown(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	busyboxBase(t, root)
	ctx := t.TempDir()
	writeTree(t, ctx, map[string]string{"Dockerfile": "FROM busybox:test\nRUN echo started && sleep 60\n"})
	cmd := exec.Command(bin, "build", "--root", root, "--progress", "plain", ctx)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(stderr.String(), "| started") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if len(mountsUnder(t, root)) == 0 {
		t.Fatalf("the RUN was not running with its rootfs mounted:\n%s", stderr.String())
	}
	began := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if took := time.Since(began); took > 3*time.Second {
		t.Errorf("took %v to stop after SIGINT", took)
	}
	if err == nil {
		t.Errorf("an interrupted build exited 0")
	}
	if m := mountsUnder(t, root); len(m) > 0 {
		t.Errorf("mounts left after SIGINT: %v", m)
	}
	writeTree(t, ctx, map[string]string{"Dockerfile": "FROM busybox:test\nRUN echo ok\n"})
	build(t, root, ctx)
}

// TestUserDatabase: USER and --chown read the image's
// /etc/passwd in pure Go, bounded, inside the rootfs: a FIFO, a huge file
// or a link to /dev/zero or to a host file there cannot hang the build or
// read the host (where user "hostuser" exists: it must not be found).
func TestUserDatabase(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	busyboxBase(t, root)
	sentinel, unchanged := sentinelDir(t)
	cases := []struct {
		name  string
		setup string
	}{
		{"a FIFO", "mkfifo /etc/passwd"},
		{"a huge file", "head -c 3000000 /dev/zero > /etc/passwd"},
		{"a link to /dev/zero", "ln -s /dev/zero /etc/passwd"},
		{"a link to a host passwd", "ln -s " + sentinel + "/sub/passwd /etc/passwd"},
		{"a link climbing to a host passwd", "ln -s ../../../../../../" + strings.TrimPrefix(sentinel, "/") + "/sub/passwd /etc/passwd"},
	}
	for _, tc := range cases {
		for _, use := range []struct{ name, lines, line string }{
			{"USER", "USER hostuser\nRUN true\n", "Dockerfile:4:"},
			{"COPY --chown", "COPY --chown=hostuser Dockerfile /x\n", "Dockerfile:3:"},
		} {
			t.Run(tc.name+"/"+use.name, func(t *testing.T) {
				defer unchanged(t)
				ctx := t.TempDir()
				writeTree(t, ctx, map[string]string{"Dockerfile": "FROM busybox:test\nRUN mkdir -p /etc && " + tc.setup + "\n" + use.lines})
				r := mbWithin(t, 30*time.Second, "build", "--root", root, ctx)
				if r.code == 0 {
					t.Fatalf("user hostuser was found through %s", tc.name)
				}
				if !strings.Contains(r.stderr, use.line) {
					t.Errorf("the error does not name %s:\n%s", use.line, r.stderr)
				}
			})
		}
	}
}
