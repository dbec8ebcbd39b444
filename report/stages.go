package report

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/minibuild/minibuild/builder"
)

// StageBox is one stage of a build's graph as the report lays it out.
type StageBox struct {
	builder.StageNode
	// Column is the stage's depth: 0 for a stage that needs none, else one
	// more than the deepest column of the stages it needs.
	Column int
	// Row is its place in its column, in build order.
	Row int
	// Hit, Miss and Unknown count its steps' cache results; FROM steps
	// are not counted.
	Hit, Miss, Unknown int
	// Kind is how the stage is drawn: cached (no step rebuilt), rebuilt
	// (every step rebuilt), partial, or unknown (a result not known).
	Kind string
}

// Stages lays out b's stage graph: each stage in the column of its
// depth, with its steps' results. It is nil when b kept no graph. A need
// that names no stage, or closes a cycle, is left out of the layout.
func Stages(b Build) []StageBox {
	if len(b.Graph) == 0 {
		return nil
	}
	byIndex := map[int]Step{}
	for _, s := range b.Steps {
		if s.Index > 0 {
			byIndex[s.Index] = s
		}
	}
	out := make([]StageBox, len(b.Graph))
	for i, n := range b.Graph {
		out[i].StageNode = n
		for _, idx := range n.Steps {
			switch byIndex[idx].Cache {
			case builder.CacheHit:
				out[i].Hit++
			case builder.CacheMiss:
				out[i].Miss++
			case builder.CacheUnknown:
				out[i].Unknown++
			}
		}
		out[i].Kind = stageKind(out[i])
	}
	cols := depths(b.Graph)
	rows := map[int]int{}
	for i := range out {
		out[i].Column = cols[i]
		out[i].Row = rows[cols[i]]
		rows[cols[i]]++
	}
	return out
}

// stageKind is how a stage with s's counts is drawn.
func stageKind(s StageBox) string {
	switch {
	case s.Unknown > 0:
		return "unknown"
	case s.Miss == 0:
		return "cached"
	case s.Hit == 0:
		return "rebuilt"
	}
	return "partial"
}

// depths is the column of each node of g: 1 + the deepest of its needs.
// A need out of range or on a node still being placed (a cycle) does not
// count.
func depths(g []builder.StageNode) []int {
	const (
		unseen = iota
		placing
		placed
	)
	state := make([]int, len(g))
	col := make([]int, len(g))
	var place func(i int)
	place = func(i int) {
		state[i] = placing
		for _, d := range g[i].Needs {
			if d < 0 || d >= len(g) || state[d] == placing {
				continue
			}
			if state[d] == unseen {
				place(d)
			}
			col[i] = max(col[i], col[d]+1)
		}
		state[i] = placed
	}
	for i := range g {
		if state[i] == unseen {
			place(i)
		}
	}
	return col
}

// needsShown are the needs of node i that the layout draws: in range and
// in an earlier column (so not closing a cycle).
func needsShown(boxes []StageBox, i int) []int {
	var out []int
	for _, d := range boxes[i].Needs {
		if d >= 0 && d < len(boxes) && boxes[d].Column < boxes[i].Column {
			out = append(out, d)
		}
	}
	return out
}

// stageLabel names a stage, with its platform when the build has several.
func stageLabel(n builder.StageNode) string {
	return stageName(n.Stage, n.Platform)
}

// stageName is how the report names a stage: by its AS name, else as
// "stage N", then its platform when the build has several.
func stageName(stage, platform string) string {
	name := oneLine(stage)
	if _, err := strconv.Atoi(name); err == nil {
		name = "stage " + name
	}
	if platform != "" {
		name += " [" + oneLine(platform) + "]"
	}
	return name
}

// stepSpan says which steps a stage holds: "steps 3-5", "step 2", or a
// list when they are not in one run.
func stepSpan(steps []int) string {
	switch {
	case len(steps) == 0:
		return "no steps"
	case len(steps) == 1:
		return fmt.Sprintf("step %d", steps[0])
	}
	run := true
	for i := 1; i < len(steps); i++ {
		run = run && steps[i] == steps[i-1]+1
	}
	if run {
		return fmt.Sprintf("steps %d-%d", steps[0], steps[len(steps)-1])
	}
	var s []string
	for _, n := range steps {
		s = append(s, fmt.Sprint(n))
	}
	return "steps " + strings.Join(s, ",")
}

// kindMark is the text mark of a stage's kind, so colour is never the
// only signal.
func kindMark(kind string) string {
	switch kind {
	case "cached":
		return "✓"
	case "rebuilt":
		return "✗"
	case "partial":
		return "◐"
	}
	return "?"
}
