package builder

import (
	"encoding/json"
	"io/fs"
	"reflect"
	"strings"
	"testing"
)

// TestReasonString pins the text of every reason: the CLI, the metadata
// file and the report print it, and users read it.
func TestReasonString(t *testing.T) {
	d := func(c string) string { return "sha256:" + strings.Repeat(c, 64) }
	for _, tc := range []struct {
		r    Reason
		want string
	}{
		{Reason{}, ""},
		{Reason{Kind: ReasonNoCache}, "no-cache: --no-cache was given"},
		{Reason{Kind: ReasonNew, Cause: CauseNoRecord}, "new: no earlier build of this Dockerfile is known"},
		{Reason{Kind: ReasonNew, Cause: CauseNoStep}, "new: no earlier build of this step is known"},
		{Reason{Kind: ReasonNew, Cause: CausePruned}, "new: the earlier build's entry for this step is no longer in the cache (pruned?)"},
		{Reason{Kind: ReasonInstruction, Cause: CauseText, Old: ptr("RUN a"), New: ptr("RUN  b\n  c")}, `instruction: changed from "RUN a" to "RUN b c"`},
		{Reason{Kind: ReasonInstruction, Cause: CauseText, Old: ptr(strings.Repeat("x", 70)), New: ptr("y")},
			`instruction: changed from "` + strings.Repeat("x", 57) + `..." to "y"`},
		{Reason{Kind: ReasonInstruction, Cause: CauseExpansion, New: ptr(`RUN ["/bin/sh","-c","echo 2"]`)}, `instruction: it now expands to "RUN [\"/bin/sh\",\"-c\",\"echo 2\"]"`},
		{Reason{Kind: ReasonInstruction, Cause: CauseSettings}, "instruction: its settings changed (shell, user, working directory or network)"},
		{Reason{Kind: ReasonSource, Cause: CauseFrom}, "source: the content of the --from stage or image changed"},
		{Reason{Kind: ReasonSource, Cause: CauseFiles, Files: newFileChanges([]string{"b", "a"}, nil, []string{"z"})}, "source: changed a, b; removed z"},
		{Reason{Kind: ReasonSource, Cause: CauseFiles, Files: newFileChanges(nil, []string{"1", "2", "3", "4", "5"}, nil)}, "source: added 1, 2, 3 and 2 more"},
		{Reason{Kind: ReasonArg, Name: "V", Old: ptr("1"), New: ptr("2")}, `arg: V changed from "1" to "2"`},
		{Reason{Kind: ReasonPlatform, Old: ptr("linux/amd64"), New: ptr("linux/arm64")}, "platform: built for linux/arm64, the earlier build for linux/amd64"},
		{Reason{Kind: ReasonPlatform, Old: ptr("linux/amd64"), New: ptr("linux/arm64"), Against: "r.io/c:t"}, "platform: built for linux/arm64 here, for linux/amd64 in r.io/c:t"},
		{Reason{Kind: ReasonSource, Cause: CauseFiles, Files: newFileChanges([]string{"src/run.sh"}, nil, nil),
			FileDiff: &FileDiff{Path: "src/run.sh", OldMode: 0o755, NewMode: 0o775}, Against: "type=local,src=/c"},
			"source: changed src/run.sh (src/run.sh: mode 0775 here, 0755 in type=local,src=/c)"},
		{Reason{Kind: ReasonSource, Cause: CauseFiles, Files: newFileChanges([]string{"a"}, nil, nil),
			FileDiff: &FileDiff{Path: "a", OldOwner: "0:0", NewOwner: "1:1", OldMode: 0o644 | uint32(fs.ModeSetuid), NewMode: 0o644}},
			"source: changed a (a: mode 0644 here, 4644 before; owner 1:1 here, 0:0 before)"},
		{Reason{Kind: ReasonSource, Cause: CauseFiles, Files: newFileChanges([]string{"a"}, nil, nil), Against: "r.io/c:t"},
			"source: changed a (compared with the entry in r.io/c:t)"},
		{Reason{Kind: ReasonArg, Name: "VERSION", Old: ptr("1.1"), New: ptr("1.2"), Against: "type=registry,ref=r/c"}, `arg: VERSION is "1.2" here, "1.1" in type=registry,ref=r/c`},
		{Reason{Kind: ReasonEnv, Name: "E", New: ptr("")}, `env: E changed from (unset) to ""`},
		{Reason{Kind: ReasonArg, Name: "V", Old: ptr("1")}, `arg: V changed from "1" to (unset)`},
		{Reason{Kind: ReasonParent, Cause: CauseCascade, Step: 3, Line: 5}, "parent: cascade from step 3, line 5"},
		{Reason{Kind: ReasonParent, Cause: CauseRebuilt, Step: 2, Line: 4}, "parent: step 2 (line 4) changed what this step starts from"},
		{Reason{Kind: ReasonParent, Cause: CauseHistory}, "parent: the steps before it are not those of the earlier build"},
		{Reason{Kind: ReasonBase, Cause: CauseChanged, Old: ptr(d("a")), New: ptr(d("b"))}, "base: the FROM image changed from sha256:aaaaaaaaaaaa to sha256:bbbbbbbbbbbb"},
		{Reason{Kind: ReasonBase, Cause: CauseChanged, Old: ptr(""), New: ptr(d("b"))}, "base: the FROM image changed from scratch to sha256:bbbbbbbbbbbb"},
		{Reason{Kind: ReasonBase, Cause: CauseUnavailable, Detail: "image app:1: not found"}, "base: image app:1: not found"},
		{Reason{Kind: ReasonContent, Cause: CauseSameLayer, Step: 4, Line: 6}, "content: step 4 (line 6) was rebuilt to a byte-identical layer, so this step's inputs are unchanged"},
		{Reason{Kind: ReasonContent, Cause: CauseMetadataOnly, Step: 4, Line: 6}, "content: step 4 (line 6) was rebuilt but changed only the image's metadata, so this step's inputs are unchanged"},
		{Reason{Kind: ReasonContent, Cause: CauseUnchanged, Step: 4, Line: 6}, "content: step 4 (line 6) was rebuilt but left the filesystem and the environment as they were, so this step's inputs are unchanged"},
		{Reason{Kind: ReasonUnknown, Cause: CauseMustRebuild, Step: 2, Line: 3}, "unknown until built: step 2 (line 3) must be rebuilt first, and content mode keys the next steps on what it produces"},
		{Reason{Kind: ReasonUnknown, Cause: CauseNoBase}, "unknown until built: the base image is not available locally"},
		{Reason{Kind: ReasonUnknown, Cause: CauseDownload, Detail: "https://x/y.tgz"}, "unknown until built: https://x/y.tgz is downloaded only by a real build"},
		{Reason{Kind: ReasonUnknown, Cause: CauseStageRebuilt, Name: "build"}, "unknown until built: stage build is rebuilt first, and this step keys on the content it produces"},
		{Reason{Kind: ReasonUnknown, Cause: CauseFromImage, Name: "app", Detail: "not found"}, "unknown until built: --from=app: not found"},
		{Reason{Kind: ReasonUnknown, Cause: CauseNoResults}, "unknown: this image's build left no record of its cache results"},
	} {
		if got := tc.r.String(); got != tc.want {
			t.Errorf("%+v:\n got %q\nwant %q", tc.r, got, tc.want)
		}
	}
}

