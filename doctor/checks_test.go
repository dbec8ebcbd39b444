package doctor

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/minibuild/minibuild/userns"
)

func TestCheckUser(t *testing.T) {
	for _, tc := range []struct {
		name     string
		root     bool
		optedOut bool
		status   Status
		detail   string
	}{
		{"root", true, false, OK, "root: builds run without a user namespace"},
		{"root opted out", true, true, OK, "root: builds run without a user namespace"},
		{"user", false, false, OK, "alice (uid 1000): builds run as root of a user namespace"},
		{"user opted out", false, true, Warning, "alice (uid 1000) with MINIBUILD_NO_USERNS set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := checkUser(tc.root, "alice", 1000, tc.optedOut)
			if c.Status != tc.status || !strings.Contains(c.Detail, tc.detail) {
				t.Errorf("got %v %q, want %v %q", c.Status, c.Detail, tc.status, tc.detail)
			}
		})
	}
}

func TestCheckSubIDs(t *testing.T) {
	r := []userns.Range{{Start: 100000, Count: 65536}}
	base := userns.Mapping{User: "alice", UID: 1000, GID: 1000, SubUID: "/etc/subuid", SubGID: "/etc/subgid"}
	with := func(u, g []userns.Range) userns.Mapping { m := base; m.UIDRanges, m.GIDRanges = u, g; return m }
	for _, tc := range []struct {
		name   string
		root   bool
		m      userns.Mapping
		status Status
		detail string
		fix    string
	}{
		{"root", true, base, OK, "not needed as root", ""},
		{"both", false, with(r, r), OK, "alice: 65536 uids (100000-165535) in /etc/subuid, 65536 gids (100000-165535) in /etc/subgid", ""},
		{"several", false, with([]userns.Range{{Start: 1, Count: 2}, {Start: 10, Count: 3}}, r), OK, "5 uids (1-2, 10-12)", ""},
		{"none", false, base, Missing, "none for alice in /etc/subuid", "sudo usermod --add-subuids"},
		{"no gids", false, with(r, nil), Missing, "none for alice in /etc/subgid", "--add-subgids"},
		{"unreadable", false, func() userns.Mapping { m := base; m.Err = errors.New("reading /etc/subuid: denied"); return m }(), Missing, "denied", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := checkSubIDs(tc.root, tc.m)
			if c.Status != tc.status || !strings.Contains(c.Detail, tc.detail) || !strings.Contains(c.Fix, tc.fix) || (tc.fix == "") != (c.Fix == "") {
				t.Errorf("got %v %q fix %q, want %v %q fix %q", c.Status, c.Detail, c.Fix, tc.status, tc.detail, tc.fix)
			}
			if tc.name == "no gids" && strings.Contains(c.Fix, "--add-subuids") {
				t.Errorf("fix %q adds uids the user has", c.Fix)
			}
		})
	}
}

func TestUserNSCheck(t *testing.T) {
	open := []userns.Setting{{Name: "user.max_user_namespaces", Value: "15000"}}
	for _, tc := range []struct {
		name     string
		err      error
		settings []userns.Setting
		ok       bool
		detail   string
		fix      string
	}{
		{"works", nil, open, true, "an ordinary user can create them (user.max_user_namespaces=15000)", ""},
		{"debian", &os.PathError{Op: "fork/exec", Path: "/proc/self/exe", Err: syscall.EPERM},
			[]userns.Setting{{Name: "kernel.unprivileged_userns_clone", Value: "0"}}, false,
			"cannot create one: kernel.unprivileged_userns_clone=0 forbids it (operation not permitted)", "kernel.unprivileged_userns_clone=1"},
		{"ubuntu", syscall.EPERM, []userns.Setting{{Name: "kernel.apparmor_restrict_unprivileged_userns", Value: "1"}}, false,
			"kernel.apparmor_restrict_unprivileged_userns=1 forbids it", "apparmor_restrict_unprivileged_userns=0"},
		{"max zero", syscall.ENOSPC, []userns.Setting{{Name: "user.max_user_namespaces", Value: "0"}}, false,
			"user.max_user_namespaces=0 forbids it", "user.max_user_namespaces=15000"},
		{"limit reached", syscall.ENOSPC, open, false, "cannot create one (no space left on device) (user.max_user_namespaces=15000)", "raise user.max_user_namespaces"},
		{"other", syscall.EINVAL, nil, false, "cannot create one (invalid argument)", "build as root"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, ok := userNSCheck(tc.err, tc.settings)
			if ok != tc.ok || !strings.Contains(c.Detail, tc.detail) || !strings.Contains(c.Fix, tc.fix) {
				t.Errorf("got %v %q fix %q, want %v %q fix %q", ok, c.Detail, c.Fix, tc.ok, tc.detail, tc.fix)
			}
			if want := map[bool]Status{true: OK, false: Missing}[tc.ok]; c.Status != want {
				t.Errorf("status %v, want %v", c.Status, want)
			}
		})
	}
}

