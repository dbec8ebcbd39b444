package results

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/minibuild/minibuild/builder"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestSaveLoad(t *testing.T) {
	dir := Dir(t.TempDir())
	m := digest.FromString("manifest")
	layer := &ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: digest.FromString("layer"), Size: 42}
	b := Build{Manifest: m, Mode: builder.ModeContent, Steps: []builder.StepResult{
		{Index: 1, Line: 1, Stage: "0", Instruction: "FROM scratch", Cache: builder.CacheBase},
		{Index: 2, Line: 2, Stage: "0", Instruction: "COPY a /a", Cache: builder.CacheMiss, Key: digest.FromString("key"), Layer: layer,
			Reason: builder.Reason{Kind: builder.ReasonNew, Cause: builder.CauseNoRecord}},
	}}
	if err := dir.Save(b, []string{"app:dev", "app"}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"app:dev", "app:latest", "app", "untagged"} {
		got, ok := dir.Load(name, m)
		if !ok || !reflect.DeepEqual(got, b) {
			t.Errorf("Load(%q) = %+v, %v; want %+v", name, got, ok, b)
		}
	}
	if _, ok := dir.Load("app:dev", digest.FromString("another manifest")); ok {
		t.Error("results of another manifest were returned")
	}
	// A file written before reasons had fields still reads.
	old := `{"manifest":"` + m.String() + `","mode":"cascade","steps":[{"index":3,"line":4,"stage":"0","instruction":"RUN x","cache":"miss","reason":"parent: cascade from step 2, line 3","key":""}]}`
	if err := os.WriteFile(filepath.Join(string(dir), "by-digest", m.Encoded()+".json"), []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	got, ok := dir.Load("other", m)
	if !ok || len(got.Steps) != 1 || !got.Steps[0].Reason.Cascaded() || got.Steps[0].Reason.String() != "parent: cascade from step 2, line 3" {
		t.Errorf("an old file: %+v, %v", got, ok)
	}
}

// TestGraphKept: the stage graph is saved and read back; a file without
// one (written before graphs were kept) reads with none; a damaged graph
// is dropped with the steps kept; a file of a later version is not read.
func TestGraphKept(t *testing.T) {
	m := digest.FromString("manifest")
	steps := `[{"index":1,"line":1,"stage":"a","instruction":"FROM scratch AS a","cache":"base","reason":"","key":""},` +
		`{"index":2,"line":2,"stage":"1","instruction":"FROM a","cache":"base","reason":"","key":""}]`
	for _, tc := range []struct {
		name      string
		file      string
		wantOK    bool
		wantGraph []builder.StageNode
	}{
		{"version 2 with a graph", `{"version":2,"manifest":"` + m.String() + `","steps":` + steps + `,"graph":[{"stage":"a","steps":[1]},{"stage":"1","needs":[0],"steps":[2]}]}`,
			true, []builder.StageNode{{Stage: "a", Steps: []int{1}}, {Stage: "1", Needs: []int{0}, Steps: []int{2}}}},
		{"version 1 without a graph", `{"manifest":"` + m.String() + `","steps":` + steps + `}`, true, nil},
		{"a need out of range", `{"version":2,"manifest":"` + m.String() + `","steps":` + steps + `,"graph":[{"stage":"a","needs":[2],"steps":[1]},{"stage":"1","steps":[2]}]}`,
			true, nil},
		{"a cycle", `{"version":2,"manifest":"` + m.String() + `","steps":` + steps + `,"graph":[{"stage":"a","needs":[1],"steps":[1]},{"stage":"1","needs":[0],"steps":[2]}]}`,
			true, nil},
		{"a later version", `{"version":3,"manifest":"` + m.String() + `","steps":` + steps + `}`, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := Dir(t.TempDir())
			p := filepath.Join(string(dir), "by-digest", m.Encoded()+".json")
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(tc.file), 0o644); err != nil {
				t.Fatal(err)
			}
			got, ok := dir.Load("any", m)
			if ok != tc.wantOK {
				t.Fatalf("Load ok = %v, want %v", ok, tc.wantOK)
			}
			if !ok {
				return
			}
			if len(got.Steps) != 2 {
				t.Errorf("%d steps read, want 2", len(got.Steps))
			}
			if !reflect.DeepEqual(got.Graph, tc.wantGraph) {
				t.Errorf("graph %+v, want %+v", got.Graph, tc.wantGraph)
			}
		})
	}
}

