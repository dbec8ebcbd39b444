package textfmt

import (
	"fmt"
	"strings"
	"unicode/utf8"

	digest "github.com/opencontainers/go-digest"
)

// Size prints a byte count as docker does: B, KiB, MiB, GiB, TiB, one
// decimal above bytes.
func Size(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n)/unit, 0
	for v >= unit && i < 3 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGT"[i])
}

// ShortDigest is a digest's algorithm and first 12 hex digits
// ("sha256:0123456789ab"); anything shorter is returned whole.
func ShortDigest(d digest.Digest) string {
	const n = len("sha256:") + 12
	if len(d) > n {
		return string(d[:n])
	}
	return string(d)
}

// ShortID is a digest's first 12 hex digits, as docker prints image IDs;
// an invalid digest is returned whole.
func ShortID(d digest.Digest) string {
	if d.Validate() != nil {
		return string(d)
	}
	return d.Encoded()[:12]
}

// Cut shortens s to at most n runes, ending in "…" when cut; n < 1 gives "".
func Cut(s string, n int) string {
	switch {
	case utf8.RuneCountInString(s) <= n:
		return s
	case n < 1:
		return ""
	}
	return string([]rune(s)[:n-1]) + "…"
}

// Clip flattens s to one line (every run of white space one space) of at
// most n runes, ending in "…" when cut.
func Clip(s string, n int) string {
	return Cut(strings.Join(strings.Fields(s), " "), n)
}

// OneLine turns each newline of s into a space, keeping the rest as it is.
func OneLine(s string) string {
	return strings.ReplaceAll(s, "\n", " ")
}

// Plural is n and what, with an "s" unless n is 1: "1 step", "3 steps".
func Plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
