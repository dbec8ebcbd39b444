package report

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/minibuild/minibuild/internal/textfmt"
	digest "github.com/opencontainers/go-digest"
)

// Geometry of the picture, in pixels.
const (
	gutter   = 52  // left of each column: where the cascade is drawn
	boxW     = 600 // a layer box's width
	markW    = 112 // the mark column inside a box
	midW     = 44  // between two compared columns: = or ≠
	legendH  = 46
	headH    = 34
	rowGap   = 6
	emptyH   = 24  // a step with no layer: a thin bar
	minBoxH  = 58  // a layer of 1 KiB or less
	maxBoxH  = 136 // a layer of 1 MiB or more
	perOctet = 8   // extra height per doubling of the size
	charW15  = 9.1 // width of a 15px monospace character
	charW13  = 7.9
	charW12  = 7.6
)

// boxHeight is a step's height: a log scale of its layer's size, or a thin
// bar for a step without a layer.
func boxHeight(s Step) float64 {
	if s.EmptyLayer || s.Layer == "" {
		return emptyH
	}
	kib := float64(s.Size) / 1024
	if kib <= 1 {
		return minBoxH
	}
	return math.Min(maxBoxH, minBoxH+perOctet*math.Log2(kib))
}

// column is one build drawn as a stack.
type column struct {
	label string
	b     Build
	marks map[string]Mark
	steps map[string]Step
}

func newColumn(label string, b Build) column {
	c := column{label: label, b: b, marks: map[string]Mark{}, steps: map[string]Step{}}
	marks := Marks(b.Steps)
	for i, s := range b.Steps {
		if !s.InImage {
			continue
		}
		c.steps[s.ID] = s
		c.marks[s.ID] = marks[i]
	}
	return c
}

// rowKeys are the steps of every column drawn, base layers first, then
// build steps by index: one row each, so compared steps line up.
func rowKeys(cols []column) []string {
	seen := map[string]bool{}
	var keys []string
	for _, c := range cols {
		for _, s := range c.b.Steps {
			if s.InImage && !seen[s.ID] {
				seen[s.ID] = true
				keys = append(keys, s.ID)
			}
		}
	}
	rank := func(id string) (int, int) {
		if n, ok := strings.CutPrefix(id, "base."); ok {
			v, _ := strconv.Atoi(n)
			return 0, v
		}
		v, _ := strconv.Atoi(id)
		return 1, v
	}
	sort.SliceStable(keys, func(i, j int) bool {
		ai, av := rank(keys[i])
		bi, bv := rank(keys[j])
		if ai != bi {
			return ai < bi
		}
		return av < bv
	})
	return keys
}

// SVG writes the build's layer stack alone as a standalone SVG document.
func SVG(w io.Writer, b Build) error {
	_, err := io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+drawSVG([]column{newColumn("", b)}))
	return err
}

// drawSVG draws one column, or two side by side with their steps aligned.
func drawSVG(cols []column) string {
	keys := rowKeys(cols)
	colX := func(i int) float64 { return float64(i) * (gutter + boxW + midW) }
	width := colX(len(cols)) - midW + 12
	heights := make([]float64, len(keys))
	total := 0.0
	for i, k := range keys {
		h := 0.0
		for _, c := range cols {
			if s, ok := c.steps[k]; ok {
				h = math.Max(h, boxHeight(s))
			}
		}
		heights[i] = h
		total += h + rowGap
	}
	top := float64(legendH + headH)
	height := top + total + 16
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg xmlns="http://www.w3.org/2000/svg" class="mb" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s" data-columns="%d">`,
		width, height, width, height, esc(ariaLabel(cols)), len(cols))
	sb.WriteString("<style>" + svgStyle + "</style>")
	fmt.Fprintf(&sb, `<rect class="bg" x="0" y="0" width="%.0f" height="%.0f"/>`, width, height)
	legend(&sb)
	// Rows from the top: the newest step first, the base at the bottom.
	rowY := make([]float64, len(keys))
	y := top
	for i := len(keys) - 1; i >= 0; i-- {
		rowY[i] = y
		y += heights[i] + rowGap
	}
	for ci, c := range cols {
		x := colX(ci)
		if c.label != "" {
			fmt.Fprintf(&sb, `<text class="head" x="%.0f" y="%.0f">%s</text>`, x+gutter, float64(legendH)+22, esc(clip(c.label, 56)))
		}
		centers := map[string]float64{}
		for i, k := range keys {
			s, ok := c.steps[k]
			if !ok {
				continue
			}
			h := boxHeight(s)
			by := rowY[i] + (heights[i]-h)/2
			centers[k] = by + h/2
			drawBox(&sb, x+gutter, by, h, s, c.marks[k], c.label)
		}
		drawCascade(&sb, x, keys, c, centers)
	}
	if len(cols) == 2 {
		for i, k := range keys {
			a, okA := cols[0].steps[k]
			b, okB := cols[1].steps[k]
			if !okA || !okB || (a.Layer == "" && b.Layer == "") {
				continue
			}
			cls, sym, same := "ne", "≠", "false"
			if a.Layer == b.Layer {
				cls, sym, same = "eq", "=", "true"
			}
			fmt.Fprintf(&sb, `<text class="same %s" data-step="%s" data-same="%s" x="%.0f" y="%.0f" text-anchor="middle"><title>%s</title>%s</text>`,
				cls, esc(k), same, colX(1)-midW/2, rowY[i]+heights[i]/2+8, sameTitle(same == "true"), sym)
		}
	}
	sb.WriteString("</svg>")
	return sb.String()
}

