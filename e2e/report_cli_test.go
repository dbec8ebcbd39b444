package e2e

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportHistorySVG: history --format svg writes the stack alone as a
// well-formed SVG, one box per history entry when the build left no
// results (an image built before reports, here: its saved results removed).
func TestReportHistorySVG(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	busyboxBase(t, root)
	ctx := t.TempDir()
	writeTree(t, ctx, map[string]string{"Dockerfile": "FROM busybox:test\nENV A=1\nCOPY f /f\n", "f": "x"})
	md, _ := build(t, root, ctx, "-t", "svg:one")
	svg := mustMB(t, "history", "--root", root, "--format", "svg", "svg:one").stdout
	d := xml.NewDecoder(strings.NewReader(svg))
	for {
		if _, err := d.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("history --format svg is not well-formed: %v\n%s", err, svg)
		}
	}
	// Two base layers and the three steps, with the build's results.
	for _, want := range []string{`data-step="base.1" data-cache="base"`, `data-step="base.2" data-cache="base"`,
		`data-step="1" data-cache="base"`, `data-step="2" data-cache="miss"`, `data-step="3" data-cache="miss"`, "↳ cascade"} {
		if !strings.Contains(svg, want) {
			t.Errorf("svg lacks %s", want)
		}
	}
	if md.Steps[2].Layer == nil || !strings.Contains(svg, *md.Steps[2].Layer) {
		t.Errorf("svg lacks the COPY layer")
	}
	if err := os.RemoveAll(filepath.Join(root, "reports")); err != nil {
		t.Fatal(err)
	}
	svg = mustMB(t, "history", "--root", root, "--format", "svg", "svg:one").stdout
	if n := strings.Count(svg, `data-cache="unknown"`); n != 5 {
		t.Errorf("without saved results: %d unknown boxes, want one per history entry (5: COPY, RUN, CMD of the base, ENV, COPY)", n)
	}
	if r := mb(t, "report", "--root", root, "svg:one"); r.code != 2 || !strings.Contains(r.stderr, "-o FILE.html is required") {
		t.Errorf("report without -o: exit %d, %s", r.code, r.stderr)
	}
	if r := mb(t, "report", "--root", root, "-o", filepath.Join(t.TempDir(), "x.html"), "nosuch:image"); r.code != 1 {
		t.Errorf("report of a missing image: exit %d", r.code)
	}
}

// TestReportLessons: a lesson writes its reports into $REPORT_DIR, each a
// page with a cascade origin.
func TestReportLessons(t *testing.T) {
	requireRoot(t)
	requireBusybox(t)
	dir := t.TempDir()
	cmd := exec.Command("bash", "../examples/lessons/3-identical-layer/run.sh")
	cmd.Env = append(os.Environ(), "MINIBUILD="+bin, "LESSON_ROOT="+t.TempDir(), "REPORT_DIR="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("lesson: %v\n%s", err, out)
	}
	for _, name := range []string{"3-identical-layer-cascade.html", "3-identical-layer-content.html",
		"3-identical-layer-cascade-compare.html", "3-identical-layer-content-compare.html"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Error(err)
			continue
		}
		if !strings.Contains(string(data), `data-origin="true"`) || !strings.Contains(string(data), "</html>") {
			t.Errorf("%s has no cascade origin", name)
		}
	}
}

