package builder

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/minibuild/minibuild/dockerfile"
	"github.com/minibuild/minibuild/executor"
	"github.com/minibuild/minibuild/tarutil"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// buildCase is one table case: a context, then builds one after the
// other in the same store and cache, each checked step by step.
type buildCase struct {
	name   string
	files  map[string]string // the context before the first build
	builds []caseBuild
}

// caseBuild is one build of a case: what changes before it, how it is
// asked for, and what each of its steps must come to.
type caseBuild struct {
	// file is the Dockerfile's name in the context ("" is "Dockerfile");
	// dockerfile, when set, is written there first.
	file       string
	dockerfile string
	// write, remove and touch change the context first.
	write  map[string]string
	remove []string
	touch  []string
	// set holds the settings (BuildArgs, Target, NoCache, CacheMode, DryRun).
	set Settings
	// plan makes a dry run first that must predict this build exactly:
	// each step's cache result, reason and key.
	plan bool
	// tag names the built image in the store (a base for a later build).
	tag string

	// want is each step's cache result, in order: "base miss hit".
	want string
	// why is the reason of each step by index; a step left out has none.
	why map[int]Reason
	// stages is each step's stage, when set: "build build 2";
	// imageStages the Result's ImageStages, when set.
	stages      string
	imageStages string
	// sees lists, by step index, what the environment of the RUN that
	// step ran held: "K=V" (present with that value) or "!K" (absent).
	sees map[int][]string
	// files are paths the image must hold with this content; "" must be
	// absent.
	files map[string]string
	// err, when set, is text the build's error must hold; errLine the
	// Dockerfile line a *dockerfile.Error must name. want and why are
	// then checked against the steps that finished.
	err      string
	errLine  int
	exitCode int // an *executor.ExitError with this code, when set
	// check runs last, with the results of this case's builds so far
	// (this one last; nil for a failed build).
	check func(t *testing.T, h *harness, res []*Result)
}

// runCases runs each case in parallel, in a harness of its own.
func runCases(t *testing.T, cases []buildCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.write(tc.files)
			var results []*Result
			for i, b := range tc.builds {
				results = append(results, h.runBuild(i+1, b, results))
				if t.Failed() {
					return
				}
			}
		})
	}
}

// runBuild makes build n of a case and checks it; it returns its result.
func (h *harness) runBuild(n int, b caseBuild, past []*Result) *Result {
	t := h.t
	t.Helper()
	if b.file == "" {
		b.file = "Dockerfile"
	}
	if b.dockerfile != "" {
		h.write(map[string]string{b.file: b.dockerfile})
	}
	h.write(b.write)
	h.remove(b.remove...)
	h.touch(b.touch...)
	var plan *Result
	if b.plan {
		dry := b.set
		dry.DryRun = true
		var err error
		if plan, err = h.build(b.file, dry); err != nil {
			t.Fatalf("build %d: plan: %v", n, err)
		}
	}
	res, err := h.build(b.file, b.set)
	steps := h.events.finished()
	if res != nil {
		steps = res.Steps
	}
	h.checkErr(n, b, err)
	for _, d := range h.events.outOfOrder() {
		t.Errorf("build %d: %s", n, d)
	}
	b.why = resolveDigests(b.why, past)
	h.checkSteps(n, b, steps)
	if plan != nil && res != nil {
		checkPlan(t, n, plan.Steps, res.Steps)
	}
	if res != nil && b.tag != "" {
		if err := h.store.Tag(b.tag, res.Manifest); err != nil {
			t.Fatalf("build %d: tagging %s: %v", n, b.tag, err)
		}
	}
	if res != nil {
		checkImageStages(t, n, b, res)
		h.checkImage(n, b, res)
	}
	if t.Failed() {
		return res
	}
	if b.check != nil {
		b.check(t, h, append(past, res))
	}
	return res
}

// checkErr compares a build's error with the one wanted.
func (h *harness) checkErr(n int, b caseBuild, err error) {
	t := h.t
	t.Helper()
	if b.err == "" {
		if err != nil {
			t.Fatalf("build %d: %v", n, err)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), b.err) {
		t.Fatalf("build %d: error %v, want one saying %q", n, err, b.err)
	}
	var de *dockerfile.Error
	if b.errLine != 0 && (!errors.As(err, &de) || de.Line != b.errLine) {
		t.Errorf("build %d: error %q does not name line %d", n, err, b.errLine)
	}
	var exit *executor.ExitError
	if b.exitCode != 0 && (!errors.As(err, &exit) || exit.Code != b.exitCode) {
		t.Errorf("build %d: error %q does not wrap exit code %d", n, err, b.exitCode)
	}
}

