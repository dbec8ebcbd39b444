package rootfs

import (
	"os"
	"path/filepath"
	"testing"
)

func TestHostPath(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"usr/share", "etc"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "etc/f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{"abs": "/usr/share", "escape": "../../../../etc", "rel": "usr"} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	real, _ := filepath.EvalSymlinks(dir)
	tests := []struct{ in, want string }{
		{"/", real},
		{"/etc/f", real + "/etc/f"},
		{"abs", real + "/usr/share"},
		{"/escape/f", real + "/etc/f"},
		{"/rel/share/../share", real + "/usr/share"},
		{"/../../etc", real + "/etc"},
	}
	for _, tt := range tests {
		got, err := r.HostPath(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("HostPath(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := r.HostPath("/nope"); err == nil {
		t.Error("HostPath of a missing file succeeded")
	}
}
