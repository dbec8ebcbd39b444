package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

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

// TestReproducible: the same context copied elsewhere, with other mtimes,
// into a fresh store, gives the identical manifest digest; another
// SOURCE_DATE_EPOCH gives another one.
func TestReproducible(t *testing.T) {
	requireRoot(t)
	ctx1 := cascadeContext(t)
	m1, _ := build(t, t.TempDir(), ctx1)

	ctx2 := t.TempDir()
	if out, err := exec.Command("cp", "-r", ctx1+"/.", ctx2).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	stamp := time.Date(2001, 2, 3, 4, 5, 6, 7, time.UTC)
	_ = filepath.Walk(ctx2, func(p string, _ os.FileInfo, err error) error {
		if err == nil {
			stamp = stamp.Add(time.Hour)
			err = os.Chtimes(p, stamp, stamp)
		}
		return err
	})
	m2, _ := build(t, t.TempDir(), ctx2)
	if m1.Image.ManifestDigest != m2.Image.ManifestDigest {
		t.Fatalf("same inputs, different digests: %s vs %s", m1.Image.ManifestDigest, m2.Image.ManifestDigest)
	}
	m3, _ := build(t, t.TempDir(), ctx2, "--source-date-epoch", "1700000000")
	if m3.Image.ManifestDigest == m1.Image.ManifestDigest {
		t.Fatalf("a different SOURCE_DATE_EPOCH kept the digest")
	}
}

// TestExportChecks: the OCI export and the store itself pass skopeo,
// umoci and oci-image-tool, and hold exactly the expected files.
func TestExportChecks(t *testing.T) {
	requireRoot(t)
	skopeo, umoci := requireTool(t, "skopeo"), requireTool(t, "umoci")
	oit := requireTool(t, "oci-image-tool")
	root, ctx := t.TempDir(), cascadeContext(t)
	out := filepath.Join(t.TempDir(), "out")
	tarOut := filepath.Join(t.TempDir(), "app.tar")
	local := filepath.Join(t.TempDir(), "rootfs")
	md, _ := build(t, root, ctx, "-t", "app:dev",
		"-o", "type=oci,dest="+out, "-o", "type=oci,dest="+tarOut+",tar=true", "-o", "type=local,dest="+local)

	for _, ref := range []string{"oci:" + out + ":dev", "oci-archive:" + tarOut + ":dev", "oci:" + root + ":app:dev"} {
		raw, err := exec.Command(skopeo, "inspect", ref).CombinedOutput()
		if err != nil {
			t.Fatalf("skopeo inspect %s: %v\n%s", ref, err, raw)
		}
		var info struct {
			Digest       string
			Layers       []string
			Architecture string
			Os           string
			Env          []string
		}
		if err := json.Unmarshal(raw, &info); err != nil {
			t.Fatal(err)
		}
		if info.Digest != md.Image.ManifestDigest || len(info.Layers) != 3 || info.Architecture != "amd64" || info.Os != "linux" {
			t.Errorf("skopeo inspect %s: %+v (want digest %s, 3 layers)", ref, info, md.Image.ManifestDigest)
		}
	}

	var idx struct {
		Manifests []struct {
			Annotations map[string]string
		}
	}
	data, _ := os.ReadFile(filepath.Join(out, "index.json"))
	if err := json.Unmarshal(data, &idx); err != nil || len(idx.Manifests) != 1 {
		t.Fatalf("index.json: %v %s", err, data)
	}
	if a := idx.Manifests[0].Annotations; a["org.opencontainers.image.ref.name"] != "dev" || a["io.containerd.image.name"] != "docker.io/library/app:dev" {
		t.Errorf("index annotations: %v", a)
	}

	if raw, err := exec.Command(oit, "validate", "--type", "image", "--ref", "name=dev", out).CombinedOutput(); err != nil {
		t.Errorf("oci-image-tool validate: %v\n%s", err, raw)
	}

	bundle := filepath.Join(t.TempDir(), "bundle")
	if raw, err := exec.Command(umoci, "unpack", "--image", out+":dev", bundle).CombinedOutput(); err != nil {
		t.Fatalf("umoci unpack: %v\n%s", err, raw)
	}
	want := map[string]string{
		"a.txt":         "-rw-r--r-- 0:0 a\n",
		"app":           "drwxr-xr-x 0:0",
		"app/b.txt":     "-rw-r--r-- 0:0 b\n",
		"app/main.go":   "-rw-r--r-- 0:0 package main\n",
		"app/lib":       "drwxr-xr-x 0:0",
		"app/lib/x.txt": "-rw-r--r-- 0:0 x\n",
	}
	if d := diffTrees(want, describeTree(t, filepath.Join(bundle, "rootfs"))); d != "" {
		t.Errorf("umoci unpack gave another tree:\n%s", d)
	}
	if d := diffTrees(want, describeTree(t, local)); d != "" {
		t.Errorf("type=local gave another tree:\n%s", d)
	}

	r := mustMB(t, "inspect", "--root", root, "app:dev")
	var cfg struct {
		Architecture string
		Config       struct {
			Env        []string
			Cmd        []string
			WorkingDir string
		} `json:"config"`
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
		History []struct {
			EmptyLayer bool `json:"empty_layer"`
		} `json:"history"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &cfg); err != nil {
		t.Fatalf("inspect output: %v\n%s", err, r.stdout)
	}
	if len(cfg.RootFS.DiffIDs) != 3 || !reflect.DeepEqual(cfg.Config.Cmd, []string{"/app/run"}) ||
		!reflect.DeepEqual(cfg.Config.Env, []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "GREETING=hello"}) {
		t.Errorf("inspect: %+v", cfg)
	}
	if len(cfg.History) != 5 || !cfg.History[2].EmptyLayer || !cfg.History[4].EmptyLayer || cfg.History[0].EmptyLayer {
		t.Errorf("history: %+v", cfg.History)
	}
}
