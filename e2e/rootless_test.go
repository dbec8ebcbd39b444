package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestRootlessCLI: as an ordinary user minibuild runs as root of a user
// namespace, with the store in the user's home and owned by the user;
// exit codes come through; a FROM scratch build (COPY only) gives the
// digest a root build gives. Without subordinate IDs it still works,
// after one warning line.
func TestRootlessCLI(t *testing.T) {
	// examples/hello, built as root in a store of its own.
	rootStore := t.TempDir()
	requireRoot(t)
	want := mustMB(t, "build", "--root", rootStore, "--progress", "quiet", "../examples/hello").stdout

	for _, tc := range []struct {
		user    string
		warning string // the one line on stderr, "" for none
	}{
		{"minibuild-test", ""},
		{"minibuild-norange", "minibuild: no subordinate IDs for user minibuild-norange in /etc/subuid: building with one ID"},
	} {
		t.Run(tc.user, func(t *testing.T) {
			u := lookupUser(t, tc.user)
			checkStderr := func(r result) {
				t.Helper()
				if tc.warning == "" && r.stderr != "" || tc.warning != "" && (!strings.HasPrefix(r.stderr, tc.warning) || strings.Count(r.stderr, "\n") != 1) {
					t.Errorf("stderr %q, want %q", r.stderr, tc.warning)
				}
			}
			r := mbAs(t, u, nil, "--help")
			if r.code != 0 || !strings.Contains(r.stdout, "doctor") {
				t.Errorf("--help: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			checkStderr(r)
			if r := mbAs(t, u, nil, "images", "extra"); r.code != 2 || !strings.Contains(r.stderr, `unexpected argument "extra"`) {
				t.Errorf("images extra: exit %d, want 2 (a usage error, passed through)\n%s", r.code, r.stderr)
			}
			ctx := filepath.Join(u.home, "hello")
			if out, err := exec.Command("cp", "-r", "../examples/hello", ctx).CombinedOutput(); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			u.chown(t, ctx)
			r = mbAs(t, u, nil, "build", "--progress", "quiet", "-t", "hello:rootless", ctx)
			if r.code != 0 {
				t.Fatalf("build: exit %d\n%s", r.code, r.stderr)
			}
			checkStderr(r)
			if r.stdout != want {
				t.Errorf("built %q as %s, %q as root", r.stdout, tc.user, want)
			}
			r = mbAs(t, u, nil, "images")
			if r.code != 0 || !strings.Contains(r.stdout, "hello:rootless") {
				t.Errorf("images: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			store := filepath.Join(u.home, ".local", "share", "minibuild")
			err := filepath.Walk(store, func(p string, fi os.FileInfo, err error) error {
				if err != nil {
					return err
				}
				if st := fi.Sys().(*syscall.Stat_t); int(st.Uid) != u.uid || int(st.Gid) != u.gid {
					t.Errorf("%s is owned by %d:%d on the host, want the user's %d:%d", p, st.Uid, st.Gid, u.uid, u.gid)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("the store is not in the user's home: %v", err)
			}
		})
	}
}
