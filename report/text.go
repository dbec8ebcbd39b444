package report

import (
	"strings"
	"unicode/utf8"
)

// esc escapes text for XML and HTML alike, after dropping what XML 1.0
// cannot hold (control characters, invalid UTF-8).
var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;")

func esc(s string) string {
	return escaper.Replace(clean(s))
}

// clean keeps newlines and tabs, turns other control characters and
// invalid UTF-8 into something XML accepts.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			return ' '
		case r == 0xFFFE || r == 0xFFFF:
			return '\uFFFD'
		}
		return r
	}, s)
}

// oneLine collapses every run of white space to one space.
func oneLine(s string) string {
	return strings.Join(strings.Fields(clean(s)), " ")
}

// clip shortens s to at most n runes, ending with "…" when cut.
func clip(s string, n int) string {
	if n < 2 {
		n = 2
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
