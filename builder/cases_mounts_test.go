package builder

import "testing"

// TestBuildMounts: what RUN --mount puts into a step's key. A bind of a
// context file is keyed by its content like a COPY source (a change
// misses naming it, a plan predicts it), a bind from a stage by the
// stage's filesystem, and a cache or tmpfs mount by its settings only.
func TestBuildMounts(t *testing.T) {
	bindDockerfile := "FROM scratch\nRUN echo a > /a\nRUN --mount=type=bind,source=packages.txt,target=/tmp/p.txt true\nRUN echo after > /after\n"
	stageDockerfile := func(v string) string {
		return "FROM scratch AS src\nRUN echo " + v + " > /v\nFROM scratch\nRUN --mount=type=bind,from=src,target=/src true\n"
	}
	cacheDockerfile := "FROM scratch\nRUN --mount=type=tmpfs,target=/t,size=1m --mount=type=secret,id=tok true\n"
	runCases(t, []buildCase{
		{name: "a bind mount of a context file is keyed by its content", files: map[string]string{"packages.txt": "curl\n", "other": "x"}, builds: []caseBuild{
			{dockerfile: bindDockerfile, want: "base miss miss miss", why: map[int]Reason{2: whyNew, 3: whyCascade(2, 2), 4: whyCascade(2, 2)}},
			{write: map[string]string{"other": "y"}, plan: true, want: "base hit hit hit"},
			{write: map[string]string{"packages.txt": "curl\ngit\n"}, plan: true, want: "base hit miss miss",
				why: map[int]Reason{3: whyFiles([]string{"packages.txt"}, nil, nil), 4: whyCascade(3, 3)}},
		}},
		{name: "a bind mount from a stage is keyed by the stage's filesystem", builds: []caseBuild{
			{dockerfile: stageDockerfile("1"), want: "base miss base miss", why: map[int]Reason{2: whyNew, 4: whyNew}},
			{dockerfile: stageDockerfile("1"), want: "base hit base hit"},
			{dockerfile: stageDockerfile("2"), want: "base miss base miss",
				why: map[int]Reason{2: whyText("RUN echo 1 > /v", "RUN echo 2 > /v"), 4: whyFrom}},
		}},
		{name: "tmpfs and secret mounts are keyed by their settings, not a secret's value", builds: []caseBuild{
			{dockerfile: cacheDockerfile, want: "base miss", why: map[int]Reason{2: whyNew}},
			{want: "base hit"},
			{dockerfile: "FROM scratch\nRUN --mount=type=tmpfs,target=/t,size=2m --mount=type=secret,id=tok true\n", want: "base miss",
				why: map[int]Reason{2: whyText("RUN --mount=type=tmpfs,target=/t,size=1m --mount=type=secret,id=tok true",
					"RUN --mount=type=tmpfs,target=/t,size=2m --mount=type=secret,id=tok true")}},
		}},
		{name: "a bind of a missing context file fails at its line", builds: []caseBuild{
			{dockerfile: "FROM scratch\nRUN --mount=type=bind,source=nope.txt,target=/n true\n", want: "base", err: "Dockerfile:2: --mount source=nope.txt", errLine: 2},
		}},
		{name: "a cache's source= without from= fails, as BuildKit's run does", builds: []caseBuild{
			{dockerfile: "FROM scratch\nRUN --mount=type=cache,target=/c,source=sub true\n", want: "base", err: "Dockerfile:2: --mount=type=cache,source=sub: no such file or directory", errLine: 2},
		}},
		{name: "a mount on / is refused at its line", builds: []caseBuild{
			{dockerfile: "FROM scratch\nWORKDIR /\nRUN --mount=type=tmpfs,target=. true\n", want: "base miss", why: map[int]Reason{2: whyNew}, err: "Dockerfile:3: --mount: invalid mount target", errLine: 3},
		}},
	})
}
