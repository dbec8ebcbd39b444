package buildflags

import (
	"encoding/csv"
	"fmt"
	"strings"

	"github.com/minibuild/minibuild/internal/platform"
	"github.com/minibuild/minibuild/session"
	"github.com/minibuild/minibuild/store"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ParseOutput parses one -o/--output value, as buildx reads it: one CSV
// record (so a path with a comma can be quoted: -o 'type=local,"dest=a,b"')
// of KEY=VALUE fields, or a bare DIR (type=local, as docker build -o DIR):
//
//	type=oci,dest=DIR|FILE[,tar=true][,name=N]
//	type=local,dest=DIR
//	type=docker,dest=FILE|-[,name=N]
//	type=registry[,name=N]
//
// name= may list several names, quoted as one field: "name=a,b".
func ParseOutput(s string) (session.Output, error) {
	if !strings.Contains(s, "=") {
		return session.Output{Kind: session.OutputLocal, Dest: s}, nil
	}
	var o session.Output
	bad := func(format string, args ...any) (session.Output, error) {
		return session.Output{}, fmt.Errorf("invalid --output %q: %s", s, fmt.Sprintf(format, args...))
	}
	fields, err := csv.NewReader(strings.NewReader(s)).Read()
	if err != nil {
		return bad("%v", err)
	}
	seen := map[string]bool{}
	for _, field := range fields {
		k, v, ok := strings.Cut(field, "=")
		if !ok {
			return bad("%q is not KEY=VALUE", field)
		}
		seen[k] = true
		switch k {
		case "type":
			o.Kind = session.OutputKind(v)
		case "dest":
			o.Dest = v
		case "tar":
			switch v {
			case "true":
				o.Tar = true
			case "false":
			default:
				return bad("tar must be true or false")
			}
		case "name":
			for _, n := range strings.Split(v, ",") {
				if n = strings.TrimSpace(n); n == "" {
					continue
				}
				if _, err := store.NormalizeName(n); err != nil {
					return bad("%v", err)
				}
				o.Names = append(o.Names, n)
			}
		default:
			return bad("unknown key %q", k)
		}
	}
	switch o.Kind {
	case session.OutputOCI, session.OutputLocal:
		if o.Dest == "" {
			return bad("dest= is required")
		}
		if o.Tar && o.Kind != session.OutputOCI {
			return bad("tar=true applies to type=oci only")
		}
	case session.OutputDocker:
		if seen["tar"] {
			return bad("unknown key %q", "tar")
		}
		if o.Dest == "" {
			return bad("type=docker needs dest=FILE")
		}
	case session.OutputRegistry:
		if seen["tar"] {
			return bad("unknown key %q", "tar")
		}
		if o.Dest != "" {
			return bad("type=registry takes name=, not dest=")
		}
	case "":
		return bad("type= is required (oci, local, docker or registry)")
	default:
		return bad("unknown type %q (want oci, local, docker or registry)", o.Kind)
	}
	return o, nil
}

// ParsePlatform parses --platform os/arch[/variant], normalized
// (linux/aarch64 is linux/arm64); only linux is built.
func ParsePlatform(s string) (ocispec.Platform, error) {
	p, err := platform.Parse(s)
	if err != nil {
		return p, fmt.Errorf("invalid --platform %q: want os/arch[/variant]", s)
	}
	if p.OS != "linux" {
		return p, fmt.Errorf("invalid --platform %q: minibuild builds linux images only", s)
	}
	return p, nil
}

// ParsePlatforms parses a comma-separated --platform list; a platform
// named twice is an error.
func ParsePlatforms(s string) ([]ocispec.Platform, error) {
	var out []ocispec.Platform
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		p, err := ParsePlatform(part)
		if err != nil {
			return nil, err
		}
		if seen[platform.Format(p)] {
			return nil, fmt.Errorf("invalid --platform %q: %s is named twice", s, platform.Format(p))
		}
		seen[platform.Format(p)] = true
		out = append(out, p)
	}
	return out, nil
}
