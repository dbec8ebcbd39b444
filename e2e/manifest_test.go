package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
)

// manifestArches are the platforms (linux/ARCH) of the test images.
var manifestArches = []string{"amd64", "arm64"}

// platformImages builds, FROM scratch, app:amd64 and app:arm64 (each a
// file /f saying its arch, and the host's static busybox) with
// --platform, merges them with manifest create into app:multi, and
// returns their metadata and the index's digest.
func platformImages(t *testing.T, root string) (map[string]metadata, string) {
	t.Helper()
	requireBusybox(t)
	bb, err := os.ReadFile(busyboxPath)
	if err != nil {
		t.Fatal(err)
	}
	mds := map[string]metadata{}
	for _, arch := range manifestArches {
		ctx := t.TempDir()
		writeTree(t, ctx, map[string]string{
			"Dockerfile": "FROM scratch\nCOPY f /f\nCOPY busybox /bin/busybox\n",
			"f":          "built for " + arch + "\n",
		})
		if err := os.WriteFile(filepath.Join(ctx, "busybox"), bb, 0o755); err != nil {
			t.Fatal(err)
		}
		mds[arch], _ = build(t, root, ctx, "--platform", "linux/"+arch, "-t", "app:"+arch)
	}
	r := mustMB(t, "manifest", "create", "--root", root, "app:multi", "app:amd64", "app:arm64")
	return mds, strings.TrimSpace(r.stdout)
}

