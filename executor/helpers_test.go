package executor_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minibuild/minibuild/executor"
)

func TestMain(m *testing.M) {
	if executor.Init() {
		return
	}
	os.Exit(m.Run())
}

// requireRoot skips t unless it runs as root with busybox available.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("executor tests need root (namespaces, mounts); run go test as root")
	}
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Skip("executor tests need a static /bin/busybox (Debian package busybox-static)")
	}
}

// newRootfs builds a tiny rootfs holding only /bin/busybox and its applet links.
func newRootfs(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "rootfs")
	if err := os.MkdirAll(filepath.Join(root, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "bin", "busybox"), src, 0o755); err != nil {
		t.Fatal(err)
	}
	applets := []string{"sh", "echo", "cat", "id", "ls", "touch", "hostname", "sleep", "pwd", "true", "env", "mkdir", "grep", "wc", "readlink", "tr", "rm", "head", "tail", "cut", "test", "stat", "df"}
	for _, a := range applets {
		if err := os.Symlink("busybox", filepath.Join(root, "bin", a)); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// namedExecutor is an executor under test.
type namedExecutor struct {
	name string
	e    executor.Executor
}

// executors returns the built-in executor and, when runc is installed, the runc one.
func executors(t *testing.T) []namedExecutor {
	t.Helper()
	es := []namedExecutor{{"builtin", executor.NewBuiltin(executor.BuiltinOptions{StateDir: t.TempDir()})}}
	if _, err := exec.LookPath("runc"); err == nil {
		es = append(es, namedExecutor{"runc", executor.NewRuntime("runc", t.TempDir())})
	} else {
		t.Log("runc not on PATH: skipping the OCI runtime executor")
	}
	return es
}

// result is what one run produced.
type result struct {
	stdout, stderr string
	err            error
}

// run runs p in rootfs with a timeout, captures its output and checks that nothing of
// the run stays mounted afterwards.
func run(t *testing.T, e executor.Executor, rootfs string, p executor.Process) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	p.Stdout, p.Stderr = &stdout, &stderr
	err := e.Run(ctx, rootfs, p)
	assertNotMounted(t, rootfs)
	return result{stdout.String(), stderr.String(), err}
}

// assertNotMounted fails t when anything under rootfs is still mounted.
func assertNotMounted(t *testing.T, rootfs string) {
	t.Helper()
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(mi), "\n") {
		if strings.Contains(line, rootfs) {
			t.Errorf("still mounted after Run: %s", line)
		}
	}
}

// exitCode returns the code of an *executor.ExitError, 0 for nil, and -1 for other errors.
func exitCode(err error) int {
	var ee *executor.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.Code
	default:
		return -1
	}
}

// sh is a Process running script with /bin/sh -c.
func sh(script string) executor.Process {
	return executor.Process{Args: []string{"/bin/sh", "-c", script}}
}
