package executor_test

import (
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/minibuild/minibuild/executor"
	"github.com/minibuild/minibuild/internal/usernstest"
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
	tests := []struct {
		name string
		ids  []syscall.SysProcIDMap
		run  string
	}{
		{"ranges", usernstest.Ranges, "^(TestRun|TestMounts|TestUserNamespaceOnly)$"},
		{"single", usernstest.Single, "^TestUserNamespaceOnly$"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// newgidmap allows setgroups; a gid_map written by an
			// unprivileged process (unshare -r) denies it.
			out := usernstest.Rerun(t, usernstest.Options{IDs: tt.ids, MountNS: true, Setgroups: tt.name == "ranges"},
				userNSEnv, tt.name, "-test.run="+tt.run)
			if !strings.Contains(out, "--- PASS: TestUserNamespaceOnly") {
				t.Fatalf("in a user namespace (%s): TestUserNamespaceOnly did not pass:\n%s", tt.name, out)
			}
			for _, line := range strings.Split(out, "\n") {
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
