package builder

import (
	"fmt"
	"slices"
	"testing"
)

// copyFromDockerfile copies one file of a stage that has two.
const copyFromDockerfile = "FROM scratch AS build\nCOPY app.txt /out/app\nCOPY notes.txt /notes\nFROM scratch\nCOPY --from=build /out/app /app\n"

// TestBuildStages: multi-stage builds: which stages are built (--target,
// FROM a stage, FROM ${ARG}) and make the image, COPY --from a stage
// that changed, ONBUILD triggers.
func TestBuildStages(t *testing.T) {
	runCases(t, []buildCase{
		{name: "only the stages the target needs are built", builds: []caseBuild{
			{dockerfile: "FROM scratch AS build\nRUN mkdir /out && echo binary > /out/app\nFROM scratch AS unused\nRUN echo never > /never\n" +
				"FROM scratch\nCOPY --from=build /out/app /app\nCMD [\"/app\"]\n",
				stages: "build build 2 2 2", imageStages: "2", want: "base miss base miss miss",
				why:   map[int]Reason{2: whyNew, 4: whyNew, 5: whyCascade(4, 6)},
				files: map[string]string{"/app": "binary\n", "/out/app": "", "/never": ""}},
		}},
		{name: "--target builds a stage and the stages it is FROM; a global ARG picks the base", builds: []caseBuild{
			{dockerfile: "ARG BASE=scratch\nFROM ${BASE} AS one\nRUN echo one > /one\nFROM one AS two\nRUN echo two > /two\nFROM ${BASE} AS three\nRUN echo three > /three\n",
				set: Settings{Target: "two"}, tag: "two:dev", stages: "one one two two", imageStages: "two one", want: "base miss base miss",
				why:   map[int]Reason{2: whyNew, 4: whyNew},
				files: map[string]string{"/one": "one\n", "/two": "two\n", "/three": ""}},
			{set: Settings{Target: "three", BuildArgs: map[string]string{"BASE": "two:dev"}}, stages: "three three", imageStages: "three",
				want: "base miss", why: map[int]Reason{2: whyNew},
				files: map[string]string{"/one": "one\n", "/two": "two\n", "/three": "three\n"}},
			{set: Settings{Target: "two"}, plan: true, stages: "one one two two", want: "base hit base hit"},
		}},
		{name: "FROM ${BASE} through a global ARG names the stage it reaches", files: map[string]string{"busybox": "elf"}, builds: []caseBuild{
			{dockerfile: "ARG BASE=build\nFROM scratch AS build\nCOPY busybox /bin/busybox\nRUN echo a\nFROM ${BASE}\nRUN echo b\n",
				stages: "build build build 1 1", imageStages: "1 build", want: "base miss miss base miss",
				why: map[int]Reason{2: whyNew, 3: whyCascade(2, 3), 5: whyNew}, files: map[string]string{"/bin/busybox": "elf"}},
			{set: Settings{BuildArgs: map[string]string{"BASE": "scratch"}}, stages: "1 1", imageStages: "1", want: "base miss",
				why:   map[int]Reason{2: {Kind: ReasonBase, Cause: CauseChanged, Old: ptr(fmt.Sprintf(keyOf, 1, 3)), New: ptr("")}},
				files: map[string]string{"/bin/busybox": ""}},
		}},
		// Unlike BuildKit, which keys COPY --from on the files it copies,
		// minibuild keys it on the source stage's layers: a change to a file
		// it does not copy misses it too (the key recipe, not a slip).
		{name: "COPY --from misses with from when the stage's layers changed", files: map[string]string{"app.txt": "v1", "notes.txt": "n1"}, builds: []caseBuild{
			{dockerfile: copyFromDockerfile, want: "base miss miss base miss", why: map[int]Reason{2: whyNew, 3: whyCascade(2, 2), 5: whyNew}},
			{write: map[string]string{"notes.txt": "n2"}, want: "base hit miss base miss",
				why: map[int]Reason{3: whyFiles([]string{"notes.txt"}, nil, nil), 5: whyFrom}},
			{write: map[string]string{"app.txt": "v2"}, want: "base miss miss base miss",
				why:   map[int]Reason{2: whyFiles([]string{"app.txt"}, nil, nil), 3: whyCascade(2, 2), 5: whyFrom},
				files: map[string]string{"/app": "v2"}},
		}},
		{name: "COPY --from a stage rebuilt into the same layers hits", files: map[string]string{"app.txt": "v1", "notes.txt": "n1"}, builds: []caseBuild{
			{dockerfile: copyFromDockerfile, want: "base miss miss base miss", why: map[int]Reason{2: whyNew, 3: whyCascade(2, 2), 5: whyNew}},
			{dockerfile: "FROM scratch AS build\nCOPY ./app.txt /out/app\nCOPY notes.txt /notes\nFROM scratch\nCOPY --from=build /out/app /app\n",
				want: "base miss miss base hit", why: map[int]Reason{2: whyText("COPY app.txt /out/app", "COPY ./app.txt /out/app"), 3: whyCascade(2, 2)}},
		}},
		{name: "a plan cannot key a COPY --from a stage it must rebuild", files: map[string]string{"app.txt": "v1", "notes.txt": "n1"}, builds: []caseBuild{
			{dockerfile: copyFromDockerfile, want: "base miss miss base miss", why: map[int]Reason{2: whyNew, 3: whyCascade(2, 2), 5: whyNew}},
			{write: map[string]string{"app.txt": "v2"}, set: Settings{DryRun: true}, want: "base miss miss base unknown",
				why: map[int]Reason{2: whyFiles([]string{"app.txt"}, nil, nil), 3: whyCascade(2, 2),
					5: {Kind: ReasonUnknown, Cause: CauseStageRebuilt, Name: "build"}}},
		}},
		{name: "ONBUILD triggers run as steps of the child, right after its FROM", files: map[string]string{"trigger.txt": "from the child's context\n"}, builds: []caseBuild{
			{file: "parent.Dockerfile", dockerfile: "FROM scratch\nONBUILD COPY trigger.txt /from-trigger\nONBUILD RUN cat /from-trigger > /seen\n",
				tag: "onbuild:parent", want: "base miss miss", why: map[int]Reason{2: whyNew, 3: whyCascade(2, 2)},
				files: map[string]string{"/from-trigger": ""},
				check: func(t *testing.T, _ *harness, res []*Result) {
					if got, want := res[0].Image.Config.OnBuild, []string{"COPY trigger.txt /from-trigger", "RUN cat /from-trigger > /seen"}; !slices.Equal(got, want) {
						t.Errorf("OnBuild = %q, want %q", got, want)
					}
				}},
			{dockerfile: "FROM onbuild:parent\nRUN cat /seen > /seen2\n", want: "base miss miss miss",
				why:   map[int]Reason{2: whyNew, 3: whyCascade(2, 1), 4: whyCascade(2, 1)},
				files: map[string]string{"/seen2": "from the child's context\n"},
				check: func(t *testing.T, _ *harness, res []*Result) {
					r := res[1]
					if s := r.Steps[1]; s.Instruction != "ONBUILD COPY trigger.txt /from-trigger" || s.Line != 1 || r.Steps[2].Line != 1 {
						t.Errorf("trigger steps: %+v", r.Steps[1:3])
					}
					if len(r.Image.Config.OnBuild) != 0 {
						t.Errorf("the triggers were passed on: %q", r.Image.Config.OnBuild)
					}
				}},
			{plan: true, want: "base hit hit hit"},
			{write: map[string]string{"trigger.txt": "changed\n"}, plan: true, want: "base miss miss miss",
				why:   map[int]Reason{2: whyFiles([]string{"trigger.txt"}, nil, nil), 3: whyCascade(2, 1), 4: whyCascade(2, 1)},
				files: map[string]string{"/seen2": "changed\n"}},
		}},
	})
}
