package executor_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/minibuild/minibuild/executor"
)

func TestRun(t *testing.T) {
	requireRoot(t)
	tests := []struct {
		name       string
		proc       executor.Process
		stdin      string
		wantCode   int // -1: an error other than *ExitError
		wantStdout string
		wantStderr string
		check      func(t *testing.T, rootfs string)
	}{
		{
			name:     "exit code",
			proc:     sh("exit 3"),
			wantCode: 3,
		},
		{
			name:       "stdout and stderr",
			proc:       sh("echo out; echo err >&2"),
			wantStdout: "out\n",
			wantStderr: "err\n",
		},
		{
			name:       "env with default PATH and HOME",
			proc:       executor.Process{Args: []string{"sh", "-c", `echo "$FOO|$PATH|$HOME"`}, Env: []string{"FOO=bar"}},
			wantStdout: "bar|" + executor.DefaultPath + "|/\n",
		},
		{
			name:       "PATH from env is used for lookup",
			proc:       executor.Process{Args: []string{"sh", "-c", `echo "$PATH"`}, Env: []string{"PATH=/bin", "HOME=/home/x"}},
			wantStdout: "/bin\n",
		},
		{
			name:       "command not in PATH",
			proc:       executor.Process{Args: []string{"sh", "-c", "true"}, Env: []string{"PATH=/nowhere"}},
			wantCode:   -1,
			wantStdout: "",
		},
		{
			name:     "missing executable",
			proc:     executor.Process{Args: []string{"/bin/does-not-exist"}},
			wantCode: -1,
		},
		{
			name:       "stdin",
			proc:       executor.Process{Args: []string{"cat"}},
			stdin:      "hello from stdin",
			wantStdout: "hello from stdin",
		},
		{
			name:       "nil stdin is empty",
			proc:       executor.Process{Args: []string{"cat"}},
			wantStdout: "",
		},
		{
			name:       "cwd is created",
			proc:       executor.Process{Args: []string{"pwd"}, Cwd: "/work/sub/"},
			wantStdout: "/work/sub\n",
			check: func(t *testing.T, rootfs string) {
				for _, d := range []string{"work", "work/sub"} {
					fi, err := os.Lstat(filepath.Join(rootfs, d))
					if err != nil {
						t.Fatal(err)
					}
					st := fi.Sys().(*syscall.Stat_t)
					if !fi.IsDir() || fi.Mode().Perm() != 0o755 || st.Uid != 0 || st.Gid != 0 {
						t.Errorf("%s: mode %v owner %d:%d, want a 0755 directory owned by root", d, fi.Mode(), st.Uid, st.Gid)
					}
				}
			},
		},
		{
			name:       "uid and gids",
			proc:       executor.Process{Args: []string{"sh", "-c", "id -u; id -g; id -G"}, UID: 1000, GID: 1001, AdditionalGIDs: []uint32{10, 20}},
			wantStdout: "1000\n1001\n1001 10 20\n",
		},
		{
			name:       "root without supplementary groups",
			proc:       sh("id -u; id -G"),
			wantStdout: "0\n0\n",
		},
		{
			name:       "default hostname",
			proc:       executor.Process{Args: []string{"hostname"}},
			wantStdout: "minibuild\n",
		},
		{
			name:       "custom hostname and hosts file",
			proc:       executor.Process{Args: []string{"sh", "-c", "hostname; cat /etc/hosts"}, Hostname: "box"},
			wantStdout: "box\n127.0.0.1\tlocalhost box\n::1\tlocalhost ip6-localhost ip6-loopback\n",
		},
		{
			name:       "hosts file is read-only",
			proc:       sh("echo x 2>/dev/null >> /etc/hosts || echo refused"),
			wantStdout: "refused\n",
		},
		{
			name:       "proc works and the command is PID 1",
			proc:       sh("echo $$; cat /proc/1/comm; readlink /proc/self/exe"),
			wantStdout: "1\nsh\n/bin/busybox\n",
		},
		{
			name:       "no descriptor leaks",
			proc:       executor.Process{Args: []string{"ls", "/proc/self/fd"}},
			wantStdout: "0\n1\n2\n3\n",
		},
		{
			name:       "dev nodes",
			proc:       sh("echo gone > /dev/null && head -c 4 /dev/zero | wc -c && ls /dev/pts/ptmx /dev/shm /dev/fd/0 >/dev/null && echo ok"),
			wantStdout: "4\nok\n",
		},
		{
			name:       "masked and read-only kernel paths",
			proc:       sh(`for m in /proc/sys /sys; do grep -qE "^([^ ]+ ){4}$m ro," /proc/self/mountinfo && echo $m ro; done; wc -c < /proc/interrupts; ls -A /sys/firmware | wc -l`),
			wantStdout: "/proc/sys ro\n/sys ro\n0\n0\n",
		},
		{
			name:       "docker default capabilities",
			proc:       sh("grep CapBnd /proc/self/status"),
			wantStdout: "CapBnd:\t00000000a80425fb\n",
		},
		{
			name:       "network none has only lo",
			proc:       executor.Process{Args: []string{"sh", "-c", "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '"}, Network: executor.NetworkNone},
			wantStdout: "lo\n",
		},
		{
			name:     "unknown network",
			proc:     executor.Process{Args: []string{"true"}, Network: "bridge"},
			wantCode: -1,
		},
		{
			name:     "hostname with a newline",
			proc:     executor.Process{Args: []string{"true"}, Hostname: "a\n1.2.3.4 evil"},
			wantCode: -1,
		},
		{
			name:     "relative cwd",
			proc:     executor.Process{Args: []string{"true"}, Cwd: "work"},
			wantCode: -1,
		},
	}
	for _, ne := range executors(t) {
		for _, tc := range tests {
			t.Run(ne.name+"/"+tc.name, func(t *testing.T) {
				rootfs := newRootfs(t)
				p := tc.proc
				if tc.stdin != "" {
					p.Stdin = strings.NewReader(tc.stdin)
				}
				res := run(t, ne.e, rootfs, p)
				if got := exitCode(res.err); got != tc.wantCode {
					t.Fatalf("Run error = %v (code %d), want code %d; stderr: %s", res.err, got, tc.wantCode, res.stderr)
				}
				if tc.wantCode == 0 && res.stdout != tc.wantStdout {
					t.Errorf("stdout = %q, want %q", res.stdout, tc.wantStdout)
				}
				if tc.wantCode == 0 && res.stderr != tc.wantStderr {
					t.Errorf("stderr = %q, want %q", res.stderr, tc.wantStderr)
				}
				if tc.check != nil {
					tc.check(t, rootfs)
				}
			})
		}
	}
}
