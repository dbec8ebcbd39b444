package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestContextEscapes: a context symlink that points outside the
// context is never followed to host content: the build either refuses
// the source, naming it, or copies the link as a link.
func TestContextEscapes(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	busyboxBase(t, root)
	sentinel, unchanged := sentinelDir(t)
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
	// Rootless too: the same build by an ordinary user (see rootless_test.go).
	var users []*osUser
	users = append(users, nil)
	if u, ok := optionalUser(t, "minibuild-test"); ok {
		userBusybox(t, u)
		users = append(users, &u)
	}
	for _, u := range users {
		for _, tc := range cases {
			name := tc.name
			if u != nil {
				name = "rootless/" + name
			}
			t.Run(name, func(t *testing.T) {
				contextEscape(t, u, root, secret, unchanged, tc.dockerfile, tc.links, tc.refused, tc.want)
			})
		}
	}
}

// contextEscape builds one TestContextEscapes case, as root in root, or
// as u in its own root.
func contextEscape(t *testing.T, u *osUser, root, secret string, unchanged func(*testing.T), dockerfile string, links map[string]string, refused string, wantTree map[string]string) {
	tc := struct {
		dockerfile string
		links      map[string]string
		refused    string
		want       map[string]string
	}{dockerfile, links, refused, wantTree}
	{
		{
			defer unchanged(t)
			ctx := t.TempDir()
			writeTree(t, ctx, map[string]string{"Dockerfile": tc.dockerfile})
			for name, target := range tc.links {
				if err := os.Symlink(target, filepath.Join(ctx, name)); err != nil {
					t.Fatal(err)
				}
			}
			dest := filepath.Join(t.TempDir(), "rootfs")
			var r result
			if u == nil {
				r = mbWithin(t, time.Minute, "build", "--root", root, "-o", "type=local,dest="+dest, ctx)
			} else {
				root = filepath.Join(u.home, ".local", "share", "minibuild")
				out := t.TempDir()
				for _, d := range []string{ctx, out} {
					u.chown(t, d)
					os.Chmod(filepath.Dir(d), 0o755)
				}
				dest = filepath.Join(out, "rootfs")
				r = mbAs(t, *u, nil, "build", "-o", "type=local,dest="+dest, ctx)
			}
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
				if u != nil {
					// A rootless export's files are the user's on the host (0 inside).
					want = strings.Replace(want, " 0:0 ", fmt.Sprintf(" %d:%d ", u.uid, u.gid), 1)
				}
				if tree[p] != want {
					t.Errorf("%s = %q, want %q", p, tree[p], want)
				}
			}
		}
	}
}
