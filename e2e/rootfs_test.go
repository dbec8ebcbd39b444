package e2e

import (
	"path/filepath"
	"strings"
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
