package e2e

import (
	"fmt"
	"path/filepath"
	"reflect"
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

// TestMissReasons: every reason word, on the exact step that missed, with
// its specifics; plan predicts each build exactly.
func TestMissReasons(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	busyboxBase(t, root)
	ctx := t.TempDir()
	df := func(run string) string {
		return "FROM busybox:test\nCOPY src/ /src/\nRUN " + run + "\nARG V=1\nRUN echo \"$V\" > /v\nRUN echo done > /done\n"
	}
	writeTree(t, ctx, map[string]string{"Dockerfile": df("echo a > /a"), "src/one.txt": "1", "src/two.txt": "2", "src/three.txt": "3"})

	first := planThenBuild(t, root, ctx)
	wantStep(t, first, 2, "miss", "new: no earlier build of this Dockerfile is known")
	wantStep(t, first, 3, "miss", "parent: cascade from step 2, line 2")

	again := planThenBuild(t, root, ctx)
	if got := again.cacheResults(); !reflect.DeepEqual(got, []string{"base", "hit", "hit", "hit", "hit", "hit"}) {
		t.Errorf("unchanged rebuild: %v", got)
	}

	writeTree(t, ctx, map[string]string{"Dockerfile": df("echo b > /a")})
	instr := planThenBuild(t, root, ctx)
	wantStep(t, instr, 2, "hit", "")
	wantStep(t, instr, 3, "miss", `instruction: changed from "RUN echo a > /a" to "RUN echo b > /a"`)
	wantStep(t, instr, 4, "miss", "parent: cascade from step 3, line 3")

	writeTree(t, ctx, map[string]string{"src/one.txt": "one", "src/four.txt": "4"})
	if err := removeFile(ctx, "src/three.txt"); err != nil {
		t.Fatal(err)
	}
	src := planThenBuild(t, root, ctx)
	wantStep(t, src, 2, "miss", "source: changed src/one.txt; added src/four.txt; removed src/three.txt")

	arg := planThenBuild(t, root, ctx, "--build-arg", "V=2")
	wantStep(t, arg, 4, "hit", "")
	wantStep(t, arg, 5, "miss", `arg: V changed from "1" to "2"`)
	wantStep(t, arg, 6, "miss", "parent: cascade from step 5, line 5")

	nc := planThenBuild(t, root, ctx, "--build-arg", "V=2", "--no-cache")
	for i := 2; i <= 6; i++ {
		wantStep(t, nc, i, "miss", "no-cache: --no-cache was given")
	}

	writeTree(t, ctx, map[string]string{"Dockerfile": df("echo b > /a") + "RUN echo extra > /extra\n"})
	added := planThenBuild(t, root, ctx, "--build-arg", "V=2")
	wantStep(t, added, 6, "hit", "")
	wantStep(t, added, 7, "miss", "new: no earlier build of this step is known")
}

// TestBaseReason: a rebuilt base image is named, old and new digest, on
// the first step after FROM.
func TestBaseReason(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	busyboxBase(t, root)
	base := t.TempDir()
	writeTree(t, base, map[string]string{"Dockerfile": "FROM busybox:test\nRUN echo v1 > /version\n"})
	b1, _ := build(t, root, base, "-t", "base:test")
	ctx := t.TempDir()
	writeTree(t, ctx, map[string]string{"Dockerfile": "FROM base:test\nRUN cat /version > /seen\n"})
	build(t, root, ctx)
	writeTree(t, base, map[string]string{"Dockerfile": "FROM busybox:test\nRUN echo v2 > /version\n"})
	b2, _ := build(t, root, base, "-t", "base:test")
	md := planThenBuild(t, root, ctx)
	want := fmt.Sprintf("base: the FROM image changed from %s to %s", b1.Image.ManifestDigest[:19], b2.Image.ManifestDigest[:19])
	wantStep(t, md, 2, "miss", want)
}

// TestCacheModes: a change that rebuilds a step into a byte-identical
// layer misses everything after it in cascade mode; content mode stops
// the cascade there, and says why. A metadata-only change does the same,
// and env names the variable a later step sees.
func TestCacheModes(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	busyboxBase(t, root)
	df := func(first, label, env string) string {
		return "FROM busybox:test\nRUN " + first + "\nLABEL purpose=" + label + "\nRUN echo second > /second\nENV V=" + env + "\nRUN echo \"$V\" > /v\nRUN echo last > /last\n"
	}
	for _, mode := range []string{"cascade", "content"} {
		t.Run(mode, func(t *testing.T) {
			ctx := t.TempDir()
			writeTree(t, ctx, map[string]string{"Dockerfile": df("echo hi > /x", "a", "1")})
			build(t, root, ctx, "--cache-mode", mode)
			// Same output, other text: the rebuilt layer is byte-identical.
			writeTree(t, ctx, map[string]string{"Dockerfile": df(`echo "hi" > /x`, "a", "1")})
			md, _ := build(t, root, ctx, "--cache-mode", mode)
			wantStep(t, md, 2, "miss", "instruction: changed from")
			if mode == "cascade" {
				if got, want := md.cacheResults(), []string{"base", "miss", "miss", "miss", "miss", "miss", "miss"}; !reflect.DeepEqual(got, want) {
					t.Errorf("cascade: %v, want %v", got, want)
				}
				wantStep(t, md, 7, "miss", "parent: cascade from step 2, line 2")
				return
			}
			if got, want := md.cacheResults(), []string{"base", "miss", "hit", "hit", "hit", "hit", "hit"}; !reflect.DeepEqual(got, want) {
				t.Fatalf("content: %v, want %v", got, want)
			}
			wantStep(t, md, 3, "hit", "content: step 2 (line 2) was rebuilt to a byte-identical layer, so this step's inputs are unchanged")

			// A metadata-only change: the LABEL misses, the next RUN hits.
			writeTree(t, ctx, map[string]string{"Dockerfile": df(`echo "hi" > /x`, "b", "1")})
			md, _ = build(t, root, ctx, "--cache-mode", mode)
			wantStep(t, md, 3, "miss", "instruction:")
			wantStep(t, md, 4, "hit", "content: step 3 (line 3) was rebuilt but changed only the image's metadata")

			// An ENV change: the RUN that sees it misses and names it.
			writeTree(t, ctx, map[string]string{"Dockerfile": df(`echo "hi" > /x`, "b", "2")})
			planMD := filepath.Join(t.TempDir(), "plan.json")
			mustMB(t, "plan", "--root", root, "--cache-mode", mode, "--metadata-file", planMD, ctx)
			md, _ = build(t, root, ctx, "--cache-mode", mode)
			wantStep(t, md, 5, "miss", "instruction:")
			wantStep(t, md, 6, "miss", `env: V changed from "1" to "2"`)
			plan := readMetadata(t, planMD)
			if plan.Steps[4].Cache != "miss" || plan.Steps[5].Cache != "unknown" || !strings.HasPrefix(plan.Steps[5].Reason, "unknown until built") {
				t.Errorf("content-mode plan after a miss: step 5 %s, step 6 %s %q", plan.Steps[4].Cache, plan.Steps[5].Cache, plan.Steps[5].Reason)
			}
		})
	}
}
