package report

import (
	"bytes"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minibuild/minibuild/builder"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// stageStep is a step of stage stage at index i: "base" for a FROM, else
// a cache result with an optional reason spec (see reason).
func stageStep(i int, stage, spec, ins string) Step {
	cache, why, _ := strings.Cut(spec, "|")
	return Step{ID: fmt.Sprint(i), Index: i, Line: i, Stage: stage, Instruction: ins, Cache: builder.CacheResult(cache),
		Reason: reason(why), InImage: stage == "3", EmptyLayer: cache == "base"}
}

// diamond is a build whose final stage copies from two stages built from
// one base stage: base cached, a cached, b rebuilt, the final partly.
func diamond() Build {
	return Build{Title: "app:diamond", Digest: "sha256:" + strings.Repeat("d", 64), Mode: "cascade",
		Steps: []Step{
			stageStep(1, "base", "base", "FROM busybox AS base"),
			stageStep(2, "base", "hit", "RUN echo base > /base"),
			stageStep(3, "a", "base", "FROM base AS a"),
			stageStep(4, "a", "hit", "RUN echo a > /a"),
			stageStep(5, "b", "base", "FROM base AS b"),
			stageStep(6, "b", "miss|source:f", "COPY f /f"),
			stageStep(7, "b", "miss|parent:6", "RUN cat /f > /b"),
			stageStep(8, "3", "base", "FROM busybox"),
			stageStep(9, "3", "hit", "COPY --from=a /a /a"),
			stageStep(10, "3", "miss|parent:7", "COPY --from=b /b /b"),
		},
		Graph: []builder.StageNode{
			{Stage: "base", Steps: []int{1, 2}},
			{Stage: "a", Needs: []int{0}, Steps: []int{3, 4}},
			{Stage: "b", Needs: []int{0}, Steps: []int{5, 6, 7}},
			{Stage: "3", Needs: []int{1, 2}, Steps: []int{8, 9, 10}},
		}}
}

// platforms is a build for two platforms whose images copy from one
// stage built on the build platform.
func platforms() Build {
	b := Build{Title: "app:multi", Steps: []Step{
		stageStep(1, "tools", "base", "FROM --platform=$BUILDPLATFORM busybox AS tools"),
		stageStep(2, "tools", "miss|new", "RUN echo tools > /t"),
		stageStep(3, "1", "base", "FROM busybox"),
		stageStep(4, "1", "miss|parent:2", "COPY --from=tools /t /t"),
		stageStep(5, "1", "base", "FROM busybox"),
		stageStep(6, "1", "miss|parent:2", "COPY --from=tools /t /t"),
	}, Graph: []builder.StageNode{
		{Stage: "tools", Platform: "linux/amd64", Steps: []int{1, 2}},
		{Stage: "1", Platform: "linux/amd64", Needs: []int{0}, Steps: []int{3, 4}},
		{Stage: "1", Platform: "linux/arm64", Needs: []int{0}, Steps: []int{5, 6}},
	}}
	for i := range b.Steps {
		b.Steps[i].Platform = "linux/amd64"
		if i >= 4 {
			b.Steps[i].Platform = "linux/arm64"
		}
	}
	return b
}

// single is a one-stage build.
func single() Build {
	return Build{Title: "app:one", Steps: []Step{stageStep(1, "0", "base", "FROM busybox"), stageStep(2, "0", "hit", "RUN true")},
		Graph: []builder.StageNode{{Stage: "0", Steps: []int{1, 2}}}}
}

// TestStagesLayout: each stage's column is one more than the deepest of
// what it needs; rows follow build order; counts and kinds follow the
// steps' results.
func TestStagesLayout(t *testing.T) {
	cycle := single()
	cycle.Graph = []builder.StageNode{{Stage: "x", Needs: []int{1}}, {Stage: "y", Needs: []int{0, 7, -1}}}
	for _, tc := range []struct {
		name string
		b    Build
		want string // per stage: label col.row hit/miss kind
	}{
		{"diamond", diamond(), "base 0.0 1/0 cached; a 1.0 1/0 cached; b 1.1 0/2 rebuilt; stage 3 2.0 1/1 partial"},
		{"two platforms sharing a build-platform stage", platforms(),
			"tools [linux/amd64] 0.0 0/1 rebuilt; stage 1 [linux/amd64] 1.0 0/1 rebuilt; stage 1 [linux/arm64] 1.1 0/1 rebuilt"},
		{"single stage", single(), "stage 0 0.0 1/0 cached"},
		{"no graph", Build{Steps: single().Steps}, ""},
		{"a cycle and needs out of range", cycle, "x 1.0 0/0 cached; y 0.0 0/0 cached"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, s := range Stages(tc.b) {
				got = append(got, fmt.Sprintf("%s %d.%d %d/%d %s", stageLabel(s.StageNode), s.Column, s.Row, s.Hit, s.Miss, s.Kind))
			}
			if g := strings.Join(got, "; "); g != tc.want {
				t.Errorf("layout\n got %s\nwant %s", g, tc.want)
			}
		})
	}
}