func TestStoreRootCheck(t *testing.T) {
	const gib = 1 << 30
	for _, tc := range []struct {
		name    string
		missing bool
		magic   int64
		free    uint64
		werr    error
		status  Status
		detail  string
	}{
		{"ext4", false, 0xef53, 50 * gib, nil, OK, "/s: ext4, 50.0 GiB free"},
		{"to be created", true, 0x58465342, 50 * gib, nil, OK, "/s (to be created in /): xfs"},
		{"nfs", false, 0x6969, 50 * gib, nil, Warning, "network or FUSE"},
		{"overlay", false, 0x794c7630, 50 * gib, nil, Warning, "inside a container?"},
		{"low space", false, 0xef53, gib / 2, nil, Warning, "little room"},
		{"read-only", false, 0xef53, 50 * gib, syscall.EROFS, Missing, "not writable"},
		{"unknown type", false, 0x1234, 50 * gib, nil, OK, "file system 0x1234"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := "/s"
			if tc.missing {
				dir = "/"
			}
			c := storeRootCheck("/s", dir, tc.missing, tc.magic, tc.free, tc.werr)
			if c.Status != tc.status || !strings.Contains(c.Detail, tc.detail) || (tc.status != OK) != (c.Fix != "") {
				t.Errorf("got %v %q fix %q, want %v %q", c.Status, c.Detail, c.Fix, tc.status, tc.detail)
			}
		})
	}
}

func TestKernelAtLeast(t *testing.T) {
	for _, tc := range []struct {
		release string
		want    bool
	}{
		{"5.11.0", true}, {"5.10.209-1-amd64", false}, {"6.1.0-18-amd64", true}, {"4.19.0", false},
		{"6.18.44-fc-v1147", true}, {"5.11", true}, {"weird", true}, {"5", true},
	} {
		if got := kernelAtLeast(tc.release, 5, 11); got != tc.want {
			t.Errorf("kernelAtLeast(%q, 5, 11) = %v, want %v", tc.release, got, tc.want)
		}
	}
}

func TestRuntimeCheck(t *testing.T) {
	have := func(names ...string) func(string) (string, error) {
		return func(n string) (string, error) {
			for _, h := range names {
				if h == n {
					return "/usr/bin/" + n, nil
				}
			}
			return "", errors.New("not found")
		}
	}
	if c := runtimeCheck(have()); c.Status != Warning || c.Fix == "" {
		t.Errorf("none: %+v, want a warning with a fix", c)
	}
	if c := runtimeCheck(have("crun", "runc")); c.Status != OK || !strings.HasPrefix(c.Detail, "/usr/bin/runc, /usr/bin/crun") {
		t.Errorf("both: %+v", c)
	}
}

func TestExistingAncestor(t *testing.T) {
	dir := t.TempDir()
	for in, want := range map[string]string{
		dir:                               dir,
		filepath.Join(dir, "a", "b", "c"): dir,
		"/":                               "/",
	} {
		if got := existingAncestor(in); got != want {
			t.Errorf("existingAncestor(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCheckHelpers(t *testing.T) {
	plain := filepath.Join(t.TempDir(), "newuidmap")
	if err := os.WriteFile(plain, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := []userns.Range{{Start: 100000, Count: 65536}}
	m := func(uidmap string, ranges []userns.Range) userns.Mapping {
		return userns.Mapping{User: "alice", UIDRanges: ranges, GIDRanges: ranges, NewUIDMap: uidmap, NewGIDMap: uidmap}
	}
	for _, tc := range []struct {
		name   string
		root   bool
		m      userns.Mapping
		status Status
		broken bool
		detail string
	}{
		{"root", true, m("", nil), OK, false, "not needed as root"},
		{"not installed", false, m("", r), Missing, false, "not installed: builds map one ID"},
		{"not privileged, with ranges", false, m(plain, r), Missing, true, "neither setuid root nor has file capabilities"},
		{"not privileged, no ranges", false, m(plain, nil), Missing, false, "neither setuid root"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, broken := checkHelpers(tc.root, tc.m, false)
			if c.Status != tc.status || broken != tc.broken || !strings.Contains(c.Detail, tc.detail) || (tc.status == Missing) != (c.Fix != "") {
				t.Errorf("got %v %v %q fix %q, want %v %v %q", c.Status, broken, c.Detail, c.Fix, tc.status, tc.broken, tc.detail)
			}
		})
	}
}
