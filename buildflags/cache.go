package buildflags

import (
	"encoding/csv"
	"fmt"
	"strings"

	"github.com/minibuild/minibuild/registry"
	"github.com/minibuild/minibuild/session"
)

// ParseCache parses a --cache-to (to) or --cache-from value, flag naming
// which in errors:
// "type=registry,ref=REF[,mode=min|max]" or "type=local,dest=DIR" (to) /
// "type=local,src=DIR" (from), with an optional tag=T for a directory. A
// value without "=" is a registry ref, as buildx reads it. mode and
// mounts=true|false (carry the RUN --mount=type=cache directories too)
// are for --cache-to only.
func ParseCache(flag, s string, to bool) (session.CacheExport, error) {
	spec := session.CacheExport{Mode: session.CacheMin}
	if !strings.Contains(s, "=") {
		spec.Location.Ref = s
		return spec, nil
	}
	fields, err := csv.NewReader(strings.NewReader(s)).Read()
	if err != nil {
		return spec, fmt.Errorf("invalid %s %q: %w", flag, s, err)
	}
	kind := ""
	loc := &spec.Location
	for _, field := range fields {
		k, v, ok := strings.Cut(field, "=")
		if !ok {
			return spec, fmt.Errorf("invalid %s %q: %q is not KEY=VALUE", flag, s, field)
		}
		switch {
		case k == "type":
			kind = v
		case k == "ref":
			loc.Ref = v
		case k == "dest" && to, k == "src" && !to:
			loc.Dir = v
		case k == "tag":
			loc.Tag = v
		case k == "mode" && to:
			if v != string(session.CacheMin) && v != string(session.CacheMax) {
				return spec, fmt.Errorf("invalid %s %q: mode must be min or max", flag, s)
			}
			spec.Mode = session.CacheMode(v)
		case k == "mounts" && to:
			if v != "true" && v != "false" {
				return spec, fmt.Errorf("invalid %s %q: mounts must be true or false", flag, s)
			}
			spec.Mounts = v == "true"
		default:
			return spec, fmt.Errorf("invalid %s %q: unknown key %q", flag, s, k)
		}
	}
	switch kind {
	case "registry":
		if loc.Ref == "" || loc.Dir != "" || loc.Tag != "" {
			return spec, fmt.Errorf("invalid %s %q: type=registry takes ref=NAME:TAG", flag, s)
		}
		r, err := registry.ParseRef(loc.Ref)
		if err != nil {
			return spec, fmt.Errorf("invalid %s %q: %w", flag, s, err)
		}
		if to && r.Digest != "" {
			return spec, fmt.Errorf("invalid %s %q: name a tag, not a digest", flag, s)
		}
	case "local":
		key := "src"
		if to {
			key = "dest"
		}
		if loc.Dir == "" || loc.Ref != "" {
			return spec, fmt.Errorf("invalid %s %q: type=local takes %s=DIR", flag, s, key)
		}
	default:
		return spec, fmt.Errorf("invalid %s %q: type must be registry or local", flag, s)
	}
	return spec, nil
}
