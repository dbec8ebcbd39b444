package executor_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minibuild/minibuild/executor"
	"golang.org/x/sys/unix"
)

// mountCase is one run with mounts: setup makes the host's sources under host (and may
// change the rootfs) and returns the mounts.
type mountCase struct {
	name       string
	setup      func(t *testing.T, rootfs, host string) []executor.Mount
	script     string
	uid, gid   uint32
	wantStdout string
	// wantErr is part of the error of a run that must not start.
	wantErr string
	// wantHost are the changes the run makes under host (as diffListings gives them).
	wantHost []string
	check    func(t *testing.T, rootfs, host string)
}

// bindMountCases are the MountBind cases.
func bindMountCases() []mountCase {
	return []mountCase{
		{
			name: "bind read-only",
			setup: func(t *testing.T, rootfs, host string) []executor.Mount {
				mustMkdir(t, filepath.Join(host, "src"))
				mustWrite(t, filepath.Join(host, "src", "in"), "hello\n")
				return []executor.Mount{{Type: executor.MountBind, Target: "/src", Source: filepath.Join(host, "src"), ReadOnly: true}}
			},
			script:     "cat /src/in; touch /src/new 2>&1 | grep -c 'Read-only file system'",
			wantStdout: "hello\n1\n",
		},
		{
			name: "bind read-only covers the source's submounts",
			setup: func(t *testing.T, rootfs, host string) []executor.Mount {
				sub := filepath.Join(host, "src", "sub")
				if err := os.MkdirAll(sub, 0o755); err != nil {
					t.Fatal(err)
				}
				hostTmpfs(t, sub)
				return []executor.Mount{{Type: executor.MountBind, Target: "/src", Source: filepath.Join(host, "src"), ReadOnly: true}}
			},
			script:     "touch /src/sub/new 2>&1 | grep -c 'Read-only file system'",
			wantStdout: "1\n",
		},
		{
			name: "bind read-write",
			setup: func(t *testing.T, rootfs, host string) []executor.Mount {
				mustMkdir(t, filepath.Join(host, "src"))
				return []executor.Mount{{Type: executor.MountBind, Target: "/src", Source: filepath.Join(host, "src")}}
			},
			script:   "echo written > /src/out",
			wantHost: []string{"+/src/out", "~/src"},
			check: func(t *testing.T, rootfs, host string) {
				if b, err := os.ReadFile(filepath.Join(host, "src", "out")); err != nil || string(b) != "written\n" {
					t.Errorf("host file = %q, %v", b, err)
				}
			},
		},
		{
			name: "bind of a file at a missing target",
			setup: func(t *testing.T, rootfs, host string) []executor.Mount {
				mustWrite(t, filepath.Join(host, "conf"), "key=value\n")
				return []executor.Mount{{Type: executor.MountBind, Target: "/etc/app/conf", Source: filepath.Join(host, "conf"), ReadOnly: true}}
			},
			script:     "cat /etc/app/conf; test -f /etc/app/conf && echo file",
			wantStdout: "key=value\nfile\n",
		},
		{
			name: "bind over /etc/hosts",
			setup: func(t *testing.T, rootfs, host string) []executor.Mount {
				mustWrite(t, filepath.Join(host, "hosts"), "10.0.0.1 mine\n")
				return []executor.Mount{{Type: executor.MountBind, Target: "/etc/hosts", Source: filepath.Join(host, "hosts")}}
			},
			script:     "cat /etc/hosts",
			wantStdout: "10.0.0.1 mine\n",
		},
		{
			name: "missing target is created and removed",
			setup: func(t *testing.T, rootfs, host string) []executor.Mount {
				mustMkdir(t, filepath.Join(host, "src"))
				mustWrite(t, filepath.Join(host, "src", "f"), "deep\n")
				mustMkdir(t, filepath.Join(rootfs, "opt"))
				return []executor.Mount{{Type: executor.MountBind, Target: "/opt/a/b/c", Source: filepath.Join(host, "src")}}
			},
			script:     "cat /opt/a/b/c/f",
			wantStdout: "deep\n",
		},
		{
			name: "symlink target is followed inside the rootfs",
			setup: func(t *testing.T, rootfs, host string) []executor.Mount {
				mustMkdir(t, filepath.Join(host, "src"))
				mustWrite(t, filepath.Join(host, "src", "f"), "confined\n")
				mustSymlink(t, "/../../../../minibuild-executor-mount-escape", filepath.Join(rootfs, "evil"))
				return []executor.Mount{{Type: executor.MountBind, Target: "/evil/x", Source: filepath.Join(host, "src")}}
			},
			script:     "cat /evil/x/f; cat /minibuild-executor-mount-escape/x/f",
			wantStdout: "confined\nconfined\n",
		},
		{
			name: "nested bind whose mount point is missing in the outer source",
			setup: func(t *testing.T, rootfs, host string) []executor.Mount {
				mustMkdir(t, filepath.Join(host, "outer"))
				mustMkdir(t, filepath.Join(host, "inner"))
				mustWrite(t, filepath.Join(host, "inner", "f"), "inner\n")
				return []executor.Mount{
					{Type: executor.MountBind, Target: "/src", Source: filepath.Join(host, "outer"), ReadOnly: true},
					{Type: executor.MountBind, Target: "/src/deps/inner", Source: filepath.Join(host, "inner")},
				}
			},
			script:     "cat /src/deps/inner/f; echo more >> /src/deps/inner/f",
			wantStdout: "inner\n",
			wantHost:   []string{"~/inner/f"},
		},
		{
			name: "nested bind through a symlink in the outer source",
			setup: func(t *testing.T, rootfs, host string) []executor.Mount {
				mustMkdir(t, filepath.Join(host, "outer"))
				mustMkdir(t, filepath.Join(host, "outer", "real"))
				mustSymlink(t, "real", filepath.Join(host, "outer", "link"))
				mustMkdir(t, filepath.Join(host, "inner"))
				mustWrite(t, filepath.Join(host, "inner", "f"), "via link\n")
				return []executor.Mount{
					{Type: executor.MountBind, Target: "/src", Source: filepath.Join(host, "outer")},
					{Type: executor.MountBind, Target: "/src/link/in", Source: filepath.Join(host, "inner")},
				}
			},
			script:     "cat /src/real/in/f",
			wantStdout: "via link\n",
		},
	}
}

