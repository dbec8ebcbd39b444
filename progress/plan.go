package progress

import (
	"fmt"
	"io"
	"sync"

	"github.com/minibuild/minibuild/builder"
	"github.com/minibuild/minibuild/internal/textfmt"
)

// Plan prints what "minibuild plan" predicts: each step with its
// expected cache result and why, then a count.
type Plan struct {
	mu sync.Mutex
	w  io.Writer
}

var _ builder.Reporter = (*Plan)(nil)

// NewPlan returns a Plan that writes to w.
func NewPlan(w io.Writer) *Plan { return &Plan{w: w} }

// Report prints a finished step's prediction, or a warning.
func (p *Plan) Report(e builder.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e := e.(type) {
	case builder.StepDone:
		s := e.Step
		fmt.Fprintf(p.w, "[%d] line %-3d %-7s %s\n", s.Index, s.Line, s.Cache, textfmt.OneLine(s.Instruction))
		if !s.Reason.IsZero() {
			fmt.Fprintf(p.w, "          why: %s\n", s.Reason)
		}
	case builder.Warning:
		fmt.Fprintf(p.w, "warning: %s\n", e.Message)
	}
}

// Summary prints how many steps would hit, miss, or cannot be known.
func (p *Plan) Summary(res *builder.Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	counts := map[builder.CacheResult]int{}
	for _, s := range res.Steps {
		counts[s.Cache]++
	}
	fmt.Fprintf(p.w, "plan: %d hit, %d miss, %d unknown (nothing was built)\n",
		counts[builder.CacheHit], counts[builder.CacheMiss], counts[builder.CacheUnknown])
}
