package binfmt

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseHandler parses entries as the kernel writes them (captured
// from Linux 6.18 under testdata) and rejects malformed ones.
func TestParseHandler(t *testing.T) {
	for _, tc := range []struct {
		file string
		want Handler
	}{
		{"debian12/qemu-aarch64", Handler{Name: "qemu-aarch64", Enabled: true, Interpreter: "/usr/libexec/qemu-binfmt/aarch64-binfmt-P", Flags: "POF",
			Magic: unhex(t, "7f454c460201010000000000000000000200b700"), Mask: unhex(t, "ffffffffffffff00fffffffffffffffffeffffff")}},
		{"debian12/python3.11", Handler{Name: "python3.11", Enabled: true, Interpreter: "/usr/bin/python3.11", Magic: unhex(t, "a70d0d0a")}},
		{"entries/extension", Handler{Name: "extension", Enabled: true, Interpreter: "/bin/true", Flags: "OC", Extension: "mbtest"}},
		{"entries/disabled-nomask", Handler{Name: "disabled-nomask", Interpreter: "/bin/true", Offset: 2, Magic: []byte("ELF")}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := parseHandler(filepath.Base(tc.file), data)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
	for _, tc := range []struct{ name, data, err string }{
		{"status line", "maybe\ninterpreter /x\nflags: \noffset 0\nmagic 00\n", "neither enabled nor disabled"},
		{"bad hex", "enabled\ninterpreter /x\nflags: \noffset 0\nmagic 7g\n", `line "magic 7g"`},
		{"bad offset", "enabled\ninterpreter /x\nflags: \noffset x\nmagic 00\n", `line "offset x"`},
		{"no magic", "enabled\ninterpreter /x\nflags: \n", "neither magic nor extension"},
		{"empty magic", "enabled\ninterpreter /x\nflags: \noffset 0\nmagic \n", "an empty magic"},
		{"mask length", "enabled\ninterpreter /x\nflags: \noffset 0\nmagic 0001\nmask ff\n", "a mask of 1 bytes for a magic of 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseHandler("h", []byte(tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.HasPrefix(err.Error(), "binfmt_misc handler h: ") {
				t.Errorf("got %v, want an error naming h with %q", err, tc.err)
			}
		})
	}
}

// TestMatches: a header matches where its bytes equal the magic's in
// the bits the mask selects, at the offset.
func TestMatches(t *testing.T) {
	header := []byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 3, 0, 0}
	for _, tc := range []struct {
		name string
		h    Handler
		want bool
	}{
		{"exact, no mask", Handler{Magic: []byte{0x7f, 'E', 'L', 'F'}}, true},
		{"one byte off, no mask", Handler{Magic: []byte{0x7f, 'E', 'L', 'G'}}, false},
		{"byte masked off", Handler{Magic: []byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0}, Mask: []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00}}, true},
		{"byte not masked off", Handler{Magic: []byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0}}, false},
		{"low bits masked off", Handler{Magic: []byte{0}, Mask: []byte{0xfc}, Offset: 7}, true},
		{"low bit masked off, high bit differs", Handler{Magic: []byte{0}, Mask: []byte{0xfe}, Offset: 7}, false},
		{"magic unmasked in the kernel", Handler{Magic: []byte{0x03}, Mask: []byte{0xfe}, Offset: 7}, true},
		{"offset", Handler{Magic: []byte{2, 1}, Offset: 4}, true},
		{"past the header", Handler{Magic: []byte{0, 0}, Offset: 9}, false},
		{"extension", Handler{Extension: "py"}, false},
		{"mask of another length", Handler{Magic: []byte{0x7f, 'E'}, Mask: []byte{0xff}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.h.Matches(header); got != tc.want {
				t.Errorf("Matches = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestReadHandlers reads a binfmt_misc mount captured on Debian 12.
func TestReadHandlers(t *testing.T) {
	hs, err := readHandlers("testdata/debian12")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, h := range hs {
		names = append(names, h.Name)
	}
	want := []string{"llvm-14-runtime.binfmt", "python3.11", "qemu-aarch64", "qemu-arm", "qemu-ppc64le", "qemu-s390x"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("handlers %q, want %q", names, want)
	}
}
