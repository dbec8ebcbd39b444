package progress

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/minibuild/minibuild/builder"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// manyStages builds n stages at once, each a FROM and a RUN that writes
// a line, then ends them in order.
func manyStages(n int) build {
	var steps []builder.StepResult
	var script []string
	out := map[string][]string{}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("s%d", i+1)
		steps = append(steps,
			builder.StepResult{Index: 2*i + 1, Line: 2*i + 1, Stage: name, Instruction: "FROM busybox:test AS " + name, Cache: builder.CacheBase},
			builder.StepResult{Index: 2*i + 2, Line: 2*i + 2, Stage: name, Instruction: "RUN make " + name, Cache: builder.CacheHit, Layer: layerDesc(int64(i))})
		script = append(script, fmt.Sprintf("s%d", 2*i+1), fmt.Sprintf("d%d", 2*i+1), fmt.Sprintf("s%d", 2*i+2))
	}
	for i := 0; i < n; i++ {
		op := fmt.Sprintf("o%d", 2*i+2)
		out[op] = []string{fmt.Sprintf("one of %s\n", steps[2*i+1].Stage), fmt.Sprintf("two of %s\n", steps[2*i+1].Stage)}
		script = append(script, op, op)
	}
	for i := 0; i < n; i++ {
		script = append(script, fmt.Sprintf("d%d", 2*i+2))
	}
	return scripted(steps, out, script...)
}

