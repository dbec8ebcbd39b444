package platform

import (
	"fmt"
	"runtime"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Parse parses os/arch[/variant] and normalizes it ("aarch64" is arm64,
// "x86_64" amd64, arm64's variant v8 is dropped, plain arm is arm/v7).
func Parse(s string) (ocispec.Platform, error) {
	parts := strings.Split(strings.TrimSpace(s), "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return ocispec.Platform{}, fmt.Errorf("invalid platform %q: want os/arch[/variant]", s)
	}
	p := ocispec.Platform{OS: strings.ToLower(parts[0]), Architecture: strings.ToLower(parts[1])}
	if len(parts) == 3 {
		if parts[2] == "" {
			return ocispec.Platform{}, fmt.Errorf("invalid platform %q: empty variant", s)
		}
		p.Variant = strings.ToLower(parts[2])
	}
	return Normalize(p), nil
}

// Normalize spells p the way OCI indexes do (containerd's rules).
func Normalize(p ocispec.Platform) ocispec.Platform {
	switch p.Architecture {
	case "x86_64", "x86-64":
		p.Architecture = "amd64"
	case "aarch64":
		p.Architecture = "arm64"
	case "armhf":
		p.Architecture, p.Variant = "arm", "v7"
	case "armel":
		p.Architecture, p.Variant = "arm", "v6"
	case "i386", "i686":
		p.Architecture = "386"
	}
	switch {
	case p.Architecture == "arm64" && p.Variant == "v8":
		p.Variant = ""
	case p.Architecture == "arm" && p.Variant == "":
		p.Variant = "v7"
	case p.Architecture == "amd64" && p.Variant == "v1":
		p.Variant = ""
	}
	return p
}

// Format returns os/arch[/variant].
func Format(p ocispec.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// Host is the platform minibuild runs on.
func Host() ocispec.Platform {
	p := ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH}
	if runtime.GOARCH == "arm" {
		p.Variant = "v7"
	}
	return Normalize(p)
}

// Match says whether an index entry of platform have serves want: OS and
// architecture equal, and the variant too when want names one.
func Match(have *ocispec.Platform, want ocispec.Platform) bool {
	if have == nil {
		return false
	}
	h, w := Normalize(*have), Normalize(want)
	return h.OS == w.OS && h.Architecture == w.Architecture && (w.Variant == "" || h.Variant == w.Variant)
}

// Pick chooses the entry of an index's manifests for want. When none
// serves it, the error names want and the platforms the index has.
func Pick(ms []ocispec.Descriptor, want ocispec.Platform) (ocispec.Descriptor, error) {
	var has []string
	for _, m := range ms {
		if Match(m.Platform, want) {
			return m, nil
		}
		if m.Platform != nil {
			has = append(has, Format(*m.Platform))
		}
	}
	if len(has) == 0 {
		return ocispec.Descriptor{}, fmt.Errorf("no manifest for %s in the index (its manifests name no platform)", Format(want))
	}
	return ocispec.Descriptor{}, fmt.Errorf("no manifest for %s in the index (it has %s)", Format(want), strings.Join(has, ", "))
}
