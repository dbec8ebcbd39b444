package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/minibuild/minibuild/builder"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestPlainInterleaved: once a build shows a second stage or platform,
// every line of a step carries its tag, so the lines of steps that run at
// once can be told apart; the summary counts each stage. The builds'
// events come out of step order.
func TestPlainInterleaved(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build build
	}{
		{"two-stages", twoStages()},
		{"two-platforms", twoPlatforms()},
		{"sequential", sequential()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			r := New(Plain, &out)
			for _, e := range tc.build.events {
				r.Report(e)
			}
			// Result.Steps are in step order; the summary must not rely on it.
			steps := append([]builder.StepResult(nil), tc.build.steps...)
			steps[0], steps[len(steps)-1] = steps[len(steps)-1], steps[0]
			r.Finish(&builder.Result{Manifest: ocispec.Descriptor{Digest: "sha256:abc"}, Steps: steps}, 2*time.Second)
			golden(t, "plain/"+tc.name+".txt", out.String())
			checkTagged(t, out.String())
		})
	}
}

// checkTagged checks the rule itself: after the first tagged line, every
// line of a step (output "| ", result "=> ", "why:") carries a tag.
func checkTagged(t *testing.T, out string) {
	t.Helper()
	tagged := false
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "cascade:") {
			return
		}
		if strings.HasPrefix(l, "#") {
			tagged = true
			continue
		}
		if tagged && (strings.HasPrefix(l, "  ") || strings.HasPrefix(l, "[")) {
			t.Errorf("untagged step line after a tagged one: %q", l)
		}
	}
}

// TestPlainCloseFlushesEachStep: Close prints each unfinished step's
// unended output under its own tag, in step order.
func TestPlainCloseFlushesEachStep(t *testing.T) {
	var out bytes.Buffer
	r := New(Plain, &out)
	r.Report(builder.StepStarted{Index: 4, Total: 4, Stage: "b", Instruction: "RUN b"})
	r.Report(builder.StepStarted{Index: 2, Total: 4, Stage: "a", Instruction: "RUN a"})
	r.Report(builder.StepOutput{Index: 4, Stream: "stderr", Data: []byte("partial b")})
	r.Report(builder.StepOutput{Index: 2, Stream: "stderr", Data: []byte("err a")})
	r.Report(builder.StepOutput{Index: 2, Stream: "stdout", Data: []byte("out a")})
	r.Close()
	want := "[4/4] RUN b\n#2 [2/4 a] RUN a\n#2 | out a\n#2 | err a\n#4 | partial b\n"
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestStageLabel(t *testing.T) {
	for _, tc := range []struct{ stage, platform, want string }{
		{"build", "", "build"},
		{"0", "", "stage-0"},
		{"12", "linux/arm64", "linux/arm64 stage-12"},
		{"app", "linux/arm/v7", "linux/arm/v7 app"},
	} {
		if got := stageLabel(tc.stage, tc.platform); got != tc.want {
			t.Errorf("stageLabel(%q, %q) = %q, want %q", tc.stage, tc.platform, got, tc.want)
		}
	}
}
