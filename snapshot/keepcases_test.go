package snapshot

import (
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// keepCases are step changes made in a rootfs of testChain, and whether
// the upper directory can become the layer's unpacking.
func keepCases() []struct {
	name   string
	change func(t *testing.T, root string)
	keep   bool
} {
	old := time.Unix(1000000000, 987654321)
	return []struct {
		name   string
		change func(t *testing.T, root string)
		keep   bool
	}{
		{"every kind of object", func(t *testing.T, root string) {
			mkdir(t, root+"/new", 0o750)
			mkdir(t, root+"/new/sub", 0o755)
			writeFile(t, root+"/new/sub/old", "old file", 0o640)
			setTimes(t, root+"/new/sub/old", old)
			writeFile(t, root+"/new/big", strings.Repeat("0123456789", 100000), 0o644)
			must(t, os.Link(root+"/new/big", root+"/new/big2"))
			must(t, os.Symlink("../etc/conf", root+"/new/link"))
			must(t, unix.Mkfifo(root+"/new/fifo", 0o600))
			if !rootless() {
				must(t, unix.Mknod(root+"/new/null", unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
			}
			must(t, unix.Lsetxattr(root+"/new/sub/old", "user.note", []byte("kept"), 0))
			must(t, os.Lchown(root+"/new/sub", 7, 8))
			setTimes(t, root+"/new/sub", old)
			// In a lower directory, below one the layer only implies.
			writeFile(t, root+"/usr/bin/tool3", "tool3", 0o755)
			if !rootless() {
				must(t, unix.Lsetxattr(root+"/usr/bin/tool3", "trusted.t", []byte("x"), 0))
			}
			// A copy-up of a lower file, a whiteout, an opaque directory.
			must(t, os.Chmod(root+"/etc/conf", 0o600))
			must(t, os.Remove(root+"/opt/stay"))
			must(t, os.RemoveAll(root+"/opt/old"))
			mkdir(t, root+"/opt/old", 0o755)
			writeFile(t, root+"/opt/old/fresh", "fresh", 0o644)
			// A new file in a lower directory with an xattr of its own.
			writeFile(t, root+"/keep/k2", "k2", 0o600)
		}, true},
		{"a directory copied up and left as it was", func(t *testing.T, root string) {
			// What the executor does for a mount point the base lacks
			// (Debian has no /etc/hosts): create it, remove it, restore
			// the directory's times. /etc is copied up, unchanged.
			var st unix.Stat_t
			must(t, unix.Lstat(root+"/etc", &st))
			writeFile(t, root+"/etc/hosts", "", 0o644)
			must(t, os.Remove(root+"/etc/hosts"))
			must(t, unix.UtimesNanoAt(unix.AT_FDCWD, root+"/etc", []unix.Timespec{st.Atim, st.Mtim}, unix.AT_SYMLINK_NOFOLLOW))
			writeFile(t, root+"/srv/file", "f", 0o644)
		}, true},
		{"files copied up and left as they were", func(t *testing.T, root string) {
			// Opened for writing without a write, and a new atime: both
			// copy the file up, neither is a change a layer records.
			f, err := os.OpenFile(root+"/usr/bin/tool2", os.O_WRONLY, 0)
			must(t, err)
			must(t, f.Close())
			var st unix.Stat_t
			must(t, unix.Lstat(root+"/etc/conf2", &st))
			must(t, unix.UtimesNanoAt(unix.AT_FDCWD, root+"/etc/conf2", []unix.Timespec{unix.NsecToTimespec(old.UnixNano()), st.Mtim}, unix.AT_SYMLINK_NOFOLLOW))
			writeFile(t, root+"/srv/file", "f", 0o644)
		}, true},
		{"a metadata-only change", func(t *testing.T, root string) {
			// The whole file is copied up and belongs in the layer.
			must(t, os.Chmod(root+"/etc/conf", 0o600))
			must(t, os.Lchown(root+"/usr/bin/tool", 5, 6))
			setTimes(t, root+"/var/lib/data/a", old)
		}, true},
		{"a whiteout of a deleted base file", func(t *testing.T, root string) {
			must(t, os.Remove(root+"/etc/other"))
			must(t, os.RemoveAll(root+"/opt/old/y"))
		}, true},
		{"an opaque directory", func(t *testing.T, root string) {
			// rm -rf dir && mkdir dir: overlayfs and the layer both mark
			// it opaque.
			must(t, os.RemoveAll(root+"/opt/old"))
			mkdir(t, root+"/opt/old", 0o755)
			writeFile(t, root+"/opt/old/fresh", "fresh", 0o644)
		}, true},
		{"a recreated directory keeping a lower name", func(t *testing.T, root string) {
			// overlayfs marks var/lib/data opaque; the layer, where a
			// lower name survives, whites out b instead.
			must(t, os.RemoveAll(root+"/var/lib/data"))
			mkdir(t, root+"/var/lib/data", 0o755)
			writeFile(t, root+"/var/lib/data/a", "a2", 0o644)
		}, true},
		{"a recreated empty directory", func(t *testing.T, root string) {
			// Opaque in the upper directory, merely changed in the layer.
			must(t, os.Remove(root+"/srv"))
			mkdir(t, root+"/srv", 0o700)
		}, true},
		{"children deleted one by one", func(t *testing.T, root string) {
			// Diff writes an opaque marker; the upper directory holds
			// whiteout devices instead.
			must(t, os.Remove(root+"/var/lib/data/a"))
			must(t, os.Remove(root+"/var/lib/data/b"))
			writeFile(t, root+"/var/lib/data/c", "c", 0o644)
		}, true},
		{"a whiteout in a setgid directory", func(t *testing.T, root string) {
			// Apply's mknod gives the whiteout the directory's group.
			must(t, os.Lchown(root+"/opt/old", 0, 9))
			must(t, os.Chmod(root+"/opt/old", 0o755|os.ModeSetgid))
			must(t, os.Remove(root+"/opt/old/x"))
		}, true},
		{"a socket", func(t *testing.T, root string) {
			writeFile(t, root+"/srv/file", "f", 0o644)
			fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
			must(t, err)
			defer unix.Close(fd)
			must(t, unix.Bind(fd, &unix.SockaddrUnix{Name: root + "/srv/sock"}))
		}, true},
		{"hardlinks to base files", func(t *testing.T, root string) {
			// The lower file is copied up, then linked.
			must(t, os.Link(root+"/usr/bin/tool", root+"/usr/bin/tool-link"))
			must(t, os.Link(root+"/hl1", root+"/srv/hl3"))
		}, true},
		{"an ACL", func(t *testing.T, root string) {
			// A layer drops it, so the kept directory must not have it.
			writeFile(t, root+"/srv/acl", "acl", 0o640)
			if err := unix.Lsetxattr(root+"/srv/acl", "system.posix_acl_access", aclUser(0o640, 1234), 0); err != nil {
				t.Skipf("no ACLs here: %v", err)
			}
		}, true},
	}
}

// aclUser encodes a POSIX access ACL for mode plus a named user uid with
// read access, as system.posix_acl_access holds it.
func aclUser(mode uint32, uid uint32) []byte {
	entry := func(tag, perm uint16, id uint32) []byte {
		return []byte{byte(tag), byte(tag >> 8), byte(perm), byte(perm >> 8), byte(id), byte(id >> 8), byte(id >> 16), byte(id >> 24)}
	}
	const undefined = 0xffffffff
	b := []byte{2, 0, 0, 0}
	b = append(b, entry(0x01, uint16(mode>>6&7), undefined)...) // user::
	b = append(b, entry(0x02, 4, uid)...)                       // user:uid:r
	b = append(b, entry(0x04, uint16(mode>>3&7), undefined)...) // group::
	b = append(b, entry(0x10, uint16(mode>>3&7), undefined)...) // mask::
	b = append(b, entry(0x20, uint16(mode&7), undefined)...)    // other::
	return b
}
