package snapshot

import (
	"archive/tar"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/minibuild/minibuild/tarutil"
	"golang.org/x/sys/unix"
)

// TestNormalizeUpperRefuses checks the upper directories no edit makes
// the layer's unpacking: normalizeUpper says why, and keeps no reason
// from a directory it can normalize.
func TestNormalizeUpperRefuses(t *testing.T) {
	reg := func(name string, size int64) tarutil.Entry {
		return tarutil.Entry{Name: name, Type: tar.TypeReg, Mode: 0o644, UID: os.Geteuid(), GID: os.Getegid(), Size: size}
	}
	cases := []struct {
		name    string
		root    bool // needs mknod of a device
		setup   func(t *testing.T, upper, outside string)
		entries []tarutil.Entry
		why     string // "" for none
	}{
		{"an entry without its object", false,
			func(t *testing.T, upper, outside string) {},
			[]tarutil.Entry{reg("a", 0)}, `"a" has an entry but nothing`},
		{"a file of another size", false,
			func(t *testing.T, upper, outside string) { writeFile(t, upper+"/a", "abc", 0o644) },
			[]tarutil.Entry{reg("a", 5)}, `"a" has 3 bytes, its entry 5`},
		{"a file of another mode", false,
			func(t *testing.T, upper, outside string) { writeFile(t, upper+"/a", "abc", 0o600) },
			[]tarutil.Entry{reg("a", 3)}, `"a" is not its entry's type, mode or owner`},
		{"a link outside the upper directory", false,
			func(t *testing.T, upper, outside string) {
				writeFile(t, upper+"/a", "abc", 0o644)
				must(t, os.Link(upper+"/a", outside+"/a"))
			},
			[]tarutil.Entry{reg("a", 3)}, `"a" has 2 links, 1 of them in the layer`},
		{"a whiteout where the layer has a file", true,
			func(t *testing.T, upper, outside string) { must(t, unix.Mknod(upper+"/a", unix.S_IFCHR, 0)) },
			[]tarutil.Entry{reg("a", 0)}, `"a" is a whiteout in the upper directory but an object`},
		{"a socket and a stray whiteout go", true,
			func(t *testing.T, upper, outside string) {
				writeFile(t, upper+"/a", "abc", 0o644)
				must(t, unix.Mknod(upper+"/gone", unix.S_IFCHR, 0))
				fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
				must(t, err)
				defer unix.Close(fd)
				must(t, unix.Bind(fd, &unix.SockaddrUnix{Name: upper + "/sock"}))
			},
			[]tarutil.Entry{reg("a", 3)}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.root {
				requireRoot(t)
			}
			upper, outside := t.TempDir(), t.TempDir()
			c.setup(t, upper, outside)
			why, err := normalizeUpper(context.Background(), upper, c.entries, MTimes{}, NewUnpacker("").opaqueXattr(), nil)
			must(t, err)
			if c.why == "" && why != "" || !strings.Contains(why, c.why) {
				t.Fatalf("why = %q, want %q", why, c.why)
			}
			if c.why != "" {
				return
			}
			names, err := os.ReadDir(upper)
			must(t, err)
			if len(names) != len(c.entries) {
				t.Errorf("upper directory holds %v, want only the entries' objects", names)
			}
		})
	}
}
