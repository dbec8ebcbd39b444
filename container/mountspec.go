package container

import (
	"encoding/csv"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/minibuild/minibuild/volume"
)

// MountKind is what a MountSpec mounts.
type MountKind string

// Mount kinds.
const (
	// MountVolume mounts a named volume of the root (volume.Store).
	MountVolume MountKind = "volume"
	// MountBind mounts a host directory or file.
	MountBind MountKind = "bind"
)

// MountSpec is one -v or --mount of minibuild run.
type MountSpec struct {
	Kind MountKind
	// Source is a volume's name or a bind's absolute, clean host path.
	Source string
	// Target is the absolute, clean path inside the container; never "/".
	Target string
	// ReadOnly mounts it read-only.
	ReadOnly bool
	// NoCopy keeps a new or empty volume empty instead of filling it with
	// what the image holds at Target.
	NoCopy bool
}

// ParseVolumeFlag parses a -v value as docker run does:
// NAME:/path[:OPTS] (a named volume) or /host/path:/path[:OPTS] (a bind),
// where OPTS is a comma-separated list of ro, rw and, for a volume,
// nocopy.
func ParseVolumeFlag(spec string) (MountSpec, error) {
	bad := func(format string, a ...any) (MountSpec, error) {
		return MountSpec{}, &ArgumentError{fmt.Errorf("run: invalid -v %q: %s", spec, fmt.Sprintf(format, a...))}
	}
	parts := strings.Split(spec, ":")
	switch {
	case len(parts) == 1:
		return bad("want SOURCE:TARGET[:OPTIONS] (an anonymous volume is not supported: name it, as in -v NAME:%s)", spec)
	case len(parts) > 3:
		return bad("want SOURCE:TARGET[:OPTIONS], with no other colon")
	}
	m := MountSpec{Kind: MountVolume, Source: parts[0]}
	if err := m.setSource(parts[0]); err != nil {
		return bad("%v", err)
	}
	if err := m.setTarget(parts[1]); err != nil {
		return bad("%v", err)
	}
	if len(parts) == 3 {
		var ro, rw bool
		for _, o := range strings.Split(parts[2], ",") {
			switch {
			case o == "ro":
				ro = true
			case o == "rw":
				rw = true
			case o == "nocopy" && m.Kind == MountVolume:
				m.NoCopy = true
			case o == "nocopy":
				return bad("nocopy is an option of volumes, not of a host path")
			default:
				return bad("unknown option %q: want ro, rw or nocopy", o)
			}
		}
		if ro && rw {
			return bad("ro and rw both given")
		}
		m.ReadOnly = ro
	}
	return m, nil
}

// ParseMountFlag parses a --mount value as docker run does: comma-separated
// key=value fields type=volume|bind, source (src), target (destination,
// dst), readonly (ro) and, for a volume, volume-nocopy; a bare readonly
// or volume-nocopy means true.
func ParseMountFlag(spec string) (MountSpec, error) {
	bad := func(format string, a ...any) (MountSpec, error) {
		return MountSpec{}, &ArgumentError{fmt.Errorf("run: invalid --mount %q: %s", spec, fmt.Sprintf(format, a...))}
	}
	fields, err := csv.NewReader(strings.NewReader(spec)).Read()
	if err != nil {
		return bad("%v", err)
	}
	var m MountSpec
	var source, target string
	var hasTarget bool
	for _, f := range fields {
		k, v, hasValue := strings.Cut(f, "=")
		flag := func() (bool, error) {
			if !hasValue {
				return true, nil
			}
			b, err := strconv.ParseBool(v)
			if err != nil {
				return false, fmt.Errorf("%s=%q: want true or false", k, v)
			}
			return b, nil
		}
		switch strings.ToLower(k) {
		case "type":
			switch MountKind(v) {
			case MountVolume, MountBind:
				m.Kind = MountKind(v)
			default:
				return bad("type %q is not supported: want volume or bind", v)
			}
		case "source", "src":
			source = v
		case "target", "destination", "dst":
			target, hasTarget = v, true
		case "readonly", "ro":
			if m.ReadOnly, err = flag(); err != nil {
				return bad("%v", err)
			}
		case "volume-nocopy":
			if m.NoCopy, err = flag(); err != nil {
				return bad("%v", err)
			}
		default:
			return bad("unknown field %q: want type, source, target, readonly or volume-nocopy", k)
		}
	}
	switch {
	case m.Kind == "":
		return bad("type is missing: want type=volume or type=bind")
	case source == "" && m.Kind == MountVolume:
		return bad("source is missing (an anonymous volume is not supported: name it)")
	case source == "":
		return bad("source is missing: want the host path")
	case !hasTarget:
		return bad("target is missing")
	case m.NoCopy && m.Kind != MountVolume:
		return bad("volume-nocopy is an option of volumes")
	}
	kind := m.Kind
	if err := m.setSource(source); err != nil {
		return bad("%v", err)
	}
	if m.Kind != kind {
		if kind == MountBind {
			return bad("a bind's source must be an absolute host path, not %q", source)
		}
		return bad("a volume's source must be a volume name, not the path %q (for a host path, use type=bind)", source)
	}
	if err := m.setTarget(target); err != nil {
		return bad("%v", err)
	}
	return m, nil
}

// setSource sets Source and Kind: an absolute path is a bind, anything
// else must be a volume name.
func (m *MountSpec) setSource(s string) error {
	if strings.HasPrefix(s, "/") {
		m.Kind, m.Source = MountBind, path.Clean(s)
		return nil
	}
	if err := volume.CheckName(s); err != nil {
		return fmt.Errorf("%q is neither a volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+) nor an absolute host path (for a host directory, give its absolute path)", s)
	}
	m.Kind, m.Source = MountVolume, s
	return nil
}

// setTarget sets Target: an absolute path other than "/".
func (m *MountSpec) setTarget(t string) error {
	switch {
	case t == "":
		return errors.New("the target is empty: want an absolute path in the container")
	case !strings.HasPrefix(t, "/"):
		return fmt.Errorf("the target %q is not an absolute path", t)
	case path.Clean(t) == "/":
		return errors.New("the target cannot be \"/\"")
	}
	m.Target = path.Clean(t)
	return nil
}

// CheckTargets refuses two mounts on one target, as Docker does, with an
// *ArgumentError.
func CheckTargets(specs []MountSpec) error {
	seen := map[string]bool{}
	for _, m := range specs {
		if seen[m.Target] {
			return &ArgumentError{fmt.Errorf("run: two mounts on %s", m.Target)}
		}
		seen[m.Target] = true
	}
	return nil
}