func sameTitle(same bool) string {
	if same {
		return "the same layer in both builds"
	}
	return "a different layer in each build"
}

func ariaLabel(cols []column) string {
	var parts []string
	for _, c := range cols {
		parts = append(parts, c.b.Title+": "+Summary(c.b.Steps))
	}
	return "Layer stack. " + strings.Join(parts, " ")
}

// legend explains colours and marks in words.
func legend(sb *strings.Builder) {
	sb.WriteString(`<g class="legend">`)
	x := 12.0
	for _, l := range []struct{ kind, text string }{
		{"hit", "✓ hit (reused)"}, {"miss", "✗ miss (rebuilt)"}, {"cascade", "↳ cascaded miss"}, {"base", "• base image"},
	} {
		fmt.Fprintf(sb, `<rect class="sw k-%s" x="%.0f" y="12" width="22" height="22" rx="4" stroke-width="2"/><text x="%.0f" y="29">%s</text>`, l.kind, x, x+30, l.text)
		x += 30 + float64(len([]rune(l.text)))*8.6 + 22
	}
	fmt.Fprintf(sb, `<text class="note" x="%.0f" y="29">height: log of layer size · thin bar: no layer</text>`, x)
	sb.WriteString(`</g>`)
}

// drawBox draws one step: box, mark, instruction, reason and layer.
func drawBox(sb *strings.Builder, x, y, h float64, s Step, m Mark, build string) {
	empty := h == emptyH
	cls := "step k-" + m.Kind
	if empty {
		cls += " empty"
	}
	if m.Origin {
		cls += " origin"
	}
	fmt.Fprintf(sb, `<g class="%s" data-step="%s" data-cache="%s" data-mark="%s" data-origin="%t" data-stopped="%t" data-empty="%t" data-shared="%d" data-layer="%s" data-size="%d"`,
		cls, esc(s.ID), esc(string(s.Cache)), m.Kind, m.Origin, m.Stopped, empty, s.Shared, esc(s.Layer), s.Size)
	if build != "" {
		fmt.Fprintf(sb, ` data-build="%s"`, esc(build))
	}
	sb.WriteString(">")
	fmt.Fprintf(sb, "<title>%s</title>", esc(boxTitle(s, m)))
	fmt.Fprintf(sb, `<rect class="box" x="%.0f" y="%.1f" width="%d" height="%.1f" rx="6"/>`, x, y, boxW, h)
	mark := m.Symbol + " " + m.Word
	ins := oneLine(s.Instruction)
	if empty {
		meta := "no layer"
		fmt.Fprintf(sb, `<text class="mark" x="%.0f" y="%.1f">%s</text>`, x+10, y+17, esc(mark))
		room := int((boxW - markW - 20 - float64(len(meta))*charW12) / charW13)
		fmt.Fprintf(sb, `<text class="ins" x="%.0f" y="%.1f">%s</text>`, x+markW, y+17, esc(clip(ins, room)))
		fmt.Fprintf(sb, `<text class="meta" x="%.0f" y="%.1f" text-anchor="end">%s</text></g>`, x+boxW-10, y+17, meta)
		return
	}
	fmt.Fprintf(sb, `<text class="mark" x="%.0f" y="%.1f">%s</text>`, x+10, y+22, esc(mark))
	fmt.Fprintf(sb, `<text class="ins" x="%.0f" y="%.1f">%s</text>`, x+markW, y+22, esc(clip(ins, fit(boxW-markW-10, charW15))))
	sub := oneLine(s.Reason.String())
	if sub == "" {
		switch m.Kind {
		case "base":
			sub = "a layer of the base image"
		case "hit":
			sub = "reused from the cache"
		}
	}
	fmt.Fprintf(sb, `<text class="sub" x="%.0f" y="%.1f">%s</text>`, x+10, y+39, esc(clip(sub, fit(boxW-20, charW12))))
	fmt.Fprintf(sb, `<text class="meta" x="%.0f" y="%.1f">%s · %s</text>`, x+10, y+54, textfmt.Size(s.Size), esc(textfmt.ShortID(digest.Digest(s.Layer))))
	if s.Shared > 0 {
		fmt.Fprintf(sb, `<text class="meta shared" x="%.0f" y="%.1f" text-anchor="end">⇄ shared with %s</text>`, x+boxW-10, y+54, images(s.Shared))
	}
	sb.WriteString("</g>")
}

