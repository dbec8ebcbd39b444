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

// rootlessDockerfile exercises what a rootless build must store exactly
// as a root build does: owners given by COPY --chown and chown, a setuid
// file, hardlinks, whiteouts, an opaque directory, a symlink's time, and
// RUN mounts.
const rootlessDockerfile = `FROM busybox:test
COPY --chown=1000:1000 f /owned/f
COPY --chown=65534:65534 f /nobody/f
RUN mkdir -p /d/keep /d/gone /d/replace/sub && echo a > /d/gone/x && echo b > /d/replace/sub/y && echo c > /d/del && \
    echo s > /d/suid && chmod 4755 /d/suid && chown 1234:5678 /d/suid && echo h > /d/h1 && ln /d/h1 /d/h2
RUN rm -rf /d/gone /d/del /d/replace && mkdir /d/replace && echo new > /d/replace/z && \
    chown -R 2000:3000 /d/keep && chmod 2775 /d/keep && ln -s /d/h1 /d/link && touch -h -d @5 /d/link
RUN --mount=type=tmpfs,target=/t --mount=type=cache,target=/c,uid=1000 sh -c 'echo x > /c/x; id -u > /whoami'
USER 1000
RUN echo user > /tmp/u 2>/dev/null || true
`

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

// TestRootlessDigests: built by an ordinary user (a user namespace from
// its subordinate IDs) and by root, with either snapshotter, the image
// has the same manifest digest.
func TestRootlessDigests(t *testing.T) {
	u := lookupUser(t, "minibuild-test")
	files := map[string]string{"Dockerfile": rootlessDockerfile, "f": "content\n"}
	for _, snap := range []string{"overlay", "native"} {
		t.Run(snap, func(t *testing.T) {
			root := t.TempDir()
			busyboxBase(t, root)
			want := strings.TrimSpace(mustMB(t, "build", "--root", root, "--snapshotter", snap, "--progress", "quiet", userContext(t, u, files)).stdout)
			userBusybox(t, u)
			r := mbAs(t, u, nil, "build", "--snapshotter", snap, "--progress", "quiet", userContext(t, u, files))
			if r.code != 0 {
				t.Fatalf("rootless build: exit %d\n%s", r.code, r.stderr)
			}
			if got := strings.TrimSpace(r.stdout); got != want {
				t.Errorf("rootless digest %s, root %s", got, want)
			}
			if r := mbAs(t, u, nil, "run", "busybox:test", "--", "sh", "-c", "exit 3"); r.code != 3 {
				t.Errorf("rootless run: exit %d, want 3\n%s", r.code, r.stderr)
			}
		})
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