// TestSaveWritesGraph: the file Save writes holds the version and the
// graph, and saving the same build again leaves it byte for byte.
func TestSaveWritesGraph(t *testing.T) {
	dir := Dir(t.TempDir())
	m := digest.FromString("manifest")
	b := Build{Manifest: m, Steps: []builder.StepResult{{Index: 1, Stage: "a", Instruction: "FROM scratch AS a", Cache: builder.CacheBase},
		{Index: 2, Stage: "1", Instruction: "FROM a", Cache: builder.CacheBase}},
		Graph: []builder.StageNode{{Stage: "a", Steps: []int{1}}, {Stage: "1", Needs: []int{0}, Steps: []int{2}}}}
	if err := dir.Save(b, nil); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(string(dir), "by-digest", m.Encoded()+".json")
	first, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"version":2`, `"graph":[{"stage":"a","steps":[1]},{"stage":"1","needs":[0],"steps":[2]}]`} {
		if !strings.Contains(string(first), want) {
			t.Errorf("file lacks %s:\n%s", want, first)
		}
	}
	if err := dir.Save(b, nil); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(p); string(again) != string(first) {
		t.Errorf("saving the same build changed the file:\n%s\n%s", first, again)
	}
	if got, ok := dir.Load("x", m); !ok || !reflect.DeepEqual(got, b) {
		t.Errorf("Load = %+v, %v; want %+v", got, ok, b)
	}
}

// TestPlatformsSaved: a multi-platform build keeps each platform's part
// under that image's manifest digest, with its own steps and the stages
// they need renumbered; the index's file keeps the whole build.
func TestPlatformsSaved(t *testing.T) {
	dir := Dir(t.TempDir())
	index, amd, arm := digest.FromString("index"), digest.FromString("amd64"), digest.FromString("arm64")
	step := func(i int, stage, p string) builder.StepResult {
		return builder.StepResult{Index: i, Line: i, Stage: stage, Platform: p, Instruction: "RUN " + stage, Cache: builder.CacheMiss,
			Reason: builder.Reason{Kind: builder.ReasonNew, Cause: builder.CauseNoRecord}}
	}
	b := Build{Manifest: index, Mode: builder.ModeCascade,
		Steps: []builder.StepResult{step(1, "build", "linux/amd64"), step(2, "1", "linux/amd64"), step(3, "build", "linux/arm64"), step(4, "1", "linux/arm64")},
		Graph: []builder.StageNode{{Stage: "build", Platform: "linux/amd64", Steps: []int{1}}, {Stage: "1", Platform: "linux/amd64", Needs: []int{0}, Steps: []int{2}},
			{Stage: "build", Platform: "linux/arm64", Steps: []int{3}}, {Stage: "1", Platform: "linux/arm64", Needs: []int{2}, Steps: []int{4}}},
		Images: []PlatformImage{{"linux/amd64", amd}, {"linux/arm64", arm}}}
	if err := dir.Save(b, []string{"app:multi"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		m         digest.Digest
		wantSteps []int
		wantGraph []builder.StageNode
	}{
		{"index", index, []int{1, 2, 3, 4}, b.Graph},
		{"amd64", amd, []int{1, 2}, b.Graph[:2]},
		{"arm64", arm, []int{3, 4}, []builder.StageNode{{Stage: "build", Platform: "linux/arm64", Steps: []int{3}}, {Stage: "1", Platform: "linux/arm64", Needs: []int{0}, Steps: []int{4}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := dir.Load("app:multi", tc.m)
			if !ok {
				t.Fatal("no results")
			}
			var idx []int
			for _, s := range got.Steps {
				idx = append(idx, s.Index)
			}
			if !reflect.DeepEqual(idx, tc.wantSteps) || !reflect.DeepEqual(got.Graph, tc.wantGraph) || got.Manifest != tc.m {
				t.Errorf("got steps %v graph %+v manifest %s; want %v %+v %s", idx, got.Graph, got.Manifest, tc.wantSteps, tc.wantGraph, tc.m)
			}
		})
	}
}

// TestLoadSkipsDamage: Save does not sync its files, so what a power loss
// leaves of one (empty, cut short) must read as no results, and the
// other file of the same build is used.
func TestLoadSkipsDamage(t *testing.T) {
	m := digest.FromString("manifest")
	b := Build{Manifest: m, Steps: []builder.StepResult{{Index: 1, Line: 1, Stage: "0", Instruction: "FROM scratch", Cache: builder.CacheBase}}}
	tests := []struct {
		name    string
		content string
	}{
		{"empty", ""},
		{"cut short", `{"manifest":"` + m.String() + `","steps":[{"ind`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := Dir(t.TempDir())
			if err := dir.Save(b, []string{"app"}); err != nil {
				t.Fatal(err)
			}
			byName := dir.byName("app")
			if err := os.WriteFile(byName, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			if got, ok := dir.Load("app", m); !ok || !reflect.DeepEqual(got, b) {
				t.Errorf("with the by-name file damaged: %+v, %v; want the by-digest file's", got, ok)
			}
			if err := os.WriteFile(dir.byDigest(m), []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, ok := dir.Load("app", m); ok {
				t.Error("damaged files read as results")
			}
		})
	}
}
