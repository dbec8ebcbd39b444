package buildflags

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/minibuild/minibuild/builder"
	"github.com/minibuild/minibuild/executor"
	"github.com/minibuild/minibuild/store"
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
		var lc builder.LayoutContext
		lc.Dir, lc.Tag = store.SplitLayoutRef(rest)
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

// ParseEpoch reads SOURCE_DATE_EPOCH: flag (--source-date-epoch), else
// env (the variable), in Unix seconds; neither is 0.
func ParseEpoch(flag, env string) (time.Time, error) {
	text := flag
	if text == "" {
		text = env
	}
	if text == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	sec, err := strconv.ParseInt(text, 10, 64)
	if err != nil || sec < 0 {
		return time.Time{}, fmt.Errorf("invalid source date epoch %q: want Unix seconds", text)
	}
	return time.Unix(sec, 0).UTC(), nil
}

// ParseBuildArgs reads --build-arg values: KEY=VALUE, or KEY to take the
// value lookup gives (os.LookupEnv: the environment's), left out when it
// has none.
func ParseBuildArgs(values []string, lookup func(string) (string, bool)) (map[string]string, error) {
	out := map[string]string{}
	for _, a := range values {
		k, v, ok := strings.Cut(a, "=")
		if k == "" {
			return nil, fmt.Errorf("invalid --build-arg %q: want KEY=VALUE or KEY", a)
		}
		if !ok {
			if v, ok = lookup(k); !ok {
				continue
			}
		}
		out[k] = v
	}
	return out, nil
}
