package rootfs

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const testPasswd = `# a comment
root:x:0:0:root:/root:/bin/sh

bin:x:1:1:bin:/bin:/sbin/nologin
   alice:x:1000:1000:Alice:/home/alice:/bin/sh   
bob:x:1001:1002::/home/bob:/bin/sh
short
nohome:x:1003:1003
1500:x:2000:2000::/home/num:/bin/sh
alice:x:3000:3000:second alice:/nope:/bin/sh
crlf:x:1004:1004::/home/crlf:/bin/sh` + "\r\n"

const testGroup = `root:x:0:root
# wheel:x:99:alice
wheel:x:10:alice,bob
users:x:100:alice
alicegrp:x:1000:
staff:x:50:bob
dup:x:51:
dup:x:52:
broken
`

func TestLookupUser(t *testing.T) {
	f := newFixture(t)
	f.mkdir("/etc")
	f.write("/etc/passwd", testPasswd)
	f.write("/etc/group", testGroup)
	tests := []struct {
		spec  string
		chown bool
		want  User
		err   string
	}{
		{spec: "root", want: User{UID: 0, GID: 0, AdditionalGIDs: []int{0}, Home: "/root"}},
		{spec: "", want: User{UID: 0, GID: 0, AdditionalGIDs: []int{0}, Home: "/root"}},
		{spec: "alice", want: User{UID: 1000, GID: 1000, AdditionalGIDs: []int{10, 100}, Home: "/home/alice"}},
		{spec: "bob", want: User{UID: 1001, GID: 1002, AdditionalGIDs: []int{10, 50}, Home: "/home/bob"}},
		{spec: "1000", want: User{UID: 1000, GID: 1000, AdditionalGIDs: []int{10, 100}, Home: "/home/alice"}},
		{spec: "1500", want: User{UID: 1500, GID: 0, Home: "/"}},
		{spec: "nohome", want: User{UID: 1003, GID: 1003, Home: "/"}},
		{spec: "short", want: User{UID: 0, GID: 0, Home: "/"}},
		{spec: "crlf", want: User{UID: 1004, GID: 1004, Home: "/home/crlf"}},
		{spec: "alice:users", want: User{UID: 1000, GID: 100, Home: "/home/alice"}},
		{spec: "alice:5000", want: User{UID: 1000, GID: 5000, Home: "/home/alice"}},
		{spec: "alice:dup", want: User{UID: 1000, GID: 51, Home: "/home/alice"}},
		{spec: "5000:users", want: User{UID: 5000, GID: 100, Home: "/"}},
		{spec: "5000:6000", want: User{UID: 5000, GID: 6000, Home: "/"}},
		{spec: "alice:users:ignored", want: User{UID: 1000, GID: 100, Home: "/home/alice"}},
		{spec: "nobody", err: "unable to find user nobody: no matching entries in passwd file"},
		{spec: "alice:nogroup", err: "unable to find group nogroup: no matching entries in group file"},
		{spec: "-1", err: "uids and gids must be in range 0-2147483647"},
		{spec: "alice:2147483648", err: "uids and gids must be in range 0-2147483647"},
		{spec: "99999999999999999999", err: "uids and gids must be in range"},

		{spec: "alice", chown: true, want: User{UID: 1000, GID: 1000, Home: "/home/alice"}},
		{spec: "bob", chown: true, want: User{UID: 1001, GID: 1002, Home: "/home/bob"}},
		{spec: "1500", chown: true, want: User{UID: 1500, GID: 1500, Home: "/"}},
		{spec: "1500:7", chown: true, want: User{UID: 1500, GID: 7, Home: "/"}},
		{spec: "bob:staff", chown: true, want: User{UID: 1001, GID: 50, Home: "/home/bob"}},
		{spec: "42:staff", chown: true, want: User{UID: 42, GID: 50, Home: "/"}},
		{spec: "root:root", chown: true, want: User{UID: 0, GID: 0, Home: "/root"}},
		{spec: "nobody", chown: true, err: "unable to find user nobody: no matching entries in passwd file"},
		{spec: "alice:nogroup", chown: true, err: "unable to find group nogroup: no matching entries in group file"},
	}
	for _, tt := range tests {
		name := tt.spec
		if tt.chown {
			name = "chown " + name
		}
		t.Run(name, func(t *testing.T) {
			got, err := f.r.LookupUser(tt.spec, tt.chown)
			checkUser(t, got, err, tt.want, tt.err)
		})
	}
}

func checkUser(t *testing.T, got User, err error, want User, wantErr string) {
	t.Helper()
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("error = %v; want %q", err, wantErr)
		}
		return
	}
	if err != nil {
		t.Fatalf("LookupUser: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("LookupUser = %+v; want %+v", got, want)
	}
}

