package builder

import (
	"testing"

	"github.com/minibuild/minibuild/cache"
	digest "github.com/opencontainers/go-digest"
)

func TestCompareSteps(t *testing.T) {
	in := func(text string, vars map[string]string, args ...string) *cache.Inputs {
		return &cache.Inputs{Text: text, Instruction: text, Vars: vars, Args: args}
	}
	step := func(stage, key string, inputs *cache.Inputs) StepResult {
		return StepResult{Stage: stage, Key: digest.FromString(key), Cache: CacheMiss, Inputs: inputs}
	}
	prev := []StepResult{
		step("build", "from", nil),
		step("build", "arg", in("ARG V", nil)),
		step("build", "run1", in("RUN make", map[string]string{"V": "1"}, "V")),
		step("build", "run2", in("RUN test", nil)),
		step("final", "copy", in("COPY a b", nil)),
	}
	cur := []StepResult{
		step("build", "from", nil),
		step("build", "arg", in("ARG V", nil)),
		step("build", "run1b", in("RUN make", map[string]string{"V": "2"}, "V")),
		step("build", "run2b", in("RUN test", nil)),
		step("final", "copy", in("COPY a b", nil)),
		step("final", "extra", in("RUN more", nil)),
	}
	got := CompareSteps(prev, cur, "ci.json")
	if len(got) != 2 {
		t.Fatalf("%d differences, want 2 (one per stage): %+v", len(got), got)
	}
	if r := got[0].Reason.String(); got[0].Stage != "build" || r != `arg: V is "2" here, "1" in ci.json` {
		t.Errorf("stage build: %s %q", got[0].Stage, r)
	}
	if got[1].Stage != "final" || got[1].Prev.Key != "" || got[1].Cur.Inputs.Text != "RUN more" {
		t.Errorf("stage final: %+v", got[1])
	}
	if d := CompareSteps(cur, cur, "x"); len(d) != 0 {
		t.Errorf("a build compared with itself: %+v", d)
	}
}
