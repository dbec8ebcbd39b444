package builder

// Difference is the first step of a stage whose key differs between two
// builds of a Dockerfile, and why.
type Difference struct {
	// Stage is the stage's name, or its index.
	Stage string
	// Prev and Cur are the step in the earlier (or other) build and in
	// this one; Prev is zero when that build had no such step.
	Prev, Cur StepResult
	// Reason names the first input that differs; zero when neither step
	// recorded its inputs or none that they record differs.
	Reason Reason
}

// CompareSteps compares two builds' steps, stage by stage (steps are
// matched by stage and position, as a build's records match them), and
// returns for each stage of cur the first step whose key differs from
// prev's, with what differs; against names prev in the reasons. A stage
// whose keys are all equal has none.
func CompareSteps(prev, cur []StepResult, against string) []Difference {
	type pos struct {
		stage string
		n     int
	}
	index := func(steps []StepResult) (map[pos]StepResult, []pos) {
		m := map[pos]StepResult{}
		var order []pos
		count := map[string]int{}
		for _, s := range steps {
			p := pos{s.Stage, count[s.Stage]}
			count[s.Stage]++
			m[p] = s
			order = append(order, p)
		}
		return m, order
	}
	before, _ := index(prev)
	now, order := index(cur)
	var out []Difference
	done := map[string]bool{}
	for _, p := range order {
		if done[p.stage] {
			continue
		}
		c := now[p]
		o, ok := before[p]
		if ok && o.Key == c.Key && o.Cache != CacheUnknown {
			continue
		}
		done[p.stage] = true
		d := Difference{Stage: p.stage, Cur: c}
		if ok {
			d.Prev = o
			if o.Inputs != nil && c.Inputs != nil {
				d.Reason, _ = CompareInputs(o.Inputs, c.Inputs, against)
			}
		}
		out = append(out, d)
	}
	return out
}
