package progress

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/minibuild/minibuild/builder"
	"github.com/minibuild/minibuild/internal/textfmt"
)

// stageLabel names a stage for the output: its AS name, or "stage-N" for
// the unnamed stage N (as BuildKit names it), after its platform when
// the build has several: "linux/arm64 build".
func stageLabel(stage, platform string) string {
	if _, err := strconv.Atoi(stage); err == nil || stage == "" {
		stage = "stage-" + stage
	}
	if platform == "" {
		return stage
	}
	return platform + " " + stage
}

// stepTag is how a step's lines name it: "[3/9]", or "[3/9 build]" with
// its stage's label.
func stepTag(index, total int, label string) string {
	if label == "" {
		return fmt.Sprintf("[%d/%d]", index, total)
	}
	return fmt.Sprintf("[%d/%d %s]", index, total, label)
}

// stageKey is a step's stage and platform: the steps of one key run one
// after the other, never interleaved.
type stageKey struct{ stage, platform string }

// stageSeen tells, from the steps a build has shown, whether it builds
// more than one stage or platform: from the first step of a second one
// on, its steps' lines are tagged (see the package documentation).
type stageSeen struct {
	first   stageKey
	any     bool
	several bool
}

// see notes a step's stage and platform and reports whether the build
// has shown several. A platform is named only when the build has several
// (builder.StepStarted.Platform), so a step with one is tagged at once.
func (g *stageSeen) see(stage, platform string) bool {
	k := stageKey{stage, platform}
	switch {
	case platform != "":
		g.several = true
	case !g.any:
		g.first, g.any = k, true
	case k != g.first:
		g.several = true
	}
	return g.several
}

// stageGroup is the steps of one stage built for one platform.
type stageGroup struct {
	label string
	steps []builder.StepResult
}

// byStage returns steps sorted by Index and grouped by stage and
// platform, the groups in the order of their first step.
func byStage(steps []builder.StepResult) ([]builder.StepResult, []stageGroup) {
	sorted := append([]builder.StepResult(nil), steps...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Index < sorted[j].Index })
	var groups []stageGroup
	at := map[stageKey]int{}
	for _, s := range sorted {
		k := stageKey{s.Stage, s.Platform}
		i, ok := at[k]
		if !ok {
			i = len(groups)
			at[k] = i
			groups = append(groups, stageGroup{label: stageLabel(s.Stage, s.Platform)})
		}
		groups[i].steps = append(groups[i].steps, s)
	}
	return sorted, groups
}

// countText counts steps' results: "4 steps: 1 base, 2 cached, 1 built".
func countText(steps []builder.StepResult) string {
	c := summarize(steps)
	return fmt.Sprintf("%s: %d base, %d cached, %d built", textfmt.Plural(len(steps), "step"), c.base, c.hits, c.misses)
}