// TestReportStageGraph: a two-stage build keeps its stage graph with its
// results, byte for byte the same with --jobs 1 and --jobs 4; report
// lists the stages as text, draws one box per stage as SVG and in the
// page; a record written before graphs were kept still reports, without.
func TestReportStageGraph(t *testing.T) {
	requireRoot(t)
	df := "FROM busybox:test AS build\nRUN echo built > /out\nFROM busybox:test\nCOPY --from=build /out /out\nCOPY f /f\n"
	var records []string
	var root, ctx string
	for _, jobs := range []string{"1", "4"} {
		root, ctx = t.TempDir(), t.TempDir()
		busyboxBase(t, root)
		writeTree(t, ctx, map[string]string{"Dockerfile": df, "f": "one\n"})
		md, _ := build(t, root, ctx, "--jobs", jobs, "-t", "graph:two")
		data, err := os.ReadFile(filepath.Join(root, "reports", "by-digest", strings.TrimPrefix(md.Image.ManifestDigest, "sha256:")+".json"))
		if err != nil {
			t.Fatal(err)
		}
		records = append(records, string(data))
	}
	if records[0] != records[1] {
		t.Errorf("the results kept by --jobs 1 and --jobs 4 differ:\n%s\n%s", records[0], records[1])
	}
	if want := `"graph":[{"stage":"build","steps":[1,2]},{"stage":"1","needs":[0],"steps":[3,4,5]}]`; !strings.Contains(records[1], want) {
		t.Errorf("the results lack the graph %s:\n%s", want, records[1])
	}
	text := mustMB(t, "report", "--root", root, "--format", "text", "graph:two").stdout
	for _, want := range []string{"Stages: 2 in 2 columns", "build    column 0  steps 1-2  0 hit, 1 miss  ✗ rebuilt\n",
		"stage 1  column 1  steps 3-5  0 hit, 2 miss  ✗ rebuilt  ← build\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("text report lacks %q:\n%s", want, text)
		}
	}

	// A change to f rebuilds part of the final stage only.
	writeTree(t, ctx, map[string]string{"f": "two\n"})
	build(t, root, ctx, "-t", "graph:two")
	text = mustMB(t, "report", "--root", root, "--format", "text", "graph:two").stdout
	for _, want := range []string{"build    column 0  steps 1-2  1 hit, 0 miss  ✓ cached\n", "stage 1  column 1  steps 3-5  1 hit, 1 miss  ◐ partial  ← build\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("text report after a change lacks %q:\n%s", want, text)
		}
	}
	t.Logf("text report after the change:\n%s", text)
	svgFile := filepath.Join(t.TempDir(), "stages.svg")
	mustMB(t, "report", "--root", root, "--format", "svg", "-o", svgFile, "graph:two")
	svg, err := os.ReadFile(svgFile)
	if err != nil {
		t.Fatal(err)
	}
	boxes, edges := 0, 0
	d := xml.NewDecoder(strings.NewReader(string(svg)))
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("report --format svg is not well-formed: %v\n%s", err, svg)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "g" {
			for _, a := range se.Attr {
				switch {
				case a.Name.Local == "class" && strings.HasPrefix(a.Value, "stage "):
					boxes++
				case a.Name.Local == "class" && a.Value == "edge":
					edges++
				}
			}
		}
	}
	if boxes != 2 || edges != 1 {
		t.Errorf("svg: %d stage boxes and %d arrows, want 2 and 1", boxes, edges)
	}
	t.Logf("stage graph SVG of two stages: %d bytes", len(svg))
	page := mustMB(t, "report", "--root", root, "-o", "-", "graph:two").stdout
	if !strings.Contains(page, "<h2>Stages</h2>") || strings.Count(page, `<g class="stage g-`) != 2 {
		t.Errorf("the page does not draw the two stages")
	}

	// A record written before graphs were kept: no "version", no "graph".
	files, _ := filepath.Glob(filepath.Join(root, "reports", "*", "*.json"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var rec map[string]json.RawMessage
		if err := json.Unmarshal(data, &rec); err != nil {
			t.Fatal(err)
		}
		delete(rec, "graph")
		delete(rec, "version")
		data, _ = json.Marshal(rec)
		if err := os.WriteFile(f, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	text = mustMB(t, "report", "--root", root, "--format", "text", "graph:two").stdout
	if strings.Contains(text, "Stages:") || !strings.Contains(text, "COPY f /f") {
		t.Errorf("an old record: the text report shows a graph or lacks the steps:\n%s", text)
	}
	if r := mb(t, "report", "--root", root, "--format", "svg", "-o", "-", "graph:two"); r.code != 1 || !strings.Contains(r.stderr, "no stage graph") {
		t.Errorf("svg of an old record: exit %d, %s", r.code, r.stderr)
	}
}
