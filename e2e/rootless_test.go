package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// rootlessContext copies the context dir (and, with busybox, the static
// busybox beside its Dockerfile) into a directory the runner r can read.
func rootlessContext(t *testing.T, r runner, dir string, busybox bool) string {
	t.Helper()
	ctx := r.dir(t)
	if out, err := exec.Command("cp", "-a", dir+"/.", ctx).CombinedOutput(); err != nil {
		t.Fatalf("copying %s: %v\n%s", dir, err, out)
	}
	if busybox {
		requireBusybox(t)
		if out, err := exec.Command("cp", busyboxPath, filepath.Join(ctx, "busybox")).CombinedOutput(); err != nil {
			t.Fatalf("copying busybox: %v\n%s", err, out)
		}
	}
	if out, err := exec.Command("chmod", "-R", "a+rX", ctx).CombinedOutput(); err != nil {
		t.Fatalf("chmod: %v\n%s", err, out)
	}
	return ctx
}

// TestRootlessDigests builds the same contexts as root and rootless (as
// minibuild-test, root of a user namespace with its subordinate IDs, and
// with only its own ID), with both snapshotters and, for RUN steps, both
// executors: every build that can run rootless gives the image digest of
// the root build, its layers carrying the IDs seen inside the namespace.
// With a single ID, an ID outside the map fails naming it and the map.
func TestRootlessDigests(t *testing.T) {
	requireRoot(t)
	ranges := rootlessRunner(t, true)
	single := rootlessRunner(t, false)
	secret := filepath.Join(ranges.dir(t), "secret")
	if err := os.WriteFile(secret, []byte("top secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, dir string
		busybox   bool
		runtimes  []string
		// singleErr is what the build with a single ID fails with ("": it
		// succeeds); %d is the user's uid.
		singleErr string
	}{
		{name: "hello", dir: "../examples/hello"},
		{name: "busybox", dir: "../examples/busybox", busybox: true},
		{name: "every kind of change", dir: "testdata/rootless", busybox: true, runtimes: []string{"", "runc"},
			singleErr: "Dockerfile:10: creating /owned: mkdirall /owned: chown: invalid argument: user ID 1000 is not mapped in this user namespace (user map: 0 %d 1)"},
	}
	for _, tc := range cases {
		for _, snap := range []string{"overlay", "native"} {
			runtimes := tc.runtimes
			if len(runtimes) == 0 {
				runtimes = []string{""}
			}
			for _, rt := range runtimes {
				name := tc.name + "/" + snap
				if rt != "" {
					name += "/" + rt
					if _, err := exec.LookPath(rt); err != nil {
						t.Logf("%s: %s is not installed", name, rt)
						continue
					}
				}
				t.Run(name, func(t *testing.T) {
					digest := func(r runner) result {
						ctx := rootlessContext(t, r, tc.dir, tc.busybox)
						args := []string{"build", "--root", r.dir(t), "--progress", "quiet", "--snapshotter", snap, "--secret", "id=s,src=" + secret}
						if rt != "" {
							args = append(args, "--runtime", rt)
						}
						return r.run(t, 0, append(args, ctx)...)
					}
					want := digest(rootRunner())
					if want.code != 0 {
						t.Fatalf("root build: exit %d\n%s", want.code, want.stderr)
					}
					if got := digest(ranges); got.code != 0 || got.stdout != want.stdout {
						t.Errorf("rootless build: exit %d, digest %q; the root build's is %q\n%s", got.code, got.stdout, want.stdout, got.stderr)
					}
					got := digest(single)
					if tc.singleErr == "" {
						if got.code != 0 || got.stdout != want.stdout {
							t.Errorf("rootless build with a single ID: exit %d, digest %q; the root build's is %q\n%s", got.code, got.stdout, want.stdout, got.stderr)
						}
						return
					}
					wantErr := fmt.Sprintf(tc.singleErr, single.uid)
					if got.code == 0 || !strings.Contains(got.stderr, wantErr) {
						t.Errorf("rootless build with a single ID: exit %d, stderr:\n%s\nwant an error saying %q", got.code, got.stderr, wantErr)
					}
				})
			}
		}
	}
}

// TestRootlessRemoval: what a rootless build writes under its root
// (unpacked layers, snapshots and their trash, native bases, cache mounts,
// the files of a failed step) is owned partly by the user's subordinate
// IDs, which only the namespace can remove; after rmi and cache prune
// --all, run rootless, the plain user removes the root outside any
// namespace.
func TestRootlessRemoval(t *testing.T) {
	requireRoot(t)
	r := rootlessRunner(t, true)
	root := filepath.Join(r.dir(t), "root")
	ctx := rootlessContext(t, r, "testdata/rootless", true)
	secret := filepath.Join(ctx, "f")
	for _, snap := range []string{"overlay", "native"} {
		r.mustRun(t, "build", "--root", root, "--progress", "quiet", "--snapshotter", snap, "--no-cache", "-t", "rl:"+snap, "--secret", "id=s,src="+secret, ctx)
	}
	failing := r.dir(t)
	writeTree(t, failing, map[string]string{"Dockerfile": "FROM rl:native\nRUN mkdir /x && chown -R 1000:1000 /x /old && touch /x/y && false\n"})
	if res := r.run(t, 0, "build", "--root", root, "--progress", "quiet", failing); res.code == 0 {
		t.Fatal("a failing RUN step built")
	}
	if n := foreignFiles(t, root, r); n == 0 {
		t.Fatal("the rootless builds left no file of a subordinate ID: the test proves nothing")
	}
	r.mustRun(t, "rmi", "--root", root, "rl:overlay", "rl:native")
	r.mustRun(t, "cache", "prune", "--all", "--root", root)
	if n := foreignFiles(t, root, r); n != 0 {
		t.Errorf("after cache prune --all, %d files of subordinate IDs are left under the root", n)
	}
	rm := exec.Command("setpriv", "--reuid="+strconv.Itoa(r.uid), "--regid="+strconv.Itoa(r.gid), "--init-groups", "rm", "-rf", root)
	if out, err := rm.CombinedOutput(); err != nil {
		t.Fatalf("rm -rf of the root as %s, outside the namespace: %v\n%s", rootlessUser, err, out)
	}
}

// foreignFiles counts the files under dir that rootlessUser does not own
// outside its namespace (subordinate IDs), logging the first few.
func foreignFiles(t *testing.T, dir string, r runner) int {
	t.Helper()
	n := 0
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		st := info.Sys().(*syscall.Stat_t)
		if int(st.Uid) != r.uid || int(st.Gid) != r.gid {
			if n++; n <= 5 {
				t.Logf("owned by %d:%d: %s", st.Uid, st.Gid, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
