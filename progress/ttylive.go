package progress

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/minibuild/minibuild/builder"
	"github.com/minibuild/minibuild/internal/textfmt"
)

// Live view sizes: output lines shown under a running step when it runs
// alone and when others run beside it, lines kept to be shown when the
// build fails, and the fewest lines the live area may take whatever the
// terminal's height.
const (
	tailLines     = 5
	tailLinesMany = 3
	keepLines     = 200
	minLiveLines  = 4
)

var spinnerFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// ttyStep is a running step.
type ttyStep struct {
	builder.StepStarted
	began    time.Time
	lines    []string          // the last keepLines complete output lines
	partial  map[string][]byte // output not ended by a newline, per stream
	progress *builder.StepProgress
}

// liveLayout is how the live area shows the running steps in the lines
// it may take: a header when several run, the first shown steps (in the
// order they started) each with its line, up to tail lines of its output
// and its byte progress, then a line naming the steps left out.
type liveLayout struct {
	header bool
	shown  int
	tail   int
}

// layoutLive fits running steps in rows lines (at least one step is
// shown, whatever rows is). As in BuildKit's view, a running step never
// leaves the screen for another's output: the steps' own lines come
// first, the output lines share what is left.
func layoutLive(running []*ttyStep, rows int) liveLayout {
	n := len(running)
	l := liveLayout{header: n > 1, shown: n}
	used := 0
	if l.header {
		used++
	}
	need := func(k int) int {
		lines := 0
		for _, st := range running[:k] {
			lines++
			if st.progress != nil {
				lines++
			}
		}
		return lines
	}
	if used+need(n) > rows {
		l.shown = 1
		for k := n - 1; k > 1; k-- {
			if used+need(k)+1 <= rows {
				l.shown = k
				break
			}
		}
	}
	used += need(l.shown)
	if l.shown < n {
		used++
	}
	limit := tailLines
	if n > 1 {
		limit = tailLinesMany
	}
	if free := rows - used; free > 0 {
		l.tail = min(limit, free/l.shown)
	}
	return l
}

// liveRows is the number of lines the live area may take: the terminal's
// height less two, so that the area never scrolls its first line out of
// reach of the cursor.
func (r *ttyRenderer) liveRows() int {
	return max(r.opts.height()-2, minLiveLines)
}

// drawLive draws the running steps as layoutLive fits them and returns
// the number of lines drawn.
func (r *ttyRenderer) drawLive() int {
	if len(r.running) == 0 {
		return 0
	}
	l := layoutLive(r.running, r.liveRows())
	n := 0
	if l.header {
		r.line(r.fit([]seg{{fmt.Sprintf("running %d steps, %d of %d done", len(r.running), r.doneCount, r.total), sgrBold}}))
		n++
	}
	spin := spinnerFrames[r.frame%len(spinnerFrames)]
	for _, st := range r.running[:l.shown] {
		elapsed := r.opts.now().Sub(st.began).Seconds()
		r.line(r.fit([]seg{{spin + " ", sgrCyan}, {r.tag(st.StepStarted) + " ", ""},
			{textfmt.OneLine(st.Instruction), flexible}, {fmt.Sprintf("  %.1fs", elapsed), sgrCyan}}))
		n++
		if l.tail > 0 {
			for _, line := range st.shown(l.tail) {
				r.line(r.fit([]seg{{"    │ " + line, sgrDim}}))
				n++
			}
		}
		if p := st.progress; p != nil {
			r.line(r.fit([]seg{{"    " + progressText(*p), sgrCyan}}))
			n++
		}
	}
	if rest := r.running[l.shown:]; len(rest) > 0 {
		tags := make([]string, len(rest))
		for i, st := range rest {
			tags[i] = r.tag(st.StepStarted)
		}
		r.line(r.fit([]seg{{fmt.Sprintf("  +%d more running: %s", len(rest), strings.Join(tags, " ")), sgrCyan}}))
		n++
	}
	return n
}

// tag is how the view names a step: "[3/9]", or "[3/9 build]" with its
// stage's label once the build has shown several stages or platforms, as
// the plain view does.
func (r *ttyRenderer) tag(e builder.StepStarted) string {
	if !r.stages.several {
		return stepTag(e.Index, e.Total, "")
	}
	return stepTag(e.Index, e.Total, stageLabel(e.Stage, e.Platform))
}

// write adds output to the step, keeping its last keepLines lines.
func (st *ttyStep) write(stream string, data []byte) {
	buf := append(st.partial[stream], data...)
	for {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			break
		}
		st.lines = append(st.lines, cleanLine(string(buf[:i])))
		buf = buf[i+1:]
	}
	if len(buf) > 16<<10 {
		st.lines, buf = append(st.lines, cleanLine(string(buf))), nil
	}
	if len(st.lines) > keepLines {
		st.lines = append([]string(nil), st.lines[len(st.lines)-keepLines:]...)
	}
	st.partial[stream] = append([]byte(nil), buf...)
}

// shown is the last n lines of the step's output, with the line it is
// writing (a progress bar redrawn with \r, say) last.
func (st *ttyStep) shown(n int) []string {
	out := st.lines
	for _, stream := range []string{"stdout", "stderr"} {
		if p := cleanLine(string(st.partial[stream])); p != "" {
			out = append(append([]string(nil), out...), p)
		}
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return out
}

// progressText describes a StepProgress: while compressing, Done counts
// compressed bytes and Total the uncompressed content.
func progressText(p builder.StepProgress) string {
	switch {
	case p.Action == "compressing" && p.Total > 0:
		return fmt.Sprintf("compressing layer: %s written (%s of content)", textfmt.Size(p.Done), textfmt.Size(p.Total))
	case p.Total > 0 && p.Done <= p.Total:
		return fmt.Sprintf("%s: %s / %s (%d%%)", p.Action, textfmt.Size(p.Done), textfmt.Size(p.Total), p.Done*100/p.Total)
	}
	return fmt.Sprintf("%s: %s", p.Action, textfmt.Size(p.Done))
}
