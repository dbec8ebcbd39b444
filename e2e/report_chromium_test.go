package e2e

import (
	"context"
	"encoding/json"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// probeScript, added to a copy of a report, measures what Chromium drew:
// each layer box's data attributes, text mark and on-screen size, the
// cascade, and the time from navigation to a laid-out page.
const probeScript = `<script>
(function(){
  document.body.getBoundingClientRect();
  var out={boxes:[],cascades:[],same:[]};
  document.querySelectorAll('svg g.step').forEach(function(g){
    var r=g.querySelector('rect.box').getBoundingClientRect();
    out.boxes.push({step:g.dataset.step,cache:g.dataset.cache,mark:g.dataset.mark,origin:g.dataset.origin==='true',
      stopped:g.dataset.stopped==='true',build:g.dataset.build||'',text:g.querySelector('text.mark').textContent,
      title:g.querySelector('title').textContent,y:r.top,h:r.height,w:r.width});
  });
  document.querySelectorAll('svg g.cascade').forEach(function(c){
    var r=c.getBoundingClientRect();
    out.cascades.push({origin:c.dataset.originStep,steps:c.dataset.cascadeSteps,h:r.height});
  });
  document.querySelectorAll('svg text.same').forEach(function(t){out.same.push(t.dataset.step+'='+t.dataset.same);});
  out.rows=document.querySelectorAll('table.steps tbody tr').length;
  out.renderMs=performance.now();
  var p=document.createElement('pre');p.id='probe';p.textContent=JSON.stringify(out);document.body.appendChild(p);
})();
</script>`

type probeBox struct {
	Step, Cache, Mark, Build, Text, Title string
	Origin, Stopped                       bool
	Y, H, W                               float64
}

type probe struct {
	Boxes    []probeBox
	Cascades []struct {
		Origin, Steps string
		H             float64
	}
	Same     []string
	Rows     int
	RenderMs float64
}

// chromium runs Debian's headless Chromium on a local file with args.
func chromium(t *testing.T, page string, args ...string) (string, time.Duration) {
	t.Helper()
	exe := requireTool(t, "chromium")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, exe, append(append(base, args...), "file://"+page)...)
	var errb strings.Builder
	cmd.Stderr = &errb
	began := time.Now()
	out, err := cmd.Output()
	took := time.Since(began)
	if err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, errb.String())
	}
	return string(out), took
}

