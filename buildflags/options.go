package buildflags

import (
	"errors"
	"fmt"
	"strings"

	"github.com/minibuild/minibuild/builder"
	"github.com/minibuild/minibuild/executor"
	"github.com/minibuild/minibuild/tarutil"
)

// ParseNetwork parses --network: host, none, or default (host, Docker's
// default for builds).
func ParseNetwork(s string) (executor.NetworkMode, error) {
	switch m := executor.NetworkMode(s); m {
	case executor.NetworkHost, executor.NetworkNone:
		return m, nil
	case "default":
		return executor.NetworkHost, nil
	}
	return "", fmt.Errorf("invalid --network %q: want host or none", s)
}

// ParseContexts parses --build-context NAME=oci-layout://DIR[:TAG] values.
func ParseContexts(values []string) (map[string]builder.LayoutContext, error) {
	out := map[string]builder.LayoutContext{}
	for _, v := range values {
		name, src, ok := strings.Cut(v, "=")
		if !ok || name == "" || src == "" {
			return nil, fmt.Errorf("invalid --build-context %q: want NAME=oci-layout://DIR[:TAG]", v)
		}
		rest, ok := strings.CutPrefix(src, "oci-layout://")
		if !ok {
			return nil, fmt.Errorf("invalid --build-context %q: only oci-layout://DIR[:TAG] is supported", v)
		}
		lc := builder.LayoutContext{Dir: rest}
		if i := strings.LastIndex(rest, ":"); i >= 0 && !strings.Contains(rest[i+1:], "/") {
			lc.Dir, lc.Tag = rest[:i], rest[i+1:]
		}
		if lc.Dir == "" {
			return nil, fmt.Errorf("invalid --build-context %q: no directory", v)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("invalid --build-context %q: %s given twice", v, name)
		}
		out[name] = lc
	}
	return out, nil
}

// ParseCompression checks --compression (gzip, zstd or uncompressed) and
// --compression-level (0: the compressor's default).
func ParseCompression(compression string, level int) (tarutil.LayerOptions, error) {
	var lo tarutil.LayerOptions
	switch compression {
	case "gzip", "":
		lo.Compression = tarutil.Gzip
		if level != 0 && (level < 1 || level > 9) {
			return lo, fmt.Errorf("invalid --compression-level %d: gzip takes 1-9", level)
		}
	case "zstd":
		lo.Compression = tarutil.Zstd
		if level != 0 && (level < 1 || level > 22) {
			return lo, fmt.Errorf("invalid --compression-level %d: zstd takes 1-22", level)
		}
	case "uncompressed":
		lo.Compression = tarutil.Uncompressed
		if level != 0 {
			return lo, errors.New("invalid --compression-level: an uncompressed layer has no level")
		}
	default:
		return lo, fmt.Errorf("invalid --compression %q: want gzip, zstd or uncompressed", compression)
	}
	lo.Level = level
	return lo, nil
}
