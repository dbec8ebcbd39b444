package executor_test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
)

// listing describes every entry of a tree: type, mode, owner, size, mtime and link target.
func listing(t *testing.T, root string) map[string]string {
	t.Helper()
	out := make(map[string]string)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		rel, _ := filepath.Rel(root, p)
		desc := fmt.Sprintf("%v %d:%d size=%d mtime=%d.%09d", fi.Mode(), st.Uid, st.Gid, fi.Size(), st.Mtim.Sec, st.Mtim.Nsec)
		if fi.Mode()&fs.ModeSymlink != 0 {
			target, _ := os.Readlink(p)
			desc += " -> " + target
		}
		out["/"+strings.TrimPrefix(rel, ".")] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// diffListings returns the entries added, removed or changed between two listings.
func diffListings(before, after map[string]string) []string {
	var diff []string
	for p, a := range after {
		if b, ok := before[p]; !ok {
			diff = append(diff, "+"+p)
		} else if a != b {
			diff = append(diff, "~"+p)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			diff = append(diff, "-"+p)
		}
	}
	sort.Strings(diff)
	return diff
}

func TestRootfsChangesAreOnlyTheCommands(t *testing.T) {
	requireRoot(t)
	tests := []struct {
		name   string
		setup  func(t *testing.T, rootfs string)
		script string
		want   []string
		fails  bool
	}{
		{
			name:   "bare busybox rootfs, command writes nothing",
			script: "test -d /proc/self && test -c /dev/null && test -f /etc/hosts",
		},
		{
			name: "existing mount points and /etc",
			setup: func(t *testing.T, rootfs string) {
				for _, d := range []string{"proc", "dev", "sys", "etc"} {
					mustMkdir(t, filepath.Join(rootfs, d))
				}
				mustWrite(t, filepath.Join(rootfs, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\n")
			},
			script: `test "$HOME" = /root && test -s /etc/hosts`,
		},
		{
			name:   "command writes files",
			script: "touch /newfile && mkdir -p /etc/app && echo x > /etc/app/conf",
			want:   []string{"+/etc", "+/etc/app", "+/etc/app/conf", "+/newfile", "~/"},
		},
		{
			name: "mount points behind symbolic links stay inside the rootfs",
			setup: func(t *testing.T, rootfs string) {
				mustMkdir(t, filepath.Join(rootfs, "etc"))
				mustSymlink(t, "../run/resolvconf/resolv.conf", filepath.Join(rootfs, "etc", "resolv.conf"))
				mustSymlink(t, "/../../../../../../minibuild-executor-escape", filepath.Join(rootfs, "etc", "hosts"))
			},
			script: "grep -q localhost /etc/hosts && test -f /etc/resolv.conf && test -f /minibuild-executor-escape",
		},
		{
			name: "proc as a link to the root is refused",
			setup: func(t *testing.T, rootfs string) {
				mustSymlink(t, "/..", filepath.Join(rootfs, "proc"))
			},
			script: "true",
			fails:  true,
		},
		{
			name: "dev as a link is refused",
			setup: func(t *testing.T, rootfs string) {
				mustSymlink(t, "bin", filepath.Join(rootfs, "dev"))
			},
			script: "true",
			fails:  true,
		},
	}
	for _, ne := range executors(t) {
		for _, tc := range tests {
			t.Run(ne.name+"/"+tc.name, func(t *testing.T) {
				rootfs := newRootfs(t)
				if tc.setup != nil {
					tc.setup(t, rootfs)
				}
				before := listing(t, rootfs)
				res := run(t, ne.e, rootfs, sh(tc.script))
				if (res.err != nil) != tc.fails || exitCode(res.err) > 0 {
					t.Fatalf("Run: %v (want failure to start: %v); stderr: %s", res.err, tc.fails, res.stderr)
				}
				diff := diffListings(before, listing(t, rootfs))
				if strings.Join(diff, " ") != strings.Join(tc.want, " ") {
					t.Errorf("rootfs changes = %q, want %q", diff, tc.want)
				}
				if _, err := os.Lstat("/minibuild-executor-escape"); err == nil {
					t.Error("a mount point was created outside the rootfs")
				}
			})
		}
	}
}

func mustMkdir(t *testing.T, p string) {
	t.Helper()
	if err := os.Mkdir(p, 0o755); err != nil {
		t.Fatal(err)
	}
}

func mustWrite(t *testing.T, p, content string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustSymlink(t *testing.T, target, p string) {
	t.Helper()
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}
