package executor

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestExitCode(t *testing.T) {
	tests := []struct {
		name string
		ws   syscall.WaitStatus
		want int
	}{
		{"success", 0, 0},
		{"exit 3", 3 << 8, 3},
		{"exit 255", 255 << 8, 255},
		{"SIGKILL", syscall.WaitStatus(syscall.SIGKILL), 137},
		{"SIGTERM", syscall.WaitStatus(syscall.SIGTERM), 143},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := exitCode(tc.ws); got != tc.want {
				t.Errorf("exitCode(%#x) = %d, want %d", uint32(tc.ws), got, tc.want)
			}
		})
	}
	if got := (&ExitError{Code: 3}).Error(); got != "exit code 3" {
		t.Errorf("ExitError message = %q", got)
	}
}

func TestEnsurePath(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("ensurePath creates root-owned entries: run as root")
	}
	tests := []struct {
		name        string
		dirs        []string
		links       map[string]string // path in root -> link target
		files       []string
		path        string
		kind        entryKind
		want        string
		wantCreated []string
		wantErr     error
	}{
		{name: "creates directories", path: "/a/b/c", kind: kindDir, want: "/a/b/c", wantCreated: []string{"/a", "/a/b", "/a/b/c"}},
		{name: "creates a file leaf", path: "/etc/hosts", kind: kindFile, want: "/etc/hosts", wantCreated: []string{"/etc", "/etc/hosts"}},
		{name: "dot-dot stops at the root", path: "/../../x/./y/..", kind: kindDir, want: "/x", wantCreated: []string{"/x", "/x/y"}},
		{name: "absolute link is re-rooted", links: map[string]string{"l": "/../../../etc"}, path: "/l/hosts", kind: kindFile, want: "/etc/hosts", wantCreated: []string{"/etc", "/etc/hosts"}},
		{name: "relative link", dirs: []string{"etc"}, links: map[string]string{"etc/resolv.conf": "../run/r.conf"}, path: "/etc/resolv.conf", kind: kindFile, want: "/run/r.conf", wantCreated: []string{"/run", "/run/r.conf"}},
		{name: "existing file", files: []string{"f"}, path: "/f", kind: kindFile, want: "/f"},
		{name: "link loop", links: map[string]string{"loop": "loop"}, path: "/loop/x", kind: kindDir, wantErr: unix.ELOOP},
		{name: "file in the middle", files: []string{"f"}, path: "/f/x", kind: kindDir, wantErr: unix.ENOTDIR},
		{name: "directory as file", path: "/", kind: kindFile, wantErr: unix.EISDIR},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			outer := t.TempDir()
			root := filepath.Join(outer, "root")
			for _, d := range append([]string{""}, tc.dirs...) {
				if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			for p, target := range tc.links {
				if err := os.Symlink(target, filepath.Join(root, p)); err != nil {
					t.Fatal(err)
				}
			}
			for _, f := range tc.files {
				if err := os.WriteFile(filepath.Join(root, f), nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			rootfd, err := openRoot(root)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(rootfd)
			rec := &stubSet{rootfd: rootfd}
			got, err := ensurePath(rootfd, tc.path, tc.kind, rec)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("ensurePath = %q, %v; want error %v", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ensurePath = %q, %v; want %q", got, err, tc.want)
			}
			var created []string
			for _, e := range rec.entries {
				created = append(created, e.path)
			}
			if !reflect.DeepEqual(created, tc.wantCreated) {
				t.Errorf("created %q, want %q", created, tc.wantCreated)
			}
			entries, _ := os.ReadDir(outer)
			if len(entries) != 1 {
				t.Errorf("something was created next to the root: %v", entries)
			}
			rec.seal()
			if err := rec.remove(); err != nil {
				t.Fatal(err)
			}
			for _, p := range tc.wantCreated {
				if _, err := os.Lstat(filepath.Join(root, p)); err == nil {
					t.Errorf("%s still exists after remove", p)
				}
			}
		})
	}
}

func TestStubRemoveKeepsTheCommandsChanges(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("stubs are created root-owned: run as root")
	}
	root := t.TempDir()
	rootfd, err := openRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(rootfd)
	rec := &stubSet{rootfd: rootfd}
	for _, p := range []string{"/etc/hosts", "/etc/resolv.conf"} {
		if _, err := ensurePath(rootfd, p, kindFile, rec); err != nil {
			t.Fatal(err)
		}
	}
	rec.seal()
	// The "command" fills resolv.conf and adds a file to /etc.
	if err := os.WriteFile(filepath.Join(root, "etc", "resolv.conf"), []byte("nameserver 1.1.1.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc", "passwd"), []byte("root:x:0:0::/root:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := rec.remove(); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]bool{"etc": true, "etc/hosts": false, "etc/resolv.conf": true, "etc/passwd": true} {
		_, err := os.Lstat(filepath.Join(root, p))
		if got := err == nil; got != want {
			t.Errorf("%s exists = %v, want %v", p, got, want)
		}
	}
}