// checkSteps compares each step's cache result, reason and stage with
// the ones wanted.
func (h *harness) checkSteps(n int, b caseBuild, steps []StepResult) {
	t := h.t
	t.Helper()
	var got, stages []string
	for _, s := range steps {
		got, stages = append(got, string(s.Cache)), append(stages, s.Stage)
	}
	if want := strings.Fields(b.want); !slices.Equal(got, want) {
		t.Errorf("build %d: cache results %v, want %v", n, got, want)
	}
	if want := strings.Fields(b.stages); b.stages != "" && !slices.Equal(stages, want) {
		t.Errorf("build %d: stages %v, want %v", n, stages, want)
	}
	for i, s := range steps {
		if s.Index != i+1 {
			t.Errorf("build %d: step %d has index %d", n, i+1, s.Index)
		}
		want := b.why[s.Index]
		if !sameReason(s.Reason, want) {
			t.Errorf("build %d, step %d (%s): reason\n  %s\nwant\n  %s", n, s.Index, s.Instruction, showReason(s.Reason), showReason(want))
		}
	}
	for i := range b.why {
		if i < 1 || i > len(steps) {
			t.Errorf("build %d: a reason is wanted for step %d of %d", n, i, len(steps))
		}
	}
	for i, env := range b.sees {
		h.checkEnv(n, i, env)
	}
}

// checkImageStages compares the stages the image is made of with the
// ones wanted.
func checkImageStages(t *testing.T, n int, b caseBuild, res *Result) {
	t.Helper()
	if b.imageStages != "" && !slices.Equal(res.ImageStages, strings.Fields(b.imageStages)) {
		t.Errorf("build %d: image stages %v, want %v", n, res.ImageStages, strings.Fields(b.imageStages))
	}
}

// checkEnv checks the environment of the process step i ran in the
// last build.
func (h *harness) checkEnv(n, i int, want []string) {
	t := h.t
	t.Helper()
	var env []string
	found := false
	for _, p := range h.exec.ran()[h.ranBefore:] {
		if p.Step == i {
			env, found = p.Env, true
		}
	}
	if !found {
		t.Errorf("build %d: step %d ran no process", n, i)
		return
	}
	for _, w := range want {
		name, value, set := strings.Cut(strings.TrimPrefix(w, "!"), "=")
		got, ok := lookupEnv(env, name)
		if strings.HasPrefix(w, "!") && ok || set && (!ok || got != value) {
			t.Errorf("build %d: step %d ran with %v, want %s", n, i, env, w)
		}
	}
}

// checkImage compares files of the built image with the ones wanted.
func (h *harness) checkImage(n int, b caseBuild, res *Result) {
	t := h.t
	t.Helper()
	if res.Manifest.Digest == "" {
		return // a dry run writes no image
	}
	h.checkLayerOrder(n, res)
	for p, want := range b.files {
		got, ok := h.readFile(res, p)
		if want == "" && ok || want != "" && got != want {
			t.Errorf("build %d: image file %s = %q (present %v), want %q", n, p, got, ok, want)
		}
	}
}

// checkLayerOrder checks that each layer of the image decompresses to the
// diffID its config gives it there, and that the image's layers are
// those the image's steps report, in order.
func (h *harness) checkLayerOrder(n int, res *Result) {
	t := h.t
	t.Helper()
	var m ocispec.Manifest
	b, err := h.store.ReadBlob(res.Manifest.Digest)
	if err == nil {
		err = json.Unmarshal(b, &m)
	}
	if err != nil {
		t.Fatalf("build %d: reading the manifest: %v", n, err)
	}
	if len(m.Layers) != len(res.Image.RootFS.DiffIDs) {
		t.Fatalf("build %d: %d layers, %d diffIDs", n, len(m.Layers), len(res.Image.RootFS.DiffIDs))
	}
	for i, l := range m.Layers {
		rc, err := h.store.OpenDescriptor(l)
		if err != nil {
			t.Fatalf("build %d: layer %d: %v", n, i, err)
		}
		dr, err := tarutil.Decompress(rc)
		if err != nil {
			t.Fatalf("build %d: layer %d: %v", n, i, err)
		}
		got, err := digest.FromReader(dr)
		_, _ = dr.Close(), rc.Close()
		if err != nil || got != res.Image.RootFS.DiffIDs[i] {
			t.Errorf("build %d: layer %d (%s) decompresses to %s (%v), the config says %s", n, i, l.Digest, got, err, res.Image.RootFS.DiffIDs[i])
		}
	}
	var reported []digest.Digest
	for _, st := range res.Steps {
		if st.Layer != nil && slices.Contains(res.ImageStages, st.Stage) && st.Cache != CacheBase {
			reported = append(reported, st.Layer.Digest)
		}
	}
	if len(reported) > len(m.Layers) {
		t.Fatalf("build %d: the steps report %d layers, the image has %d", n, len(reported), len(m.Layers))
	}
	var own []digest.Digest
	for _, l := range m.Layers[len(m.Layers)-len(reported):] {
		own = append(own, l.Digest)
	}
	if !slices.Equal(reported, own) {
		t.Errorf("build %d: the steps report layers %v, the image ends with %v", n, reported, own)
	}
}

