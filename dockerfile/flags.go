package dockerfile

import (
	"errors"
	"fmt"
	"strings"
)

// flagKind is how a builder flag (--name[=value]) takes its value.
type flagKind int

const (
	boolFlag    flagKind = iota // --link, --link=true, --link=false
	stringFlag                  // --from=x, once
	stringsFlag                 // --exclude=x, repeatable
)

// flagValues holds the parsed flags of one instruction.
type flagValues struct {
	bools   map[string]bool
	strings map[string][]string
}

// has reports whether flag name was given.
func (f flagValues) has(name string) bool {
	_, b := f.bools[name]
	_, s := f.strings[name]
	return b || s
}

// str returns the last value of a string flag, or "".
func (f flagValues) str(name string) string {
	v := f.strings[name]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// parseFlags checks raw builder flags (as the parser extracted them, quotes
// removed) against spec, with Docker's rules: unknown flags, repeated
// single-valued flags and missing values are errors.
func parseFlags(raw []string, spec map[string]flagKind) (flagValues, error) {
	out := flagValues{bools: map[string]bool{}, strings: map[string][]string{}}
	for _, a := range raw {
		if a == "--" {
			break
		}
		nameWithDashes, value, hasValue := strings.Cut(a, "=")
		name, ok := strings.CutPrefix(nameWithDashes, "--")
		if !ok {
			return out, fmt.Errorf("flag should start with --: %s", a)
		}
		kind, known := spec[name]
		if !known || name == "" {
			return out, fmt.Errorf("unknown flag: %s", name)
		}
		if out.has(name) && kind != stringsFlag {
			return out, fmt.Errorf("duplicate flag specified: %s", nameWithDashes)
		}
		switch kind {
		case boolFlag:
			if hasValue && value == "" {
				return out, fmt.Errorf("missing a value on flag: %s", nameWithDashes)
			}
			switch strings.ToLower(value) {
			case "true", "":
				out.bools[name] = true
			case "false":
				out.bools[name] = false
			default:
				return out, fmt.Errorf("expecting boolean value for flag %s, not: %s", nameWithDashes, value)
			}
		case stringFlag, stringsFlag:
			if !hasValue {
				return out, fmt.Errorf("missing a value on flag: %s", nameWithDashes)
			}
			out.strings[name] = append(out.strings[name], value)
		default:
			return out, errors.New("internal error: bad flag kind")
		}
	}
	return out, nil
}