// tmpfsMountCases are the MountTmpfs cases.
func tmpfsMountCases() []mountCase {
	return []mountCase{
		{
			name:       "tmpfs default mode",
			setup:      mounts(executor.Mount{Type: executor.MountTmpfs, Target: "/tmp"}),
			script:     "stat -c '%a %u:%g' /tmp; echo x > /tmp/f && cat /tmp/f",
			wantStdout: "1777 0:0\nx\n",
		},
		{
			name:       "tmpfs mode and owner",
			setup:      mounts(executor.Mount{Type: executor.MountTmpfs, Target: "/scratch", Mode: 0o750, UID: 1000, GID: 1001}),
			uid:        1000,
			gid:        1001,
			script:     "stat -c '%a %u:%g' /scratch; touch /scratch/mine && echo ok",
			wantStdout: "750 1000:1001\nok\n",
		},
		{
			name:       "tmpfs size",
			setup:      mounts(executor.Mount{Type: executor.MountTmpfs, Target: "/small", Size: 1 << 20}),
			script:     "df -k /small | tail -n 1 | tr -s ' ' | cut -d' ' -f2; head -c 2000000 /dev/zero > /small/big; wc -c < /small/big",
			wantStdout: "1024\n1048576\n",
		},
		{
			name:       "tmpfs read-only",
			setup:      mounts(executor.Mount{Type: executor.MountTmpfs, Target: "/ro", ReadOnly: true}),
			script:     "touch /ro/f 2>&1 | grep -c 'Read-only file system'",
			wantStdout: "1\n",
		},
		{
			name: "nested tmpfs in a read-only tmpfs",
			setup: mounts(
				executor.Mount{Type: executor.MountTmpfs, Target: "/t", ReadOnly: true},
				executor.Mount{Type: executor.MountTmpfs, Target: "/t/a/b"},
			),
			script:     "touch /t/a/b/f && echo inner rw; touch /t/f 2>&1 | grep -c 'Read-only file system'",
			wantStdout: "inner rw\n1\n",
		},
		{
			name: "tmpfs nested in a bind",
			setup: func(t *testing.T, rootfs, host string) []executor.Mount {
				mustMkdir(t, filepath.Join(host, "src"))
				mustWrite(t, filepath.Join(host, "src", "main.c"), "int main;\n")
				return []executor.Mount{
					{Type: executor.MountBind, Target: "/src", Source: filepath.Join(host, "src")},
					{Type: executor.MountTmpfs, Target: "/src/build"},
				}
			},
			script:     "echo o > /src/build/main.o && ls /src/build && cat /src/main.c",
			wantStdout: "main.o\nint main;\n",
		},
		{
			name: "bind of a file nested in a tmpfs",
			setup: func(t *testing.T, rootfs, host string) []executor.Mount {
				mustWrite(t, filepath.Join(host, "conf"), "nested file\n")
				return []executor.Mount{
					{Type: executor.MountTmpfs, Target: "/cfg"},
					{Type: executor.MountBind, Target: "/cfg/sub/conf", Source: filepath.Join(host, "conf")},
				}
			},
			script:     "cat /cfg/sub/conf",
			wantStdout: "nested file\n",
		},
		{
			name:       "tmpfs in /dev",
			setup:      mounts(executor.Mount{Type: executor.MountTmpfs, Target: "/dev/extra", Size: 4096}),
			script:     "touch /dev/extra/f && echo ok",
			wantStdout: "ok\n",
		},
	}
}

