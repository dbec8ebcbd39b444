package container

import (
	"errors"
	"strings"
	"testing"
)

func TestParseVolumeFlag(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want MountSpec
		err  string // a substring of the error; "" for none
	}{
		{"data:/data", MountSpec{Kind: MountVolume, Source: "data", Target: "/data"}, ""},
		{"my.vol-1_x:/var/lib/db/", MountSpec{Kind: MountVolume, Source: "my.vol-1_x", Target: "/var/lib/db"}, ""},
		{"data:/data:ro", MountSpec{Kind: MountVolume, Source: "data", Target: "/data", ReadOnly: true}, ""},
		{"data:/data:rw", MountSpec{Kind: MountVolume, Source: "data", Target: "/data"}, ""},
		{"data:/data:ro,nocopy", MountSpec{Kind: MountVolume, Source: "data", Target: "/data", ReadOnly: true, NoCopy: true}, ""},
		{"/srv/www:/www", MountSpec{Kind: MountBind, Source: "/srv/www", Target: "/www"}, ""},
		{"/srv/www/../app/:/app:ro", MountSpec{Kind: MountBind, Source: "/srv/app", Target: "/app", ReadOnly: true}, ""},
		{"/srv:/a/../b", MountSpec{Kind: MountBind, Source: "/srv", Target: "/b"}, ""},

		{"./data:/data", MountSpec{}, `"./data" is neither a volume name`},
		{"data/sub:/data", MountSpec{}, "absolute host path"},
		{"a:/data", MountSpec{}, "neither a volume name"}, // Docker wants two characters
		{"-x:/data", MountSpec{}, "neither a volume name"},
		{":/data", MountSpec{}, "neither a volume name"},
		{"/data", MountSpec{}, "anonymous volume is not supported"},
		{"data", MountSpec{}, "anonymous volume is not supported"},
		{"data:data", MountSpec{}, `the target "data" is not an absolute path`},
		{"data:", MountSpec{}, "the target is empty"},
		{"data:/", MountSpec{}, `cannot be "/"`},
		{"data:/x/..", MountSpec{}, `cannot be "/"`},
		{"data:/data:rx", MountSpec{}, `unknown option "rx"`},
		{"data:/data:", MountSpec{}, `unknown option ""`},
		{"data:/data:ro,rw", MountSpec{}, "ro and rw both given"},
		{"data:/data:z", MountSpec{}, `unknown option "z"`},
		{"/srv:/data:nocopy", MountSpec{}, "nocopy is an option of volumes"},
		{"data:/data:ro:x", MountSpec{}, "no other colon"},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			got, err := ParseVolumeFlag(tc.spec)
			checkParse(t, got, err, tc.want, tc.err, "-v")
		})
	}
}

func TestParseMountFlag(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want MountSpec
		err  string
	}{
		{"type=volume,source=data,target=/data", MountSpec{Kind: MountVolume, Source: "data", Target: "/data"}, ""},
		{"type=volume,src=data,dst=/data,readonly", MountSpec{Kind: MountVolume, Source: "data", Target: "/data", ReadOnly: true}, ""},
		{"type=volume,src=data,destination=/data,ro=true,volume-nocopy", MountSpec{Kind: MountVolume, Source: "data", Target: "/data", ReadOnly: true, NoCopy: true}, ""},
		{"type=bind,source=/srv,target=/srv,readonly=false", MountSpec{Kind: MountBind, Source: "/srv", Target: "/srv"}, ""},
		{`type=bind,"source=/srv/a,b",target=/x`, MountSpec{Kind: MountBind, Source: "/srv/a,b", Target: "/x"}, ""},
		{"target=/data,source=data,type=volume", MountSpec{Kind: MountVolume, Source: "data", Target: "/data"}, ""},

		{"source=data,target=/data", MountSpec{}, "type is missing"},
		{"type=tmpfs,target=/t", MountSpec{}, `type "tmpfs" is not supported`},
		{"type=volume,target=/data", MountSpec{}, "anonymous volume is not supported"},
		{"type=bind,target=/data", MountSpec{}, "source is missing"},
		{"type=volume,source=data", MountSpec{}, "target is missing"},
		{"type=volume,source=data,target=rel", MountSpec{}, "not an absolute path"},
		{"type=volume,source=data,target=/", MountSpec{}, `cannot be "/"`},
		{"type=bind,source=srv,target=/srv", MountSpec{}, "a bind's source must be an absolute host path"},
		{"type=volume,source=/srv,target=/srv", MountSpec{}, "for a host path, use type=bind"},
		{"type=volume,source=./x,target=/x", MountSpec{}, "neither a volume name"},
		{"type=bind,source=/srv,target=/srv,volume-nocopy", MountSpec{}, "volume-nocopy is an option of volumes"},
		{"type=volume,source=data,target=/data,readonly=maybe", MountSpec{}, `readonly="maybe": want true or false`},
		{"type=volume,source=data,target=/data,bind-propagation=shared", MountSpec{}, `unknown field "bind-propagation"`},
		{`type=volume,"source=data`, MountSpec{}, "invalid --mount"},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			got, err := ParseMountFlag(tc.spec)
			checkParse(t, got, err, tc.want, tc.err, "--mount")
		})
	}
}

func checkParse(t *testing.T, got MountSpec, err error, want MountSpec, wantErr, flag string) {
	t.Helper()
	if wantErr == "" {
		if err != nil || got != want {
			t.Errorf("got %+v, %v; want %+v", got, err, want)
		}
		return
	}
	if !errors.As(err, new(*ArgumentError)) || !strings.Contains(err.Error(), wantErr) || !strings.Contains(err.Error(), "invalid "+flag) {
		t.Errorf("got %+v, %v; want an ArgumentError holding %q", got, err, wantErr)
	}
}

func TestCheckTargets(t *testing.T) {
	for _, tc := range []struct {
		name    string
		targets []string
		ok      bool
	}{
		{"none", nil, true},
		{"distinct, nested", []string{"/data", "/data/sub", "/other"}, true},
		{"twice", []string{"/data", "/other", "/data"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var specs []MountSpec
			for _, target := range tc.targets {
				specs = append(specs, MountSpec{Kind: MountVolume, Source: "v1", Target: target})
			}
			if err := CheckTargets(specs); (err == nil) != tc.ok {
				t.Errorf("CheckTargets(%q) = %v, want ok %v", tc.targets, err, tc.ok)
			}
		})
	}
}
