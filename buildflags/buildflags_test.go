package buildflags

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/minibuild/minibuild/builder"
	"github.com/minibuild/minibuild/session"
)

func TestParseOutput(t *testing.T) {
	oci, local := session.OutputOCI, session.OutputLocal
	docker, reg := session.OutputDocker, session.OutputRegistry
	for _, tc := range []struct {
		in   string
		want session.Output
		err  string
	}{
		{in: "type=oci,dest=out", want: session.Output{Kind: oci, Dest: "out"}},
		{in: "type=oci,dest=a.tar,tar=true", want: session.Output{Kind: oci, Dest: "a.tar", Tar: true}},
		{in: "type=local,dest=root", want: session.Output{Kind: local, Dest: "root"}},
		{in: "rootfs", want: session.Output{Kind: local, Dest: "rootfs"}},
		{in: `type=local,"dest=a,b"`, want: session.Output{Kind: local, Dest: "a,b"}},
		{in: "type=oci,dest=x,name=app:1", want: session.Output{Kind: oci, Dest: "x", Names: []string{"app:1"}}},
		{in: "type=docker,dest=a.tar", want: session.Output{Kind: docker, Dest: "a.tar"}},
		{in: "dest=a.tar,type=docker,name=app", want: session.Output{Kind: docker, Dest: "a.tar", Names: []string{"app"}}},
		{in: "type=docker,dest=-", want: session.Output{Kind: docker, Dest: "-"}},
		{in: `type=registry,"name=r/a:1, r/b:2"`, want: session.Output{Kind: reg, Names: []string{"r/a:1", "r/b:2"}}},
		{in: "type=registry", want: session.Output{Kind: reg}},
		{in: "type=zip,dest=x", err: `unknown type "zip"`},
		{in: "type=oci", err: "dest= is required"},
		{in: "dest=x", err: "type= is required"},
		{in: "type=local,dest=x,tar=true", err: "applies to type=oci only"},
		{in: "type=oci,dest=x,tar=maybe", err: "tar must be true or false"},
		{in: "type=oci,dest=x,color=red", err: `unknown key "color"`},
		{in: "type=oci,dest", err: "is not KEY=VALUE"},
		{in: "type=oci,dest=x,name=Bad Name", err: "invalid"},
		{in: "type=docker", err: "needs dest=FILE"},
		{in: "type=registry,dest=x", err: "takes name="},
		{in: "type=docker,dest=a,tar=true", err: `unknown key "tar"`},
		{in: "type=registry,name=Bad Name", err: "invalid"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseOutput(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseOutput(%q) = %+v, %v; want an error with %q", tc.in, got, err, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseOutput(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestParsePlatform(t *testing.T) {
	for in, ok := range map[string]bool{"linux/amd64": true, "linux/arm64/v8": true, "linux": false, "windows/amd64": false, "linux//": false, "a/b/c/d": false} {
		if _, err := ParsePlatform(in); (err == nil) != ok {
			t.Errorf("ParsePlatform(%q): %v, want ok=%v", in, err, ok)
		}
	}
}

func TestParseContexts(t *testing.T) {
	got, err := ParseContexts([]string{"base=oci-layout:///tmp/l:v1", "other=oci-layout://rel/dir", "p=oci-layout:///a:b/c"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]builder.LayoutContext{
		"base":  {Dir: "/tmp/l", Tag: "v1"},
		"other": {Dir: "rel/dir"},
		"p":     {Dir: "/a:b/c"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseContexts = %+v, want %+v", got, want)
	}
	for _, bad := range []string{"noequals", "=oci-layout://x", "x=docker-image://alpine", "x=oci-layout://", "x=oci-layout://a,x=oci-layout://b"} {
		vals := []string{bad}
		if bad == "x=oci-layout://a,x=oci-layout://b" {
			vals = []string{"x=oci-layout://a", "x=oci-layout://b"}
		}
		if _, err := ParseContexts(vals); err == nil {
			t.Errorf("ParseContexts(%q): no error", bad)
		}
	}
}

func TestParseEpoch(t *testing.T) {
	for _, tc := range []struct {
		flag, env string
		want      int64
		err       bool
	}{
		{"", "", 0, false},
		{"", "1700000000", 1700000000, false},
		{"5", "1700000000", 5, false},
		{"-1", "", 0, true},
		{"", "yesterday", 0, true},
	} {
		got, err := ParseEpoch(tc.flag, tc.env)
		if (err != nil) != tc.err || (!tc.err && (got.Unix() != tc.want || got.Location() != time.UTC)) {
			t.Errorf("ParseEpoch(%q, %q) = %v, %v; want %d, error %v", tc.flag, tc.env, got, err, tc.want, tc.err)
		}
	}
}

func TestParseBuildArgs(t *testing.T) {
	env := map[string]string{"FROM_ENV": "e", "EMPTY": ""}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	got, err := ParseBuildArgs([]string{"A=1", "B=x=y", "C=", "FROM_ENV", "EMPTY", "UNSET"}, lookup)
	want := map[string]string{"A": "1", "B": "x=y", "C": "", "FROM_ENV": "e", "EMPTY": ""}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ParseBuildArgs = %v, %v; want %v", got, err, want)
	}
	if _, err := ParseBuildArgs([]string{"=v"}, lookup); err == nil {
		t.Error("an empty name was accepted")
	}
}
