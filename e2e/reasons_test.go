package e2e

import (
	"path/filepath"
	"strings"
	"testing"
)

// planThenBuild runs `minibuild plan` and then the build with the same
// flags, and checks that the plan predicted the build step by step (cache
// result and reason). It returns the build's metadata.
func planThenBuild(t *testing.T, root, ctx string, flags ...string) metadata {
	t.Helper()
	planMD := filepath.Join(t.TempDir(), "plan.json")
	args := append([]string{"plan", "--root", root, "--metadata-file", planMD}, flags...)
	mustMB(t, append(args, ctx)...)
	plan := readMetadata(t, planMD)
	got, _ := build(t, root, ctx, flags...)
	if len(plan.Steps) != len(got.Steps) {
		t.Fatalf("plan has %d steps, the build %d", len(plan.Steps), len(got.Steps))
	}
	for i := range got.Steps {
		p, g := plan.Steps[i], got.Steps[i]
		if p.Cache != g.Cache || p.Reason != g.Reason || (g.Cache != "base" && p.Key != g.Key) {
			t.Errorf("step %d: plan said %s %q, the build did %s %q", i+1, p.Cache, p.Reason, g.Cache, g.Reason)
		}
	}
	return got
}

// wantStep checks one step's cache result and reason prefix.
func wantStep(t *testing.T, md metadata, index int, cache, reason string) {
	t.Helper()
	s := md.Steps[index-1]
	if s.Cache != cache || !strings.HasPrefix(s.Reason, reason) {
		t.Errorf("step %d (%s): %s %q, want %s %q...", index, s.Instruction, s.Cache, s.Reason, cache, reason)
	}
}

// TestMissReasons: the metadata files of plan and of the build carry
// each step's reason as text, and plan's predicts the build's. The
// reasons themselves (every kind, on the step that missed, with its
// fields), the cache modes and a re-tagged base are checked by the
// builder's table tests (builder/cases_*_test.go).
func TestMissReasons(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	busyboxBase(t, root)
	ctx := t.TempDir()
	writeTree(t, ctx, map[string]string{"Dockerfile": "FROM busybox:test\nCOPY src/ /src/\nRUN echo a > /a\n",
		"src/one.txt": "1", "src/two.txt": "2", "src/three.txt": "3"})

	first := planThenBuild(t, root, ctx)
	wantStep(t, first, 2, "miss", "new: no earlier build of this Dockerfile is known")
	wantStep(t, first, 3, "miss", "parent: cascade from step 2, line 2")

	writeTree(t, ctx, map[string]string{"src/one.txt": "one", "src/four.txt": "4"})
	if err := removeFile(ctx, "src/three.txt"); err != nil {
		t.Fatal(err)
	}
	src := planThenBuild(t, root, ctx)
	wantStep(t, src, 2, "miss", "source: changed src/one.txt; added src/four.txt; removed src/three.txt")
}
