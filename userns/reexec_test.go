package userns

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// testUser is an ordinary user to start the test binary as, with the
// subordinate ranges scripts/test.sh gives minibuild-test, or without
// any, as minibuild-norange.
type testUser struct {
	name     string
	uid, gid int
	bin      string // a copy of the test binary the user may run
	home     string // a directory the user owns
}

// asUser finds the user name, skipping when the test is not root or the
// user does not exist, and prepares a binary and a home for it.
func asUser(t *testing.T, name string) testUser {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root, to start the test binary as another user")
	}
	u, err := user.Lookup(name)
	if err != nil {
		t.Skipf("no user %s (scripts/test.sh creates it): %v", name, err)
	}
	tu := testUser{name: name}
	tu.uid, _ = strconv.Atoi(u.Uid)
	tu.gid, _ = strconv.Atoi(u.Gid)
	dir, err := os.MkdirTemp("", "userns-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tu.bin = filepath.Join(dir, "userns.test")
	copyFile(t, "/proc/self/exe", tu.bin)
	tu.home = filepath.Join(dir, "home")
	if err := os.Mkdir(tu.home, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(tu.home, tu.uid, tu.gid); err != nil {
		t.Fatal(err)
	}
	return tu
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// command is the test binary as u in mode, with env added.
func (u testUser) command(mode string, env ...string) *exec.Cmd {
	cmd := exec.Command(u.bin, "-test.run=^$")
	cmd.Dir = u.home
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + u.home, testModeEnv + "=" + mode}, env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(u.uid), Gid: uint32(u.gid)}}
	return cmd
}

// run runs cmd and returns its output and exit code.
func run(t *testing.T, cmd *exec.Cmd) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("running %s: %v", cmd.Path, err)
	}
	return out.String(), errb.String(), cmd.ProcessState.ExitCode()
}

// report is what the test binary printed inside: key=value lines.
func report(out string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			m[k] = v
		}
	}
	return m
}

// hasRange reports whether the real file at path gives user a range.
func hasRange(t *testing.T, path string, u testUser) bool {
	rs, err := ReadSubIDs(path, u.name, u.uid)
	if err != nil {
		t.Fatal(err)
	}
	return len(rs) > 0
}

// fullCaps is CapEff with every capability of kernel 5.9 and later.
func checkCaps(t *testing.T, capEff string) {
	t.Helper()
	v, err := strconv.ParseUint(capEff, 16, 64)
	if err != nil || v&(1<<21) == 0 { // CAP_SYS_ADMIN
		t.Errorf("CapEff %q inside: want every capability of the namespace (CAP_SYS_ADMIN at least)", capEff)
	}
}

// TestReexecRanges: as minibuild-test, with its ranges in the real
// /etc/subuid and /etc/subgid, the program runs as uid 0 with every
// capability, its IDs mapped to the user's and the ranges after, no
// warning, HOME unchanged and the exit code passed on.
func TestReexecRanges(t *testing.T) {
	u := asUser(t, "minibuild-test")
	if !hasRange(t, "/etc/subuid", u) || !hasRange(t, "/etc/subgid", u) {
		t.Skip("minibuild-test has no subordinate ranges in /etc/subuid and /etc/subgid (scripts/test.sh gives it 100000-165535)")
	}
	uids, _ := ReadSubIDs("/etc/subuid", u.name, u.uid)
	gids, _ := ReadSubIDs("/etc/subgid", u.name, u.uid)
	// The child may reach Reexec before its maps are written or, as a
	// large binary does, after.
	for _, delay := range []string{"0s", "300ms"} {
		t.Run("start after "+delay, func(t *testing.T) {
			stdout, stderr, code := run(t, u.command("report", testExitEnv+"=3", testDelayEnv+"="+delay))
			if code != 3 {
				t.Fatalf("exit %d, want 3\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			if stderr != "" {
				t.Errorf("stderr %q, want nothing", stderr)
			}
			r := report(stdout)
			wantU := strings.Join(mapArgs(0, idMap(u.uid, uids))[1:], " ")
			wantG := strings.Join(mapArgs(0, idMap(u.gid, gids))[1:], " ")
			if got := strings.ReplaceAll(r["uid_map"], ",", " "); got != wantU {
				t.Errorf("uid_map %q, want %q", got, wantU)
			}
			if got := strings.ReplaceAll(r["gid_map"], ",", " "); got != wantG {
				t.Errorf("gid_map %q, want %q", got, wantG)
			}
			if r["euid"] != "0" || r["home"] != u.home || r["marker"] != markerInside {
				t.Errorf("inside: euid %s, HOME %s, %s=%s; want 0, %s and %s", r["euid"], r["home"], MarkerEnv, r["marker"], u.home, markerInside)
			}
			checkCaps(t, r["capeff"])
		})
	}
}

// TestReexecOneID: without ranges (subordinate ID files that do not name
// the user, or without the helpers), the program still runs as uid 0,
// with the user's IDs alone mapped, after one line saying why and how to
// add ranges.
func TestReexecOneID(t *testing.T) {
	u := asUser(t, "minibuild-test")
	empty := filepath.Join(u.home, "empty")
	if err := os.WriteFile(empty, []byte("someoneelse:100000:65536\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  []string
		want []string // in the warning
	}{
		{"no ranges", []string{testSubUIDEnv + "=" + empty, testSubGIDEnv + "=" + empty},
			[]string{"no subordinate IDs for user minibuild-test in " + empty, "building with one ID",
				"sudo usermod --add-subuids 196608-262143 --add-subgids 196608-262143 minibuild-test"}},
		{"no helpers", []string{testHelpersEnv + "=/nonexistent/newuidmap"},
			[]string{"newuidmap and newgidmap are not installed", "building with one ID", "apt-get install uidmap"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := run(t, u.command("report", tc.env...))
			if code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			if strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr %q: want one line", stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("warning %q lacks %q", stderr, w)
				}
			}
			r := report(stdout)
			if want := "0 " + strconv.Itoa(u.uid) + " 1"; r["uid_map"] != want {
				t.Errorf("uid_map %q, want %q", r["uid_map"], want)
			}
			if want := "0 " + strconv.Itoa(u.gid) + " 1"; r["gid_map"] != want {
				t.Errorf("gid_map %q, want %q", r["gid_map"], want)
			}
			if r["euid"] != "0" {
				t.Errorf("euid %s inside, want 0", r["euid"])
			}
			checkCaps(t, r["capeff"])
		})
	}
}

