package progress

import (
	"strings"

	"github.com/minibuild/minibuild/builder"
	"github.com/minibuild/minibuild/internal/textfmt"
)

// cleanLine makes a line of program output safe to draw: the text after
// the last carriage return, no escape sequences or control characters,
// tabs expanded, valid UTF-8.
func cleanLine(s string) string {
	s = strings.TrimRight(s, "\r")
	if i := strings.LastIndexByte(s, '\r'); i >= 0 {
		s = s[i+1:]
	}
	s = strings.ToValidUTF8(s, "�")
	var b strings.Builder
	col := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == 0x1b:
			i = skipEscape(s, i)
		case c == '\t':
			for n := 8 - col%8; n > 0; n-- {
				b.WriteByte(' ')
				col++
			}
		case c < 0x20 || c == 0x7f:
		default:
			b.WriteByte(c)
			if c < 0x80 || c >= 0xc0 {
				col++
			}
		}
	}
	return b.String()
}

// skipEscape returns the index of the last byte of the escape sequence
// starting at s[i]: CSI (ESC [ … final), OSC (ESC ] … BEL or ESC \), or
// ESC and one character.
func skipEscape(s string, i int) int {
	if i+1 >= len(s) {
		return i
	}
	switch s[i+1] {
	case '[':
		j := i + 2
		for j < len(s) && (s[j] < 0x40 || s[j] > 0x7e) {
			j++
		}
		return min(j, len(s)-1)
	case ']':
		for j := i + 2; j < len(s); j++ {
			if s[j] == 0x07 {
				return j
			}
			if s[j] == 0x1b && j+1 < len(s) && s[j+1] == '\\' {
				return j + 1
			}
		}
		return len(s) - 1
	}
	return i + 1
}

// SGR parameters of the styles the live view uses.
const (
	sgrBold   = "1"
	sgrDim    = "2"
	sgrRed    = "31"
	sgrGreen  = "32"
	sgrYellow = "33"
	sgrCyan   = "36"
	// flexible is the style of the one segment of a line that fit shortens
	// to make the line fit; it is drawn without colour.
	flexible = "flexible"
)

// seg is a piece of a line and its style (an SGR parameter, "" or flexible).
type seg struct {
	text  string
	style string
}

// resultColor is the colour of a step's result: base dim, hit green, a
// miss of its own red, a miss in a cascade yellow.
func resultColor(s builder.StepResult) string {
	switch {
	case s.Cache == builder.CacheBase:
		return sgrDim
	case s.Cache == builder.CacheHit:
		return sgrGreen
	case isCascade(s):
		return sgrYellow
	case s.Cache == builder.CacheMiss:
		return sgrRed
	}
	return ""
}

// fit draws segs as one line that does not wrap in the terminal.
func (r *ttyRenderer) fit(segs []seg) string {
	return fitLine(segs, r.width()-1, r.opts.color)
}

// fitLine draws segs in at most width columns: the flexible segment is
// shortened first (to no less than 8 columns), then the line's end is cut.
func fitLine(segs []seg, width int, color bool) string {
	room := width
	for _, s := range segs {
		if s.style != flexible {
			room -= runeLen(s.text)
		}
	}
	var b strings.Builder
	used := 0
	for _, s := range segs {
		text := s.text
		if s.style == flexible {
			text = textfmt.Cut(text, max(room, 8))
		}
		text = textfmt.Cut(text, width-used)
		used += runeLen(text)
		style := s.style
		if style == flexible {
			style = ""
		}
		b.WriteString(paint(color, style, text))
	}
	return b.String()
}

// segWidth is the columns segs take.
func segWidth(segs []seg) int {
	n := 0
	for _, s := range segs {
		n += runeLen(s.text)
	}
	return n
}

// paint wraps text in the SGR style when colour is on.
func paint(color bool, style, text string) string {
	if !color || style == "" || text == "" {
		return text
	}
	return "\x1b[" + style + "m" + text + "\x1b[0m"
}

func runeLen(s string) int { return len([]rune(s)) }
