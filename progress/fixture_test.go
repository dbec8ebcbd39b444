package progress

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/minibuild/minibuild/builder"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// build is a build's steps and the order its events came in.
type build struct {
	steps  []builder.StepResult
	events []builder.Event
}

// scripted makes a build's events from a script: "s3" starts step 3, "d3"
// ends it, "o3" and "e3" give it output (stdout, stderr) from out.
func scripted(steps []builder.StepResult, out map[string][]string, script ...string) build {
	b := build{steps: steps}
	byIndex := map[int]builder.StepResult{}
	for _, s := range steps {
		byIndex[s.Index] = s
	}
	for _, op := range script {
		s := byIndex[atoi(op[1:])]
		switch op[0] {
		case 's':
			b.events = append(b.events, builder.StepStarted{Index: s.Index, Total: len(steps), Stage: s.Stage, Line: s.Line,
				Instruction: s.Instruction, Platform: s.Platform})
		case 'd':
			b.events = append(b.events, builder.StepDone{Step: s, Duration: 1500 * time.Millisecond})
		case 'o', 'e':
			stream := map[byte]string{'o': "stdout", 'e': "stderr"}[op[0]]
			data := out[op][0]
			out[op] = out[op][1:]
			b.events = append(b.events, builder.StepOutput{Index: s.Index, Stream: stream, Data: []byte(data)})
		}
	}
	return b
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// twoStages builds stages build and docs at once, then the final
// (unnamed) stage from both: the RUNs of steps 2 and 4 write at once,
// each leaving a line unended for a while.
func twoStages() build {
	steps := []builder.StepResult{
		{Index: 1, Line: 1, Stage: "build", Instruction: "FROM busybox:test AS build", Cache: builder.CacheBase},
		{Index: 2, Line: 2, Stage: "build", Instruction: "RUN make", Cache: builder.CacheMiss, Reason: changed("main.c"), Layer: layerDesc(5 << 20)},
		{Index: 3, Line: 3, Stage: "docs", Instruction: "FROM busybox:test AS docs", Cache: builder.CacheBase},
		{Index: 4, Line: 4, Stage: "docs", Instruction: "RUN mkdocs build", Cache: builder.CacheMiss, Reason: changed("docs/index.md"), Layer: layerDesc(3 << 10)},
		{Index: 5, Line: 5, Stage: "2", Instruction: "FROM busybox:test", Cache: builder.CacheBase},
		{Index: 6, Line: 6, Stage: "2", Instruction: "COPY --from=build /out /app", Cache: builder.CacheMiss, Reason: cascadeFrom(2, 2), Layer: layerDesc(4 << 20)},
		{Index: 7, Line: 7, Stage: "2", Instruction: "COPY --from=docs /site /doc", Cache: builder.CacheMiss, Reason: cascadeFrom(2, 2), Layer: layerDesc(2 << 10)},
	}
	out := map[string][]string{
		"o2": {"cc -c main.c\ncc -c ut", "il.c\n", "ld -o app"},
		"e4": {"INFO building docs\n", "INFO done"},
	}
	return scripted(steps, out, "s1", "s3", "d3", "d1", "s2", "s4", "o2", "e4", "o2", "e4", "d4", "o2", "d2", "s5", "d5", "s6", "d6", "s7", "d7")
}

// twoPlatforms builds stage app for linux/amd64 and linux/arm64 at once.
func twoPlatforms() build {
	var steps []builder.StepResult
	for i, p := range []string{"linux/amd64", "linux/arm64"} {
		steps = append(steps,
			builder.StepResult{Index: 2*i + 1, Line: 1, Stage: "app", Platform: p, Instruction: "FROM busybox:test AS app", Cache: builder.CacheBase},
			builder.StepResult{Index: 2*i + 2, Line: 2, Stage: "app", Platform: p, Instruction: "RUN uname -m", Cache: builder.CacheMiss,
				Reason: builder.Reason{Kind: builder.ReasonNew, Cause: builder.CauseNoRecord}, Layer: layerDesc(100 + int64(i))})
	}
	out := map[string][]string{"o2": {"x86_64\n"}, "o4": {"aarch64\n"}}
	return scripted(steps, out, "s1", "s3", "d1", "s2", "d3", "s4", "o4", "o2", "d4", "d2")
}

// sequential is a build of two stages one after the other (--jobs 1).
func sequential() build {
	steps := []builder.StepResult{
		{Index: 1, Line: 1, Stage: "0", Instruction: "FROM busybox:test", Cache: builder.CacheBase},
		{Index: 2, Line: 2, Stage: "0", Instruction: "RUN echo one > /one", Cache: builder.CacheMiss,
			Reason: builder.Reason{Kind: builder.ReasonNew, Cause: builder.CauseNoRecord}, Layer: layerDesc(10)},
		{Index: 3, Line: 3, Stage: "1", Instruction: "FROM busybox:test", Cache: builder.CacheBase},
		{Index: 4, Line: 4, Stage: "1", Instruction: "COPY --from=0 /one /one", Cache: builder.CacheMiss, Reason: cascadeFrom(2, 2), Layer: layerDesc(11)},
	}
	out := map[string][]string{"o2": {"one\n"}}
	return scripted(steps, out, "s1", "d1", "s2", "o2", "d2", "s3", "d3", "s4", "d4")
}
