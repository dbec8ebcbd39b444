package e2e

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// historyJSON is a row of `minibuild history --format json`.
type historyJSON struct {
	CreatedBy    string   `json:"createdBy"`
	EmptyLayer   bool     `json:"emptyLayer"`
	Layer        string   `json:"layer"`
	Size         int64    `json:"size"`
	SharedWith   []string `json:"sharedWith"`
	SharedImages int      `json:"sharedImages"`
}

// TestHistory: one row per history entry, newest first, with the
// layer's digest and size, "<empty layer>" for config-only steps, and the
// layers other images in the store hold marked as shared.
func TestHistory(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	base := busyboxBase(t, root)
	ctxA, ctxB := t.TempDir(), t.TempDir()
	writeTree(t, ctxA, map[string]string{
		"Dockerfile": "FROM busybox:test\nRUN echo a > /a\nENV MODE=a\nCOPY f.txt /f.txt\n",
		"f.txt":      "file of a",
	})
	writeTree(t, ctxB, map[string]string{"Dockerfile": "FROM busybox:test\nRUN echo b > /b\n"})
	mdA, _ := build(t, root, ctxA, "-t", "app:a", "-t", "app:a-alias")
	build(t, root, ctxB, "-t", "app:b")

	r := mustMB(t, "history", "--root", root, "--format", "json", "app:a")
	var rows []historyJSON
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		t.Fatalf("history json: %v\n%s", err, r.stdout)
	}
	// Newest first: COPY, ENV, RUN of app:a, then busybox's CMD, RUN, COPY.
	var by []string
	for _, row := range rows {
		by = append(by, row.CreatedBy)
	}
	wantBy := []string{"COPY f.txt /f.txt", "ENV MODE=a", "RUN /bin/sh -c echo a > /a", `CMD ["/bin/sh"]`,
		"RUN /bin/busybox --install -s /bin", "COPY busybox /bin/busybox"}
	if !reflect.DeepEqual(by, wantBy) {
		t.Fatalf("created by, newest first:\n%q\nwant\n%q", by, wantBy)
	}
	m := readStoreManifest(t, root, mdA.Image.ManifestDigest)
	// Layers bottom first: busybox's two, then app:a's RUN and COPY.
	layerOf := map[int]int{5: 0, 4: 1, 2: 2, 0: 3}
	sharedBase := []string{"app:b", "busybox:test"}
	for i, row := range rows {
		l, hasLayer := layerOf[i]
		if row.EmptyLayer == hasLayer {
			t.Errorf("row %d (%s): emptyLayer %v", i, row.CreatedBy, row.EmptyLayer)
			continue
		}
		if !hasLayer {
			if row.Layer != "" || row.Size != 0 || len(row.SharedWith) != 0 {
				t.Errorf("empty row %d (%s) has a layer: %+v", i, row.CreatedBy, row)
			}
			continue
		}
		if row.Layer != m.Layers[l].Digest || row.Size != m.Layers[l].Size {
			t.Errorf("row %d (%s): layer %s %d, want %s %d", i, row.CreatedBy, row.Layer, row.Size, m.Layers[l].Digest, m.Layers[l].Size)
		}
		wantShared, wantCount := []string{}, 0
		if l < 2 {
			wantShared, wantCount = sharedBase, 2
		}
		if !reflect.DeepEqual(row.SharedWith, wantShared) || row.SharedImages != wantCount {
			t.Errorf("row %d (%s): shared with %v (%d), want %v (%d)", i, row.CreatedBy, row.SharedWith, row.SharedImages, wantShared, wantCount)
		}
	}
	// The COPY layer's digest is the one the build reported for that step.
	if copyStep := mdA.Steps[len(mdA.Steps)-1]; copyStep.Layer == nil || *copyStep.Layer != rows[0].Layer {
		t.Errorf("COPY layer %s is not the build's %v", rows[0].Layer, copyStep.Layer)
	}

	table := mustMB(t, "history", "--root", root, "app:a").stdout
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != 7 || !strings.HasPrefix(lines[0], "LAYER") || !strings.Contains(lines[0], "SHARED") {
		t.Fatalf("table:\n%s", table)
	}
	short := func(d string) string { return strings.TrimPrefix(d, "sha256:")[:12] }
	for i, want := range [][]string{
		{short(rows[0].Layer), "COPY f.txt /f.txt", " -"},
		{"<empty layer>", "ENV MODE=a", "0 B"},
		{short(rows[2].Layer), "RUN /bin/sh -c echo a > /a", " -"},
		{"<empty layer>", `CMD ["/bin/sh"]`},
		{short(rows[4].Layer), "RUN /bin/busybox --install -s /bin", "shared: 2 images"},
		{short(rows[5].Layer), "COPY busybox /bin/busybox", "1.0 MiB", "shared: 2 images"},
	} {
		for _, w := range want {
			if !strings.Contains(lines[i+1], w) {
				t.Errorf("table row %d %q lacks %q", i+1, lines[i+1], w)
			}
		}
	}
	full := mustMB(t, "history", "--root", root, "--no-trunc", "app:a").stdout
	if !strings.Contains(full, rows[5].Layer+"  COPY busybox /bin/busybox") || !strings.Contains(full, "app:b, busybox:test") {
		t.Errorf("--no-trunc lacks the full digest or the sharing images' names:\n%s", full)
	}
	// A long step is cut to 45 columns unless --no-trunc.
	long := "RUN /bin/sh -c echo " + strings.Repeat("x", 60)
	writeTree(t, ctxB, map[string]string{"Dockerfile": "FROM busybox:test\nRUN echo " + strings.Repeat("x", 60) + "\n"})
	build(t, root, ctxB, "-t", "app:long")
	if out := mustMB(t, "history", "--root", root, "app:long").stdout; strings.Contains(out, long) || !strings.Contains(out, long[:44]+"…") {
		t.Errorf("long step not cut at 45 columns:\n%s", out)
	}
	if out := mustMB(t, "history", "--root", root, "--no-trunc", "app:long").stdout; !strings.Contains(out, long) {
		t.Errorf("--no-trunc cut the step:\n%s", out)
	}

	// The base image shares both its layers with app:a (counted once for
	// its two tags), app:b and app:long.
	r = mustMB(t, "history", "--root", root, "--format", "json", "busybox:test")
	rows = nil
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		t.Fatal(err)
	}
	want := []string{"app:a", "app:a-alias", "app:b", "app:long"}
	if len(rows) != 3 || !reflect.DeepEqual(rows[2].SharedWith, want) || rows[2].SharedImages != 3 {
		t.Errorf("busybox:test history: %+v, want its layers shared with %v (3 images)", rows, want)
	}
	if *base.Steps[1].Layer != rows[2].Layer {
		t.Errorf("busybox COPY layer %s, built %s", rows[2].Layer, *base.Steps[1].Layer)
	}

	for _, args := range [][]string{{"history", "--root", root}, {"history", "--root", root, "--format", "yaml", "app:a"}} {
		if r := mb(t, args...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2 (usage)\n%s", args, r.code, r.stderr)
		}
	}
	if r := mb(t, "history", "--root", root, "nosuch:tag"); r.code != 1 || !strings.Contains(r.stderr, "nosuch:tag") {
		t.Errorf("unknown image: exit %d %s", r.code, r.stderr)
	}
}
