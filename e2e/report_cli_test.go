package e2e

import (
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
