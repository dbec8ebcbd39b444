package dockerfile

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ramUnits are the binary units of a tmpfs size= (k is 1024 bytes).
var ramUnits = map[string]float64{"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}

// ramBytes parses a size as docker/go-units' RAMInBytes does, which BuildKit
// uses for size=: a decimal number (fractions allowed), an optional space,
// then an optional unit k, m, g, t or p (binary, any case) followed by an
// optional b or ib, or a bare b for bytes. Fractions of a byte are dropped.
func ramBytes(s string) (int64, error) {
	end := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if end < 0 {
		end = len(s)
	}
	num, unit := s[:end], strings.ToLower(strings.TrimPrefix(s[end:], " "))
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	mult := 1.0
	switch {
	case unit == "" || unit == "b":
	case len(unit) <= 3 && ramUnits[unit[:1]] != 0 && (len(unit) == 1 || unit[1:] == "b" || unit[1:] == "ib"):
		mult = ramUnits[unit[:1]]
	default:
		return 0, fmt.Errorf("invalid size unit %q", unit)
	}
	if f*mult >= math.MaxInt64 {
		return 0, errors.New("size too large")
	}
	return int64(f * mult), nil
}

// suggest adds "(did you mean X?)" to err when one of options is within
// two edits of val (but not val itself), as BuildKit's suggestions do.
func suggest(err error, val string, options []string) error {
	best, bestDist := "", 3
	for _, o := range options {
		if o == val {
			return err
		}
		if d := editDistance(val, o); d < bestDist {
			best, bestDist = o, d
		}
	}
	if best == "" {
		return err
	}
	return fmt.Errorf("%w (did you mean %s?)", err, best)
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
