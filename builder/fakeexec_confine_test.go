package builder

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/minibuild/minibuild/executor"
)

// TestFakeExecutorConfined: the fake executor's commands resolve paths
// inside the rootfs with chroot semantics; a link to a host path, or a
// path climbing out, does not reach the host.
func TestFakeExecutorConfined(t *testing.T) {
	host := t.TempDir()
	if err := os.WriteFile(filepath.Join(host, "secret"), []byte("host secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if err := os.Symlink(host, filepath.Join(root, "esc")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "inside"), []byte("inside\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	uid, gid := uint32(os.Getuid()), uint32(os.Getgid())
	run := func(script string) (string, error) {
		var out bytes.Buffer
		err := (&fakeExecutor{}).Run(context.Background(), root, executor.Process{
			Args: []string{"/bin/sh", "-c", script}, Cwd: "/", UID: uid, GID: gid, Stdout: &out})
		return out.String(), err
	}
	for _, script := range []string{"cat /esc/secret", "cat ../../../../" + host + "/secret", "echo x > /esc/new", "rm /esc/secret"} {
		if out, err := run(script); err == nil {
			t.Errorf("%q reached the host: %q", script, out)
		}
	}
	if out, err := run("cat ../../inside && echo 'a  b' && mkdir /d/e && echo y > /d/e/f && rm /inside"); err != nil || out != "inside\na  b\n" {
		t.Errorf("inside the root: %q, %v", out, err)
	}
	if _, err := os.Stat(filepath.Join(root, "d", "e", "f")); err != nil {
		t.Error(err)
	}
	if _, err := os.Lstat(filepath.Join(root, "inside")); !os.IsNotExist(err) {
		t.Errorf("rm left /inside: %v", err)
	}
	entries, _ := os.ReadDir(host)
	if len(entries) != 1 {
		t.Errorf("the host directory holds %d entries, want its one file", len(entries))
	}
	if _, err := run("fail 7"); err == nil || err.Error() != "exit code 7" {
		t.Errorf("fail 7: %v", err)
	}
}
