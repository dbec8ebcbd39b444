package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// rootlessUser is the unprivileged system user the rootless tests run
// minibuild as. Its subordinate IDs (/etc/subuid, /etc/subgid) are mapped
// in the ranges mode; scripts/test.sh creates it.
const rootlessUser = "minibuild-test"

// runner is one way of starting minibuild: as the caller (root), or
// rootless, as rootlessUser and root of a user namespace of its own.
type runner struct {
	name string
	// rootless runs minibuild as rootlessUser in a new user namespace;
	// ranges maps the user's subordinate IDs there too, else only its own
	// uid and gid (to 0).
	rootless, ranges bool
	// uid and gid are rootlessUser's; subUID and subGID are the host IDs
	// of the namespace's 1 (the first subordinate ones) with ranges.
	uid, gid       int
	subUID, subGID int
}

// rootRunner starts minibuild as the test process does, as root.
func rootRunner() runner { return runner{name: "root"} }

// rootlessProbe caches, per mode, whether a rootless minibuild can be
// started here, or why not.
var rootlessProbe struct {
	once   [2]sync.Once
	reason [2]string
	r      [2]runner
}

// rootlessRunner returns the runner of a rootless minibuild with ID
// ranges or a single ID, or skips t, saying what is missing.
func rootlessRunner(t *testing.T, ranges bool) runner {
	t.Helper()
	requireRoot(t)
	i := 0
	if ranges {
		i = 1
	}
	rootlessProbe.once[i].Do(func() {
		rootlessProbe.r[i], rootlessProbe.reason[i] = probeRootless(ranges)
	})
	if why := rootlessProbe.reason[i]; why != "" {
		t.Skip(why)
	}
	return rootlessProbe.r[i]
}

// runners returns the runners of a table dimension: root, and rootless
// with ID ranges where it can start.
func runners(t *testing.T) []runner {
	t.Helper()
	out := []runner{rootRunner()}
	rootlessProbe.once[1].Do(func() { rootlessProbe.r[1], rootlessProbe.reason[1] = probeRootless(true) })
	if why := rootlessProbe.reason[1]; why != "" {
		t.Logf("not testing rootless: %s", why)
		return out
	}
	return append(out, rootlessProbe.r[1])
}