func TestReasonText(t *testing.T) {
	for _, tc := range []struct {
		r    Reason
		want string
	}{
		{Reason{Kind: ReasonParent, Cause: CauseCascade, Step: 3, Line: 5}, "cascade from step 3, line 5"},
		{Reason{Kind: ReasonUnknown, Cause: CauseNoBase}, "until built: the base image is not available locally"},
		{legacyReason("parent: cascade from step 3, line 5"), "cascade from step 3, line 5"},
		{legacyReason("unknown until built: x"), "until built: x"},
	} {
		if got := tc.r.Text(); got != tc.want {
			t.Errorf("%+v: Text() = %q, want %q", tc.r, got, tc.want)
		}
	}
}

func TestFileChangesBounded(t *testing.T) {
	var many []string
	for i := range 1000 {
		many = append(many, strings.Repeat("f", i%7+1)+string(rune('a'+i%26)))
	}
	f := newFileChanges(many, nil, nil)
	if len(f.Changed) != maxListedFiles || f.ChangedCount != 1000 {
		t.Errorf("kept %d of %d paths, want %d of 1000", len(f.Changed), f.ChangedCount, maxListedFiles)
	}
	if got := f.String(); !strings.HasSuffix(got, " and 997 more") {
		t.Errorf("String() = %q", got)
	}
}

// TestStepJSON checks a step's JSON: the reason's text as before, its
// fields beside it, and a step written before reasons had fields read
// back with its text and kind.
func TestStepJSON(t *testing.T) {
	r := StepResult{Index: 4, Line: 6, Stage: "0", Instruction: "RUN make", Cache: CacheMiss,
		Reason: Reason{Kind: ReasonParent, Cause: CauseCascade, Step: 3, Line: 5}, Key: digestT("sha256:" + strings.Repeat("a", 64))}
	data, err := json.Marshal(r.JSON())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"index":4,"line":6,"stage":"0","instruction":"RUN make","cache":"miss","reason":"parent: cascade from step 3, line 5",` +
		`"why":{"kind":"parent","cause":"cascade","step":3,"line":5},"key":"sha256:` + strings.Repeat("a", 64) + `"}`
	if string(data) != want {
		t.Errorf("JSON:\n got %s\nwant %s", data, want)
	}
	var back StepJSON
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if got := back.Result(); !reflect.DeepEqual(got, r) {
		t.Errorf("round trip: %+v, want %+v", got, r)
	}
	hit, _ := json.Marshal(StepResult{Index: 1, Cache: CacheHit}.JSON())
	if strings.Contains(string(hit), "why") {
		t.Errorf("a hit carries why: %s", hit)
	}
	var old StepJSON
	if err := json.Unmarshal([]byte(`{"index":5,"cache":"miss","reason":"parent: cascade from step 3, line 5"}`), &old); err != nil {
		t.Fatal(err)
	}
	if got := old.Result().Reason; !got.Cascaded() || got.String() != "parent: cascade from step 3, line 5" {
		t.Errorf("an old step's reason: %+v (%q)", got, got.String())
	}
}
