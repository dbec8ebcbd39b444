package dockerfile

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// ParseMount parses one RUN --mount value whose variables are already
// expanded: its key=value values are taken as they are. The value is CSV
// (fields separated by commas, double quotes allowed); keys are
// case-insensitive and the type defaults to bind. ReadOnly gets its default
// (true for bind, secret and ssh) unless ro or rw is given. Defaults that
// depend on the stage, such as a relative target, are left to the builder.
func ParseMount(value string) (Mount, error) {
	return parseMount(value, nil)
}

// valueFunc turns the value of a key=value field into the value parsed. It
// reports known=false when the value is only known after expansion.
type valueFunc func(value string) (out string, known bool, err error)

// mountKeys maps each key a --mount accepts, aliases included, to its
// canonical name.
var mountKeys = map[string]string{
	"type":        "type",
	"from":        "from",
	"source":      "source",
	"src":         "source",
	"target":      "target",
	"dst":         "target",
	"destination": "target",
	"readonly":    "readonly",
	"ro":          "readonly",
	"readwrite":   "readwrite",
	"rw":          "readwrite",
	"id":          "id",
	"sharing":     "sharing",
	"required":    "required",
	"size":        "size",
	"mode":        "mode",
	"uid":         "uid",
	"gid":         "gid",
	"env":         "env",
}

// mountKeyNames lists the keys in the order suggestions prefer them.
var mountKeyNames = []string{
	"type", "from", "source", "target", "readonly", "id", "sharing", "required", "size",
	"mode", "uid", "gid", "src", "dst", "destination", "ro", "rw", "readwrite", "env",
}

var (
	mountTypeNames = []string{string(MountBind), string(MountCache), string(MountTmpfs), string(MountSecret), string(MountSSH)}
	sharingNames   = []string{string(SharingShared), string(SharingPrivate), string(SharingLocked)}
)

// mountParse is one --mount value being parsed.
type mountParse struct {
	m        Mount
	roGiven  bool            // ro or rw given: ReadOnly keeps its value
	given    map[string]bool // canonical keys given
	deferred map[string]bool // canonical keys whose value is known only after expansion
}

// parseMount parses value, passing each key=value value through expand
// (nil takes values as they are). Checks that need a deferred value are
// skipped, so that a value with variables can be checked before expansion.
func parseMount(value string, expand valueFunc) (Mount, error) {
	fields, err := csvFields(value)
	if err != nil {
		return Mount{}, err
	}
	p := &mountParse{m: Mount{Type: MountBind}, given: map[string]bool{}, deferred: map[string]bool{}}
	for _, field := range fields {
		key, raw, hasValue := strings.Cut(field, "=")
		key = strings.ToLower(key)
		if !hasValue {
			if err := p.bare(key, field); err != nil {
				return Mount{}, err
			}
			continue
		}
		name, ok := mountKeys[key]
		if !ok {
			return Mount{}, suggest(fmt.Errorf("unexpected key '%s' in '%s'", key, field), key, mountKeyNames)
		}
		v, known := raw, true
		if expand != nil {
			if name == "from" {
				if i := strings.IndexByte(raw, '$'); i >= 0 && i != len(raw)-1 {
					return Mount{}, errors.New("'from' doesn't support variable expansion, define alias stage instead")
				}
			}
			if v, known, err = expand(raw); err != nil {
				return Mount{}, err
			}
		}
		p.given[name], p.deferred[name] = true, !known
		if name == "readonly" || name == "readwrite" {
			p.roGiven = true
		}
		if known {
			if err := p.set(name, key, v); err != nil {
				return Mount{}, err
			}
		}
	}
	if err := p.check(); err != nil {
		return Mount{}, err
	}
	return p.m, nil
}

// csvFields splits value into its CSV fields: one record, quotes as
// encoding/csv reads them without LazyQuotes.
func csvFields(value string) ([]string, error) {
	r := csv.NewReader(strings.NewReader(value))
	r.FieldsPerRecord = -1
	fields, err := r.Read()
	if err == io.EOF {
		return nil, errors.New("empty mount: want key=value fields such as type=cache,target=/dir")
	}
	if err != nil {
		return nil, fmt.Errorf("failed to parse csv mounts: %w", err)
	}
	if _, err := r.Read(); err != io.EOF {
		return nil, errors.New("failed to parse csv mounts: more than one line")
	}
	return fields, nil
}

