package main

import (
	"reflect"
	"strings"
	"testing"

	"github.com/minibuild/minibuild/dockerfile"
	"github.com/minibuild/minibuild/registry"
	"github.com/minibuild/minibuild/tarutil"
)

func TestParseCacheSpec(t *testing.T) {
	tests := []struct {
		in   string
		to   bool
		want cacheSpec
		err  string
	}{
		{in: "type=registry,ref=reg:5000/cache:main,mode=max", to: true, want: cacheSpec{loc: registry.CacheLocation{Ref: "reg:5000/cache:main"}, mode: "max"}},
		{in: "type=registry,ref=reg:5000/cache:main", to: true, want: cacheSpec{loc: registry.CacheLocation{Ref: "reg:5000/cache:main"}, mode: "min"}},
		{in: "reg:5000/cache:main", want: cacheSpec{loc: registry.CacheLocation{Ref: "reg:5000/cache:main"}, mode: "min"}},
		{in: "type=local,dest=/tmp/c,tag=x", to: true, want: cacheSpec{loc: registry.CacheLocation{Dir: "/tmp/c", Tag: "x"}, mode: "min"}},
		{in: "type=local,src=/tmp/c", want: cacheSpec{loc: registry.CacheLocation{Dir: "/tmp/c"}, mode: "min"}},
		{in: "type=local,src=/tmp/c", to: true, err: `unknown key "src"`},
		{in: "type=local,dest=/tmp/c", err: `unknown key "dest"`},
		{in: "type=registry,ref=x,mode=max", err: `unknown key "mode"`},
		{in: "type=registry,ref=x,mode=all", to: true, err: "mode must be min or max"},
		{in: "type=registry", to: true, err: "type=registry takes ref="},
		{in: "type=gha,ref=x", err: "type must be registry or local"},
		{in: "type=registry,ref=x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", to: true, err: "not a digest"},
		{in: "type=registry,ref=Bad Name", err: "invalid image name"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseCacheSpec("--cache-x", tt.in, tt.to)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestClaimOutputs(t *testing.T) {
	tests := []struct {
		in      []string
		rest    []string
		claimed []regOutput
		err     string
	}{
		{in: []string{"type=oci,dest=out", "type=docker,dest=a.tar", "out2"}, rest: []string{"type=oci,dest=out", "out2"},
			claimed: []regOutput{{kind: "docker", dest: "a.tar"}}},
		{in: []string{`type=registry,"name=r/a:1,r/b:2"`}, claimed: []regOutput{{kind: "registry", names: []string{"r/a:1", "r/b:2"}}}},
		{in: []string{"dest=a.tar,type=docker,name=app"}, claimed: []regOutput{{kind: "docker", dest: "a.tar", names: []string{"app"}}}},
		{in: []string{"type=docker"}, err: "needs dest=FILE"},
		{in: []string{"type=registry,dest=x"}, err: "takes name="},
		{in: []string{"type=docker,dest=a,tar=true"}, err: `unknown key "tar"`},
		{in: []string{"type=registry,name=Bad Name"}, err: "invalid"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.in, " "), func(t *testing.T) {
			f := &registryFlags{}
			rest, err := f.claimOutputs(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(rest, tt.rest) || !reflect.DeepEqual(f.outputs, tt.claimed) {
				t.Errorf("rest %q claimed %+v (%v), want %q %+v", rest, f.outputs, err, tt.rest, tt.claimed)
			}
		})
	}
}

func TestLayerOptions(t *testing.T) {
	tests := []struct {
		compression string
		level       int
		want        tarutil.Compression
		err         string
	}{
		{"gzip", 0, tarutil.Gzip, ""},
		{"gzip", 9, tarutil.Gzip, ""},
		{"gzip", 10, 0, "gzip takes 1-9"},
		{"zstd", 22, tarutil.Zstd, ""},
		{"zstd", 23, 0, "zstd takes 1-22"},
		{"uncompressed", 0, tarutil.Uncompressed, ""},
		{"uncompressed", 1, 0, "no level"},
		{"brotli", 0, 0, "want gzip, zstd or uncompressed"},
	}
	for _, tt := range tests {
		f := &registryFlags{compression: tt.compression, level: tt.level}
		lo, err := f.layerOptions()
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s/%d: error %v, want %q", tt.compression, tt.level, err, tt.err)
			}
			continue
		}
		if err != nil || lo.Compression != tt.want || lo.Level != tt.level {
			t.Errorf("%s/%d: %+v, %v", tt.compression, tt.level, lo, err)
		}
	}
}

func TestFinalChain(t *testing.T) {
	const df = `FROM scratch AS base
FROM base AS tools
FROM scratch AS other
FROM tools
COPY --from=other /x /x
FROM 3 AS last
`
	parsed, err := dockerfile.Parse(strings.NewReader(df), "Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		target string
		want   []string
	}{
		{"", []string{"last", "3", "tools", "base"}},
		{"tools", []string{"tools", "base"}},
		{"OTHER", []string{"other"}},
	}
	for _, tt := range tests {
		got := finalChain(parsed, tt.target)
		want := map[string]bool{}
		for _, w := range tt.want {
			want[w] = true
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("finalChain(%q) = %v, want %v", tt.target, got, want)
		}
	}
}