// TestTTYConcurrent: steps of several stages or platforms run at once in
// the live area, each under its stage's tag with its own output; the
// finished lines and the summary name the stages as the plain view does;
// Close leaves each unfinished step with its tag; the live area stays
// within the terminal's height.
func TestTTYConcurrent(t *testing.T) {
	for _, tc := range []struct {
		name   string
		build  build
		height int
		at     int    // events played when the live area is looked at
		live   string // the screen then
		close  bool   // the build fails after `at` events: Close, not Finish
		end    string // the screen after Finish (or Close)
	}{
		{
			name: "two stages with interleaved output", build: twoStages(), height: 24, at: 10,
			live: `• [3/7 docs] FROM busybox:test AS docs  base
• [1/7 build] FROM busybox:test AS build  base
running 2 steps, 2 of 7 done
⠋ [2/7 build] RUN make  0.5s
    │ cc -c main.c
    │ cc -c util.c
⠋ [4/7 docs] RUN mkdocs build  0.4s
    │ INFO building docs
    │ INFO done`,
			end: `• [3/7 docs] FROM busybox:test AS docs  base
• [1/7 build] FROM busybox:test AS build  base
✗ [4/7 docs] RUN mkdocs build  built in 1.50s  layer sha256:82147211de4c 3.0 KiB
    why: source: changed docs/index.md
✗ [2/7 build] RUN make  built in 1.50s  layer sha256:1e8c1c7e50e5 5.0 MiB
    why: source: changed main.c
• [5/7 stage-2] FROM busybox:test  base
↳ [6/7 stage-2] COPY --from=build /out /app  built in 1.50s  layer sha256:3ac5cd0af3b3 4.0 MiB
    why: parent: cascade from step 2, line 2
↳ [7/7 stage-2] COPY --from=docs /site /doc  built in 1.50s  layer sha256:bfa0ec8bdf29 2.0 KiB
    why: parent: cascade from step 2, line 2
Cascade: 7 steps: 3 base, 0 cached, 4 built
  [build] 2 steps: 1 base, 0 cached, 1 built
    • step 1 line 1 base  FROM busybox:test AS build
    ✗ step 2 line 2 miss  RUN make — source: changed main.c
  [docs] 2 steps: 1 base, 0 cached, 1 built
    • step 3 line 3 base  FROM busybox:test AS docs
    ✗ step 4 line 4 miss  RUN mkdocs build — source: changed docs/index.md
  [stage-2] 3 steps: 1 base, 0 cached, 2 built
    • step 5 line 5 base  FROM busybox:test
    ↳ step 6 line 6 miss  COPY --from=build /out /app — cascade from step 2, line 2
    ↳ step 7 line 7 miss  COPY --from=docs /site /doc — cascade from step 2, line 2
first miss: step 2 (line 2) [build]; 2 steps after it missed in its cascade (↳)
built sha256:abc in 2.00s (0 cached, 4 built)`,
		},
		{
			// The builder numbers each platform's copy of a step apart:
			// the two RUNs share their stage, line and text, not their
			// index, and each output line goes to its own platform's step.
			name: "two platforms of one step", build: twoPlatforms(), height: 24, at: 8,
			live: `• [1/4 linux/amd64 app] FROM busybox:test AS app  base
• [3/4 linux/arm64 app] FROM busybox:test AS app  base
running 2 steps, 2 of 4 done
⠋ [2/4 linux/amd64 app] RUN uname -m  0.4s
    │ x86_64
⠋ [4/4 linux/arm64 app] RUN uname -m  0.2s
    │ aarch64`,
			end: `• [1/4 linux/amd64 app] FROM busybox:test AS app  base
• [3/4 linux/arm64 app] FROM busybox:test AS app  base
✗ [4/4 linux/arm64 app] RUN uname -m  built in 1.50s  layer sha256:16dc368a89b4 101 B
    why: new: no earlier build of this Dockerfile is known
✗ [2/4 linux/amd64 app] RUN uname -m  built in 1.50s  layer sha256:ad5736686512 100 B
    why: new: no earlier build of this Dockerfile is known
Cascade: 4 steps: 2 base, 0 cached, 2 built
  [linux/amd64 app] 2 steps: 1 base, 0 cached, 1 built
    • step 1 line 1 base  FROM busybox:test AS app
    ✗ step 2 line 2 miss  RUN uname -m — new: no earlier build of this Dockerfile is known
  [linux/arm64 app] 2 steps: 1 base, 0 cached, 1 built
    • step 3 line 1 base  FROM busybox:test AS app
    ✗ step 4 line 2 miss  RUN uname -m — new: no earlier build of this Dockerfile is known
first miss: step 2 (line 2) [linux/amd64 app]
built sha256:abc in 2.00s (0 cached, 2 built)`,
		},
		{
			name: "failure with two running", build: twoStages(), height: 24, at: 10, close: true,
			live: `• [3/7 docs] FROM busybox:test AS docs  base
• [1/7 build] FROM busybox:test AS build  base
running 2 steps, 2 of 7 done
⠋ [2/7 build] RUN make  0.5s
    │ cc -c main.c
    │ cc -c util.c
⠋ [4/7 docs] RUN mkdocs build  0.4s
    │ INFO building docs
    │ INFO done`,
			end: `• [3/7 docs] FROM busybox:test AS docs  base
• [1/7 build] FROM busybox:test AS build  base
✗ [2/7 build] RUN make  did not finish (0.5s)
    │ cc -c main.c
    │ cc -c util.c
✗ [4/7 docs] RUN mkdocs build  did not finish (0.4s)
    │ INFO building docs
    │ INFO done`,
		},
		{
			// One stage after the other: the lines before the second
			// stage's first step stay untagged, as in the plain view.
			name: "sequential stages", build: sequential(), height: 24, at: 4,
			live: `• [1/4] FROM busybox:test  base
⠋ [2/4] RUN echo one > /one  0.1s
    │ one`,
			end: `• [1/4] FROM busybox:test  base
✗ [2/4] RUN echo one > /one  built in 1.50s  layer sha256:4a44dc153642 10 B
    why: new: no earlier build of this Dockerfile is known
• [3/4 stage-1] FROM busybox:test  base
↳ [4/4 stage-1] COPY --from=0 /one /one  built in 1.50s  layer sha256:4fc82b26aecb 11 B
    why: parent: cascade from step 2, line 2
Cascade: 4 steps: 2 base, 0 cached, 2 built
  [stage-0] 2 steps: 1 base, 0 cached, 1 built
    • step 1 line 1 base  FROM busybox:test
    ✗ step 2 line 2 miss  RUN echo one > /one — new: no earlier build of this Dockerfile is known
  [stage-1] 2 steps: 1 base, 0 cached, 1 built
    • step 3 line 3 base  FROM busybox:test
    ↳ step 4 line 4 miss  COPY --from=0 /one /one — cascade from step 2, line 2
first miss: step 2 (line 2) [stage-0]; 1 step after it missed in its cascade (↳)
built sha256:abc in 2.00s (0 cached, 2 built)`,
		},
		{
			// Four running steps in 14 rows: 12 for the live area, a line
			// of each step's output. Step 1 ended before a second stage
			// showed: its line has no stage, as in the plain view.
			name: "four running share the rows", build: manyStages(4), height: 14, at: 20,
			live: `• [1/8] FROM busybox:test AS s1  base
• [3/8 s2] FROM busybox:test AS s2  base
• [5/8 s3] FROM busybox:test AS s3  base
• [7/8 s4] FROM busybox:test AS s4  base
running 4 steps, 4 of 8 done
⠋ [2/8 s1] RUN make s1  1.7s
    │ two of s1
⠋ [4/8 s2] RUN make s2  1.4s
    │ two of s2
⠋ [6/8 s3] RUN make s3  1.1s
    │ two of s3
⠋ [8/8 s4] RUN make s4  0.8s
    │ two of s4`,
		},
		{
			// Six running steps in 8 rows: 6 for the live area, so four
			// steps without output and the others named below them.
			name: "six running in a short terminal", build: manyStages(6), height: 8, at: 30,
			live: `• [1/12] FROM busybox:test AS s1  base
• [3/12 s2] FROM busybox:test AS s2  base
• [5/12 s3] FROM busybox:test AS s3  base
• [7/12 s4] FROM busybox:test AS s4  base
• [9/12 s5] FROM busybox:test AS s5  base
• [11/12 s6] FROM busybox:test AS s6  base
running 6 steps, 6 of 12 done
⠋ [2/12 s1] RUN make s1  2.7s
⠋ [4/12 s2] RUN make s2  2.4s
⠋ [6/12 s3] RUN make s3  2.1s
⠋ [8/12 s4] RUN make s4  1.8s
  +2 more running: [10/12 s5] [12/12 s6]`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			clock := &fakeClock{t: time.Unix(1000, 0)}
			r := newTTYRenderer(&out, ttyOptions{width: func() int { return 100 }, height: func() int { return tc.height }, now: clock.now})
			for i, e := range tc.build.events {
				if i == tc.at {
					got := screen(t, out.String(), 100)
					if s := strings.Join(got, "\n"); s != tc.live {
						t.Errorf("live screen after %d events:\n%s\nwant:\n%s", tc.at, s, tc.live)
					}
					if live := r.live; live > tc.height-2 {
						t.Errorf("live area of %d lines in a terminal of %d", live, tc.height)
					}
					if tc.close {
						break
					}
				}
				clock.advance(100 * time.Millisecond)
				r.Report(e)
			}
			if tc.end == "" {
				return
			}
			if tc.close {
				r.Close()
			} else {
				// Result.Steps are in step order; the summary must not rely on it.
				steps := append([]builder.StepResult(nil), tc.build.steps...)
				steps[0], steps[len(steps)-1] = steps[len(steps)-1], steps[0]
				r.Finish(&builder.Result{Manifest: ocispec.Descriptor{Digest: "sha256:abc"}, Steps: steps}, 2*time.Second)
			}
			if s := strings.Join(screen(t, out.String(), 100), "\n"); s != tc.end {
				t.Errorf("final screen:\n%s\nwant:\n%s", s, tc.end)
			}
		})
	}
}

