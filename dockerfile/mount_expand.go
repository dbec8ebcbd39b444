package dockerfile

import (
	"fmt"
	"strings"
)

// checkMounts checks RUN's --mount values when the Dockerfile is parsed,
// before any variable is known, so that a bad option is reported at once.
// The value of a key=value field that holds a $ is left for expansion, and
// so is every check that needs it; the rest is checked as expansion will.
// escape is the Dockerfile's escape token.
func checkMounts(flags []string, escape rune) error {
	x := NewExpander(escape)
	for _, f := range flags {
		w := x.newWalk(nil)
		_, err := parseMount(f, func(v string) (string, bool, error) {
			if strings.Contains(v, "$") {
				return "", false, nil
			}
			out, err := w.word(v)
			return out, true, err
		})
		if err != nil {
			return mountError(f, err)
		}
	}
	return nil
}

// mounts expands and parses RUN's --mount values, in order: the value of
// each key=value field is expanded as a word, then the whole is parsed.
func (w *walk) mounts(flags []string) ([]Mount, error) {
	if len(flags) == 0 {
		return nil, nil
	}
	out := make([]Mount, 0, len(flags))
	for _, f := range flags {
		m, err := parseMount(f, func(v string) (string, bool, error) {
			out, err := w.word(v)
			return out, true, err
		})
		if err != nil {
			return nil, mountError(f, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// mountError names the --mount value an error is about.
func mountError(flag string, err error) error {
	return fmt.Errorf("--mount=%s: %w", flag, err)
}
