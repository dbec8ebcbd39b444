package dockerfile

import (
	"fmt"
	"reflect"
	"testing"
)

func u32(n uint32) *uint32 { return &n }

func TestParseMount(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  Mount
	}{
		// Types and the default of ReadOnly.
		{"bind by default", "target=/src", Mount{Type: MountBind, Target: "/src", ReadOnly: true}},
		{"bind", "type=bind,target=/src", Mount{Type: MountBind, Target: "/src", ReadOnly: true}},
		{"cache is writable", "type=cache,target=/c", Mount{Type: MountCache, Target: "/c"}},
		{"tmpfs is writable", "type=tmpfs,target=/t", Mount{Type: MountTmpfs, Target: "/t"}},
		{"secret is read-only", "type=secret,id=tok", Mount{Type: MountSecret, ID: "tok", ReadOnly: true}},
		{"ssh is read-only", "type=ssh", Mount{Type: MountSSH, ReadOnly: true}},
		{"type in upper case", "type=CACHE,target=/c", Mount{Type: MountCache, Target: "/c"}},
		{"keys in any case", "Type=cache,TARGET=/c,Id=x", Mount{Type: MountCache, Target: "/c", ID: "x"}},
		// Aliases.
		{"src", "src=a,target=/b", Mount{Type: MountBind, Source: "a", Target: "/b", ReadOnly: true}},
		{"source", "source=a,target=/b", Mount{Type: MountBind, Source: "a", Target: "/b", ReadOnly: true}},
		{"dst", "dst=/b", Mount{Type: MountBind, Target: "/b", ReadOnly: true}},
		{"destination", "destination=/b", Mount{Type: MountBind, Target: "/b", ReadOnly: true}},
		{"from", "from=build,source=/out,target=/in", Mount{Type: MountBind, From: "build", Source: "/out", Target: "/in", ReadOnly: true}},
		{"later key wins", "target=/a,target=/b", Mount{Type: MountBind, Target: "/b", ReadOnly: true}},
		// ReadOnly, bare and with a value.
		{"rw on bind", "target=/b,rw", Mount{Type: MountBind, Target: "/b"}},
		{"readwrite on bind", "target=/b,readwrite", Mount{Type: MountBind, Target: "/b"}},
		{"rw=true", "target=/b,rw=true", Mount{Type: MountBind, Target: "/b"}},
		{"rw=false", "target=/b,rw=false", Mount{Type: MountBind, Target: "/b", ReadOnly: true}},
		{"readwrite=0", "target=/b,readwrite=0", Mount{Type: MountBind, Target: "/b", ReadOnly: true}},
		{"ro on cache", "type=cache,target=/c,ro", Mount{Type: MountCache, Target: "/c", ReadOnly: true}},
		{"readonly on tmpfs", "type=tmpfs,target=/t,readonly", Mount{Type: MountTmpfs, Target: "/t", ReadOnly: true}},
		{"ro=false on secret", "type=secret,id=s,ro=false", Mount{Type: MountSecret, ID: "s"}},
		{"readonly=TRUE on cache", "type=cache,target=/c,readonly=TRUE", Mount{Type: MountCache, Target: "/c", ReadOnly: true}},
		{"ro before type", "ro,type=cache,target=/c", Mount{Type: MountCache, Target: "/c", ReadOnly: true}},
		// Cache keys.
		{"cache with everything", "type=cache,target=/c,id=go,sharing=locked,mode=0755,uid=1000,gid=1001",
			Mount{Type: MountCache, Target: "/c", ID: "go", Sharing: SharingLocked, Mode: u32(0o755), UID: u32(1000), GID: u32(1001)}},
		{"sharing shared", "type=cache,target=/c,sharing=shared", Mount{Type: MountCache, Target: "/c", Sharing: SharingShared}},
		{"sharing private in capitals", "type=cache,target=/c,sharing=PRIVATE", Mount{Type: MountCache, Target: "/c", Sharing: SharingPrivate}},
		{"cache from a stage", "type=cache,target=/c,from=base,source=/seed", Mount{Type: MountCache, Target: "/c", From: "base", Source: "/seed"}},
		{"mode without leading zero", "type=cache,target=/c,mode=700", Mount{Type: MountCache, Target: "/c", Mode: u32(0o700)}},
		{"uid 0", "type=cache,target=/c,uid=0", Mount{Type: MountCache, Target: "/c", UID: u32(0)}},
		// Tmpfs sizes.
		{"size in bytes", "type=tmpfs,target=/t,size=4096", Mount{Type: MountTmpfs, Target: "/t", Size: 4096}},
		{"size b", "type=tmpfs,target=/t,size=100b", Mount{Type: MountTmpfs, Target: "/t", Size: 100}},
		{"size k", "type=tmpfs,target=/t,size=512k", Mount{Type: MountTmpfs, Target: "/t", Size: 512 << 10}},
		{"size m", "type=tmpfs,target=/t,size=10m", Mount{Type: MountTmpfs, Target: "/t", Size: 10 << 20}},
		{"size MB", "type=tmpfs,target=/t,size=10MB", Mount{Type: MountTmpfs, Target: "/t", Size: 10 << 20}},
		{"size MiB", "type=tmpfs,target=/t,size=10MiB", Mount{Type: MountTmpfs, Target: "/t", Size: 10 << 20}},
		{"size g", "type=tmpfs,target=/t,size=1g", Mount{Type: MountTmpfs, Target: "/t", Size: 1 << 30}},
		{"size G", "type=tmpfs,target=/t,size=2G", Mount{Type: MountTmpfs, Target: "/t", Size: 2 << 30}},
		{"size t", "type=tmpfs,target=/t,size=1t", Mount{Type: MountTmpfs, Target: "/t", Size: 1 << 40}},
		{"size fraction", "type=tmpfs,target=/t,size=1.5k", Mount{Type: MountTmpfs, Target: "/t", Size: 1536}},
		{"size with a space", "type=tmpfs,target=/t,size=64 m", Mount{Type: MountTmpfs, Target: "/t", Size: 64 << 20}},
		{"size zero", "type=tmpfs,target=/t,size=0", Mount{Type: MountTmpfs, Target: "/t"}},
		// Secrets and ssh.
		{"secret required", "type=secret,id=s,required", Mount{Type: MountSecret, ID: "s", ReadOnly: true, Required: true}},
		{"secret required=true", "type=secret,id=s,required=true", Mount{Type: MountSecret, ID: "s", ReadOnly: true, Required: true}},
		{"secret required=false", "type=secret,id=s,required=false", Mount{Type: MountSecret, ID: "s", ReadOnly: true}},
		{"required before type", "required,type=secret,id=s", Mount{Type: MountSecret, ID: "s", ReadOnly: true, Required: true}},
		{"secret env", "type=secret,id=tok,env=TOKEN", Mount{Type: MountSecret, ID: "tok", ReadOnly: true, Env: ptr("TOKEN")}},
		{"secret empty env", "type=secret,id=tok,env=", Mount{Type: MountSecret, ID: "tok", ReadOnly: true, Env: ptr("")}},
		{"secret by source", "type=secret,source=tok,target=/t", Mount{Type: MountSecret, Source: "tok", Target: "/t", ReadOnly: true}},
		{"secret by target", "type=secret,target=/run/secrets/x", Mount{Type: MountSecret, Target: "/run/secrets/x", ReadOnly: true}},
		{"secret with file info", "type=secret,id=s,mode=0400,uid=1,gid=2",
			Mount{Type: MountSecret, ID: "s", ReadOnly: true, Mode: u32(0o400), UID: u32(1), GID: u32(2)}},
		{"ssh with id and target", "type=ssh,id=github,target=/agent,required", Mount{Type: MountSSH, ID: "github", Target: "/agent", ReadOnly: true, Required: true}},
		{"ssh mode", "type=ssh,mode=0600", Mount{Type: MountSSH, ReadOnly: true, Mode: u32(0o600)}},
		// CSV quoting.
		{"quoted field with a comma", `"target=/a,b",type=cache`, Mount{Type: MountCache, Target: "/a,b"}},
		{"quoted field with a quote", `"target=/a""b"`, Mount{Type: MountBind, Target: `/a"b`, ReadOnly: true}},
		{"single quotes are plain", `target='/a b'`, Mount{Type: MountBind, Target: `'/a b'`, ReadOnly: true}},
		{"value with =", "type=secret,id=a=b", Mount{Type: MountSecret, ID: "a=b", ReadOnly: true}},
		{"dollar is literal", "type=cache,target=/c,id=$ID", Mount{Type: MountCache, Target: "/c", ID: "$ID"}},
		{"bind without source", "type=bind,target=/x,from=img:1", Mount{Type: MountBind, From: "img:1", Target: "/x", ReadOnly: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMount(tt.value)
			if err != nil {
				t.Fatalf("ParseMount(%q): %v", tt.value, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseMount(%q) =\n %s\nwant\n %s", tt.value, mountString(got), mountString(tt.want))
			}
		})
	}
}

