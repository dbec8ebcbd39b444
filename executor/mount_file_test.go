package executor_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minibuild/minibuild/executor"
	"golang.org/x/sys/unix"
)

// TestMountFileStaysInMemory checks, while a run with a file mount runs, that the
// file's host copy is on a private tmpfs, and afterwards that nothing of it is left.
func TestMountFileStaysInMemory(t *testing.T) {
	requireRoot(t)
	type stated struct {
		name, stateDir string
		e              executor.Executor
	}
	builtinDir, runcDir := t.TempDir(), t.TempDir()
	es := []stated{{"builtin", builtinDir, executor.NewBuiltin(executor.BuiltinOptions{StateDir: builtinDir})}}
	if _, err := exec.LookPath("runc"); err == nil {
		es = append(es, stated{"runc", runcDir, executor.NewRuntime("runc", runcDir)})
	} else {
		t.Log("runc not on PATH: skipping the OCI runtime executor")
	}
	for _, se := range es {
		t.Run(se.name, func(t *testing.T) {
			sharedMount(t, se.stateDir)
			rootfs := newRootfs(t)
			p := sh("cat /run/secrets/s; sleep 1")
			p.Mounts = []executor.Mount{{Type: executor.MountFile, Target: "/run/secrets/s", Data: []byte("in memory only")}}
			var out bytes.Buffer
			p.Stdout = &out
			done := make(chan error, 1)
			go func() { done <- se.e.Run(context.Background(), rootfs, p) }()
			var files string
			for deadline := time.Now().Add(time.Second); files == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				m, _ := filepath.Glob(filepath.Join(se.stateDir, "run-*", "files", "0"))
				if len(m) == 1 {
					files = filepath.Dir(m[0])
				}
			}
			if files == "" {
				t.Error("no file mount's host file found under the state directory while the run runs")
			} else {
				var st unix.Statfs_t
				if err := unix.Statfs(files, &st); err != nil || st.Type != unix.TMPFS_MAGIC {
					t.Errorf("the files' directory is not a tmpfs: type %#x, %v", st.Type, err)
				}
				for _, line := range mountinfoLines(t, files) {
					if strings.Contains(line, "shared:") {
						t.Errorf("the files' tmpfs propagates to other namespaces: %s", line)
					}
				}
			}
			if err := <-done; err != nil || out.String() != "in memory only" {
				t.Fatalf("Run = %v, stdout %q", err, out.String())
			}
			if m, _ := filepath.Glob(filepath.Join(se.stateDir, "run-*")); len(m) > 0 {
				t.Errorf("run directories left: %v", m)
			}
			if lines := mountinfoLines(t, se.stateDir+"/"); len(lines) > 0 {
				t.Errorf("still mounted under the state directory: %q", lines)
			}
		})
	}
}

// sharedMount makes dir a shared mount for the test, as / is under systemd, so that
// what is mounted below it would propagate to other mount namespaces.
func sharedMount(t *testing.T, dir string) {
	t.Helper()
	if err := unix.Mount(dir, dir, "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Unmount(dir, unix.MNT_DETACH) })
	if err := unix.Mount("", dir, "", unix.MS_SHARED, ""); err != nil {
		t.Fatal(err)
	}
}

// mountinfoLines returns the lines of /proc/self/mountinfo that mention dir.
func mountinfoLines(t *testing.T, dir string) []string {
	t.Helper()
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(mi), "\n") {
		if strings.Contains(line, dir) {
			out = append(out, line)
		}
	}
	return out
}

// TestCancelWithMounts cancels a run with every kind of mount: afterwards nothing is
// mounted, and the rootfs and the bind's source are as before.
func TestCancelWithMounts(t *testing.T) {
	requireRoot(t)
	for _, ne := range executors(t) {
		t.Run(ne.name, func(t *testing.T) {
			rootfs := newRootfs(t)
			src := filepath.Join(t.TempDir(), "src")
			mustMkdir(t, src)
			beforeRoot, beforeSrc := listing(t, rootfs), listing(t, src)
			p := sh("echo running; exec sleep 4713")
			p.Mounts = []executor.Mount{
				{Type: executor.MountBind, Target: "/src", Source: src},
				{Type: executor.MountTmpfs, Target: "/src/tmp"},
				{Type: executor.MountFile, Target: "/run/secrets/s", Data: []byte("x")},
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- ne.e.Run(ctx, rootfs, p) }()
			for deadline := time.Now().Add(20 * time.Second); !processWithArgs(t, "sleep", "4713"); time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("the command never started")
				}
			}
			cancel()
			if err := <-done; err == nil {
				t.Error("Run = nil after cancellation")
			}
			assertNotMounted(t, rootfs)
			if diff := diffListings(beforeRoot, listing(t, rootfs)); len(diff) > 0 {
				t.Errorf("rootfs changes = %q, want none", diff)
			}
			if diff := diffListings(beforeSrc, listing(t, src)); len(diff) > 0 {
				t.Errorf("source changes = %q, want none", diff)
			}
		})
	}
}
