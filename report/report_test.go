package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/minibuild/minibuild/builder"
)

// steps makes a build's steps from specs "CACHE" or "CACHE|KIND:ARG":
// source:PATH (a changed file), parent:N (a cascade from step N),
// content:N (step N rebuilt to the same layer), instruction, new, arg:NAME.
func steps(spec ...string) []Step {
	var out []Step
	for i, s := range spec {
		cache, why, _ := strings.Cut(s, "|")
		st := Step{ID: fmt.Sprint(i + 1), Index: i + 1, Line: i + 1, Instruction: fmt.Sprintf("RUN step %d", i+1),
			Cache: builder.CacheResult(cache), Reason: reason(why), InImage: true, Layer: fmt.Sprintf("sha256:%064x", i+1), Size: int64(1000 << i)}
		if st.Cache == builder.CacheBase {
			st.Instruction, st.Layer, st.Size, st.EmptyLayer = "FROM busybox", "", 0, true
		}
		out = append(out, st)
	}
	return out
}

func reason(spec string) builder.Reason {
	kind, arg, _ := strings.Cut(spec, ":")
	n, _ := strconv.Atoi(arg)
	switch kind {
	case "source":
		return builder.Reason{Kind: builder.ReasonSource, Cause: builder.CauseFiles, Files: &builder.FileChanges{Changed: []string{arg}, ChangedCount: 1}}
	case "parent":
		return builder.Reason{Kind: builder.ReasonParent, Cause: builder.CauseCascade, Step: n, Line: n}
	case "content":
		return builder.Reason{Kind: builder.ReasonContent, Cause: builder.CauseSameLayer, Step: n, Line: n}
	case "instruction":
		a, b := "RUN a", "RUN b"
		return builder.Reason{Kind: builder.ReasonInstruction, Cause: builder.CauseText, Old: &a, New: &b}
	case "new":
		return builder.Reason{Kind: builder.ReasonNew, Cause: builder.CauseNoRecord}
	case "arg":
		a, b := "1", "2"
		return builder.Reason{Kind: builder.ReasonArg, Name: arg, Old: &a, New: &b}
	}
	return builder.Reason{}
}

func TestMarks(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []Step
		want  string // kind per step, + for origin, ! for a stopped cascade
	}{
		{"all hit", steps("base", "hit", "hit"), "base hit hit"},
		{"cascade", steps("base", "hit", "miss|source:a", "miss|parent:3", "miss|parent:3"),
			"base hit miss+ cascade cascade"},
		{"content stops", steps("base", "miss|instruction", "hit|content:2", "hit"),
			"base miss+ hit! hit"},
		{"second own miss", steps("base", "miss|new", "miss|arg:V"), "base miss+ miss"},
		{"unknown", steps("base", "unknown"), "base unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, m := range Marks(tc.steps) {
				k := m.Kind
				if m.Origin {
					k += "+"
				}
				if m.Stopped {
					k += "!"
				}
				got = append(got, k)
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("marks %q, want %q", g, tc.want)
			}
		})
	}
}

var stepAttrs = regexp.MustCompile(`<g class="step[^"]*" data-step="([^"]+)" data-cache="([a-z]+)" data-mark="([a-z]+)" data-origin="(true|false)"`)

func TestHTMLDrawsEveryStep(t *testing.T) {
	b := Build{Title: "app:dev", Steps: steps("base", "hit", "miss|source:<main.sh> & \"x\"", "miss|parent:3")}
	b.Steps[1].Shared = 2
	b.Steps = append(b.Steps, Step{ID: "5", Index: 5, Line: 9, Stage: "build", Instruction: "RUN make", Cache: builder.CacheMiss, Reason: reason("parent:3")})
	var buf bytes.Buffer
	if err := HTML(&buf, b); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	got := stepAttrs.FindAllStringSubmatch(page, -1)
	// Document order is build order; the base is drawn at the bottom.
	want := [][]string{{"1", "base", "base", "false"}, {"2", "hit", "hit", "false"}, {"3", "miss", "miss", "true"}, {"4", "miss", "cascade", "false"}}
	if len(got) != len(want) {
		t.Fatalf("drew %d boxes, want %d (a step outside the image is not drawn):\n%s", len(got), len(want), page)
	}
	for i, w := range want {
		if strings.Join(got[i][1:], " ") != strings.Join(w, " ") {
			t.Errorf("box %d: %v, want %v", i, got[i][1:], w)
		}
	}
	for _, w := range []string{"✗ origin", "↳ cascade", "✓ hit", "• base", "⇄ shared with 2 other images",
		"source: changed &lt;main.sh&gt; &amp; &quot;x&quot;", `data-origin-step="3" data-cascade-steps="4"`,
		"stage build, not in the image.", "prefers-color-scheme: dark", "the cascade starts at step 3, line 3"} {
		if !strings.Contains(page, w) {
			t.Errorf("page lacks %q", w)
		}
	}
	for _, bad := range []string{"http://", "https://", "<script", "<link", "src="} {
		if strings.Contains(strings.ReplaceAll(page, `xmlns="http://www.w3.org/2000/svg"`, ""), bad) {
			t.Errorf("page is not self-contained: it holds %q", bad)
		}
	}
}

