package rootfs

import (
	"reflect"
	"testing"
)

func TestParsePasswd(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []passwdEntry
	}{
		{name: "empty", in: "", want: nil},
		{name: "full line", in: "root:x:0:0:root:/root:/bin/sh\n", want: []passwdEntry{{name: "root", home: "/root"}}},
		{name: "comments and blanks", in: "# c\n\n  \t\n#x:x:1:1::/:\nbin:x:1:2::/bin:\n",
			want: []passwdEntry{{name: "bin", uid: 1, gid: 2, home: "/bin"}}},
		{name: "short lines", in: "a\nb:x:5\nc:x:6:7\n",
			want: []passwdEntry{{name: "a"}, {name: "b", uid: 5}, {name: "c", uid: 6, gid: 7}}},
		{name: "malformed numbers read as 0", in: "a:x:one:two::/h:\n", want: []passwdEntry{{name: "a", home: "/h"}}},
		{name: "CRLF and spaces", in: "  a:x:1:1::/h:/bin/sh \r\nb:x:2:2::/i:\r\n",
			want: []passwdEntry{{name: "a", uid: 1, gid: 1, home: "/h"}, {name: "b", uid: 2, gid: 2, home: "/i"}}},
		{name: "no final newline", in: "a:x:1:1::/h:", want: []passwdEntry{{name: "a", uid: 1, gid: 1, home: "/h"}}},
		{name: "extra fields", in: "a:x:1:1:g:/h:/s:extra:more", want: []passwdEntry{{name: "a", uid: 1, gid: 1, home: "/h"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parsePasswd([]byte(tt.in)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parsePasswd = %+v; want %+v", got, tt.want)
			}
		})
	}
}

func TestParseGroup(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []groupEntry
	}{
		{name: "empty", in: "", want: nil},
		{name: "members", in: "wheel:x:10:alice,bob\n", want: []groupEntry{{name: "wheel", gid: 10, members: []string{"alice", "bob"}}}},
		{name: "no members", in: "users:x:100:\nstaff:x:50\n", want: []groupEntry{{name: "users", gid: 100}, {name: "staff", gid: 50}}},
		{name: "comments, blanks, short", in: "# c\n\nshort\n  g:x:1:u \r\n",
			want: []groupEntry{{name: "short"}, {name: "g", gid: 1, members: []string{"u"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseGroup([]byte(tt.in)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseGroup = %+v; want %+v", got, tt.want)
			}
		})
	}
}