// probeReport opens a copy of the report with the probe script in
// Chromium and returns what it measured.
func probeReport(t *testing.T, report string) probe {
	t.Helper()
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(t.TempDir(), "probed.html")
	if err := os.WriteFile(page, []byte(strings.Replace(string(data), "</body>", probeScript+"</body>", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	dom, _ := chromium(t, page, "--dump-dom")
	m := regexp.MustCompile(`(?s)<pre id="probe">(.*?)</pre>`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("the probe did not run; DOM:\n%.2000s", dom)
	}
	var p probe
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &p); err != nil {
		t.Fatalf("probe: %v\n%s", err, m[1])
	}
	return p
}

// wantMark is the text mark a step's box must carry, from the metadata.
func wantMark(cache, reason string, origin bool) string {
	switch {
	case cache == "base":
		return "• base"
	case cache == "hit":
		return "✓ hit"
	case origin:
		return "✗ origin"
	case strings.HasPrefix(reason, "parent:"):
		return "↳ cascade"
	case cache == "miss":
		return "✗ miss"
	}
	return "? unknown"
}

// checkAgainstMetadata checks the drawn boxes of one build (column) against
// its --metadata-file: one box per step, same cache result, the right text
// mark, the first miss as the origin, and the base drawn at the bottom.
func checkAgainstMetadata(t *testing.T, p probe, column string, md metadata) {
	t.Helper()
	boxes := map[string]probeBox{}
	var bottomBase, top float64 = 0, 1e9
	for _, b := range p.Boxes {
		if b.Build != column {
			continue
		}
		boxes[b.Step] = b
		if b.W < 100 || b.H < 10 {
			t.Errorf("%s step %s drawn %gx%g px", column, b.Step, b.W, b.H)
		}
		if strings.HasPrefix(b.Step, "base.") && b.Y > bottomBase {
			bottomBase = b.Y
		}
		if b.Y < top {
			top = b.Y
		}
	}
	firstMiss := ""
	for _, s := range md.Steps {
		if s.Cache == "miss" && firstMiss == "" {
			firstMiss = itoa(s.Index)
		}
	}
	var lastY float64 = 1e9
	for _, s := range md.Steps {
		id := itoa(s.Index)
		b, ok := boxes[id]
		if !ok {
			t.Errorf("%s: no box for step %s (%s)", column, id, s.Instruction)
			continue
		}
		if b.Cache != s.Cache {
			t.Errorf("%s step %s: drawn %q, metadata says %q", column, id, b.Cache, s.Cache)
		}
		if want := wantMark(s.Cache, s.Reason, id == firstMiss); b.Text != want {
			t.Errorf("%s step %s: mark %q, want %q", column, id, b.Text, want)
		}
		if b.Origin != (id == firstMiss) {
			t.Errorf("%s step %s: origin %v, first miss is step %q", column, id, b.Origin, firstMiss)
		}
		if s.Reason != "" && !strings.Contains(b.Title, s.Reason) {
			t.Errorf("%s step %s: hover text %q lacks the reason %q", column, id, b.Title, s.Reason)
		}
		if b.Y >= lastY {
			t.Errorf("%s step %s is drawn below the step before it", column, id)
		}
		lastY = b.Y
	}
	if bottomBase > 0 && bottomBase < lastY {
		t.Errorf("%s: base layers are not at the bottom", column)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestReportChromium builds an image, edits one line, rebuilds it in
// cascade and content mode, and checks in headless Chromium that the
// --report page and the comparison draw what the metadata files say.
func TestReportChromium(t *testing.T) {
	requireRoot(t)
	requireTool(t, "chromium")
	root := t.TempDir()
	busyboxBase(t, root)
	ctx := t.TempDir()
	df := "FROM busybox:test\nRUN echo hello > /greeting\nENV STAGE=one\nRUN wc -c /greeting > /size\nCOPY note.txt /note.txt\n"
	writeTree(t, ctx, map[string]string{"Dockerfile": df, "note.txt": "a note"})
	for _, mode := range []string{"cascade", "content"} {
		build(t, root, ctx, "--cache-mode", mode)
		build(t, root, ctx, "--cache-mode", mode, "-t", "app:before-"+mode)
	}
	writeTree(t, ctx, map[string]string{"Dockerfile": strings.Replace(df, "echo hello", `echo "hello"`, 1)})
	out := t.TempDir()
	began := time.Now()
	mdC, _ := build(t, root, ctx, "--cache-mode", "cascade", "-t", "app:after-cascade", "--report", filepath.Join(out, "after.html"))
	mdN, _ := build(t, root, ctx, "--cache-mode", "content", "-t", "app:after-content")
	t.Logf("builds: %v", time.Since(began))
	if got := strings.Join(mdC.cacheResults(), " "); got != "base miss miss miss miss" {
		t.Fatalf("cascade rebuild: %s", got)
	}
	if got := strings.Join(mdN.cacheResults(), " "); got != "base miss hit hit hit" {
		t.Fatalf("content rebuild: %s", got)
	}
	mustMB(t, "report", "--root", root, "app:after-content", "--compare", "app:before-content", "-o", filepath.Join(out, "content.html"))

	began = time.Now()
	p := probeReport(t, filepath.Join(out, "after.html"))
	checkAgainstMetadata(t, p, "", mdC)
	if len(p.Cascades) != 1 || p.Cascades[0].Origin != "2" || p.Cascades[0].Steps != "3 4 5" || p.Cascades[0].H < 100 {
		t.Errorf("cascade drawn %+v, want from step 2 through 3 4 5", p.Cascades)
	}
	if p.Rows != len(mdC.Steps)+2 {
		t.Errorf("table has %d rows, want %d steps + 2 base layers", p.Rows, len(mdC.Steps))
	}
	t.Logf("report: %d boxes, laid out %.0f ms after navigation", len(p.Boxes), p.RenderMs)

	c := probeReport(t, filepath.Join(out, "content.html"))
	checkAgainstMetadata(t, c, "after: app:after-content", mdN)
	for _, b := range c.Boxes {
		if b.Build == "before: app:before-content" && !strings.HasPrefix(b.Step, "base.") && b.Cache != "hit" && b.Cache != "base" {
			t.Errorf("before column step %s: %s, want every step a hit", b.Step, b.Cache)
		}
		if b.Build == "after: app:after-content" && b.Step == "3" && !b.Stopped {
			t.Errorf("content hit after the miss is not marked as stopping the cascade: %+v", b)
		}
	}
	if got := strings.Join(c.Same, " "); !strings.Contains(got, "2=true") {
		t.Errorf("the rebuilt step 2 made a byte-identical layer, but the comparison says %q", got)
	}
	t.Logf("chromium checks: %v", time.Since(began))
}