// TestLayoutLive: the steps' own lines come first, their output shares
// what is left (fewer lines each when several run), and the steps that
// do not fit are counted on a line of their own.
func TestLayoutLive(t *testing.T) {
	steps := func(n int, progress ...int) []*ttyStep {
		out := make([]*ttyStep, n)
		for i := range out {
			out[i] = &ttyStep{}
		}
		for _, i := range progress {
			out[i].progress = &builder.StepProgress{}
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		running []*ttyStep
		rows    int
		want    liveLayout
	}{
		{"one step", steps(1), 22, liveLayout{shown: 1, tail: 5}},
		{"one step, short terminal", steps(1, 0), 4, liveLayout{shown: 1, tail: 2}},
		{"two steps", steps(2), 22, liveLayout{header: true, shown: 2, tail: 3}},
		{"three steps share", steps(3), 8, liveLayout{header: true, shown: 3, tail: 1}},
		{"progress takes a line", steps(3, 1), 8, liveLayout{header: true, shown: 3, tail: 1}},
		{"no room for output", steps(3, 0, 1, 2), 7, liveLayout{header: true, shown: 3, tail: 0}},
		{"too many", steps(10), 6, liveLayout{header: true, shown: 4, tail: 0}},
		{"too many with progress", steps(10, 0, 1), 6, liveLayout{header: true, shown: 2, tail: 0}},
		{"one shown at least", steps(3, 0), 2, liveLayout{header: true, shown: 1, tail: 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := layoutLive(tc.running, tc.rows); got != tc.want {
				t.Errorf("layoutLive(%d steps, %d rows) = %+v, want %+v", len(tc.running), tc.rows, got, tc.want)
			}
		})
	}
}