// TestManifestCreate: manifest create merges two single-platform images
// into an index whose entries are exactly {mediaType, digest, size,
// platform}, in the order given; the same images (or the index itself)
// give the same digest; inspect lists the index and --platform reads one
// image; images, history, run and diff pick a platform; a tagged index
// keeps its images through rmi and cache prune.
func TestManifestCreate(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	mds, idx := platformImages(t, root)

	var index struct {
		SchemaVersion int                          `json:"schemaVersion"`
		MediaType     string                       `json:"mediaType"`
		Manifests     []map[string]json.RawMessage `json:"manifests"`
	}
	if err := json.Unmarshal([]byte(mustMB(t, "manifest", "inspect", "--root", root, "app:multi").stdout), &index); err != nil {
		t.Fatal(err)
	}
	if index.SchemaVersion != 2 || index.MediaType != "application/vnd.oci.image.index.v1+json" || len(index.Manifests) != 2 {
		t.Fatalf("manifest inspect: %+v", index)
	}
	for i, arch := range manifestArches {
		e := index.Manifests[i]
		var keys []string
		for k := range e {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if want := []string{"digest", "mediaType", "platform", "size"}; !reflect.DeepEqual(keys, want) {
			t.Errorf("entry %d has keys %v, want %v", i, keys, want)
		}
		var d string
		json.Unmarshal(e["digest"], &d)
		if d != mds[arch].Image.ManifestDigest {
			t.Errorf("entry %d is %s, want app:%s's manifest %s", i, d, arch, mds[arch].Image.ManifestDigest)
		}
		if got, want := string(e["platform"]), `{"architecture":"`+arch+`","os":"linux"}`; compactJSON(t, got) != want {
			t.Errorf("entry %d platform %s, want %s", i, got, want)
		}
	}
	for _, args := range [][]string{{"app:again", "app:amd64", "app:arm64"}, {"app:copy", "app:multi"}} {
		r := mustMB(t, append([]string{"manifest", "create", "--root", root}, args...)...)
		if got := strings.TrimSpace(r.stdout); got != idx {
			t.Errorf("manifest create %v: %s, want the same index %s", args, got, idx)
		}
	}
	if r := mb(t, "manifest", "create", "--root", root, "bad", "app:arm64", "app:multi"); r.code != 1 || !strings.Contains(r.stderr, `"app:arm64" and "app:multi" are both linux/arm64`) {
		t.Errorf("two images of one platform: exit %d\n%s", r.code, r.stderr)
	}

	list := mustMB(t, "inspect", "--root", root, "app:multi").stdout
	for _, arch := range manifestArches {
		if !strings.Contains(list, "linux/"+arch+"  "+mds[arch].Image.ManifestDigest) {
			t.Errorf("inspect of the index lacks linux/%s:\n%s", arch, list)
		}
	}
	var cfg struct{ Architecture string }
	if err := json.Unmarshal([]byte(mustMB(t, "inspect", "--root", root, "--platform", "linux/arm64", "app:multi").stdout), &cfg); err != nil || cfg.Architecture != "arm64" {
		t.Errorf("inspect --platform linux/arm64: %+v, %v", cfg, err)
	}
	const naming = `no manifest for linux/s390x in the index (it has linux/amd64, linux/arm64)`
	if r := mb(t, "inspect", "--root", root, "--platform", "linux/s390x", "app:multi"); r.code != 1 || !strings.Contains(r.stderr, naming) {
		t.Errorf("inspect --platform linux/s390x: exit %d\n%s", r.code, r.stderr)
	}

	var rows []struct {
		Name      string   `json:"name"`
		Kind      string   `json:"kind"`
		Platforms []string `json:"platforms"`
	}
	if err := json.Unmarshal([]byte(mustMB(t, "images", "--root", root, "--format", "json").stdout), &rows); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Name == "app:multi" && (r.Kind != "index" || !reflect.DeepEqual(r.Platforms, []string{"linux/amd64", "linux/arm64"})) {
			t.Errorf("images lists app:multi as %+v", r)
		}
	}
	if table := mustMB(t, "images", "--root", root).stdout; !strings.Contains(table, "index (2 platforms)") {
		t.Errorf("images table:\n%s", table)
	}

	for _, arch := range manifestArches {
		var hist []struct{ Layer string }
		if err := json.Unmarshal([]byte(mustMB(t, "history", "--root", root, "--format", "json", "--platform", "linux/"+arch, "app:multi").stdout), &hist); err != nil {
			t.Fatal(err)
		}
		if want := stepLayers(mds[arch]); len(hist) != 2 || hist[0].Layer != want[1] || hist[1].Layer != want[0] {
			t.Errorf("history --platform linux/%s: %+v, want the layers %v newest first", arch, hist, want)
		}
		if r := mb(t, "diff", "--root", root, "--platform", "linux/"+arch, "app:multi", "app:"+arch); r.code != 0 {
			t.Errorf("diff --platform linux/%s of the index and its image: exit %d\n%s%s", arch, r.code, r.stdout, r.stderr)
		}
	}
	if r := mb(t, "history", "--root", root, "--platform", "linux/s390x", "app:multi"); r.code != 1 || !strings.Contains(r.stderr, naming) {
		t.Errorf("history --platform linux/s390x: exit %d\n%s", r.code, r.stderr)
	}

	host := runtime.GOARCH
	if host == "amd64" || host == "arm64" {
		for _, args := range [][]string{{"--platform", "linux/" + host}, nil} {
			run := append(append([]string{"run", "--root", root}, args...), "app:multi", "--", "/bin/busybox", "cat", "/f")
			if r := mustMB(t, run...); r.stdout != "built for "+host+"\n" {
				t.Errorf("run %v: %q, want the %s image's /f", args, r.stdout, host)
			}
		}
	}
	if r := mb(t, "run", "--root", root, "--platform", "linux/s390x", "app:multi", "--", "/bin/busybox", "true"); r.code != 125 || !strings.Contains(r.stderr, naming) {
		t.Errorf("run --platform linux/s390x: exit %d\n%s", r.code, r.stderr)
	}

	// Only the index is tagged now: prune keeps its images whole.
	mustMB(t, "rmi", "--root", root, "app:amd64", "app:arm64", "app:again", "app:copy")
	mustMB(t, "cache", "prune", "--root", root, "--all")
	if r := mb(t, "cache", "verify", "--root", root); r.code != 0 || strings.Contains(r.stdout, "problem:") {
		t.Errorf("cache verify after prune: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, arch := range manifestArches {
		var hist []struct{ Layer string }
		if err := json.Unmarshal([]byte(mustMB(t, "history", "--root", root, "--format", "json", "--platform", "linux/"+arch, "app:multi").stdout), &hist); err != nil || len(hist) != 2 {
			t.Errorf("history --platform linux/%s after prune: %+v, %v", arch, hist, err)
		}
	}
	for _, l := range append(stepLayers(mds["amd64"]), stepLayers(mds["arm64"])...) {
		d := digest.Digest(l)
		if _, err := os.Stat(filepath.Join(root, "blobs", "sha256", d.Encoded())); err != nil {
			t.Errorf("layer %s of the index's images was pruned: %v", d, err)
		}
	}
}

// TestManifestPush: push of an index sends it and both its images to a
// real registry; skopeo reads the index, and each platform's image
// (its config's architecture, its layers).
func TestManifestPush(t *testing.T) {
	requireRoot(t)
	skopeo := requireTool(t, "skopeo")
	emptyDockerConfig(t)
	reg := startTestRegistry(t, "")
	root := t.TempDir()
	mds, idx := platformImages(t, root)
	name := reg + "/multi/app:1"
	if r := mustMB(t, "push", "--root", root, "app:multi", name); strings.TrimSpace(r.stdout) != idx {
		t.Errorf("push printed %q, want the index digest %s", r.stdout, idx)
	}
	raw, err := exec.Command(skopeo, "inspect", "--raw", "--tls-verify=false", "docker://"+name).Output()
	if err != nil {
		t.Fatalf("skopeo inspect --raw: %v", err)
	}
	if got := digest.FromBytes(raw).String(); got != idx {
		t.Errorf("the registry's %s is %s:\n%s\nwant the index %s", name, got, raw, idx)
	}
	for _, arch := range manifestArches {
		out, err := exec.Command(skopeo, "inspect", "--tls-verify=false", "--override-os", "linux", "--override-arch", arch, "docker://"+name).Output()
		if err != nil {
			t.Fatalf("skopeo inspect --override-arch %s: %v", arch, err)
		}
		var insp struct {
			Digest       string
			Architecture string
			Layers       []string
		}
		if err := json.Unmarshal(out, &insp); err != nil {
			t.Fatal(err)
		}
		// skopeo's Digest is the name's (the index's); the layers are the
		// platform's image's.
		if insp.Digest != idx || insp.Architecture != arch || !reflect.DeepEqual(insp.Layers, stepLayers(mds[arch])) {
			t.Errorf("skopeo inspect --override-arch %s: %+v, want %s with the layers %v", arch, insp, idx, stepLayers(mds[arch]))
		}
	}
}

// stepLayers lists the layers of a build's steps, in order.
func stepLayers(md metadata) []string {
	var out []string
	for _, s := range md.Steps {
		if s.Layer != nil {
			out = append(out, *s.Layer)
		}
	}
	return out
}

// compactJSON is s without insignificant space.
func compactJSON(t *testing.T, s string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(v)
	return string(out)
}
