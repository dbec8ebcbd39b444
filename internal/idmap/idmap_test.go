package idmap

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in       string
		want     string
		identity bool
		has      map[uint32]bool
	}{
		{"         0          0 4294967295\n", "0 0 4294967295", true, map[uint32]bool{0: true, 1000: true, 4294967294: true}},
		{"         0        999          1\n", "0 999 1", false, map[uint32]bool{0: true, 1: false, 1000: false}},
		{"0 999 1\n1 100000 65536\n", "0 999 1, 1 100000 65536", false, map[uint32]bool{0: true, 1: true, 65536: true, 65537: false}},
		{"", "", false, map[uint32]bool{0: false}},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			m, err := Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := m.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			if got := m.Identity(); got != tt.identity {
				t.Errorf("Identity() = %v, want %v", got, tt.identity)
			}
			for id, want := range tt.has {
				if got := m.Has(id); got != want {
					t.Errorf("Has(%d) = %v, want %v", id, got, want)
				}
			}
		})
	}
	for _, bad := range []string{"0 0", "0 0 x", "a b c d"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) succeeded", bad)
		}
	}
}

func TestUnmappedError(t *testing.T) {
	other := errors.New("other")
	if got := UnmappedError(other, 1, 1); got != other {
		t.Errorf("UnmappedError(other) = %v, want it unchanged", got)
	}
	einval := fmt.Errorf("chown: %w", unix.EINVAL)
	if InInitialNamespace() {
		// The initial namespace maps every ID: nothing to explain.
		if got := UnmappedError(einval, 1000, 1000); got != einval {
			t.Errorf("UnmappedError in the initial namespace = %v, want it unchanged", got)
		}
	}
}

// childEnv marks the test binary re-executed in a user namespace; it holds
// the caller's uid.
const childEnv = "MINIBUILD_IDMAP_TEST_CHILD"

// TestSingleIDNamespace re-executes the test binary as root of a user
// namespace that maps only the caller's own IDs, where TestChild checks
// what this package says there.
func TestSingleIDNamespace(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("in the child")
	}
	cmd := exec.Command("/proc/self/exe", "-test.run=^TestChild$", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"="+strconv.Itoa(os.Getuid()))
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
	}
	out, err := cmd.CombinedOutput()
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.ENOSPC) || errors.Is(err, unix.EINVAL) {
		t.Skipf("cannot create a user namespace: %v", err)
	}
	if err != nil || !strings.Contains(string(out), "--- PASS: TestChild") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

// TestChild runs in TestSingleIDNamespace's user namespace.
func TestChild(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		t.Skip("run by TestSingleIDNamespace")
	}
	if InInitialNamespace() {
		t.Fatal("InInitialNamespace() = true in a new user namespace")
	}
	if !SetgroupsDenied() {
		t.Error("SetgroupsDenied() = false where Go wrote the gid_map with setgroups denied")
	}
	uids, err := UIDs()
	if err != nil {
		t.Fatal(err)
	}
	want := "0 " + os.Getenv(childEnv) + " 1"
	if uids.String() != want {
		t.Errorf("UIDs() = %q, want %q", uids, want)
	}
	f := t.TempDir() + "/f"
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	err = UnmappedError(os.Lchown(f, 1000, 0), 1000, 0)
	const msg = "user ID 1000 is not mapped in this user namespace (user map: "
	if !errors.Is(err, unix.EINVAL) || !strings.Contains(err.Error(), msg+want+")") {
		t.Errorf("chown to 1000:0: %v, want EINVAL saying %q", err, msg+want+")")
	}
	err = UnmappedError(os.Lchown(f, 0, 7), 0, 7)
	if !errors.Is(err, unix.EINVAL) || !strings.Contains(err.Error(), "group ID 7 is not mapped") {
		t.Errorf("chown to 0:7: %v, want EINVAL naming group 7", err)
	}
}