func images(n int) string {
	if n == 1 {
		return "1 other image"
	}
	return fmt.Sprintf("%d other images", n)
}

// boxTitle is the hover text: the step, its result and why.
func boxTitle(s Step, m Mark) string {
	var b strings.Builder
	if s.Index > 0 {
		fmt.Fprintf(&b, "step %d", s.Index)
		if s.Line > 0 {
			fmt.Fprintf(&b, ", line %d", s.Line)
		}
	} else {
		b.WriteString("base image layer")
	}
	fmt.Fprintf(&b, ": %s\n%s %s", oneLine(s.Instruction), m.Symbol, m.Word)
	if m.Origin {
		b.WriteString(" — the first miss: the cascade starts here")
	}
	if !s.Reason.IsZero() {
		b.WriteString("\nwhy: " + s.Reason.String())
	}
	if s.Layer != "" {
		fmt.Fprintf(&b, "\nlayer %s, %s", s.Layer, textfmt.Size(s.Size))
	}
	if s.Shared > 0 {
		b.WriteString("\nshared with " + images(s.Shared) + " in the store")
	}
	return b.String()
}

// drawCascade draws a line in the column's gutter from the first miss up
// through every step it invalidated, ending in an arrow.
func drawCascade(sb *strings.Builder, x float64, keys []string, c column, centers map[string]float64) {
	origin, last := "", ""
	var hit []string
	for _, k := range keys {
		m, ok := c.marks[k]
		if !ok {
			continue
		}
		switch {
		case m.Origin:
			origin = k
		case origin != "" && m.Kind == "cascade":
			last = k
			hit = append(hit, k)
		}
	}
	if origin == "" {
		return
	}
	gx := x + gutter/2
	y0 := centers[origin]
	fmt.Fprintf(sb, `<g class="cascade" data-origin-step="%s" data-cascade-steps="%s">`, esc(origin), esc(strings.Join(hit, " ")))
	fmt.Fprintf(sb, `<circle cx="%.0f" cy="%.1f" r="8"/><path d="M%.0f %.1f H%.0f"/>`, gx, y0, gx, y0, x+gutter)
	if last != "" {
		y1 := centers[last]
		fmt.Fprintf(sb, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f"/>`, gx, y0, gx, y1+10)
		fmt.Fprintf(sb, `<polygon points="%.0f,%.1f %.0f,%.1f %.0f,%.1f"/>`, gx-9, y1+12, gx+9, y1+12, gx, y1-4)
		for _, k := range hit {
			fmt.Fprintf(sb, `<path d="M%.0f %.1f H%.0f"/>`, gx, centers[k], x+gutter)
		}
		mid := (y0 + y1) / 2
		fmt.Fprintf(sb, `<text x="%.0f" y="%.1f" transform="rotate(-90 %.0f %.1f)" text-anchor="middle" dy="-8">cascade</text>`, gx, mid, gx, mid)
	}
	sb.WriteString("</g>")
}

// fit is how many characters of width cw fit in px pixels.
func fit(px, cw float64) int { return int(px / cw) }
