package builder

import (
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestBuildScope: which ARG and ENV values each RUN sees (global ARGs,
// ARGs redeclared in a stage, ENV over ARG and ARG after ENV, other
// stages, proxy args), and which steps a changed value makes miss.
func TestBuildScope(t *testing.T) {
	runCases(t, []buildCase{
		{name: "a global ARG is seen in FROM, and in a stage only once redeclared", builds: []caseBuild{
			{dockerfile: "ARG V=global\nARG BASE=scratch\nFROM ${BASE}\nRUN env\nARG V\nRUN env\nARG V=stage\nRUN env\n",
				want: "base miss miss miss miss miss", why: map[int]Reason{2: whyNew, 3: whyCascade(2, 4), 4: whyCascade(2, 4), 5: whyCascade(2, 4), 6: whyCascade(2, 4)},
				sees: map[int][]string{2: {"!V", "!BASE"}, 4: {"V=global"}, 6: {"V=stage"}}},
			{set: Settings{BuildArgs: map[string]string{"V": "cli"}}, plan: true, want: "base hit hit miss miss miss",
				why:  map[int]Reason{4: whyVar(ReasonArg, "V", ptr("global"), ptr("cli")), 5: whyCascade(4, 6), 6: whyCascade(4, 6)},
				sees: map[int][]string{4: {"V=cli"}, 6: {"V=cli"}}},
		}},
		{name: "ENV overrides an earlier ARG and an ARG after the ENV overrides it", builds: []caseBuild{
			{dockerfile: "FROM scratch\nARG V=arg\nENV V=env\nRUN env\nARG V=again\nRUN env\nENV W=$V\nRUN env\n",
				want: "base miss miss miss miss miss miss miss",
				why: map[int]Reason{2: whyNew, 3: whyCascade(2, 2), 4: whyCascade(2, 2), 5: whyCascade(2, 2),
					6: whyCascade(2, 2), 7: whyCascade(2, 2), 8: whyCascade(2, 2)},
				sees: map[int][]string{4: {"V=env"}, 6: {"V=again"}, 8: {"V=again", "W=again"}}},
			{set: Settings{BuildArgs: map[string]string{"V": "cli"}}, plan: true, want: "base hit hit hit hit miss miss miss",
				why:  map[int]Reason{6: whyVar(ReasonArg, "V", ptr("again"), ptr("cli")), 7: whyCascade(6, 6), 8: whyCascade(6, 6)},
				sees: map[int][]string{6: {"V=cli"}, 8: {"V=cli", "W=cli"}},
				check: func(t *testing.T, _ *harness, res []*Result) {
					env := res[1].Image.Config.Env
					if want := []string{DefaultPathEnv, "V=env", "W=cli"}; !slices.Equal(env, want) {
						t.Errorf("image env %q, want %q (ARG values stay out of the image)", env, want)
					}
				}},
		}},
		{name: "a stage does not see another stage's ARG", builds: []caseBuild{
			{dockerfile: "FROM scratch AS a\nARG V=1\nRUN echo $V > /v\nFROM scratch AS b\nRUN env\nFROM b\nCOPY --from=a /v /v\nRUN env\n",
				stages: "a a a b b 2 2 2", want: "base miss miss base miss base miss miss",
				why:  map[int]Reason{2: whyNew, 3: whyCascade(2, 2), 5: whyNew, 7: whyNew, 8: whyCascade(7, 7)},
				sees: map[int][]string{3: {"V=1"}, 5: {"!V"}, 8: {"!V"}}, files: map[string]string{"/v": "1\n"}},
			{set: Settings{BuildArgs: map[string]string{"V": "2"}}, want: "base hit miss base hit base miss miss",
				why:   map[int]Reason{3: whyVar(ReasonArg, "V", ptr("1"), ptr("2")), 7: whyFrom, 8: whyCascade(7, 7)},
				files: map[string]string{"/v": "2\n"}},
		}},
		{name: "proxy args reach RUN without an ARG and stay out of the key; an unused build arg is warned of", builds: []caseBuild{
			{dockerfile: "FROM scratch\nRUN env\n", set: Settings{BuildArgs: map[string]string{"HTTP_PROXY": "http://a", "UNUSED": "1"}},
				want: "base miss", why: map[int]Reason{2: whyNew}, sees: map[int][]string{2: {"HTTP_PROXY=http://a"}},
				check: func(t *testing.T, h *harness, _ []*Result) {
					if w := h.events.warnings; len(w) != 1 || !strings.Contains(w[0], "[UNUSED] were not consumed") {
						t.Errorf("warnings %q, want one about UNUSED", w)
					}
				}},
			{set: Settings{BuildArgs: map[string]string{"HTTP_PROXY": "http://b"}}, want: "base hit"},
		}},
		{name: "the platform ARGs are global ARGs", builds: []caseBuild{
			{dockerfile: "FROM scratch\nRUN env\nARG TARGETARCH TARGETOS\nRUN env\n", want: "base miss miss miss",
				why:  map[int]Reason{2: whyNew, 3: whyCascade(2, 2), 4: whyCascade(2, 2)},
				sees: map[int][]string{2: {"!TARGETARCH"}, 4: {"TARGETOS=linux", "TARGETARCH=" + runtime.GOARCH}}},
		}},
		{name: "WORKDIR and USER reach the process, and a changed USER's RUN misses on its settings in content mode", builds: []caseBuild{
			{dockerfile: "FROM scratch\nWORKDIR /app\nUSER 1000:1000\nRUN true\n", set: Settings{CacheMode: ModeContent},
				want: "base miss miss miss", why: map[int]Reason{2: whyNew, 3: whyNew, 4: whyNew},
				check: func(t *testing.T, h *harness, _ []*Result) {
					if p := h.exec.ran()[0]; p.Cwd != "/app" || p.UID != 1000 || p.GID != 1000 {
						t.Errorf("ran in %s as %d:%d, want /app as 1000:1000", p.Cwd, p.UID, p.GID)
					}
				}},
			{dockerfile: "FROM scratch\nWORKDIR /app\nUSER 1001:1000\nRUN true\n", set: Settings{CacheMode: ModeContent},
				want: "base hit miss miss",
				why: map[int]Reason{3: whyText("USER 1000:1000", "USER 1001:1000"),
					4: {Kind: ReasonInstruction, Cause: CauseSettings}}},
		}},
	})
}
