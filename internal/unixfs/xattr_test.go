package unixfs

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

func TestXattrs(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("v"), 3000)
	for name, val := range map[string][]byte{"user.a": []byte("1"), "user.big": big} {
		if err := unix.Lsetxattr(p, name, val, 0); errors.Is(err, unix.ENOTSUP) {
			t.Skipf("the file system of %s has no user xattrs", p)
		} else if err != nil {
			t.Fatal(err)
		}
	}
	names, err := Llistxattr(p)
	if err != nil || !slices.Contains(names, "user.a") || !slices.Contains(names, "user.big") {
		t.Fatalf("Llistxattr = %q, %v", names, err)
	}
	if v, err := Lgetxattr(p, "user.big"); err != nil || !bytes.Equal(v, big) {
		t.Errorf("Lgetxattr(user.big) = %d bytes, %v", len(v), err)
	}
	if _, err := Lgetxattr(p, "user.none"); !errors.Is(err, unix.ENODATA) {
		t.Errorf("a missing xattr: %v, want ENODATA", err)
	}
	if names, err := Llistxattr(t.TempDir()); err != nil || slices.Contains(names, "user.a") {
		t.Errorf("a directory without user xattrs: %q, %v", names, err)
	}
}
