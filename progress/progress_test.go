package progress

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/minibuild/minibuild/builder"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestPlainRendererSummary(t *testing.T) {
	miss := func(i int, reason builder.Reason) builder.StepResult {
		return builder.StepResult{Index: i, Line: i + 1, Instruction: "RUN step" + string(rune('0'+i)), Cache: builder.CacheMiss, Reason: reason}
	}
	hit := func(i int) builder.StepResult {
		return builder.StepResult{Index: i, Line: i + 1, Instruction: "RUN x", Cache: builder.CacheHit}
	}
	base := builder.StepResult{Index: 1, Line: 1, Instruction: "FROM busybox:test", Cache: builder.CacheBase}
	for _, tc := range []struct {
		name  string
		steps []builder.StepResult
		want  string
	}{
		{"all cached", []builder.StepResult{base, hit(2), hit(3)}, `cascade: 3 steps: 1 base, 2 cached, 0 built
  no miss: every step came from the cache
built sha256:abc in 1.50s (2 cached, 0 built)
`},
		{"one cascade", []builder.StepResult{base, hit(2), miss(3, changed("a.txt")), miss(4, cascadeFrom(3, 4)), miss(5, cascadeFrom(3, 4))},
			`cascade: 5 steps: 1 base, 1 cached, 3 built
  first miss: step 3 (line 4) RUN step3
    why: source: changed a.txt
  2 steps after it missed in its cascade
built sha256:abc in 1.50s (1 cached, 3 built)
`},
		{"two causes", []builder.StepResult{base, miss(2, builder.Reason{Kind: builder.ReasonNew, Cause: builder.CauseNoRecord}), miss(3, rebuiltAt(2, 3)),
			hit(4), miss(5, builder.Reason{Kind: builder.ReasonArg, Name: "V", Old: str("1"), New: str("2")}), miss(6, rebuiltAt(5, 6)),
			miss(7, builder.Reason{Kind: builder.ReasonEnv, Name: "E", New: str("x")})},
			`cascade: 7 steps: 1 base, 1 cached, 5 built
  first miss: step 2 (line 3) RUN step2
    why: new: no earlier build of this Dockerfile is known
  1 step after it missed in its cascade
  2 other steps missed for reasons of their own: steps 5, 7
built sha256:abc in 1.50s (1 cached, 5 built)
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			r := New(Plain, &out)
			r.Finish(&builder.Result{Manifest: ocispec.Descriptor{Digest: "sha256:abc"}, Steps: tc.steps}, 1500*time.Millisecond)
			if out.String() != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", out.String(), tc.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	c := summarize(demoSteps)
	if c.base != 1 || c.hits != 1 || c.misses != 3 {
		t.Errorf("counts base %d hits %d misses %d, want 1 1 3", c.base, c.hits, c.misses)
	}
	if c.first == nil || c.first.Index != 3 || len(c.causes) != 1 || c.cascaded[3] != 2 {
		t.Errorf("first %+v causes %d cascaded %v: want step 3 causing 2", c.first, len(c.causes), c.cascaded)
	}
	// A cascade is counted for the step its reason names, else the first miss.
	steps := []builder.StepResult{
		{Index: 1, Cache: builder.CacheMiss, Reason: changed("a")},
		{Index: 2, Cache: builder.CacheMiss, Reason: changed("b")},
		{Index: 3, Cache: builder.CacheMiss, Reason: rebuiltAt(2, 3)},
		{Index: 4, Cache: builder.CacheMiss, Reason: builder.Reason{Kind: builder.ReasonParent, Cause: builder.CauseHistory}},
	}
	if c := summarize(steps); c.cascaded[2] != 1 || c.cascaded[1] != 1 {
		t.Errorf("cascaded %v, want step 2 causing step 3 and step 1 step 4", c.cascaded)
	}
	marks := ""
	for _, s := range demoSteps {
		marks += stepMark(s)
	}
	if marks != "•✓✗↳↳" {
		t.Errorf("marks %q, want •✓✗↳↳", marks)
	}
}

func TestPlainRendererOutput(t *testing.T) {
	var out bytes.Buffer
	r := New(Plain, &out)
	r.Report(builder.StepStarted{Index: 2, Total: 3, Instruction: "RUN echo a &&\n echo b"})
	r.Report(builder.StepOutput{Index: 2, Stream: "stdout", Data: []byte("a\nb")})
	r.Report(builder.StepDone{Step: builder.StepResult{Index: 2, Cache: builder.CacheMiss, Reason: builder.Reason{Kind: builder.ReasonNew, Cause: builder.CauseNoRecord}}, Duration: time.Second})
	r.Report(builder.Warning{Line: 4, Message: "careful"})
	want := "[2/3] RUN echo a &&  echo b\n  | a\n  | b\n  => built in 1.00s  (no layer)\n     why: new: no earlier build of this Dockerfile is known\nwarning: line 4: careful\n"
	if out.String() != want {
		t.Errorf("got:\n%q\nwant:\n%q", out.String(), want)
	}
}

func TestJSONRendererProgress(t *testing.T) {
	var out bytes.Buffer
	r := New(JSON, &out)
	r.Report(builder.StepProgress{Index: 3, Action: "compressing", Done: 4 << 20, Total: 8 << 20})
	r.Close()
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v: %q", err, out.String())
	}
	if got["event"] != "progress" || got["done"] != float64(4<<20) || got["action"] != "compressing" {
		t.Errorf("progress event %v", got)
	}
	if strings.Count(out.String(), "\n") != 1 {
		t.Errorf("want one line: %q", out.String())
	}
}

// Reasons the tests' steps carry.
func changed(path string) builder.Reason {
	return builder.Reason{Kind: builder.ReasonSource, Cause: builder.CauseFiles,
		Files: &builder.FileChanges{Changed: []string{path}, ChangedCount: 1}}
}

func cascadeFrom(step, line int) builder.Reason {
	return builder.Reason{Kind: builder.ReasonParent, Cause: builder.CauseCascade, Step: step, Line: line}
}

func rebuiltAt(step, line int) builder.Reason {
	return builder.Reason{Kind: builder.ReasonParent, Cause: builder.CauseRebuilt, Step: step, Line: line}
}

func str(s string) *string { return &s }
