package executor

import (
	"os"
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestUserMountSpecs(t *testing.T) {
	ms := []plannedMount{
		{Type: MountBind, Target: "/src", Source: "/host/src"},
		{Type: MountBind, Target: "/ro", Source: "/host/ro", ReadOnly: true},
		{Type: MountTmpfs, Target: "/t", Options: []string{"mode=1777", "uid=0", "gid=0", "size=4096"}, ReadOnly: true},
		{Type: MountFile, Target: "/t/secret", Source: "/run/files/3", ReadOnly: true},
	}
	mounts, readonly := userMountSpecs(ms)
	want := []specs.Mount{
		{Destination: "/src", Type: "bind", Source: "/host/src", Options: []string{"rbind", "rprivate"}},
		{Destination: "/ro", Type: "bind", Source: "/host/ro", Options: []string{"rbind", "rprivate", "ro", "rro"}},
		{Destination: "/t", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "mode=1777", "uid=0", "gid=0", "size=4096"}},
		{Destination: "/t/secret", Type: "bind", Source: "/run/files/3", Options: []string{"bind", "rprivate", "ro", "nosuid", "nodev", "noexec"}},
	}
	if !reflect.DeepEqual(mounts, want) {
		t.Errorf("mounts =\n%+v\nwant\n%+v", mounts, want)
	}
	// The read-only tmpfs becomes read-only after the file's mount point was made in it.
	if !reflect.DeepEqual(readonly, []string{"/t"}) {
		t.Errorf("readonly = %q, want [/t]", readonly)
	}
}

func TestUnixMode(t *testing.T) {
	tests := []struct {
		mode os.FileMode
		def  uint32
		want uint32
		ok   bool
	}{
		{0, 0o1777, 0o1777, true},
		{0o750, 0o1777, 0o750, true},
		{0o1777, 0, 0o1777, true},
		{os.ModeSticky | 0o777, 0, 0o1777, true},
		{os.ModeSetuid | os.ModeSetgid | 0o755, 0, 0o6755, true},
		{os.ModeDir | 0o755, 0, 0, false},
	}
	for _, tc := range tests {
		got, err := unixMode(tc.mode, tc.def)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("unixMode(%v) = %o, %v; want %o (ok %v)", tc.mode, got, err, tc.want, tc.ok)
		}
	}
}
