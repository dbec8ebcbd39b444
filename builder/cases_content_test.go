package builder

import "testing"

// modesDockerfile has a RUN whose command is given, a LABEL and an ENV
// whose values are given, and RUNs after them, one reading the ENV.
func modesDockerfile(first, label, env string) string {
	return "FROM scratch\nRUN " + first + "\nLABEL purpose=" + label + "\nRUN echo second > /second\nENV V=" + env +
		"\nRUN echo \"$V\" > /v\nRUN echo last > /last\n"
}

// TestBuildModes: cascade and content modes after a step rebuilt into
// the same layer, a metadata-only change and an ENV change; and what a
// dry run predicts in each.
func TestBuildModes(t *testing.T) {
	content := Settings{CacheMode: ModeContent}
	sameLayerWhy := whyContent(CauseSameLayer, 2, 2)
	metadataOnly := whyContent(CauseMetadataOnly, 3, 3)
	runCases(t, []buildCase{
		{name: "cascade mode misses every step after one rebuilt into the same layer", builds: []caseBuild{
			{dockerfile: modesDockerfile("echo hi > /x", "a", "1"), want: "base miss miss miss miss miss miss",
				why: map[int]Reason{2: whyNew, 3: whyCascade(2, 2), 4: whyCascade(2, 2), 5: whyCascade(2, 2), 6: whyCascade(2, 2), 7: whyCascade(2, 2)}},
			{dockerfile: modesDockerfile(`echo "hi" > /x`, "a", "1"), plan: true, want: "base miss miss miss miss miss miss",
				why: map[int]Reason{2: whyText("RUN echo hi > /x", `RUN echo "hi" > /x`), 3: whyCascade(2, 2), 4: whyCascade(2, 2),
					5: whyCascade(2, 2), 6: whyCascade(2, 2), 7: whyCascade(2, 2)},
				check: sameLayer(2, 1, 2)},
		}},
		{name: "content mode hits after a step rebuilt into the same layer", builds: []caseBuild{
			{dockerfile: modesDockerfile("echo hi > /x", "a", "1"), set: content, want: "base miss miss miss miss miss miss",
				why: map[int]Reason{2: whyNew, 3: whyNew, 4: whyNew, 5: whyNew, 6: whyNew, 7: whyNew}},
			{dockerfile: modesDockerfile(`echo "hi" > /x`, "a", "1"), set: content, want: "base miss hit hit hit hit hit",
				why:   map[int]Reason{2: whyText("RUN echo hi > /x", `RUN echo "hi" > /x`), 3: sameLayerWhy, 4: sameLayerWhy, 5: sameLayerWhy, 6: sameLayerWhy, 7: sameLayerWhy},
				check: sameLayer(2, 1, 2)},
		}},
		{name: "content mode hits after a metadata-only change", builds: []caseBuild{
			{dockerfile: modesDockerfile("echo hi > /x", "a", "1"), set: content, want: "base miss miss miss miss miss miss",
				why: map[int]Reason{2: whyNew, 3: whyNew, 4: whyNew, 5: whyNew, 6: whyNew, 7: whyNew}},
			{dockerfile: modesDockerfile("echo hi > /x", "b", "1"), set: content, want: "base hit miss hit hit hit hit",
				why: map[int]Reason{3: whyText("LABEL purpose=a", "LABEL purpose=b"), 4: metadataOnly, 5: metadataOnly, 6: metadataOnly, 7: metadataOnly}},
		}},
		{name: "content mode names the ENV a later step sees; its plan cannot know past the miss", builds: []caseBuild{
			{dockerfile: modesDockerfile("echo hi > /x", "a", "1"), set: content, want: "base miss miss miss miss miss miss",
				why: map[int]Reason{2: whyNew, 3: whyNew, 4: whyNew, 5: whyNew, 6: whyNew, 7: whyNew}},
			{dockerfile: modesDockerfile("echo hi > /x", "a", "2"), set: Settings{CacheMode: ModeContent, DryRun: true},
				want: "base hit hit hit miss unknown unknown",
				why:  map[int]Reason{5: whyText("ENV V=1", "ENV V=2"), 6: whyMustRebuild(5, 5), 7: whyMustRebuild(5, 5)}},
			{set: content, want: "base hit hit hit miss miss miss",
				why:  map[int]Reason{5: whyText("ENV V=1", "ENV V=2"), 6: whyVar(ReasonEnv, "V", ptr("1"), ptr("2")), 7: whyVar(ReasonEnv, "V", ptr("1"), ptr("2"))},
				sees: map[int][]string{6: {"V=2"}}, files: map[string]string{"/v": "2\n"}},
			{set: content, plan: true, want: "base hit hit hit hit hit hit"},
		}},
		{name: "a plan says a missing base image is unavailable and what follows unknown", builds: []caseBuild{
			{dockerfile: "FROM nosuchimage:1\nRUN echo a > /a\n", set: Settings{DryRun: true}, want: "base unknown",
				why: map[int]Reason{1: {Kind: ReasonBase, Cause: CauseUnavailable},
					2: {Kind: ReasonUnknown, Cause: CauseNoBase}}},
			{err: "Dockerfile:1: image nosuchimage:1", errLine: 1},
		}},
	})
}
