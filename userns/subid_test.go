package userns

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

func TestParseSubIDs(t *testing.T) {
	for _, tc := range []struct {
		name, file, user string
		uid              int
		want             []Range
	}{
		{name: "by name", file: "alice:100000:65536\n", user: "alice", uid: 1000,
			want: []Range{{100000, 65536}}},
		{name: "by uid", file: "1000:200000:1000\n", user: "alice", uid: 1000,
			want: []Range{{200000, 1000}}},
		{name: "several in file order", file: "alice:300000:10\nbob:100000:65536\n1000:100:5\nalice:200000:20\n", user: "alice", uid: 1000,
			want: []Range{{300000, 10}, {100, 5}, {200000, 20}}},
		{name: "other users only", file: "bob:100000:65536\n1001:165536:65536\n", user: "alice", uid: 1000},
		{name: "empty file", file: "", user: "alice", uid: 1000},
		{name: "no name: uid only", file: ":1:2\n1000:5:6\n", user: "", uid: 1000,
			want: []Range{{5, 6}}},
		{name: "malformed lines ignored",
			file: "alice\nalice:1\nalice:1:2:3\nalice:x:10\nalice:10:y\nalice:10:0\nalice:-1:5\nalice:4294967295:2\n#alice:1:1\n\nalice:7:8\n", user: "alice", uid: 1000,
			want: []Range{{7, 8}}},
		{name: "spaces around the line", file: "  alice:7:8  \n", user: "alice", uid: 1000, want: []Range{{7, 8}}},
		{name: "range up to 2^32", file: "alice:4294967295:1\n", user: "alice", uid: 1000, want: []Range{{4294967295, 1}}},
		{name: "name is a prefix", file: "alicex:1:1\nalic:2:2\n", user: "alice", uid: 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseSubIDs(strings.NewReader(tc.file), tc.user, tc.uid)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestReadSubIDsMissingFile(t *testing.T) {
	rs, err := ReadSubIDs(filepath.Join(t.TempDir(), "subuid"), "alice", 1000)
	if err != nil || rs != nil {
		t.Errorf("missing file: %v, %v; want no ranges and no error", rs, err)
	}
}

func TestSuggestRange(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name  string
		files []string
		want  Range
	}{
		{"no files", nil, Range{100000, 65536}},
		{"empty", []string{write("empty", "")}, Range{100000, 65536}},
		{"after the last", []string{write("one", "bob:100000:65536\n")}, Range{196608, 65536}},
		{"both files", []string{write("u", "bob:100000:65536\n"), write("g", "carol:300000:10\n")}, Range{327680, 65536}},
		{"below 100000", []string{write("low", "bob:1000:10\n")}, Range{100000, 65536}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := SuggestRange(tc.files...); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	if s := (Range{100000, 65536}).String(); s != "100000-165535" {
		t.Errorf("Range.String = %q", s)
	}
}

func TestIDMap(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ranges []Range
		want   []syscall.SysProcIDMap
	}{
		{"none", nil, []syscall.SysProcIDMap{idm(0, 1000, 1)}},
		{"one", []Range{{100000, 65536}}, []syscall.SysProcIDMap{idm(0, 1000, 1), idm(1, 100000, 65536)}},
		{"two in order", []Range{{300000, 10}, {100000, 5}},
			[]syscall.SysProcIDMap{idm(0, 1000, 1), idm(1, 300000, 10), idm(11, 100000, 5)}},
		{"cut at the last valid ID", []Range{{0, 1<<32 - 1}, {5, 5}},
			[]syscall.SysProcIDMap{idm(0, 1000, 1), idm(1, 0, 1<<32-2)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := idMap(1000, tc.ranges); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	got := mapArgs(42, idMap(1000, []Range{{100000, 65536}}))
	if want := []string{"42", "0", "1000", "1", "1", "100000", "65536"}; !reflect.DeepEqual(got, want) {
		t.Errorf("mapArgs = %v, want %v", got, want)
	}
}

// idm is one line of an ID map.
func idm(inside, outside, size int) syscall.SysProcIDMap {
	return syscall.SysProcIDMap{ContainerID: inside, HostID: outside, Size: size}
}