func TestParseMountErrors(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  string
	}{
		{"empty", "", "empty mount: want key=value fields such as type=cache,target=/dir"},
		{"bare quote", `target=/a"b`, `failed to parse csv mounts: parse error on line 1, column 10: bare " in non-quoted-field`},
		{"unterminated quote", `"target=/a`, `failed to parse csv mounts: parse error on line 1, column 11: extraneous or missing " in quoted-field`},
		{"two lines", "target=/a\ntype=cache", "failed to parse csv mounts: more than one line"},
		{"unknown key", "type=cache,target=/c,color=red", "unexpected key 'color' in 'color=red'"},
		{"unknown key suggests", "type=cache,tagret=/c", "unexpected key 'tagret' in 'tagret=/c' (did you mean target?)"},
		{"unknown key lower-cased", "type=cache,TARGT=/c", "unexpected key 'targt' in 'TARGT=/c' (did you mean target?)"},
		{"bare word", "type=cache,target=/c,cache", "invalid field 'cache' must be a key=value pair"},
		{"empty field", "type=cache,,target=/c", "invalid field '' must be a key=value pair"},
		{"trailing comma", "type=cache,target=/c,", "invalid field '' must be a key=value pair"},
		{"space after comma", "type=cache, target=/c", "unexpected key ' target' in ' target=/c' (did you mean target?)"},
		{"unknown type", "type=volume,target=/v", `unsupported mount type "volume"`},
		{"unknown type suggests", "type=cahce,target=/v", `unsupported mount type "cahce" (did you mean cache?)`},
		{"empty type", "type=,target=/v", `unsupported mount type ""`},
		{"bad sharing", "type=cache,target=/c,sharing=lockd", `unsupported sharing value "lockd" (did you mean locked?)`},
		{"bad sharing far", "type=cache,target=/c,sharing=never", `unsupported sharing value "never"`},
		{"bad ro", "target=/b,ro=maybe", "invalid value for ro: maybe"},
		{"bad readonly", "target=/b,readonly=yes", "invalid value for readonly: yes"},
		{"bad rw", "target=/b,rw=2", "invalid value for rw: 2"},
		{"bad required", "type=secret,id=s,required=sure", "invalid value for required: sure"},
		{"required on bind", "target=/b,required", "unexpected key 'required' for mount type 'bind'"},
		{"required=false on cache", "type=cache,target=/c,required=false", "unexpected key 'required' for mount type 'cache'"},
		{"size on cache", "type=cache,target=/c,size=1m", "unexpected key 'size' for mount type 'cache'"},
		{"env on ssh", "type=ssh,env=X", "unexpected key 'env' for mount type 'ssh'"},
		{"bad size", "type=tmpfs,target=/t,size=big", "invalid value for size: big"},
		{"bad size unit", "type=tmpfs,target=/t,size=10x", "invalid value for size: 10x"},
		{"bad size suffix", "type=tmpfs,target=/t,size=10mbb", "invalid value for size: 10mbb"},
		{"size ib alone", "type=tmpfs,target=/t,size=10ib", "invalid value for size: 10ib"},
		{"negative size", "type=tmpfs,target=/t,size=-1", "invalid value for size: -1"},
		{"size two dots", "type=tmpfs,target=/t,size=1.2.3", "invalid value for size: 1.2.3"},
		{"size overflows", "type=tmpfs,target=/t,size=9000000p", "invalid value for size: 9000000p"},
		{"bad mode", "type=cache,target=/c,mode=0789", "invalid value 0789 for mode"},
		{"mode too large", "type=cache,target=/c,mode=77777777777", "invalid value 77777777777 for mode"},
		{"bad uid", "type=cache,target=/c,uid=root", "invalid value root for uid"},
		{"negative gid", "type=cache,target=/c,gid=-1", "invalid value -1 for gid"},
		{"uid too large", "type=cache,target=/c,uid=4294967296", "invalid value 4294967296 for uid"},
		{"mode on bind", "target=/b,mode=0755", `mode not allowed for "bind" type mounts`},
		{"uid on tmpfs", "type=tmpfs,target=/t,uid=1", `uid not allowed for "tmpfs" type mounts`},
		{"gid on bind", "target=/b,gid=1", `gid not allowed for "bind" type mounts`},
		{"secret from", "type=secret,id=s,from=x", "secret mount should not have a from"},
		{"secret sharing", "type=secret,id=s,sharing=locked", "secret mount should not define sharing"},
		{"secret without name", "type=secret,required", "invalid secret mount: one of source, target or id is required"},
		{"secret source and id", "type=secret,source=a,id=b", "both source and id can't be set"},
		{"sharing on bind", "target=/b,sharing=shared", "invalid cache sharing set for bind mount"},
		{"sharing on tmpfs", "type=tmpfs,target=/t,sharing=private", "invalid cache sharing set for tmpfs mount"},
		{"bind without target", "source=.", `mount target is required for "bind" type mounts`},
		{"cache without target", "type=cache,id=x", `mount target is required for "cache" type mounts`},
		{"tmpfs with empty target", "type=tmpfs,target=", `mount target is required for "tmpfs" type mounts`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseMount(tt.value)
			if err == nil {
				t.Fatalf("ParseMount(%q) = %s, want an error", tt.value, mountString(m))
			}
			if err.Error() != tt.want {
				t.Errorf("ParseMount(%q) error =\n %q\nwant\n %q", tt.value, err.Error(), tt.want)
			}
		})
	}
}

// mountString shows a Mount with its pointers followed.
func mountString(m Mount) string {
	s := func(p *string) any {
		if p == nil {
			return nil
		}
		return *p
	}
	u := func(p *uint32) any {
		if p == nil {
			return nil
		}
		return *p
	}
	return fmt.Sprintf("%+v", struct {
		Type                 MountType
		From, Source, Target string
		ReadOnly             bool
		Size                 int64
		ID                   string
		Sharing              Sharing
		Required             bool
		Env, Mode, UID, GID  any
	}{m.Type, m.From, m.Source, m.Target, m.ReadOnly, m.Size, m.ID, m.Sharing, m.Required, s(m.Env), u(m.Mode), u(m.UID), u(m.GID)})
}