// probeRootless looks up rootlessUser and starts a rootless command once,
// returning the runner or why it cannot be.
func probeRootless(ranges bool) (runner, string) {
	u, err := user.Lookup(rootlessUser)
	if err != nil {
		return runner{}, fmt.Sprintf("no user %s to run minibuild rootless as (scripts/test.sh creates it: useradd --system %s)", rootlessUser, rootlessUser)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	r := runner{name: "rootless-single", rootless: true, ranges: ranges, uid: uid, gid: gid}
	if ranges {
		r.name = "rootless"
		for _, f := range []string{"/etc/subuid", "/etc/subgid"} {
			b, _ := os.ReadFile(f)
			if !strings.Contains("\n"+string(b), "\n"+rootlessUser+":") {
				return runner{}, fmt.Sprintf("%s has no subordinate IDs in %s (usermod --add-subuids 100000-165535 --add-subgids 100000-165535 %s)", rootlessUser, f, rootlessUser)
			}
		}
	}
	for _, tool := range []string{"setpriv", "unshare"} {
		if _, err := exec.LookPath(tool); err != nil {
			return runner{}, fmt.Sprintf("%s is not installed (util-linux)", tool)
		}
	}
	for i, file := range []string{"/proc/self/uid_map", "/proc/self/gid_map"} {
		out, err := r.wrap(context.Background(), "/bin/cat", file).CombinedOutput()
		if err != nil {
			return runner{}, fmt.Sprintf("cannot start a process rootless (%s, in a user namespace): %v: %s", rootlessUser, err, strings.TrimSpace(string(out)))
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		want := 1
		if ranges {
			want = 2
		}
		if len(lines) != want {
			return runner{}, fmt.Sprintf("the rootless user namespace maps %d ID ranges, want %d:\n%s", len(lines), want, out)
		}
		if ranges {
			f := strings.Fields(lines[1])
			sub, _ := strconv.Atoi(f[1])
			if f[0] != "1" || sub == 0 {
				return runner{}, fmt.Sprintf("unexpected rootless %s: %s", file, out)
			}
			if i == 0 {
				r.subUID = sub
			} else {
				r.subGID = sub
			}
		}
	}
	return r, ""
}

// wrap returns the command running name with args as this runner's
// minibuild runs. This is the one place that knows how a rootless
// minibuild is started: as rootlessUser, inside "unshare --user
// --map-root-user --mount" (with --map-auto for the ranges), as minibuild's
// own re-exec into a user namespace will start it.
func (r runner) wrap(ctx context.Context, name string, args ...string) *exec.Cmd {
	if !r.rootless {
		return exec.CommandContext(ctx, name, args...)
	}
	us := []string{"--user", "--map-root-user", "--mount"}
	if r.ranges {
		us = append(us, "--map-auto")
	}
	argv := []string{"--reuid=" + strconv.Itoa(r.uid), "--regid=" + strconv.Itoa(r.gid), "--init-groups",
		"env", "HOME=" + os.TempDir(), "unshare"}
	argv = append(append(append(argv, us...), name), args...)
	return exec.CommandContext(ctx, "setpriv", argv...)
}

// run runs minibuild with args, killing it after limit (0: two minutes;
// a failure), and returns what it printed and its exit code.
func (r runner) run(t *testing.T, limit time.Duration, args ...string) result {
	t.Helper()
	if limit == 0 {
		limit = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	res, err := runBin(r.wrap(ctx, bin, args...))
	if ctx.Err() != nil {
		t.Fatalf("minibuild %s (%s) did not finish within %v\nstderr:\n%s", strings.Join(args, " "), r.name, limit, res.stderr)
	}
	if err != nil {
		t.Fatalf("minibuild %s (%s): %v\n%s", strings.Join(args, " "), r.name, err, res.stderr)
	}
	return res
}

// mustRun runs minibuild with args and fails t on a non-zero exit.
func (r runner) mustRun(t *testing.T, args ...string) result {
	t.Helper()
	res := r.run(t, 0, args...)
	if res.code != 0 {
		t.Fatalf("minibuild %s (%s): exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.name, res.code, res.stdout, res.stderr)
	}
	return res
}

// dir returns a new, empty directory this runner's minibuild may read and
// write (its --root, contexts, outputs): t.TempDir() for root, else one
// owned by rootlessUser (t.TempDir()'s parents are closed to it). It is
// removed when the test ends.
func (r runner) dir(t *testing.T) string {
	t.Helper()
	if !r.rootless {
		return t.TempDir()
	}
	dir, err := os.MkdirTemp("", "minibuild-rootless-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chown(dir, r.uid, r.gid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// own gives everything under dir to the runner's user (rootless), as
// though the user had made it.
func (r runner) own(t *testing.T, dir string) {
	t.Helper()
	if !r.rootless {
		return
	}
	err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, r.uid, r.gid)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// owner returns how the owner "UID:GID", as minibuild sees it, reads
// outside the runner's user namespace: unchanged for root; rootless, 0 is
// rootlessUser's own ID and 1 and up its subordinate IDs.
func (r runner) owner(uid, gid int) string {
	if !r.rootless {
		return fmt.Sprintf("%d:%d", uid, gid)
	}
	host := func(id, own, sub int) int {
		if id == 0 {
			return own
		}
		return sub + id - 1
	}
	return fmt.Sprintf("%d:%d", host(uid, r.uid, r.subUID), host(gid, r.gid, r.subGID))
}

// hostDesc rewrites a describeTree description written for root ("MODE
// 0:0 ...") to how this runner's files read from outside its namespace.
func (r runner) hostDesc(desc string) string {
	if !r.rootless {
		return desc
	}
	return strings.Replace(desc, " 0:0", " "+r.owner(0, 0), 1)
}

// verifyClean checks, as this runner, that the store at root verifies
// without problems.
func (r runner) verifyClean(t *testing.T, root string) {
	t.Helper()
	res := r.run(t, time.Minute, "cache", "verify", "--root", root)
	if res.code != 0 || !strings.Contains(res.stdout, "no problems found") {
		t.Fatalf("cache verify (%s): exit %d\n%s%s", r.name, res.code, res.stdout, res.stderr)
	}
}
