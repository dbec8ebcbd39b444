package e2e

import (
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// osUser is an ordinary user of this machine the tests run minibuild as.
type osUser struct {
	name     string
	uid, gid int
	home     string // a fresh home directory the user owns
}

// lookupUser returns the user name (scripts/test.sh creates
// minibuild-test, with subordinate IDs, and minibuild-norange, without)
// with a fresh home, and lets it run the binary. It skips unless the
// tests run as root and the user exists; in CI a missing user fails.
func lookupUser(t *testing.T, name string) osUser {
	t.Helper()
	requireRoot(t)
	u, err := user.Lookup(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no user %s; scripts/test.sh should have created it", name)
		}
		t.Skipf("no user %s (scripts/test.sh creates it)", name)
	}
	ou := osUser{name: name}
	ou.uid, _ = strconv.Atoi(u.Uid)
	ou.gid, _ = strconv.Atoi(u.Gid)
	if err := os.Chmod(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	ou.home, err = os.MkdirTemp("", "minibuild-e2e-home-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(ou.home) })
	ou.chown(t, ou.home)
	return ou
}

// chown gives path, and everything under it, to u.
func (u osUser) chown(t *testing.T, path string) {
	t.Helper()
	err := filepath.Walk(path, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, u.uid, u.gid)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// mbAs runs the minibuild binary as u, in its home, with HOME set to it
// and env added; MINIBUILD_ROOT and XDG_DATA_HOME are not passed on.
func mbAs(t *testing.T, u osUser, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = u.home
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + u.home}, env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(u.uid), Gid: uint32(u.gid)}}
	r, err := runBin(cmd)
	if err != nil {
		t.Fatalf("minibuild %s as %s: %v\n%s", strings.Join(args, " "), u.name, err, r.stderr)
	}
	return r
}

// mbAsForbidden runs the minibuild binary as u where no more user
// namespaces may be made: in a user namespace (mapping every ID of the
// first 2^31 to itself) whose user.max_user_namespaces is 0.
func mbAsForbidden(t *testing.T, u osUser, args ...string) result {
	t.Helper()
	script := `echo 0 > /proc/sys/user/max_user_namespaces && exec setpriv --reuid="$U" --regid="$G" --clear-groups "$@"`
	cmd := exec.Command("sh", append([]string{"-c", script, "sh", bin}, args...)...)
	cmd.Dir = u.home
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + u.home, "U=" + strconv.Itoa(u.uid), "G=" + strconv.Itoa(u.gid)}
	all := []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1 << 31}}
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER, UidMappings: all, GidMappings: all,
		GidMappingsEnableSetgroups: true}
	r, err := runBin(cmd)
	if err != nil {
		t.Fatalf("minibuild %s as %s without user namespaces: %v\n%s", strings.Join(args, " "), u.name, err, r.stderr)
	}
	return r
}
