package progress

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/minibuild/minibuild/builder"
	"github.com/minibuild/minibuild/internal/textfmt"
)

// cascade sums up a build's cache results: what hit, what missed, and
// which miss caused which.
type cascade struct {
	base, hits, misses int
	// causes are the misses with a reason of their own (not "parent"),
	// in step order; first is causes[0], or nil without a miss.
	causes []builder.StepResult
	first  *builder.StepResult
	// cascaded counts, per cause's step index, the misses it caused.
	cascaded map[int]int
}

// summarize works out the cascade of steps. A miss whose reason is a
// cascade names the step it follows from; it is counted for that step's
// own cause (the first miss when the reason names none).
func summarize(steps []builder.StepResult) cascade {
	c := cascade{cascaded: map[int]int{}}
	causeOf := map[int]int{}
	for _, s := range steps {
		switch s.Cache {
		case builder.CacheBase:
			c.base++
		case builder.CacheHit:
			c.hits++
		case builder.CacheMiss:
			c.misses++
			if !isCascade(s) {
				c.causes = append(c.causes, s)
				causeOf[s.Index] = s.Index
				continue
			}
			cause, ok := causeOf[s.Reason.Step]
			if !ok && len(c.causes) > 0 {
				cause = c.causes[0].Index
			}
			causeOf[s.Index] = cause
			c.cascaded[cause]++
		}
	}
	if len(c.causes) > 0 {
		c.first = &c.causes[0]
	}
	return c
}

// isCascade reports whether a step missed only because an earlier one did.
func isCascade(s builder.StepResult) bool {
	return s.Cache == builder.CacheMiss && s.Reason.Cascaded()
}

// stepMark is the text mark of a step's result, so that colour is never
// the only signal: • base, ✓ hit, ✗ a miss with a reason of its own,
// ↳ a miss in an earlier miss's cascade, ? unknown.
func stepMark(s builder.StepResult) string {
	switch {
	case s.Cache == builder.CacheBase:
		return "•"
	case s.Cache == builder.CacheHit:
		return "✓"
	case isCascade(s):
		return "↳"
	case s.Cache == builder.CacheMiss:
		return "✗"
	}
	return "?"
}

// stepList names steps: "steps 7, 9".
func stepList(steps []builder.StepResult) string {
	nums := make([]string, len(steps))
	for i, s := range steps {
		nums[i] = strconv.Itoa(s.Index)
	}
	if len(nums) == 1 {
		return "step " + nums[0]
	}
	return "steps " + strings.Join(nums, ", ")
}

// writeSummary prints the cascade: one row per step, in step order, with
// its mark, result and reason; misses in a cascade name the step they
// follow from. When the build has several stages or platforms, the rows
// are grouped under each stage's label and count, as in the plain view.
func (r *ttyRenderer) writeSummary(steps []builder.StepResult) {
	sorted, groups := byStage(steps)
	c := summarize(sorted)
	r.line(paint(r.opts.color, sgrBold, fmt.Sprintf("Cascade: %d steps: %d base, %d cached, %d built", len(sorted), c.base, c.hits, c.misses)))
	iw, lw := 1, 1
	for _, s := range sorted {
		iw, lw = max(iw, len(fmt.Sprint(s.Index))), max(lw, len(fmt.Sprint(s.Line)))
	}
	label := map[int]string{}
	if len(groups) > 1 {
		for _, g := range groups {
			r.line(r.fit([]seg{{"  [" + g.label + "] " + countText(g.steps), sgrBold}}))
			for _, s := range g.steps {
				r.summaryRow(s, "    ", iw, lw)
				label[s.Index] = " [" + g.label + "]"
			}
		}
	} else {
		for _, s := range sorted {
			r.summaryRow(s, "  ", iw, lw)
		}
	}
	if c.first != nil {
		msg := fmt.Sprintf("first miss: step %d (line %d)%s", c.first.Index, c.first.Line, label[c.first.Index])
		if n := c.cascaded[c.first.Index]; n > 0 {
			msg += fmt.Sprintf("; %s after it missed in its cascade (↳)", textfmt.Plural(n, "step"))
		}
		r.line(r.fit([]seg{{msg, sgrBold}}))
	}
}

// summaryRow prints a step's row of the summary after indent; iw and lw
// are the widths of the summary's step and line numbers.
func (r *ttyRenderer) summaryRow(s builder.StepResult, indent string, iw, lw int) {
	col := resultColor(s)
	prefix := []seg{{indent + stepMark(s) + " ", col}, {fmt.Sprintf("step %-*d line %-*d ", iw, s.Index, lw, s.Line), ""}, {fmt.Sprintf("%-5s ", s.Cache), col}}
	why := s.Reason.String()
	if isCascade(s) {
		why = s.Reason.Text()
	}
	if why == "" || s.Cache == builder.CacheBase {
		r.line(r.fit(append(prefix, seg{textfmt.OneLine(s.Instruction), flexible})))
		return
	}
	row := append(prefix, seg{textfmt.OneLine(s.Instruction), flexible}, seg{" — " + why, col})
	if isCascade(s) || segWidth(prefix)+8+runeLen(" — "+why) < r.width() {
		r.line(r.fit(row))
		return
	}
	// A reason of its own is worth a line of its own rather than a cut.
	r.line(r.fit(append(prefix, seg{textfmt.OneLine(s.Instruction), flexible})))
	r.line(r.fit([]seg{{indent + "  why: " + why, col}}))
}
