package e2e

import (
	"reflect"
	"strings"
	"testing"
)

// cascadeDockerfile makes three layers and two config-only steps; the
// metadata, reproducibility and OCI export tests build it from
// cascadeContext.
const cascadeDockerfile = `FROM scratch
COPY a.txt /a.txt
COPY src/ /app/
ENV GREETING=hello
COPY b.txt /app/b.txt
CMD ["/app/run"]
`

func cascadeContext(t *testing.T) string {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"Dockerfile":    cascadeDockerfile,
		"a.txt":         "a\n",
		"b.txt":         "b\n",
		"src/main.go":   "package main\n",
		"src/lib/x.txt": "x\n",
	})
	return dir
}

// TestRebuildAndCascade: the metadata file gives each step its index,
// line, instruction, key and layer; a rebuild hits and says CACHED. (The
// cache results and reasons of rebuilds, an mtime-only change, a changed
// file and --no-cache: builder's TestBuildCache.)
func TestRebuildAndCascade(t *testing.T) {
	requireRoot(t)
	root, ctx := t.TempDir(), cascadeContext(t)
	first, _ := build(t, root, ctx, "-t", "app:dev")
	if got, want := first.cacheResults(), []string{"base", "miss", "miss", "miss", "miss", "miss"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("first build: %v, want %v", got, want)
	}
	for i, s := range first.Steps {
		if s.Index != i+1 || s.Line != i+1 {
			t.Errorf("step %d: index %d line %d", i, s.Index, s.Line)
		}
	}
	if first.Steps[1].Instruction != "COPY a.txt /a.txt" || first.Steps[0].Key != "" || first.Steps[0].Layer != nil {
		t.Errorf("metadata steps: %+v", first.Steps[:2])
	}
	if first.Steps[3].Layer != nil || first.Steps[1].Layer == nil {
		t.Errorf("ENV must have no layer, COPY one: %+v", first.Steps)
	}

	again, out := build(t, root, ctx, "-t", "app:dev")
	if got, want := again.cacheResults(), []string{"base", "hit", "hit", "hit", "hit", "hit"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("rebuild: %v, want %v", got, want)
	}
	if !strings.Contains(out.stderr, "CACHED") {
		t.Errorf("rebuild output does not say CACHED:\n%s", out.stderr)
	}
}
