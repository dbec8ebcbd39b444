package main

import (
	"reflect"
	"testing"

	"github.com/minibuild/minibuild/builder"
)

func TestParseOutput(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want output
		err  bool
	}{
		{"type=oci,dest=out", output{kind: "oci", dest: "out"}, false},
		{"type=oci,dest=a.tar,tar=true", output{kind: "oci", dest: "a.tar", tar: true}, false},
		{"type=local,dest=root", output{kind: "local", dest: "root"}, false},
		{"rootfs", output{kind: "local", dest: "rootfs"}, false},
		{`type=local,"dest=a,b"`, output{kind: "local", dest: "a,b"}, false},
		{"type=oci,dest=x,name=app:1", output{kind: "oci", dest: "x", name: "app:1"}, false},
		{"type=zip,dest=x", output{}, true},
		{"type=oci", output{}, true},
		{"dest=x", output{}, true},
		{"type=local,dest=x,tar=true", output{}, true},
		{"type=oci,dest=x,tar=maybe", output{}, true},
		{"type=oci,dest=x,color=red", output{}, true},
		{"type=oci,dest", output{}, true},
	} {
		got, err := parseOutput(tc.in)
		if (err != nil) != tc.err || (!tc.err && got != tc.want) {
			t.Errorf("parseOutput(%q) = %+v, %v; want %+v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestParsePlatform(t *testing.T) {
	for in, ok := range map[string]bool{"linux/amd64": true, "linux/arm64/v8": true, "linux": false, "windows/amd64": false, "linux//": false, "a/b/c/d": false} {
		if _, err := parsePlatform(in); (err == nil) != ok {
			t.Errorf("parsePlatform(%q): %v, want ok=%v", in, err, ok)
		}
	}
}

func TestParseContexts(t *testing.T) {
	got, err := parseContexts([]string{"base=oci-layout:///tmp/l:v1", "other=oci-layout://rel/dir", "p=oci-layout:///a:b/c"})
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
		if _, err := parseContexts(vals); err == nil {
			t.Errorf("parseContexts(%q): no error", bad)
		}
	}
}