// fileMountCases are the MountFile cases.
func fileMountCases() []mountCase {
	return []mountCase{
		{
			name:       "file with mode and owner, readable by its user",
			setup:      mounts(executor.Mount{Type: executor.MountFile, Target: "/run/secrets/token", Data: []byte("s3cret"), Mode: 0o440, UID: 1000, GID: 1001}),
			uid:        1000,
			gid:        1001,
			script:     "cat /run/secrets/token; echo; stat -c '%a %u:%g' /run/secrets/token",
			wantStdout: "s3cret\n440 1000:1001\n",
		},
		{
			name:       "file default mode is 0400 and read-only even for root",
			setup:      mounts(executor.Mount{Type: executor.MountFile, Target: "/run/secrets/id", Data: []byte("x")}),
			script:     "stat -c '%a %u:%g' /run/secrets/id; echo y 2>&1 > /run/secrets/id | grep -c 'Read-only file system'",
			wantStdout: "400 0:0\n1\n",
		},
		{
			name:       "file unreadable by another user",
			setup:      mounts(executor.Mount{Type: executor.MountFile, Target: "/secret", Data: []byte("x")}),
			uid:        1000,
			script:     "cat /secret 2>&1 | grep -c 'Permission denied'",
			wantStdout: "1\n",
		},
		{
			name: "files nested in a tmpfs, empty and large",
			setup: mounts(
				executor.Mount{Type: executor.MountTmpfs, Target: "/run/secrets", ReadOnly: true},
				executor.Mount{Type: executor.MountFile, Target: "/run/secrets/empty"},
				executor.Mount{Type: executor.MountFile, Target: "/run/secrets/big", Data: make([]byte, 100000)},
			),
			script:     "wc -c < /run/secrets/empty; wc -c < /run/secrets/big; ls /run/secrets | tr '\\n' ' '",
			wantStdout: "0\n100000\nbig empty ",
		},
	}
}

