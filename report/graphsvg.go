package report

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Geometry of the stage graph, in pixels.
const (
	stageW    = 240 // a stage box's width
	stageH    = 70
	stageGapX = 72 // between columns: where the edges run
	stageGapY = 18
	graphPad  = 16
)

// ErrNoGraph is GraphSVG's error for a build whose results kept no stage
// graph (a build saved before they did, or none saved).
var ErrNoGraph = errors.New("the build's results keep no stage graph")

// GraphSVG writes the build's stage graph alone as a standalone SVG
// document: a box per stage, in columns by depth, an arrow from each
// stage to each stage that waits for it.
func GraphSVG(w io.Writer, b Build) error {
	boxes := Stages(b)
	if len(boxes) == 0 {
		return ErrNoGraph
	}
	_, err := io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+drawGraph(boxes))
	return err
}

// drawGraph draws the stages laid out by Stages.
func drawGraph(boxes []StageBox) string {
	cols, rows := 0, 0
	inCol := map[int]int{}
	kinds := map[string]int{}
	for _, s := range boxes {
		cols = max(cols, s.Column+1)
		inCol[s.Column]++
		rows = max(rows, inCol[s.Column])
		kinds[s.Kind]++
	}
	pitchY := float64(stageH + stageGapY)
	top := float64(legendH + 8)
	pos := func(s StageBox) (float64, float64) {
		x := float64(graphPad + s.Column*(stageW+stageGapX))
		y := top + float64(rows-inCol[s.Column])*pitchY/2 + float64(s.Row)*pitchY
		return x, y
	}
	width := max(float64(graphPad*2+cols*stageW+(cols-1)*stageGapX), graphLegendW)
	height := top + float64(rows)*pitchY - stageGapY + graphPad
	var sb strings.Builder
	label := fmt.Sprintf("Stage graph: %d stages in %d columns; %d cached, %d partly cached, %d rebuilt",
		len(boxes), cols, kinds["cached"], kinds["partial"], kinds["rebuilt"])
	fmt.Fprintf(&sb, `<svg xmlns="http://www.w3.org/2000/svg" class="mb graph" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s" data-stages="%d" data-columns="%d">`,
		width, height, width, height, esc(label), len(boxes), cols)
	sb.WriteString("<style>" + svgStyle + "</style>")
	fmt.Fprintf(&sb, `<rect class="bg" x="0" y="0" width="%.0f" height="%.0f"/>`, width, height)
	graphLegend(&sb)
	// Edges first, so the boxes lie over their ends.
	for i, s := range boxes {
		x2, y2 := pos(s)
		y2 += stageH / 2
		for _, d := range needsShown(boxes, i) {
			x1, y1 := pos(boxes[d])
			x1 += stageW
			y1 += stageH / 2
			mid := (x1 + x2) / 2
			fmt.Fprintf(&sb, `<g class="edge" data-from="%d" data-to="%d"><path d="M%.0f %.1f C%.0f %.1f %.0f %.1f %.0f %.1f"/><polygon points="%.0f,%.1f %.0f,%.1f %.0f,%.1f"/></g>`,
				d, i, x1, y1, mid, y1, mid, y2, x2-9, y2, x2-11, y2-6, x2, y2, x2-11, y2+6)
		}
	}
	for i, s := range boxes {
		x, y := pos(s)
		drawStage(&sb, i, x, y, s)
	}
	sb.WriteString("</svg>")
	return sb.String()
}

// graphLegendW is the width the legend needs.
const graphLegendW = 560

// graphLegend explains the boxes' colours and marks in words.
func graphLegend(sb *strings.Builder) {
	sb.WriteString(`<g class="legend">`)
	x := 12.0
	for _, l := range []struct{ kind, text string }{
		{"cached", "✓ all cached"}, {"partial", "◐ partly cached"}, {"rebuilt", "✗ rebuilt"},
	} {
		fmt.Fprintf(sb, `<rect class="sw g-%s" x="%.0f" y="12" width="22" height="22" rx="4" stroke-width="2"/><text x="%.0f" y="29">%s</text>`, l.kind, x, x+30, l.text)
		x += 30 + float64(len([]rune(l.text)))*8.6 + 22
	}
	fmt.Fprintf(sb, `<text class="note" x="%.0f" y="29">arrow: needed by</text>`, x)
	sb.WriteString(`</g>`)
}

// drawStage draws one stage: its mark and name, platform and steps, and
// its steps' results.
func drawStage(sb *strings.Builder, i int, x, y float64, s StageBox) {
	fmt.Fprintf(sb, `<g class="stage g-%s" data-node="%d" data-stage="%s" data-platform="%s" data-column="%d" data-row="%d" data-kind="%s" data-hit="%d" data-miss="%d">`,
		s.Kind, i, esc(s.Stage), esc(s.Platform), s.Column, s.Row, s.Kind, s.Hit, s.Miss)
	counts := fmt.Sprintf("%d hit · %d miss", s.Hit, s.Miss)
	if s.Unknown > 0 {
		counts += fmt.Sprintf(" · %d unknown", s.Unknown)
	}
	fmt.Fprintf(sb, "<title>%s</title>", esc(fmt.Sprintf("stage %s, %s: %s, %s", stageLabel(s.StageNode), stepSpan(s.Steps), s.Kind, counts)))
	fmt.Fprintf(sb, `<rect class="box" x="%.0f" y="%.1f" width="%d" height="%d" rx="6"/>`, x, y, stageW, stageH)
	fmt.Fprintf(sb, `<text class="mark" x="%.0f" y="%.1f">%s</text>`, x+10, y+22, kindMark(s.Kind))
	fmt.Fprintf(sb, `<text class="sname" x="%.0f" y="%.1f">%s</text>`, x+32, y+22, esc(clip(stageName(s.Stage, ""), fit(stageW-42, charW15))))
	sub := stepSpan(s.Steps)
	if s.Platform != "" {
		sub = s.Platform + " · " + sub
	}
	fmt.Fprintf(sb, `<text class="sub" x="%.0f" y="%.1f">%s</text>`, x+10, y+42, esc(clip(oneLine(sub), fit(stageW-20, charW12))))
	fmt.Fprintf(sb, `<text class="meta" x="%.0f" y="%.1f">%s</text>`, x+10, y+60, esc(clip(counts+" · "+s.Kind, fit(stageW-20, charW12))))
	sb.WriteString("</g>")
}
