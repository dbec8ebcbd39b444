package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
)

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