// badMountCases are mounts a run refuses before it starts.
func badMountCases() []mountCase {
	bind := func(target string) func(t *testing.T, rootfs, host string) []executor.Mount {
		return func(t *testing.T, rootfs, host string) []executor.Mount {
			return []executor.Mount{{Type: executor.MountBind, Target: target, Source: host}}
		}
	}
	return []mountCase{
		{name: "relative target", setup: bind("src"), wantErr: `mount target "src" is not absolute`},
		{name: "root target", setup: bind("/"), wantErr: `mount target "/" is the root directory`},
		{name: "root target with dots", setup: bind("/./.."), wantErr: "is the root directory"},
		{name: "target resolving to the root", setup: func(t *testing.T, rootfs, host string) []executor.Mount {
			mustSymlink(t, "/", filepath.Join(rootfs, "up"))
			return bind("/up")(t, rootfs, host)
		}, wantErr: "mount target /up resolves to the root directory"},
		{name: "target in /proc", setup: bind("/proc/sys/x"), wantErr: "/proc is the kernel's /proc"},
		{name: "target /sys", setup: bind("/sys"), wantErr: "/sys is the kernel's /sys"},
		{name: "missing bind source", setup: func(t *testing.T, rootfs, host string) []executor.Mount {
			return []executor.Mount{{Type: executor.MountBind, Target: "/src", Source: filepath.Join(host, "nope")}}
		}, wantErr: "bind mount at /src: source: stat "},
		{name: "bind without a source", setup: mounts(executor.Mount{Type: executor.MountBind, Target: "/src"}), wantErr: "bind mount at /src has no source"},
		{name: "bind of a named pipe", setup: func(t *testing.T, rootfs, host string) []executor.Mount {
			if err := unix.Mkfifo(filepath.Join(host, "fifo"), 0o644); err != nil {
				t.Fatal(err)
			}
			return []executor.Mount{{Type: executor.MountBind, Target: "/p", Source: filepath.Join(host, "fifo")}}
		}, wantErr: "is a named pipe, want a directory, a regular file or a socket"},
		{name: "unknown type", setup: mounts(executor.Mount{Type: "cache", Target: "/c"}), wantErr: `mount at /c: unknown type "cache"`},
		{name: "negative size", setup: mounts(executor.Mount{Type: executor.MountTmpfs, Target: "/t", Size: -1}), wantErr: "mount at /t: negative size -1"},
		{name: "bad mode", setup: mounts(executor.Mount{Type: executor.MountTmpfs, Target: "/t", Mode: os.ModeDir | 0o755}), wantErr: "mount at /t: mode"},
		{name: "duplicate target", setup: mounts(
			executor.Mount{Type: executor.MountTmpfs, Target: "/t"},
			executor.Mount{Type: executor.MountTmpfs, Target: "/t/"},
		), wantErr: "mount at /t/: /t is already the target of an earlier mount"},
		{name: "directory onto a file", setup: func(t *testing.T, rootfs, host string) []executor.Mount {
			mustWrite(t, filepath.Join(rootfs, "file"), "")
			return bind("/file")(t, rootfs, host)
		}, wantErr: "mount at /file: creating mount point"},
	}
}

// mounts returns a setup that only returns ms.
func mounts(ms ...executor.Mount) func(t *testing.T, rootfs, host string) []executor.Mount {
	return func(*testing.T, string, string) []executor.Mount { return ms }
}

// hostTmpfs mounts a small tmpfs on dir for the test.
func hostTmpfs(t *testing.T, dir string) {
	t.Helper()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Unmount(dir, unix.MNT_DETACH) })
}

func TestMounts(t *testing.T) {
	requireRoot(t)
	var cases []mountCase
	cases = append(cases, bindMountCases()...)
	cases = append(cases, tmpfsMountCases()...)
	cases = append(cases, fileMountCases()...)
	cases = append(cases, badMountCases()...)
	for _, ne := range executors(t) {
		for _, tc := range cases {
			t.Run(ne.name+"/"+tc.name, func(t *testing.T) {
				runMountCase(t, ne.e, tc)
			})
		}
	}
}

// runMountCase runs tc and checks that the rootfs, and the host's sources but for
// tc.wantHost, are as before.
func runMountCase(t *testing.T, e executor.Executor, tc mountCase) {
	t.Helper()
	rootfs := newRootfs(t)
	host := filepath.Join(t.TempDir(), "host")
	mustMkdir(t, host)
	ms := tc.setup(t, rootfs, host)
	beforeRoot, beforeHost := listing(t, rootfs), listing(t, host)
	p := sh(tc.script)
	p.Mounts, p.UID, p.GID = ms, tc.uid, tc.gid
	res := run(t, e, rootfs, p)
	switch {
	case tc.wantErr != "" && (res.err == nil || exitCode(res.err) != -1 || !strings.Contains(res.err.Error(), tc.wantErr)):
		t.Errorf("Run = %v, want an error with %q", res.err, tc.wantErr)
	case tc.wantErr == "" && res.err != nil:
		t.Fatalf("Run = %v; stdout %q, stderr %q", res.err, res.stdout, res.stderr)
	case tc.wantErr == "" && res.stdout != tc.wantStdout:
		t.Errorf("stdout = %q, want %q; stderr %q", res.stdout, tc.wantStdout, res.stderr)
	}
	if diff := diffListings(beforeRoot, listing(t, rootfs)); len(diff) > 0 {
		t.Errorf("rootfs changes = %q, want none", diff)
	}
	if diff := diffListings(beforeHost, listing(t, host)); strings.Join(diff, " ") != strings.Join(tc.wantHost, " ") {
		t.Errorf("host changes = %q, want %q", diff, tc.wantHost)
	}
	if _, err := os.Lstat("/minibuild-executor-mount-escape"); err == nil {
		t.Error("a mount point was created outside the rootfs")
	}
	if tc.check != nil {
		tc.check(t, rootfs, host)
	}
}