// TestTextReport compares the text report with its golden file
// (go test ./report -run TestTextReport -update rewrites them).
func TestTextReport(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    Build
	}{{"diamond", diamond()}, {"platforms", platforms()}, {"single", single()}} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Text(&buf, tc.b); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "text-"+tc.name+".txt")
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if buf.String() != string(want) {
				t.Errorf("text report differs from %s:\n%s", golden, buf.String())
			}
			if hasStages := strings.Contains(buf.String(), "Stages:"); hasStages != (len(tc.b.Graph) > 1) {
				t.Errorf("stage listing shown: %v, with %d stages", hasStages, len(tc.b.Graph))
			}
		})
	}
}

// svgStage is what the test reads of a stage box.
type svgStage struct {
	Class string `xml:"class,attr"`
	Stage string `xml:"data-stage,attr"`
	Kind  string `xml:"data-kind,attr"`
}

// TestGraphSVG: the stage graph is well-formed XML with one box per stage
// and one arrow per need; a build without a graph has none to draw.
func TestGraphSVG(t *testing.T) {
	hostile := diamond()
	hostile.Graph[1].Stage = "a<&\"\x01\xff>"
	for _, tc := range []struct {
		name         string
		b            Build
		boxes, edges int
	}{
		{"diamond", diamond(), 4, 4},
		{"platforms", platforms(), 3, 2},
		{"single", single(), 1, 0},
		{"hostile names", hostile, 4, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := GraphSVG(&buf, tc.b); err != nil {
				t.Fatal(err)
			}
			var boxes []svgStage
			edges := 0
			d := xml.NewDecoder(bytes.NewReader(buf.Bytes()))
			for {
				tok, err := d.Token()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("not well-formed XML: %v\n%s", err, buf.String())
				}
				se, ok := tok.(xml.StartElement)
				if !ok || se.Name.Local != "g" {
					continue
				}
				var s svgStage
				for _, a := range se.Attr {
					switch a.Name.Local {
					case "class":
						s.Class = a.Value
					case "data-stage":
						s.Stage = a.Value
					case "data-kind":
						s.Kind = a.Value
					}
				}
				switch {
				case strings.HasPrefix(s.Class, "stage "):
					boxes = append(boxes, s)
				case s.Class == "edge":
					edges++
				}
			}
			if len(boxes) != tc.boxes || edges != tc.edges {
				t.Errorf("%d boxes and %d edges, want %d and %d", len(boxes), edges, tc.boxes, tc.edges)
			}
			for i, s := range boxes {
				if s.Class != "stage g-"+s.Kind || (i < len(tc.b.Graph) && tc.name != "hostile names" && s.Stage != tc.b.Graph[i].Stage) {
					t.Errorf("box %d: %+v", i, s)
				}
			}
		})
	}
	if err := GraphSVG(io.Discard, Build{Steps: single().Steps}); err != ErrNoGraph {
		t.Errorf("a build without a graph: %v, want ErrNoGraph", err)
	}
}

// TestHTMLStages: the page draws the stage graph of a build of several
// stages, and none for a single stage.
func TestHTMLStages(t *testing.T) {
	for _, tc := range []struct {
		name  string
		b     Build
		boxes int
	}{{"diamond", diamond(), 4}, {"single", single(), 0}, {"no graph", Build{Title: "x", Steps: single().Steps}, 0}} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := HTML(&buf, tc.b); err != nil {
				t.Fatal(err)
			}
			page := buf.String()
			if n := strings.Count(page, `<g class="stage g-`); n != tc.boxes {
				t.Errorf("%d stage boxes, want %d", n, tc.boxes)
			}
			if has := strings.Contains(page, "<h2>Stages</h2>"); has != (tc.boxes > 0) {
				t.Errorf("stages section: %v", has)
			}
		})
	}
}