func TestCompareAligns(t *testing.T) {
	before := Build{Title: "a:before", Steps: steps("base", "hit", "hit", "hit")}
	after := Build{Title: "a:after", Steps: steps("base", "hit", "miss|instruction", "hit|content:3")}
	after.Steps[3].Layer = "sha256:other"
	var buf bytes.Buffer
	if err := CompareHTML(&buf, before, after); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	same := regexp.MustCompile(`data-step="(\d)" data-same="(true|false)"`).FindAllStringSubmatch(page, -1)
	var got []string
	for _, m := range same {
		got = append(got, m[1]+"="+m[2])
	}
	if g := strings.Join(got, " "); g != "2=true 3=true 4=false" {
		t.Errorf("same-layer marks %q", g)
	}
	if n := strings.Count(page, `data-build="before: a:before"`); n != 4 {
		t.Errorf("before column has %d boxes, want 4", n)
	}
	if !strings.Contains(page, `data-step="4" data-cache="hit" data-mark="hit" data-origin="false" data-stopped="true"`) {
		t.Error("the content hit after the miss is not marked as stopping the cascade")
	}
}

func TestSVGIsWellFormed(t *testing.T) {
	b := Build{Title: "x\x00y", Steps: steps("base", "miss|source:\x01bad\xff bytes <&>")}
	var buf bytes.Buffer
	if err := SVG(&buf, b); err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(&buf)
	for {
		_, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
	}
}

// TestFortyStepsSize: the report of a 40-step build stays well under 200 KB.
func TestFortyStepsSize(t *testing.T) {
	spec := []string{"base"}
	for i := 1; i < 40; i++ {
		switch {
		case i < 20:
			spec = append(spec, "hit")
		case i == 20:
			spec = append(spec, "miss|source:src/"+strings.Repeat("deep/", 20)+"main.go")
		default:
			spec = append(spec, "miss|parent:21")
		}
	}
	b := Build{Title: "big:40", Steps: steps(spec...)}
	for i := range b.Steps {
		b.Steps[i].Instruction += " " + strings.Repeat("--flag ", 30)
		b.Steps[i].Shared = i % 3
	}
	var one, two bytes.Buffer
	if err := HTML(&one, b); err != nil {
		t.Fatal(err)
	}
	if err := CompareHTML(&two, b, b); err != nil {
		t.Fatal(err)
	}
	t.Logf("40 steps: report %d bytes, comparison %d bytes", one.Len(), two.Len())
	if one.Len() > 200_000 || two.Len() > 200_000 {
		t.Errorf("report %d bytes, comparison %d bytes: want under 200 KB", one.Len(), two.Len())
	}
}

// TestMountsListed: a RUN's mounts are listed under its instruction,
// escaped, secrets by id only.
func TestMountsListed(t *testing.T) {
	got := mountsHTML([]builder.StepMount{
		{Type: "cache", Target: "/var/cache/<apt>", ID: "/var/cache/<apt>"},
		{Type: "secret", ID: "tok", Target: "/run/secrets/tok"},
	})
	for _, want := range []string{"mount: cache /var/cache/&lt;apt&gt;", "mount: secret tok at /run/secrets/tok"} {
		if !strings.Contains(got, want) {
			t.Errorf("mountsHTML lacks %q:\n%s", want, got)
		}
	}
}