func TestLookupUserMissingFiles(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *fixture)
	}{
		{name: "no /etc", setup: func(*fixture) {}},
		{name: "empty /etc", setup: func(f *fixture) { f.mkdir("/etc") }},
		{name: "/etc is a file", setup: func(f *fixture) { f.write("/etc", "") }},
		{name: "dangling links", setup: func(f *fixture) {
			f.mkdir("/etc")
			f.symlink("/nope", "/etc/passwd")
			f.symlink("/nope", "/etc/group")
		}},
		{name: "links to host files", setup: func(f *fixture) {
			f.mkdir("/etc")
			f.symlink(f.sentinel+"/etc/passwd", "/etc/passwd")
			f.symlink("../../../../../../"+f.sentinel+"/etc/group", "/etc/group")
		}},
		{name: "/etc links to host /etc", setup: func(f *fixture) { f.symlink(f.sentinel+"/etc", "/etc") }},
	}
	cases := []struct {
		spec  string
		chown bool
		want  User
		err   string
	}{
		{spec: "1000", want: User{UID: 1000, GID: 0, Home: "/"}},
		{spec: "1000", chown: true, want: User{UID: 1000, GID: 1000, Home: "/"}},
		{spec: "1000:1000", want: User{UID: 1000, GID: 1000, Home: "/"}},
		{spec: "root", want: User{Home: "/"}},
		{spec: "root:root", chown: true, want: User{Home: "/"}},
		{spec: "", want: User{Home: "/"}},
		{spec: "hostonly", err: "unable to find user hostonly: no matching entries in passwd file"},
		{spec: "alice", chown: true, err: "unable to find user alice: no matching entries in passwd file"},
		{spec: "1000:hostgroup", err: "unable to find group hostgroup: no matching entries in group file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tt.setup(f)
			for _, c := range cases {
				got, err := f.r.LookupUser(c.spec, c.chown)
				t.Run(c.spec, func(t *testing.T) { checkUser(t, got, err, c.want, c.err) })
			}
		})
	}
}

func TestLookupUserBadFiles(t *testing.T) {
	big := strings.Repeat("#"+strings.Repeat("x", 1022)+"\n", 1024) // exactly 1 MiB of comments
	tests := []struct {
		name   string
		root   bool
		setup  func(f *fixture)
		spec   string
		chown  bool
		want   *User
		errHas string
	}{
		{name: "passwd FIFO", setup: fifoAt("/etc/passwd"), spec: "alice", errHas: "/etc/passwd: not a regular file"},
		{name: "passwd FIFO, numeric user", setup: fifoAt("/etc/passwd"), spec: "1000", errHas: "not a regular file"},
		{name: "passwd FIFO, chown by id reads nothing", setup: fifoAt("/etc/passwd"), spec: "1000:1000", chown: true,
			want: &User{UID: 1000, GID: 1000, Home: "/"}},
		{name: "group FIFO", setup: func(f *fixture) {
			fifoAt("/etc/group")(f)
			f.write("/etc/passwd", testPasswd)
		}, spec: "alice", errHas: "/etc/group: not a regular file"},
		{name: "passwd link to FIFO", setup: func(f *fixture) {
			fifoAt("/run/fifo")(f)
			f.mkdir("/etc")
			f.symlink("../run/fifo", "/etc/passwd")
		}, spec: "alice", errHas: "not a regular file"},
		{name: "passwd link to /dev/zero", root: true, setup: func(f *fixture) {
			f.mkdir("/dev", "/etc")
			if err := unix.Mknod(f.host("/dev/zero"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 5))); err != nil {
				f.t.Fatal(err)
			}
			f.symlink("/dev/zero", "/etc/passwd")
		}, spec: "alice", errHas: "not a regular file"},
		{name: "passwd link to host /dev/zero stays in root", setup: func(f *fixture) {
			f.mkdir("/etc")
			f.symlink("/dev/zero", "/etc/passwd")
		}, spec: "1000", want: &User{UID: 1000, Home: "/"}},
		{name: "passwd directory", setup: func(f *fixture) { f.mkdir("/etc/passwd") }, spec: "alice", errHas: "not a regular file"},
		{name: "passwd over 1 MiB", setup: func(f *fixture) {
			f.mkdir("/etc")
			f.write("/etc/passwd", big+testPasswd)
		}, spec: "alice", errHas: "/etc/passwd: larger than 1048576 bytes"},
		{name: "group over 1 MiB", setup: func(f *fixture) {
			f.mkdir("/etc")
			f.write("/etc/passwd", testPasswd)
			f.write("/etc/group", big+"x")
		}, spec: "alice", errHas: "/etc/group: larger than 1048576 bytes"},
		{name: "passwd of exactly 1 MiB", setup: func(f *fixture) {
			f.mkdir("/etc")
			const bob = "bob:x:7:8::/b:\n"
			f.write("/etc/passwd", "#"+strings.Repeat("x", 1<<20-len(bob)-2)+"\n"+bob)
		}, spec: "bob", want: &User{UID: 7, GID: 8, Home: "/b"}},
		{name: "passwd symlink loop", setup: func(f *fixture) {
			f.mkdir("/etc")
			f.symlink("../../../etc/passwd", "/etc/passwd")
		}, spec: "alice", errHas: "too many levels of symbolic links"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.root {
				needRoot(t)
			}
			f := newFixture(t)
			tt.setup(f)
			var got User
			var err error
			within(t, 5*time.Second, func() { got, err = f.r.LookupUser(tt.spec, tt.chown) })
			if tt.want != nil {
				checkUser(t, got, err, *tt.want, "")
				return
			}
			checkUser(t, got, err, User{}, tt.errHas)
		})
	}
}

// fifoAt returns a setup making a FIFO (with no writer) at image path p.
func fifoAt(p string) func(*fixture) {
	return func(f *fixture) {
		f.mkdir(p[:strings.LastIndex(p, "/")])
		if err := unix.Mkfifo(f.host(p), 0o644); err != nil {
			f.t.Fatal(err)
		}
		if _, err := os.Lstat(f.host(p)); err != nil {
			f.t.Fatal(err)
		}
	}
}