// TestReexecNoRange: minibuild-norange has no lines in the real files.
func TestReexecNoRange(t *testing.T) {
	u := asUser(t, "minibuild-norange")
	if hasRange(t, "/etc/subuid", u) {
		t.Skip("minibuild-norange has subordinate uids")
	}
	stdout, stderr, code := run(t, u.command("report"))
	if code != 0 || !strings.Contains(stderr, "no subordinate IDs for user minibuild-norange in /etc/subuid") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if r := report(stdout); r["euid"] != "0" {
		t.Errorf("euid %s inside, want 0", r["euid"])
	}
}

// TestReexecOptOutAndStaleMarker: MINIBUILD_NO_USERNS=1 leaves the
// program as the user outside any namespace; a marker that is not the
// parent's is ignored, and replaced.
func TestReexecOptOutAndStaleMarker(t *testing.T) {
	u := asUser(t, "minibuild-test")
	stdout, _, _ := run(t, u.command("report", OptOutEnv+"=1"))
	if r := report(stdout); r["euid"] != strconv.Itoa(u.uid) || r["uid_map"] != "0 0 4294967295" {
		t.Errorf("opted out: euid %s, uid_map %q; want %d in the initial namespace", r["euid"], r["uid_map"], u.uid)
	}
	stdout, stderr, _ := run(t, u.command("report", MarkerEnv+"=1", OptOutEnv+"=0"))
	r := report(stdout)
	if r["euid"] != "0" || r["marker"] != markerInside {
		t.Errorf("stale marker: euid %s, marker %q; want 0 and %q\n%s", r["euid"], r["marker"], markerInside, stderr)
	}
}

// TestReexecSignal: a signal to the parent reaches the program, which
// dies of it; the parent exits 128+N.
func TestReexecSignal(t *testing.T) {
	u := asUser(t, "minibuild-test")
	cmd := u.command("sleep")
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), "marker=") && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("still running 10s after SIGTERM\n%s", out.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != 128+int(syscall.SIGTERM) {
		t.Errorf("exit %d after SIGTERM, want %d\n%s", code, 128+int(syscall.SIGTERM), out.String())
	}
}

// TestReexecUnavailable: when no user namespace may be made (here
// user.max_user_namespaces=0 in a namespace the test makes as root), the
// program fails with one line naming the setting and its fix.
func TestReexecUnavailable(t *testing.T) {
	u := asUser(t, "minibuild-test")
	cmd := exec.Command(u.bin, "-test.run=^$")
	cmd.Dir = u.home
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + u.home, testModeEnv + "=limit",
		testUIDEnv + "=" + strconv.Itoa(u.uid), testGIDEnv + "=" + strconv.Itoa(u.gid)}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1 << 31}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1 << 31}},
		// For its setgroups before it becomes the user.
		GidMappingsEnableSetgroups: true,
	}
	stdout, stderr, code := run(t, cmd)
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, w := range []string{"minibuild: cannot create a user namespace to build as an ordinary user (no space left on device): user.max_user_namespaces=0 forbids it",
		"sudo sysctl -w user.max_user_namespaces=15000", "minibuild doctor"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr %q lacks %q", stderr, w)
		}
	}
	if strings.Count(stderr, "\n") != 1 {
		t.Errorf("stderr %q: want one line", stderr)
	}
}

// TestReexecParentDies: when the parent is killed (SIGKILL: it can pass
// nothing on), the program in the namespace is stopped too, with
// SIGTERM, with ranges (it watches the go-ahead pipe) and without (the
// parent-death signal).
func TestReexecParentDies(t *testing.T) {
	u := asUser(t, "minibuild-test")
	empty := filepath.Join(u.home, "empty")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  []string
	}{{"ranges", nil}, {"one ID", []string{testSubUIDEnv + "=" + empty, testSubGIDEnv + "=" + empty}}} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := u.command("sleep", tc.env...)
			var out syncBuffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(10 * time.Second)
			for !strings.Contains(out.String(), "marker=") && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			pid, err := strconv.Atoi(report(out.String())["pid"])
			if err != nil {
				_ = cmd.Process.Kill()
				t.Fatalf("no pid from the child: %q", out.String())
			}
			_ = cmd.Process.Kill()
			// Not cmd.Wait: it would wait for the child to close its output too.
			_, _ = cmd.Process.Wait()
			for alive(pid) && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if alive(pid) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				t.Errorf("the program in the namespace (pid %d) outlived its killed parent", pid)
			}
		})
	}
}

// alive reports whether pid runs (a zombie does not).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// syncBuffer is a bytes.Buffer a process may write while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
