package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// userContext is a context of files the user u can read.
func userContext(t *testing.T, u osUser, files map[string]string) string {
	t.Helper()
	dir, err := os.MkdirTemp(u.home, "ctx-")
	if err != nil {
		t.Fatal(err)
	}
	writeTree(t, dir, files)
	u.chown(t, dir)
	return dir
}

// userBusybox builds busybox:test into u's default root.
func userBusybox(t *testing.T, u osUser) {
	t.Helper()
	ctx := busyboxContext(t)
	u.chown(t, ctx)
	os.Chmod(filepath.Dir(ctx), 0o755)
	if r := mbAs(t, u, nil, "build", "--progress", "quiet", "-t", "busybox:test", ctx); r.code != 0 {
		t.Fatalf("busybox as %s: exit %d\n%s", u.name, r.code, r.stderr)
	}
}

// TestRootlessRobust: as an ordinary user, four concurrent builds and a
// prune in one root succeed; builds killed with SIGKILL (the whole
// process group) leave a root that verifies clean; after rmi and prune
// --all the user can remove the root with rm -rf.
func TestRootlessRobust(t *testing.T) {
	u := lookupUser(t, "minibuild-test")
	userBusybox(t, u)
	var wg sync.WaitGroup
	codes := make([]int, 5)
	for i := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i == 4 {
				time.Sleep(300 * time.Millisecond)
				codes[i] = mbAs(t, u, nil, "cache", "prune").code
				return
			}
			ctx := userContext(t, u, map[string]string{"Dockerfile": "FROM busybox:test\nRUN echo " + string(rune('a'+i)) + " > /n && sleep 1\n"})
			codes[i] = mbAs(t, u, nil, "build", "--progress", "quiet", ctx).code
		}()
	}
	wg.Wait()
	for i, c := range codes {
		if c != 0 {
			t.Errorf("concurrent job %d: exit %d", i, c)
		}
	}
	for i := range 5 {
		ctx := userContext(t, u, map[string]string{"Dockerfile": "FROM busybox:test\nRUN --mount=type=cache,target=/c sh -c 'echo " + string(rune('k'+i)) + " > /c/x; sleep 5'\n"})
		cmd := exec.Command(bin, "build", "--progress", "quiet", ctx)
		cmd.Dir, cmd.Env = u.home, []string{"PATH=" + os.Getenv("PATH"), "HOME=" + u.home}
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: &syscall.Credential{Uid: uint32(u.uid), Gid: uint32(u.gid)}}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(400+100*i) * time.Millisecond)
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	}
	if r := mbAs(t, u, nil, "cache", "verify"); r.code != 0 || !strings.Contains(r.stdout+r.stderr, "no problems found") {
		t.Errorf("verify after SIGKILLed builds: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := mbAs(t, u, nil, "rmi", "busybox:test"); r.code != 0 {
		t.Errorf("rmi: exit %d\n%s", r.code, r.stderr)
	}
	if r := mbAs(t, u, nil, "cache", "prune", "--all"); r.code != 0 {
		t.Errorf("prune --all: exit %d\n%s", r.code, r.stderr)
	}
	rm := exec.Command("rm", "-rf", filepath.Join(u.home, ".local"))
	rm.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(u.uid), Gid: uint32(u.gid)}}
	if out, err := rm.CombinedOutput(); err != nil {
		t.Errorf("rm -rf of the root as the user: %v\n%s", err, out)
	}
}
