package platform

import (
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"linux/amd64", "linux/amd64", true},
		{"linux/x86_64", "linux/amd64", true},
		{"linux/aarch64", "linux/arm64", true},
		{"linux/arm64/v8", "linux/arm64", true},
		{"linux/arm", "linux/arm/v7", true},
		{"linux/arm/v6", "linux/arm/v6", true},
		{"Linux/AMD64", "linux/amd64", true},
		{"linux", "", false},
		{"linux/", "", false},
		{"/amd64", "", false},
		{"linux/arm/", "", false},
		{"linux/arm/v7/x", "", false},
	} {
		p, err := Parse(c.in)
		if (err == nil) != c.ok {
			t.Errorf("Parse(%q): %v, want ok=%v", c.in, err, c.ok)
			continue
		}
		if c.ok && Format(p) != c.want {
			t.Errorf("Parse(%q) = %s, want %s", c.in, Format(p), c.want)
		}
	}
}

func TestPick(t *testing.T) {
	amd := ocispec.Platform{OS: "linux", Architecture: "amd64"}
	armv7 := ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}
	arm64v8 := ocispec.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}
	ms := []ocispec.Descriptor{{Digest: "a", Platform: &amd}, {Digest: "b", Platform: &armv7}, {Digest: "c", Platform: &arm64v8}, {Digest: "d"}}
	for _, c := range []struct {
		want   ocispec.Platform
		digest string
		err    string
	}{
		{amd, "a", ""},
		{ocispec.Platform{OS: "linux", Architecture: "arm"}, "b", ""},
		{ocispec.Platform{OS: "linux", Architecture: "arm64"}, "c", ""},
		{ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v6"}, "", "no manifest for linux/arm/v6 in the index (it has linux/amd64, linux/arm/v7, linux/arm64/v8)"},
		{ocispec.Platform{OS: "linux", Architecture: "s390x"}, "", "no manifest for linux/s390x"},
	} {
		d, err := Pick(ms, c.want)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("Pick(%s): %v, want error %q", Format(c.want), err, c.err)
		case c.err == "" && (err != nil || string(d.Digest) != c.digest):
			t.Errorf("Pick(%s) = %s, %v; want %s", Format(c.want), d.Digest, err, c.digest)
		}
	}
	if _, err := Pick([]ocispec.Descriptor{{Digest: "x"}}, amd); err == nil || !strings.Contains(err.Error(), "name no platform") {
		t.Errorf("Pick of entries without platforms: %v", err)
	}
}
