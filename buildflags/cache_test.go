package buildflags

import (
	"strings"
	"testing"

	"github.com/minibuild/minibuild/registry"
	"github.com/minibuild/minibuild/session"
	"github.com/minibuild/minibuild/tarutil"
)

func TestParseCacheSpec(t *testing.T) {
	tests := []struct {
		in   string
		to   bool
		want session.CacheExport
		err  string
	}{
		{in: "type=registry,ref=reg:5000/cache:main,mode=max", to: true, want: session.CacheExport{Location: registry.CacheLocation{Ref: "reg:5000/cache:main"}, Mode: "max"}},
		{in: "type=registry,ref=reg:5000/cache:main", to: true, want: session.CacheExport{Location: registry.CacheLocation{Ref: "reg:5000/cache:main"}, Mode: "min"}},
		{in: "reg:5000/cache:main", want: session.CacheExport{Location: registry.CacheLocation{Ref: "reg:5000/cache:main"}, Mode: "min"}},
		{in: "type=local,dest=/tmp/c,tag=x", to: true, want: session.CacheExport{Location: registry.CacheLocation{Dir: "/tmp/c", Tag: "x"}, Mode: "min"}},
		{in: "type=local,src=/tmp/c", want: session.CacheExport{Location: registry.CacheLocation{Dir: "/tmp/c"}, Mode: "min"}},
		{in: "type=local,dest=/tmp/c,mounts=true", to: true, want: session.CacheExport{Location: registry.CacheLocation{Dir: "/tmp/c"}, Mode: "min", Mounts: true}},
		{in: "type=registry,ref=reg:5000/cache:main,mode=max,mounts=false", to: true, want: session.CacheExport{Location: registry.CacheLocation{Ref: "reg:5000/cache:main"}, Mode: "max"}},
		{in: "type=local,dest=/tmp/c,mounts=yes", to: true, err: "mounts must be true or false"},
		{in: "type=local,src=/tmp/c,mounts=true", err: `unknown key "mounts"`},
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
			got, err := ParseCache("--cache-x", tt.in, tt.to)
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

func TestParseCompression(t *testing.T) {
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
		lo, err := ParseCompression(tt.compression, tt.level)
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
