package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestRegistryPullBuildPush: against a real registry, a build FROM a
// registry image pulls it (each layer "downloaded"; a second pull says
// "already exists"), --push sends only what the registry lacks (the base
// layers are mounted across repositories, only the new layers and the
// config are uploaded) and prints the digest; skopeo inspects the pushed
// image, and skopeo copy of it gives an OCI layout umoci unpacks with the
// expected files.
func TestRegistryPullBuildPush(t *testing.T) {
	requireRoot(t)
	skopeo, umoci := requireTool(t, "skopeo"), requireTool(t, "umoci")
	emptyDockerConfig(t)
	px := newRegProxy(t, startTestRegistry(t, ""))

	rootA := t.TempDir()
	base := busyboxBase(t, rootA)
	r := mustMB(t, "push", "--root", rootA, "busybox:test", px.host+"/base/busybox:1")
	if got := strings.TrimSpace(r.stdout); got != base.Image.ManifestDigest {
		t.Fatalf("push printed %q, want the manifest digest %s", got, base.Image.ManifestDigest)
	}
	px.takeUploads()

	ctx := t.TempDir()
	writeTree(t, ctx, map[string]string{
		"Dockerfile": "FROM " + px.host + "/base/busybox:1\nRUN echo hello > /hello.txt\nCOPY f.txt /f.txt\n",
		"f.txt":      "from the context\n",
	})
	rootB := t.TempDir()
	name := px.host + "/app/hello:v1"
	md, out := build(t, rootB, ctx, "-t", name, "--push")
	if got := strings.Count(out.stderr, ": downloaded ("); got != 2 {
		t.Errorf("the FROM pull reported %d layers downloaded, want 2:\n%s", got, out.stderr)
	}
	if want := "pushed " + name + ": " + md.Image.ManifestDigest; !strings.Contains(out.stderr, want) {
		t.Errorf("build --push output lacks %q:\n%s", want, out.stderr)
	}
	uploads, mounts := px.takeUploads()
	var newBlobs []string
	for _, s := range md.Steps {
		if s.Layer != nil {
			newBlobs = append(newBlobs, *s.Layer)
		}
	}
	newBlobs = append(newBlobs, md.Image.ConfigDigest)
	sort.Strings(uploads)
	sort.Strings(newBlobs)
	if strings.Join(uploads, " ") != strings.Join(newBlobs, " ") {
		t.Errorf("push uploaded %v, want only the new layers and config %v", uploads, newBlobs)
	}
	if len(mounts) != 2 {
		t.Errorf("push mounted %v, want the 2 base layers", mounts)
	}

	again := mustMB(t, "pull", "--root", rootB, px.host+"/base/busybox:1")
	if strings.Count(again.stderr, ": already exists (") != 2 || strings.Contains(again.stderr, "downloaded") {
		t.Errorf("second pull:\n%s", again.stderr)
	}

	raw, err := exec.Command(skopeo, "inspect", "--tls-verify=false", "docker://"+name).Output()
	if err != nil {
		t.Fatalf("skopeo inspect: %v", err)
	}
	var insp struct {
		Digest string
		Layers []string
	}
	if err := json.Unmarshal(raw, &insp); err != nil {
		t.Fatal(err)
	}
	if insp.Digest != md.Image.ManifestDigest || len(insp.Layers) != 4 {
		t.Errorf("skopeo inspect: digest %s with %d layers, want %s with 4", insp.Digest, len(insp.Layers), md.Image.ManifestDigest)
	}

	layout := filepath.Join(t.TempDir(), "layout")
	if out, err := exec.Command(skopeo, "copy", "--src-tls-verify=false", "docker://"+name, "oci:"+layout+":v1").CombinedOutput(); err != nil {
		t.Fatalf("skopeo copy: %v\n%s", err, out)
	}
	bundle := filepath.Join(t.TempDir(), "bundle")
	if out, err := exec.Command(umoci, "unpack", "--image", layout+":v1", bundle).CombinedOutput(); err != nil {
		t.Fatalf("umoci unpack: %v\n%s", err, out)
	}
	for file, want := range map[string]string{"hello.txt": "hello\n", "f.txt": "from the context\n"} {
		got, err := os.ReadFile(filepath.Join(bundle, "rootfs", file))
		if err != nil || string(got) != want {
			t.Errorf("unpacked %s = %q, %v; want %q", file, got, err, want)
		}
	}
	if fi, err := os.Stat(filepath.Join(bundle, "rootfs", "bin", "busybox")); err != nil || fi.Size() == 0 {
		t.Errorf("unpacked image lacks the base's /bin/busybox: %v", err)
	}
}