// bare handles a field without "=": ro, rw, readonly, readwrite or required.
func (p *mountParse) bare(key, field string) error {
	switch key {
	case "readonly", "ro":
		p.m.ReadOnly, p.roGiven = true, true
	case "readwrite", "rw":
		p.m.ReadOnly, p.roGiven = false, true
	case "required":
		p.m.Required, p.given["required"], p.deferred["required"] = true, true, false
	default:
		return fmt.Errorf("invalid field '%s' must be a key=value pair", field)
	}
	return nil
}

// set stores the value v of the canonical key name, written as key.
func (p *mountParse) set(name, key, v string) error {
	var err error
	switch name {
	case "type":
		t := MountType(strings.ToLower(v))
		if !slices.Contains(mountTypeNames, string(t)) {
			return suggest(fmt.Errorf("unsupported mount type %q", v), v, mountTypeNames)
		}
		p.m.Type = t
	case "from":
		p.m.From = v
	case "source":
		p.m.Source = v
	case "target":
		p.m.Target = v
	case "id":
		p.m.ID = v
	case "env":
		p.m.Env = &v
	case "readonly", "readwrite", "required":
		b, perr := strconv.ParseBool(v)
		if perr != nil {
			return fmt.Errorf("invalid value for %s: %s", key, v)
		}
		switch name {
		case "readonly":
			p.m.ReadOnly = b
		case "readwrite":
			p.m.ReadOnly = !b
		default:
			p.m.Required = b
		}
	case "sharing":
		s := Sharing(strings.ToLower(v))
		if !slices.Contains(sharingNames, string(s)) {
			return suggest(fmt.Errorf("unsupported sharing value %q", v), v, sharingNames)
		}
		p.m.Sharing = s
	case "size":
		if p.m.Size, err = ramBytes(v); err != nil {
			return fmt.Errorf("invalid value for %s: %s", key, v)
		}
	case "mode":
		p.m.Mode, err = parseUint32(v, 8)
		if err != nil {
			return fmt.Errorf("invalid value %s for mode", v)
		}
	case "uid", "gid":
		n, perr := parseUint32(v, 10)
		if perr != nil {
			return fmt.Errorf("invalid value %s for %s", v, name)
		}
		if name == "uid" {
			p.m.UID = n
		} else {
			p.m.GID = n
		}
	}
	return nil
}

func parseUint32(s string, base int) (*uint32, error) {
	n, err := strconv.ParseUint(s, base, 32)
	if err != nil {
		return nil, err
	}
	u := uint32(n)
	return &u, nil
}

// check applies the rules between keys once all fields are read, whatever
// their order, and sets ReadOnly's default. A rule that needs a deferred
// value is skipped.
func (p *mountParse) check() error {
	if p.deferred["type"] {
		return nil
	}
	m := &p.m
	only := map[string][]MountType{
		"required": {MountSecret, MountSSH},
		"size":     {MountTmpfs},
		"env":      {MountSecret},
	}
	for _, key := range []string{"required", "size", "env"} {
		if p.given[key] && !slices.Contains(only[key], m.Type) {
			return fmt.Errorf("unexpected key '%s' for mount type '%s'", key, m.Type)
		}
	}
	if !slices.Contains([]MountType{MountCache, MountSecret, MountSSH}, m.Type) {
		for _, key := range []string{"mode", "uid", "gid"} {
			if p.given[key] {
				return fmt.Errorf("%s not allowed for %q type mounts", key, m.Type)
			}
		}
	}
	if !p.roGiven {
		m.ReadOnly = slices.Contains([]MountType{MountBind, MountSecret, MountSSH}, m.Type)
	}
	if m.Type == MountSecret {
		if err := p.checkSecret(); err != nil {
			return err
		}
	}
	if p.given["sharing"] && !p.deferred["sharing"] && m.Type != MountCache {
		return fmt.Errorf("invalid cache sharing set for %s mount", m.Type)
	}
	if slices.Contains([]MountType{MountBind, MountCache, MountTmpfs}, m.Type) && !p.deferred["target"] && m.Target == "" {
		return fmt.Errorf("mount target is required for %q type mounts", m.Type)
	}
	return nil
}

// checkSecret applies the rules of a secret mount.
func (p *mountParse) checkSecret() error {
	m := &p.m
	set := func(key, v string) bool { return p.deferred[key] || v != "" }
	switch {
	case !p.deferred["from"] && m.From != "":
		return errors.New("secret mount should not have a from")
	case p.given["sharing"]:
		return errors.New("secret mount should not define sharing")
	case !set("source", m.Source) && !set("target", m.Target) && !set("id", m.ID):
		return errors.New("invalid secret mount: one of source, target or id is required")
	case !p.deferred["source"] && !p.deferred["id"] && m.Source != "" && m.ID != "":
		return errors.New("both source and id can't be set")
	}
	return nil
}
