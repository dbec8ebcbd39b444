package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestContextEscapes: a context symlink that points outside the
// context is never followed to host content: the build either refuses
// the source, naming it, or copies the link as a link. As root and
// rootless.
func TestContextEscapes(t *testing.T) {
	requireRoot(t)
	for _, rn := range runners(t) {
		t.Run(rn.name, func(t *testing.T) { testContextEscapes(t, rn) })
	}
}

func testContextEscapes(t *testing.T, rn runner) {
	root := rn.dir(t)
	rn.mustRun(t, "build", "--root", root, "--progress", "quiet", "-t", "busybox:test", rootlessContext(t, rn, "../examples/busybox", true))
	sentinel, unchanged := sentinelFor(t, rn)
	secret := "host secret: never in a layer"
	cases := []struct {
		name       string
		dockerfile string
		links      map[string]string // context path -> link target
		refused    string            // what the error names; "" = the build succeeds
		want       map[string]string // for a success: rootfs paths and their description
	}{
		{name: "COPY of a symlink to a host file", dockerfile: "FROM busybox:test\nCOPY link /link\n",
			links: map[string]string{"link": sentinel + "/secret"}, refused: "Dockerfile:2:"},
		{name: "COPY through a symlinked directory", dockerfile: "FROM busybox:test\nCOPY dir/secret /s\n",
			links: map[string]string{"dir": sentinel}, refused: "Dockerfile:2:"},
		{name: "COPY through a relative symlink climbing out", dockerfile: "FROM busybox:test\nCOPY up/secret /s\n",
			links: map[string]string{"up": strings.Repeat("../", 12) + strings.TrimPrefix(sentinel, "/")}, refused: "Dockerfile:2:"},
		{name: "ADD of a symlink to a host archive", dockerfile: "FROM busybox:test\nADD evil.tar /\n",
			links: map[string]string{"evil.tar": sentinel + "/secret"}, refused: "Dockerfile:2:"},
		{name: "COPY of an absolute host path", dockerfile: "FROM busybox:test\nCOPY " + sentinel + "/secret /s\n", refused: "Dockerfile:2:"},
		{name: "COPY of the context keeps links as links", dockerfile: "FROM busybox:test\nCOPY . /ctx/\n",
			links: map[string]string{"link": sentinel + "/secret", "dir": sentinel},
			want:  map[string]string{"ctx/link": "Lrwxrwxrwx 0:0 -> " + sentinel + "/secret", "ctx/dir": "Lrwxrwxrwx 0:0 -> " + sentinel}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer unchanged(t)
			ctx := rn.dir(t)
			writeTree(t, ctx, map[string]string{"Dockerfile": tc.dockerfile})
			for name, target := range tc.links {
				if err := os.Symlink(target, filepath.Join(ctx, name)); err != nil {
					t.Fatal(err)
				}
			}
			rn.own(t, ctx)
			dest := filepath.Join(rn.dir(t), "rootfs")
			r := rn.run(t, time.Minute, "build", "--root", root, "-o", "type=local,dest="+dest, ctx)
			if storeHolds(t, root, secret) {
				t.Fatal("host content reached the store")
			}
			if tc.refused != "" {
				if r.code == 0 || !strings.Contains(r.stderr, tc.refused) {
					t.Fatalf("exit %d, want an error naming %q:\n%s", r.code, tc.refused, r.stderr)
				}
				return
			}
			if r.code != 0 {
				t.Fatalf("build failed:\n%s", r.stderr)
			}
			tree := describeTree(t, dest)
			for p, want := range tc.want {
				if want = rn.hostDesc(want); tree[p] != want {
					t.Errorf("%s = %q, want %q", p, tree[p], want)
				}
			}
		})
	}
}