// checkPlan compares a dry run's predictions with what the build did.
func checkPlan(t *testing.T, n int, plan, got []StepResult) {
	t.Helper()
	if len(plan) != len(got) {
		t.Fatalf("build %d: the plan has %d steps, the build %d", n, len(plan), len(got))
	}
	for i := range got {
		p, g := plan[i], got[i]
		if p.Cache != g.Cache || !reflect.DeepEqual(p.Reason, g.Reason) || (g.Cache != CacheBase && p.Key != g.Key) {
			t.Errorf("build %d, step %d: the plan said %s %s (key %s), the build did %s %s (key %s)",
				n, g.Index, p.Cache, showReason(p.Reason), p.Key, g.Cache, showReason(g.Reason), g.Key)
		}
	}
}

// sameReason compares the fields of two reasons; Detail (an error's or
// a URL's text) and FileDiff only when want has one.
func sameReason(got, want Reason) bool {
	if want.Detail == "" {
		got.Detail = ""
	}
	if want.FileDiff == nil {
		got.FileDiff = nil
	}
	return reflect.DeepEqual(got, want)
}

// showReason prints a reason's fields, for a failure message.
func showReason(r Reason) string {
	if r.IsZero() {
		return "(none)"
	}
	s := string(r.Kind) + "/" + string(r.Cause)
	add := func(k, v string) { s += " " + k + "=" + v }
	if r.Step != 0 || r.Line != 0 {
		add("step", fmt.Sprintf("%d@line%d", r.Step, r.Line))
	}
	if r.Name != "" {
		add("name", r.Name)
	}
	if r.Old != nil {
		add("old", "\""+*r.Old+"\"")
	}
	if r.New != nil {
		add("new", "\""+*r.New+"\"")
	}
	if r.Files != nil {
		add("files", r.Files.String())
	}
	if r.FileDiff != nil {
		add("fileDiff", r.FileDiff.text("before"))
	}
	if r.Against != "" {
		add("against", r.Against)
	}
	if r.Detail != "" {
		add("detail", r.Detail)
	}
	return s
}

// sameImage checks that builds i and j of a case (from 1) gave the same
// manifest.
func sameImage(i, j int) func(*testing.T, *harness, []*Result) {
	return func(t *testing.T, _ *harness, res []*Result) {
		t.Helper()
		if a, b := res[i-1].Manifest.Digest, res[j-1].Manifest.Digest; a != b {
			t.Errorf("builds %d and %d gave the manifests %s and %s", i, j, a, b)
		}
	}
}

// checkLayers checks which steps of the last build have a layer: one
// word a step, "layer" or "-".
func checkLayers(want string) func(*testing.T, *harness, []*Result) {
	return func(t *testing.T, _ *harness, res []*Result) {
		t.Helper()
		var got []string
		for _, s := range res[len(res)-1].Steps {
			w := "-"
			if s.Layer != nil {
				w = "layer"
			}
			got = append(got, w)
		}
		if !slices.Equal(got, strings.Fields(want)) {
			t.Errorf("layers %v, want %v", got, strings.Fields(want))
		}
	}
}

// sameLayer checks that step of builds i and j of a case (from 1) has
// the same layer.
func sameLayer(step, i, j int) func(*testing.T, *harness, []*Result) {
	return func(t *testing.T, _ *harness, res []*Result) {
		t.Helper()
		a, b := res[i-1].Steps[step-1].Layer, res[j-1].Steps[step-1].Layer
		if a == nil || b == nil || a.Digest != b.Digest {
			t.Errorf("step %d of builds %d and %d: layers %v and %v, want the same one", step, i, j, a, b)
		}
	}
}
