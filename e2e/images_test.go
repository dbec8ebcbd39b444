package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// imageJSON is a row of `minibuild images --format json`.
type imageJSON struct {
	Name   string `json:"name"`
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
	Layers int    `json:"layers"`
}

func listImages(t *testing.T, root string) []imageJSON {
	t.Helper()
	var rows []imageJSON
	if err := json.Unmarshal([]byte(mustMB(t, "images", "--root", root, "--format", "json").stdout), &rows); err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestImagesRmi: images lists each tag with its manifest digest, the
// sum of its layer sizes and its layer count; rmi removes tags only, and
// the blobs stay until cache prune finds nothing needs them.
func TestImagesRmi(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	base := busyboxBase(t, root)
	ctx := t.TempDir()
	writeTree(t, ctx, map[string]string{"Dockerfile": "FROM busybox:test\nRUN head -c 100000 /dev/urandom > /blob\nENV X=1\n"})
	app, _ := build(t, root, ctx, "-t", "app:1", "-t", "app")

	sum := func(digest string) (int64, int) {
		m := readStoreManifest(t, root, digest)
		var n int64
		for _, l := range m.Layers {
			n += l.Size
		}
		return n, len(m.Layers)
	}
	appSize, appLayers := sum(app.Image.ManifestDigest)
	baseSize, baseLayers := sum(base.Image.ManifestDigest)
	want := []imageJSON{
		{"app:1", app.Image.ManifestDigest, appSize, appLayers},
		{"app:latest", app.Image.ManifestDigest, appSize, appLayers},
		{"busybox:test", base.Image.ManifestDigest, baseSize, baseLayers},
	}
	if got := listImages(t, root); !reflect.DeepEqual(got, want) {
		t.Fatalf("images:\n%+v\nwant\n%+v", got, want)
	}
	if appLayers != 3 || appSize < 100000 {
		t.Errorf("app: %d layers of %d bytes, want 3 layers and the 100 kB RUN layer", appLayers, appSize)
	}
	table := mustMB(t, "images", "--root", root).stdout
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != 4 || strings.Join(strings.Fields(lines[0]), " ") != "NAME DIGEST SIZE LAYERS" {
		t.Fatalf("images table:\n%s", table)
	}
	short := strings.TrimPrefix(app.Image.ManifestDigest, "sha256:")[:12]
	if f := strings.Fields(lines[1]); f[0] != "app:1" || f[1] != short || f[len(f)-1] != strconv.Itoa(appLayers) {
		t.Errorf("row %q, want app:1 %s ... %d", lines[1], short, appLayers)
	}
	if full := mustMB(t, "images", "--root", root, "--no-trunc").stdout; !strings.Contains(full, app.Image.ManifestDigest) {
		t.Errorf("--no-trunc lacks the full digest:\n%s", full)
	}

	// rmi untags; a name that is not there fails the command but not the others.
	runLayer := *app.Steps[1].Layer
	r := mb(t, "rmi", "--root", root, "app:1", "nosuch", "app")
	if r.code != 1 || r.stdout != "Untagged: app:1\nUntagged: app:latest\n" || !strings.Contains(r.stderr, `rmi nosuch: untagging image "nosuch:latest": not found`) {
		t.Fatalf("rmi: exit %d\nstdout %q\nstderr %q", r.code, r.stdout, r.stderr)
	}
	if got := listImages(t, root); len(got) != 1 || got[0].Name != "busybox:test" {
		t.Errorf("after rmi: %+v", got)
	}
	blob := filepath.Join(root, "blobs", "sha256", strings.TrimPrefix(runLayer, "sha256:"))
	if _, err := os.Stat(blob); err != nil {
		t.Errorf("rmi removed the layer blob: %v", err)
	}
	// Still cached: a rebuild hits and tags it again.
	again, _ := build(t, root, ctx, "-t", "app:1")
	if got := again.cacheResults(); !reflect.DeepEqual(got, []string{"base", "hit", "hit"}) {
		t.Errorf("rebuild after rmi: %v, want every step cached", got)
	}
	mustMB(t, "rmi", "--root", root, "app:1")
	mustMB(t, "cache", "prune", "--root", root)
	if _, err := os.Stat(blob); !os.IsNotExist(err) {
		t.Errorf("cache prune kept the untagged image's layer: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "blobs", "sha256", strings.TrimPrefix(*base.Steps[1].Layer, "sha256:"))); err != nil {
		t.Errorf("cache prune removed a tagged image's layer: %v", err)
	}
	if r := mb(t, "rmi", "--root", root); r.code != 2 {
		t.Errorf("rmi without a name: exit %d, want 2", r.code)
	}
	if r := mb(t, "images", "--root", root, "extra"); r.code != 2 {
		t.Errorf("images with an argument: exit %d, want 2", r.code)
	}
}
