package executor_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/minibuild/minibuild/executor"
)

// copyWithLibraries copies the host binary bin into rootfs at the same path, with the
// shared libraries ldd lists for it.
func copyWithLibraries(t *testing.T, rootfs, bin string) {
	t.Helper()
	out, err := exec.Command("ldd", bin).Output()
	if err != nil {
		t.Skipf("ldd %s: %v", bin, err)
	}
	files := []string{bin}
	for _, m := range regexp.MustCompile(`(?m)(/\S+) \(0x`).FindAllStringSubmatch(string(out), -1) {
		files = append(files, m[1])
	}
	for _, f := range files {
		real, err := filepath.EvalSymlinks(f)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(real)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(rootfs, f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMountSocket binds an ssh-agent's socket into the rootfs and lists its keys
// through it with ssh-add, as RUN --mount=type=ssh does.
func TestMountSocket(t *testing.T) {
	requireRoot(t)
	agent, err1 := exec.LookPath("ssh-agent")
	add, err2 := exec.LookPath("ssh-add")
	if err1 != nil || err2 != nil {
		t.Skip("needs ssh-agent and ssh-add (Debian package openssh-client)")
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	cmd := exec.Command(agent, "-D", "-a", sock)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if fi, err := os.Stat(sock); err == nil && fi.Mode()&os.ModeSocket != 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("ssh-agent made no socket")
		}
	}
	for _, ne := range executors(t) {
		t.Run(ne.name, func(t *testing.T) {
			rootfs := newRootfs(t)
			copyWithLibraries(t, rootfs, add)
			before := listing(t, rootfs)
			p := executor.Process{
				Args:   []string{add, "-l"},
				Env:    []string{"SSH_AUTH_SOCK=/run/buildkit/ssh_agent.0"},
				Mounts: []executor.Mount{{Type: executor.MountBind, Target: "/run/buildkit/ssh_agent.0", Source: sock, ReadOnly: true}},
			}
			res := run(t, ne.e, rootfs, p)
			// Exit 1 with this message is an agent without keys; 2 is no agent.
			if exitCode(res.err) != 1 || res.stdout != "The agent has no identities.\n" {
				t.Errorf("ssh-add -l = %v, stdout %q, stderr %q; want the empty agent's answer", res.err, res.stdout, res.stderr)
			}
			if diff := diffListings(before, listing(t, rootfs)); len(diff) > 0 {
				t.Errorf("rootfs changes = %q, want none", diff)
			}
		})
	}
}
