package e2e

import (
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestInterruptTearsDown: SIGINT during a RUN stops the build within a
// couple of seconds, non-zero, with nothing left mounted; the next build works.
func TestInterruptTearsDown(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	busyboxBase(t, root)
	ctx := t.TempDir()
	writeTree(t, ctx, map[string]string{"Dockerfile": "FROM busybox:test\nRUN echo started && sleep 60\n"})
	cmd := exec.Command(bin, "build", "--root", root, "--progress", "plain", ctx)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(stderr.String(), "| started") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if len(mountsUnder(t, root)) == 0 {
		t.Fatalf("the RUN was not running with its rootfs mounted:\n%s", stderr.String())
	}
	began := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if took := time.Since(began); took > 3*time.Second {
		t.Errorf("took %v to stop after SIGINT", took)
	}
	if err == nil {
		t.Errorf("an interrupted build exited 0")
	}
	if m := mountsUnder(t, root); len(m) > 0 {
		t.Errorf("mounts left after SIGINT: %v", m)
	}
	writeTree(t, ctx, map[string]string{"Dockerfile": "FROM busybox:test\nRUN echo ok\n"})
	build(t, root, ctx)
}
