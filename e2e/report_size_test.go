package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportFortySteps: the report of a 40-step build stays under 200 KB
// and Chromium lays it out in under a second.
func TestReportFortySteps(t *testing.T) {
	requireRoot(t)
	requireTool(t, "chromium")
	root := t.TempDir()
	busyboxBase(t, root)
	ctx := t.TempDir()
	files := map[string]string{}
	var df strings.Builder
	df.WriteString("FROM busybox:test\n")
	for i := 1; i < 40; i++ {
		switch i % 3 {
		case 0:
			fmt.Fprintf(&df, "ENV STEP_%d=value-%d\n", i, i)
		default:
			name := fmt.Sprintf("src/file-%02d.txt", i)
			files[name] = strings.Repeat(fmt.Sprintf("line %d of a source file\n", i), i*40)
			fmt.Fprintf(&df, "COPY %s /app/%s\n", name, name)
		}
	}
	files["Dockerfile"] = df.String()
	writeTree(t, ctx, files)
	build(t, root, ctx, "-t", "big:v1")
	writeTree(t, ctx, map[string]string{"src/file-20.txt": "changed\n"})
	page := filepath.Join(t.TempDir(), "big.html")
	md, _ := build(t, root, ctx, "-t", "big:v2", "--report", page)
	if len(md.Steps) != 40 {
		t.Fatalf("%d steps, want 40", len(md.Steps))
	}
	info, err := os.Stat(page)
	if err != nil {
		t.Fatal(err)
	}
	cmp := filepath.Join(t.TempDir(), "cmp.html")
	mustMB(t, "report", "--root", root, "big:v2", "--compare", "big:v1", "-o", cmp)
	cinfo, err := os.Stat(cmp)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("40-step report: %d bytes; comparison: %d bytes", info.Size(), cinfo.Size())
	if info.Size() >= 200_000 || cinfo.Size() >= 200_000 {
		t.Errorf("report %d bytes, comparison %d bytes: want under 200 KB", info.Size(), cinfo.Size())
	}

	p := probeReport(t, page)
	checkAgainstMetadata(t, p, "", md)
	empty := filepath.Join(t.TempDir(), "empty.html")
	if err := os.WriteFile(empty, []byte("<!DOCTYPE html><html><body></body></html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, tEmpty := chromium(t, empty, "--dump-dom")
	_, tPage := chromium(t, page, "--dump-dom")
	t.Logf("40-step report: laid out %.0f ms after navigation (probe); --dump-dom %v vs an empty page's %v (+%v)",
		p.RenderMs, tPage, tEmpty, tPage-tEmpty)
	if p.RenderMs >= 1000 {
		t.Errorf("the 40-step report took %.0f ms to lay out, want under 1 s", p.RenderMs)
	}
}