func TestHomeDirAndEnv(t *testing.T) {
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	passwd := "root:x:0:0:root:/root:/bin/sh\nbroken line\napp:x:1000:1000::/home/app:/bin/sh\nnohome:x:1001:1001:::/bin/sh\n"
	if err := os.WriteFile(filepath.Join(root, "etc", "passwd"), []byte(passwd), 0o644); err != nil {
		t.Fatal(err)
	}
	rootfd, err := openRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(rootfd)
	for uid, want := range map[uint32]string{0: "/root", 1000: "/home/app", 1001: "/", 4242: "/"} {
		if got, err := homeDir(rootfd, uid); err != nil || got != want {
			t.Errorf("homeDir(%d) = %q, %v; want %q", uid, got, err, want)
		}
	}
	env, err := envWithDefaults([]string{"A=1", "PATH=/x"}, func() (string, error) { return "/h", nil })
	if err != nil || strings.Join(env, " ") != "A=1 PATH=/x HOME=/h" {
		t.Errorf("envWithDefaults = %q, %v", env, err)
	}
	env, err = envWithDefaults([]string{"HOME=/me"}, func() (string, error) { return "", errors.New("unused") })
	if err != nil || strings.Join(env, " ") != "HOME=/me PATH="+DefaultPath {
		t.Errorf("envWithDefaults = %q, %v", env, err)
	}
	if got := lookupEnv([]string{"PATH=/a", "X=1", "PATH=/b"}, "PATH"); got != "/b" {
		t.Errorf("lookupEnv = %q, want the last PATH", got)
	}
}

func TestLookPath(t *testing.T) {
	dir := t.TempDir()
	for name, mode := range map[string]os.FileMode{"tool": 0o755, "data": 0o644} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	pathEnv := "/nonexistent:" + dir
	tests := []struct {
		file, want string
		ok         bool
	}{
		{"tool", dir + "/tool", true},
		{"data", "", false},
		{"sub", "", false},
		{"missing", "", false},
		{dir + "/tool", dir + "/tool", true},
		{dir + "/data", "", false},
	}
	for _, tc := range tests {
		got, err := lookPath(tc.file, pathEnv)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("lookPath(%q) = %q, %v; want %q (ok %v)", tc.file, got, err, tc.want, tc.ok)
		}
	}
}

func TestRuntimeSpec(t *testing.T) {
	pl := &plan{
		rootfs: "/r",
		proc: Process{
			Args: []string{"sh"}, Env: []string{"PATH=/bin"}, Cwd: "/w",
			UID: 1, GID: 2, AdditionalGIDs: []uint32{3}, Hostname: "h", Network: NetworkNone,
		},
		mounts:     mountPoints{Proc: "/proc", Dev: "/dev", Sys: "/sys", Hosts: "/etc/hosts", ResolvConf: "/run/resolv.conf"},
		hostsFile:  "/state/hosts",
		resolvFile: "/state/resolv.conf",
	}
	s := runtimeSpec(pl)
	if s.Root.Path != "/r" || s.Root.Readonly || s.Hostname != "h" || s.Process.Cwd != "/w" {
		t.Errorf("root/hostname/cwd = %+v %q %q", s.Root, s.Hostname, s.Process.Cwd)
	}
	if u := s.Process.User; u.UID != 1 || u.GID != 2 || !reflect.DeepEqual(u.AdditionalGids, []uint32{3}) {
		t.Errorf("user = %+v", u)
	}
	var ns []string
	for _, n := range s.Linux.Namespaces {
		ns = append(ns, string(n.Type))
	}
	if strings.Join(ns, ",") != "pid,ipc,uts,mount,network" {
		t.Errorf("namespaces = %v", ns)
	}
	if s.Linux.Resources != nil {
		t.Errorf("resources = %+v, want no cgroup limits", s.Linux.Resources)
	}
	dests := map[string]specs.Mount{}
	for _, m := range s.Mounts {
		dests[m.Destination] = m
	}
	for _, d := range []string{"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/etc/hosts", "/run/resolv.conf"} {
		if _, ok := dests[d]; !ok {
			t.Errorf("no mount at %s", d)
		}
	}
	if m := dests["/run/resolv.conf"]; m.Source != "/state/resolv.conf" || !strings.Contains(strings.Join(m.Options, ","), "ro") {
		t.Errorf("resolv.conf mount = %+v", m)
	}
	if len(s.Process.Capabilities.Bounding) != 14 || len(s.Linux.MaskedPaths) == 0 || len(s.Linux.ReadonlyPaths) == 0 {
		t.Errorf("capabilities/masked/readonly = %v %v %v", s.Process.Capabilities.Bounding, s.Linux.MaskedPaths, s.Linux.ReadonlyPaths)
	}
	pl.proc.Network = NetworkHost
	for _, n := range runtimeSpec(pl).Linux.Namespaces {
		if n.Type == specs.NetworkNamespace {
			t.Error("host network must not get a network namespace")
		}
	}
}

func TestRuntimeErrors(t *testing.T) {
	log := filepath.Join(t.TempDir(), "log")
	content := `{"level":"warning","msg":"cgroup noise","time":"x"}
not json
{"level":"error","msg":"runc run failed: exec: \"nope\": executable file not found in $PATH","time":"x"}
`
	if err := os.WriteFile(log, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := runtimeErrors(log); got != `runc run failed: exec: "nope": executable file not found in $PATH` {
		t.Errorf("runtimeErrors = %q", got)
	}
	if got := runtimeErrors(filepath.Join(t.TempDir(), "missing")); got != "" {
		t.Errorf("runtimeErrors(missing) = %q", got)
	}
}
