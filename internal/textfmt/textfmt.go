package textfmt

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
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

// Printable is s as it is when it is valid UTF-8 of printable runes
// (spaces included), else s quoted as a Go string, so that names made of
// any bytes (a cache mount's id) show on one line and can be told apart.
func Printable(s string) string {
	if s != "" && utf8.ValidString(s) && strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0 {
		return s
	}
	return strconv.Quote(s)
}

// Plural is n and what, with an "s" unless n is 1: "1 step", "3 steps".
func Plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// ParseSize reads a size as people write it: bytes, or a number with a
// unit k, m, g or t (powers of 1024; a "B" or "iB" after it is allowed),
// e.g. "10GB", "1.5GiB", "512m".
func ParseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "b"), "i")
	mult := float64(1)
	if n := len(t); n > 0 {
		if i := strings.IndexByte("kmgt", t[n-1]); i >= 0 {
			mult = float64(int64(1) << (10 * (i + 1)))
			t = t[:n-1]
		}
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || v < 0 || v*mult > 1<<62 {
		return 0, fmt.Errorf("invalid size %q: want bytes or a number with k, m, g or t, e.g. 10GB", s)
	}
	return int64(v * mult), nil
}
