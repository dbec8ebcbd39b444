package dockerfile

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// convertHealthcheck handles HEALTHCHECK NONE and HEALTHCHECK [options] CMD command.
func convertHealthcheck(r *rawInstruction) (Instruction, error) {
	fl, err := parseFlags(r.node.Flags, map[string]flagKind{
		"interval":       stringFlag,
		"timeout":        stringFlag,
		"start-period":   stringFlag,
		"start-interval": stringFlag,
		"retries":        stringFlag,
	})
	if err != nil {
		return nil, err
	}
	if len(r.args) == 0 {
		return nil, errAtLeastOne(r)
	}
	in := &HealthcheckInstruction{base: r.base}
	typ := strings.ToUpper(r.args[0])
	args := r.args[1:]
	switch typ {
	case "NONE":
		if len(args) != 0 {
			return nil, errors.New("HEALTHCHECK NONE takes no arguments")
		}
		if len(r.node.Flags) != 0 {
			return nil, errors.New("HEALTHCHECK NONE takes no options")
		}
		in.None = true
		in.Test = []string{"NONE"}
		return in, nil
	case "CMD":
	default:
		return nil, fmt.Errorf("unknown type %q in HEALTHCHECK (try CMD)", r.args[0])
	}
	if len(args) == 0 {
		return nil, errors.New("missing command after HEALTHCHECK CMD")
	}
	if r.json {
		in.Test = append([]string{"CMD"}, args...)
	} else {
		in.Test = []string{"CMD-SHELL", strings.Join(args, " ")}
	}
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{
		{"interval", &in.Interval},
		{"timeout", &in.Timeout},
		{"start-period", &in.StartPeriod},
		{"start-interval", &in.StartInterval},
	} {
		if *d.dst, err = parseInterval(d.name, fl.str(d.name)); err != nil {
			return nil, err
		}
	}
	if v := fl.str("retries"); v != "" {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("HEALTHCHECK --retries=%s: want a whole number below 2^31", v)
		}
		if n < 0 {
			return nil, fmt.Errorf("HEALTHCHECK --retries cannot be negative (%d)", n)
		}
		in.Retries = int(n)
	}
	return in, nil
}

// parseInterval parses a HEALTHCHECK duration as Docker does: empty or zero
// means unset, anything else must be at least 1ms.
func parseInterval(name, value string) (time.Duration, error) {
	if value == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(value)
	if err != nil {
		return 0, fmt.Errorf("HEALTHCHECK --%s: %w", name, err)
	}
	if d == 0 {
		return 0, nil
	}
	if d < time.Millisecond {
		return 0, fmt.Errorf("HEALTHCHECK --%s %q cannot be less than 1ms", name, value)
	}
	return d, nil
}
