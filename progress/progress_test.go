package main

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
	miss := func(i int, reason string) builder.StepResult {
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
		{"one cascade", []builder.StepResult{base, hit(2), miss(3, "source: changed a.txt"), miss(4, "parent: cascade from step 3, line 4"), miss(5, "parent: cascade from step 3, line 4")},
			`cascade: 5 steps: 1 base, 1 cached, 3 built
  first miss: step 3 (line 4) RUN step3
    why: source: changed a.txt
  2 steps after it missed in its cascade
built sha256:abc in 1.50s (1 cached, 3 built)
`},
		{"two causes", []builder.StepResult{base, miss(2, "new: no earlier build of this Dockerfile is known"), miss(3, "parent: step 2 (line 3) changed what this step starts from"),
			hit(4), miss(5, "arg: V changed from \"1\" to \"2\""), miss(6, "parent: step 5 (line 6) changed what this step starts from"), miss(7, "env: E changed")},
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
			r := newRenderer("plain", &out)
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
	for _, tc := range []struct {
		reason string
		want   int
	}{
		{"parent: cascade from step 3, line 5", 3},
		{"parent: step 12 (line 40) changed what this step starts from", 12},
		{"parent: the steps before it are not those of the earlier build", 0},
		{"parent: step x", 0},
	} {
		if got := parentStep(tc.reason); got != tc.want {
			t.Errorf("parentStep(%q) = %d, want %d", tc.reason, got, tc.want)
		}
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
	r := newRenderer("plain", &out)
	r.Report(builder.StepStarted{Index: 2, Total: 3, Instruction: "RUN echo a &&\n echo b"})
	r.Report(builder.StepOutput{Index: 2, Stream: "stdout", Data: []byte("a\nb")})
	r.Report(builder.StepDone{Step: builder.StepResult{Index: 2, Cache: builder.CacheMiss, Reason: "new: first build"}, Duration: time.Second})
	r.Report(builder.Warning{Line: 4, Message: "careful"})
	want := "[2/3] RUN echo a &&  echo b\n  | a\n  | b\n  => built in 1.00s  (no layer)\n     why: new: first build\nwarning: line 4: careful\n"
	if out.String() != want {
		t.Errorf("got:\n%q\nwant:\n%q", out.String(), want)
	}
}

func TestJSONRendererProgress(t *testing.T) {
	var out bytes.Buffer
	r := newRenderer("json", &out)
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
