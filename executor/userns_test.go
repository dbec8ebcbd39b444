package executor_test

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/minibuild/minibuild/executor"
)

// userNSEnv marks the test binary re-executed as root of a user namespace
// by TestInUserNamespace; it holds the mapping's name.
const userNSEnv = "MINIBUILD_EXECUTOR_TEST_USERNS"

// TestInUserNamespace runs the executor's tests again as root of a user
// namespace that is not the initial one, as a rootless build runs, with its
// own mount namespace (so the host's mounts are locked, their flags kept on
// every remount) in the host's network namespace (which the user namespace
// does not own: no sysfs can be mounted there). With ID ranges every test
// of TestRun and TestMounts must pass as it does as root; with a single ID,
// a process must still run, and one of an unmapped user must fail naming
// the user and the map.
func TestInUserNamespace(t *testing.T) {
	requireRoot(t)
	if os.Getenv(userNSEnv) != "" {
		t.Skip("already in a user namespace")
	}
	ranges := []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}, {ContainerID: 1, HostID: 100000, Size: 65536}}
	single := []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}}
	tests := []struct {
		name string
		ids  []syscall.SysProcIDMap
		run  string
	}{
		{"ranges", ranges, "^(TestRun|TestMounts|TestUserNamespaceOnly)$"},
		{"single", single, "^TestUserNamespaceOnly$"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command("/proc/self/exe", "-test.run="+tt.run, "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), userNSEnv+"="+tt.name)
			cmd.SysProcAttr = &syscall.SysProcAttr{
				Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
				UidMappings: tt.ids,
				GidMappings: tt.ids,
				// newgidmap allows setgroups; a gid_map written by an
				// unprivileged process (unshare -r) denies it.
				GidMappingsEnableSetgroups: tt.name == "ranges",
			}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("in a user namespace (%s): %v\n%s", tt.name, err, out)
			}
			if !strings.Contains(string(out), "--- PASS: TestUserNamespaceOnly") {
				t.Fatalf("in a user namespace (%s): TestUserNamespaceOnly did not pass:\n%s", tt.name, out)
			}
			for _, line := range strings.Split(string(out), "\n") {
				if strings.Contains(line, "--- ") && strings.Contains(line, "TestUserNamespaceOnly/") {
					t.Log(strings.TrimSpace(line))
				}
			}
		})
	}
}

// TestUserNamespaceOnly runs in TestInUserNamespace's namespaces.
func TestUserNamespaceOnly(t *testing.T) {
	mapping := os.Getenv(userNSEnv)
	if mapping == "" {
		t.Skip("run by TestInUserNamespace")
	}
	requireRoot(t)
	for _, ne := range executors(t) {
		t.Run(ne.name, func(t *testing.T) { testUserNamespace(t, ne, mapping) })
	}
}

// testUserNamespace runs processes with the executor ne as root of a user
// namespace with the mapping "ranges" or "single".
func testUserNamespace(t *testing.T, ne namedExecutor, mapping string) {
	e := ne.e
	rootfs := newRootfs(t)
	script := `grep -E "^([^ ]+ ){4}/sys ro," /proc/self/mountinfo | cut -d' ' -f4,5; ls /sys/kernel >/dev/null && echo sysfs; ` +
		`echo x > /dev/null && head -c 3 /dev/zero | wc -c; ls -A /sys/firmware | wc -l; id -u; echo > /etc/hosts 2>/dev/null || echo hosts ro`
	r := run(t, e, rootfs, sh(script))
	if r.err != nil {
		t.Fatalf("run: %v\n%s", r.err, r.stderr)
	}
	if want := "/ /sys\nsysfs\n3\n0\n0\nhosts ro\n"; r.stdout != want {
		t.Errorf("stdout = %q, want %q (stderr %q)", r.stdout, want, r.stderr)
	}
	none := sh(`ls /sys/class/net`)
	none.Network = executor.NetworkNone
	r = run(t, e, rootfs, none)
	if r.err != nil || r.stdout != "lo\n" {
		t.Errorf("--network none: stdout %q, err %v, stderr %q; want lo only", r.stdout, r.err, r.stderr)
	}
	if mapping != "single" {
		return
	}
	r = run(t, e, rootfs, executor.Process{Args: []string{"id"}, UID: 1000, GID: 0})
	if r.err == nil {
		t.Errorf("user 1000 with a single ID mapped: ran, want an error")
	}
	const want = "user ID 1000 is not mapped in this user namespace (user map: 0 0 1)"
	if ne.name == "builtin" && (r.err == nil || !strings.Contains(r.err.Error(), want)) {
		t.Errorf("user 1000 with a single ID mapped: err %v, want one saying %q", r.err, want)
	}
}
