package builder

import "testing"

// reasonsDockerfile is the Dockerfile of the miss-reason cases, with the
// first RUN's command given.
func reasonsDockerfile(run string) string {
	return "FROM scratch\nCOPY src/ /src/\nRUN " + run + "\nARG V=1\nRUN echo \"$V\" > /v\nRUN echo done > /done\n"
}

var reasonsFiles = map[string]string{"src/one.txt": "1", "src/two.txt": "2", "src/three.txt": "3"}

// cascadeDockerfile has steps with and without layers, the COPY of a
// directory among them.
const cascadeDockerfile = "FROM scratch\nCOPY a.txt /a.txt\nCOPY src/ /app/\nENV GREETING=hello\nCOPY b.txt /app/b.txt\nCMD [\"/app/run\"]\n"

var cascadeFiles = map[string]string{"a.txt": "a\n", "b.txt": "b\n", "src/main.go": "package main\n", "src/lib/x.txt": "x\n"}

// TestBuildCache: cache results and reasons of the cascade mode, build
// after build: new, hits, a changed instruction or source, build args,
// --no-cache, failures, a re-tagged base.
func TestBuildCache(t *testing.T) {
	runCases(t, []buildCase{
		{name: "first build is new, a rebuild hits every step", files: reasonsFiles, builds: []caseBuild{
			{dockerfile: reasonsDockerfile("echo a > /a"), plan: true, want: "base miss miss miss miss miss",
				why:  map[int]Reason{2: whyNew, 3: whyCascade(2, 2), 4: whyCascade(2, 2), 5: whyCascade(2, 2), 6: whyCascade(2, 2)},
				sees: map[int][]string{3: {"!V"}, 5: {"V=1"}}, files: map[string]string{"/src/one.txt": "1", "/a": "a\n", "/v": "1\n"},
				check: checkLayers("- layer layer - layer layer")},
			{plan: true, want: "base hit hit hit hit hit", check: sameImage(1, 2)},
		}},
		{name: "a changed instruction misses and cascades", files: reasonsFiles, builds: []caseBuild{
			{dockerfile: reasonsDockerfile("echo a > /a"), want: "base miss miss miss miss miss",
				why: map[int]Reason{2: whyNew, 3: whyCascade(2, 2), 4: whyCascade(2, 2), 5: whyCascade(2, 2), 6: whyCascade(2, 2)}},
			{dockerfile: reasonsDockerfile("echo b > /a"), plan: true, want: "base hit miss miss miss miss",
				why:   map[int]Reason{3: whyText("RUN echo a > /a", "RUN echo b > /a"), 4: whyCascade(3, 3), 5: whyCascade(3, 3), 6: whyCascade(3, 3)},
				files: map[string]string{"/a": "b\n"}},
		}},
		{name: "changed, added and removed COPY sources are named", files: reasonsFiles, builds: []caseBuild{
			{dockerfile: reasonsDockerfile("echo a > /a"), want: "base miss miss miss miss miss",
				why: map[int]Reason{2: whyNew, 3: whyCascade(2, 2), 4: whyCascade(2, 2), 5: whyCascade(2, 2), 6: whyCascade(2, 2)}},
			{write: map[string]string{"src/one.txt": "one", "src/four.txt": "4"}, remove: []string{"src/three.txt"}, plan: true,
				want: "base miss miss miss miss miss",
				why: map[int]Reason{2: whyFiles([]string{"src/one.txt"}, []string{"src/four.txt"}, []string{"src/three.txt"}),
					3: whyCascade(2, 2), 4: whyCascade(2, 2), 5: whyCascade(2, 2), 6: whyCascade(2, 2)},
				files: map[string]string{"/src/one.txt": "one", "/src/four.txt": "4", "/src/three.txt": ""}},
		}},
		{name: "an mtime-only change hits, a content change cascades from its step", files: cascadeFiles, builds: []caseBuild{
			{dockerfile: cascadeDockerfile, want: "base miss miss miss miss miss",
				why: map[int]Reason{2: whyNew, 3: whyCascade(2, 2), 4: whyCascade(2, 2), 5: whyCascade(2, 2), 6: whyCascade(2, 2)},
				check: func(t *testing.T, h *harness, res []*Result) {
					checkLayers("- layer layer - layer -")(t, h, res)
					for i, s := range res[0].Steps {
						if s.Line != i+1 || (i == 0) != (s.Key == "") {
							t.Errorf("step %d: line %d, key %q", s.Index, s.Line, s.Key)
						}
					}
				}},
			{want: "base hit hit hit hit hit", check: sameImage(1, 2)},
			{touch: []string{"src/main.go"}, want: "base hit hit hit hit hit", check: sameImage(1, 3)},
			{write: map[string]string{"src/main.go": "package main // changed\n"}, plan: true, want: "base hit miss miss miss miss",
				why:   map[int]Reason{3: whyFiles([]string{"src/main.go"}, nil, nil), 4: whyCascade(3, 3), 5: whyCascade(3, 3), 6: whyCascade(3, 3)},
				files: map[string]string{"/app/main.go": "package main // changed\n", "/app/lib/x.txt": "x\n"},
				check: func(t *testing.T, h *harness, res []*Result) {
					if res[3].Steps[1].Layer.Digest != res[0].Steps[1].Layer.Digest {
						t.Errorf("step 2 hit with another layer")
					}
					if res[3].Manifest.Digest == res[0].Manifest.Digest {
						t.Errorf("a content change kept the manifest digest")
					}
				}},
		}},
		{name: "a changed build arg misses only the steps that see it",
			builds: []caseBuild{
				{dockerfile: "FROM scratch\nRUN echo before > /before\nARG V=default\nRUN echo \"$V\" > /v\nRUN echo after > /after\n",
					want: "base miss miss miss miss", why: map[int]Reason{2: whyNew, 3: whyCascade(2, 2), 4: whyCascade(2, 2), 5: whyCascade(2, 2)}},
				{set: Settings{BuildArgs: map[string]string{"V": "override"}}, plan: true, want: "base hit hit miss miss",
					why:  map[int]Reason{4: whyVar(ReasonArg, "V", ptr("default"), ptr("override")), 5: whyCascade(4, 4)},
					sees: map[int][]string{4: {"V=override"}}, files: map[string]string{"/v": "override\n"}},
				{set: Settings{BuildArgs: map[string]string{"V": "default"}}, plan: true, want: "base hit hit hit hit", check: sameImage(1, 3)},
				{set: Settings{BuildArgs: map[string]string{"V": "override"}}, want: "base hit hit hit hit",
					files: map[string]string{"/v": "override\n"}, check: sameImage(2, 4)},
			}},
		{name: "--no-cache rebuilds every step into the same image", files: cascadeFiles, builds: []caseBuild{
			{dockerfile: cascadeDockerfile, want: "base miss miss miss miss miss",
				why: map[int]Reason{2: whyNew, 3: whyCascade(2, 2), 4: whyCascade(2, 2), 5: whyCascade(2, 2), 6: whyCascade(2, 2)}},
			{set: Settings{NoCache: true}, plan: true, want: "base miss miss miss miss miss",
				why: map[int]Reason{2: whyNoCache, 3: whyNoCache, 4: whyNoCache, 5: whyNoCache, 6: whyNoCache}, check: sameImage(1, 2)},
		}},
		{name: "a step added at the end is new", files: reasonsFiles, builds: []caseBuild{
			{dockerfile: reasonsDockerfile("echo a > /a"), want: "base miss miss miss miss miss",
				why: map[int]Reason{2: whyNew, 3: whyCascade(2, 2), 4: whyCascade(2, 2), 5: whyCascade(2, 2), 6: whyCascade(2, 2)}},
			{dockerfile: reasonsDockerfile("echo a > /a") + "RUN echo extra > /extra\n", plan: true,
				want: "base hit hit hit hit hit miss", why: map[int]Reason{7: whyNewStep}},
		}},
		{name: "an instruction moved to another line keeps its key", builds: []caseBuild{
			{dockerfile: "FROM scratch\nRUN echo a > /a\n", want: "base miss", why: map[int]Reason{2: whyNew}},
			{dockerfile: "FROM scratch\n\n# a comment\nRUN echo a > /a\n", plan: true, want: "base hit",
				check: func(t *testing.T, _ *harness, res []*Result) {
					if s := res[1].Steps[1]; s.Line != 4 || s.Key != res[0].Steps[1].Key {
						t.Errorf("moved step: line %d key %s, want line 4 and key %s", s.Line, s.Key, res[0].Steps[1].Key)
					}
				}},
		}},
		{name: "an ENV expanding a build arg misses with the arg", builds: []caseBuild{
			{dockerfile: "FROM scratch\nARG V=1\nENV E=$V\nRUN env\n", want: "base miss miss miss",
				why: map[int]Reason{2: whyNew, 3: whyCascade(2, 2), 4: whyCascade(2, 2)}, sees: map[int][]string{4: {"E=1", "V=1"}}},
			{set: Settings{BuildArgs: map[string]string{"V": "2"}}, plan: true, want: "base hit miss miss",
				why: map[int]Reason{3: whyVar(ReasonArg, "V", ptr("1"), ptr("2")), 4: whyCascade(3, 3)}, sees: map[int][]string{4: {"E=2", "V=2"}}},
		}},
		{name: "a failing RUN records nothing and is retried", builds: []caseBuild{
			{dockerfile: "FROM scratch\nRUN echo one > /one\nRUN echo partial > /p && fail 3\nRUN echo after\n",
				err: "Dockerfile:3: RUN echo partial > /p && fail 3: exit code 3", errLine: 3, exitCode: 3,
				want: "base miss", why: map[int]Reason{2: whyNew}},
			{err: "exit code 3", errLine: 3, want: "base hit", check: func(t *testing.T, h *harness, _ []*Result) {
				if n := len(h.exec.ran()); n != 3 {
					t.Errorf("%d processes ran, want 3: the failed step once in each build", n)
				}
			}},
			{dockerfile: "FROM scratch\nRUN echo one > /one\nRUN echo fixed > /p\nRUN echo after\n", want: "base hit miss miss",
				why: map[int]Reason{3: whyNew, 4: whyCascade(3, 3)}, files: map[string]string{"/p": "fixed\n", "/one": "one\n"}},
		}},
		{name: "an invalid instruction's error names its line", files: map[string]string{"a": "a"}, builds: []caseBuild{
			{dockerfile: "FROM scratch\nCOPY a /a\nEXPOSE 80/quic\n", err: `Dockerfile:3: invalid proto "quic"`, errLine: 3,
				want: "base miss", why: map[int]Reason{2: whyNew}},
			{dockerfile: "FROM scratch\nCOPY a /a\n\nFOO bar\n", err: "Dockerfile:4: unknown instruction: FOO", errLine: 4},
			{dockerfile: "FROM scratch\nCOPY a b /dst\n", err: "Dockerfile:2: when using COPY with more than one source file", errLine: 2, want: "base"},
			{dockerfile: "FROM scratch\nCOPY a /a\nCOPY nope.txt /x\n", err: "Dockerfile:3:", errLine: 3, want: "base hit"},
		}},
		{name: "a re-tagged base image is named, old and new", builds: []caseBuild{
			{file: "base.Dockerfile", dockerfile: "FROM scratch\nRUN echo v1 > /version\n", tag: "base:test", want: "base miss", why: map[int]Reason{2: whyNew}},
			{dockerfile: "FROM base:test\nRUN cat /version > /seen\n", want: "base miss", why: map[int]Reason{2: whyNew}},
			{file: "base.Dockerfile", dockerfile: "FROM scratch\nRUN echo v2 > /version\n", tag: "base:test", want: "base miss",
				why: map[int]Reason{2: whyText("RUN echo v1 > /version", "RUN echo v2 > /version")}},
			{plan: true, want: "base miss", why: map[int]Reason{2: whyBase(1, 3)}, files: map[string]string{"/seen": "v2\n"}},
			{plan: true, want: "base hit"},
		}},
	})
}
