package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// diffJSON is the part of `minibuild diff --format json` the tests read.
type diffJSON struct {
	A, B struct {
		Name     string `json:"name"`
		Manifest string `json:"manifest"`
	}
	Identical bool   `json:"identical"`
	Same      string `json:"same"`
	Differ    bool   `json:"differ"`
	Config    []struct {
		Field string `json:"field"`
		Key   string `json:"key"`
		A, B  any
	} `json:"config"`
	Layers []struct {
		Index  int  `json:"index"`
		Shared bool `json:"shared"`
	} `json:"layers"`
	Files []struct {
		Path    string   `json:"path"`
		Kind    string   `json:"kind"`
		Changes []string `json:"changes"`
		A, B    *struct {
			Type   string `json:"type"`
			Mode   string `json:"mode"`
			Size   int64  `json:"size"`
			Digest string `json:"digest"`
			Mtime  string `json:"mtime"`
		}
	} `json:"files"`
}

// diffOf runs minibuild diff --format json and decodes its document.
func diffOf(t *testing.T, wantCode int, args ...string) diffJSON {
	t.Helper()
	r := mb(t, append([]string{"diff", "--format", "json"}, args...)...)
	if r.code != wantCode {
		t.Fatalf("minibuild diff %s: exit %d, want %d\n%s%s", strings.Join(args, " "), r.code, wantCode, r.stdout, r.stderr)
	}
	var d diffJSON
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatalf("diff json: %v\n%s", err, r.stdout)
	}
	return d
}

// contentDigest is the sha256 digest of s, "sha256:" and hex.
func contentDigest(s string) string { return "sha256:" + sha(s) }

// diffContext is a FROM scratch context whose app/version holds version.
func diffContext(t *testing.T, version string) string {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"Dockerfile":  "FROM scratch\nCOPY etc /etc\nCOPY app /app\nCMD [\"/app/run\"]\n",
		"etc/hosts":   "127.0.0.1 localhost\n",
		"app/run":     "#!/bin/sh\n",
		"app/version": version,
	})
	return dir
}

// TestDiffOneFile: two builds of one Dockerfile whose contexts differ in
// one file: the text and the JSON name that file and its content, the
// base layer is shared and no config field differs; exit 1. The same
// build again, in another root and read from an OCI layout, is
// identical: exit 0.
func TestDiffOneFile(t *testing.T) {
	root := t.TempDir()
	out := filepath.Join(t.TempDir(), "out")
	md1, _ := build(t, root, diffContext(t, "1.0\n"), "-t", "app:1")
	md2, _ := build(t, root, diffContext(t, "1.0.1\n"), "-t", "app:2", "-o", "type=oci,dest="+out)

	r := mb(t, "diff", "--root", root, "app:1", "app:2")
	if r.code != 1 || r.stderr != "" {
		t.Fatalf("diff of different images: exit %d, stderr %q, want 1 and nothing", r.code, r.stderr)
	}
	old, new := contentDigest("1.0\n"), contentDigest("1.0.1\n")
	wantLine := fmt.Sprintf("  C /app/version  content: 4 B sha256:%s -> 6 B sha256:%s\n", old[7:19], new[7:19])
	for _, want := range []string{
		"a: app:1  sha256:" + md1.Image.ManifestDigest[7:19], "b: app:2  sha256:" + md2.Image.ManifestDigest[7:19],
		"config: no field differs", "layers: 1 of 2 shared\n  0   shared ", "  1   differs  a sha256:",
		"files: 1 changed, 0 added, 0 removed\n" + wantLine,
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("diff text lacks %q:\n%s", want, r.stdout)
		}
	}
	t.Logf("minibuild diff app:1 app:2:\n%s", r.stdout)

	d := diffOf(t, 1, "--root", root, "app:1", "oci:"+out+":2")
	if !d.Differ || d.Identical || len(d.Config) != 0 {
		t.Errorf("differ %v identical %v config %+v", d.Differ, d.Identical, d.Config)
	}
	if d.B.Manifest != md2.Image.ManifestDigest || d.B.Name != "oci:"+out+":2" {
		t.Errorf("b: %+v, want the layout's image %s", d.B, md2.Image.ManifestDigest)
	}
	if len(d.Layers) != 2 || !d.Layers[0].Shared || d.Layers[1].Shared {
		t.Errorf("layers: %+v", d.Layers)
	}
	if len(d.Files) != 1 {
		t.Fatalf("files: %+v", d.Files)
	}
	f := d.Files[0]
	if f.Path != "/app/version" || f.Kind != "C" || !reflect.DeepEqual(f.Changes, []string{"content"}) ||
		f.A.Digest != old || f.B.Digest != new || f.A.Size != 4 || f.B.Size != 6 || f.A.Mode != "0644" || f.A.Type != "file" {
		t.Errorf("file: %+v a %+v b %+v", f, f.A, f.B)
	}

	// The same build in a fresh root, read from its OCI layout.
	again := filepath.Join(t.TempDir(), "again")
	build(t, t.TempDir(), diffContext(t, "1.0.1\n"), "-t", "app:2", "-o", "type=oci,dest="+again)
	for _, operand := range []string{"oci:" + again, "oci-layout://" + again + ":2"} {
		r := mb(t, "diff", "--root", root, "app:2", operand)
		if r.code != 0 || r.stdout != "identical: same manifest digest "+md2.Image.ManifestDigest+"\n" {
			t.Errorf("diff app:2 %s: exit %d\n%s%s", operand, r.code, r.stdout, r.stderr)
		}
	}
	if d := diffOf(t, 0, "--root", root, "app:2", md2.Image.ManifestDigest); !d.Identical || d.Same != "manifest" || d.Differ {
		t.Errorf("diff by digest: %+v", d)
	}
}

// TestDiffTimes: two builds with other SOURCE_DATE_EPOCHs differ in
// their files' mtimes and the config's created; --ignore-times leaves
// those out and finds nothing else (exit 0).
func TestDiffTimes(t *testing.T) {
	root := t.TempDir()
	ctx := diffContext(t, "1\n")
	build(t, root, ctx, "-t", "t:1", "--source-date-epoch", "1000")
	// --no-cache: a COPY that hits keeps the mtimes of the build that made it.
	build(t, root, ctx, "-t", "t:2", "--source-date-epoch", "2000", "--no-cache")
	d := diffOf(t, 1, "--root", root, "t:1", "t:2")
	var fields []string
	for _, c := range d.Config {
		fields = append(fields, c.Field)
	}
	if len(fields) == 0 || fields[0] != "created" {
		t.Errorf("config changes %q, want created first", fields)
	}
	var mtimes int
	for _, f := range d.Files {
		if f.Kind == "C" && reflect.DeepEqual(f.Changes, []string{"mtime"}) {
			mtimes++
		} else {
			t.Errorf("file %s: %s %v, want only mtime", f.Path, f.Kind, f.Changes)
		}
		if f.Path == "/app/version" && (f.A.Mtime != "1970-01-01T00:16:40Z" || f.B.Mtime != "1970-01-01T00:33:20Z") {
			t.Errorf("mtimes of /app/version: %s, %s", f.A.Mtime, f.B.Mtime)
		}
	}
	if mtimes < 3 {
		t.Errorf("%d paths with other mtimes, want the files of both layers", mtimes)
	}
	r := mb(t, "diff", "--root", root, "--ignore-times", "t:1", "t:2")
	if r.code != 0 || !strings.HasSuffix(r.stdout, "\nno differences (times ignored)\n") {
		t.Errorf("--ignore-times: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestDiffRegistry: an image is read straight from a registry, with
// docker:// or as a name the store does not have, and nothing of it is
// stored.
func TestDiffRegistry(t *testing.T) {
	emptyDockerConfig(t)
	reg := startTestRegistry(t, "")
	rootA, rootB := t.TempDir(), t.TempDir()
	build(t, rootA, diffContext(t, "a\n"), "-t", "app:a")
	name := reg + "/team/app:b"
	build(t, rootB, diffContext(t, "bb\n"), "-t", name)
	mustMB(t, "push", "--root", rootB, name, name)
	before := storeBlobs(t, rootA)

	d := diffOf(t, 1, "--root", rootA, "app:a", "docker://"+name)
	if len(d.Files) != 1 || d.Files[0].Path != "/app/version" || d.Files[0].B.Digest != contentDigest("bb\n") {
		t.Errorf("files: %+v", d.Files)
	}
	r := mb(t, "diff", "--root", rootA, "app:a", name)
	if r.code != 1 || !strings.Contains(r.stderr, "not in the store: reading it from its registry") ||
		!strings.Contains(r.stdout, "C /app/version  content: 2 B") {
		t.Errorf("diff with a name the store lacks: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if after := storeBlobs(t, rootA); !reflect.DeepEqual(after, before) {
		t.Errorf("reading from the registry stored blobs: %d before, %d after", len(before), len(after))
	}
	if r := mb(t, "diff", "--root", rootA, "app:a", "docker://"+reg+"/team/app:missing"); r.code != 2 || !strings.Contains(r.stderr, "not found") {
		t.Errorf("a missing remote image: exit %d, stderr %s", r.code, r.stderr)
	}
}

// TestDiffBusybox: two builds of one Dockerfile on the busybox base that
// differ in one RUN's output: the base layers are shared and the file
// the RUN wrote is the one difference.
func TestDiffBusybox(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	busyboxBase(t, root)
	ctx := t.TempDir()
	writeTree(t, ctx, map[string]string{"Dockerfile": "FROM busybox:test\nARG V\nRUN echo $V > /etc/v && mkdir -p /srv && echo same > /srv/same\n"})
	build(t, root, ctx, "-t", "bb:1", "--build-arg", "V=one")
	build(t, root, ctx, "-t", "bb:2", "--build-arg", "V=three")
	d := diffOf(t, 1, "--root", root, "bb:1", "bb:2")
	if len(d.Layers) != 3 || !d.Layers[0].Shared || !d.Layers[1].Shared || d.Layers[2].Shared {
		t.Errorf("layers: %+v", d.Layers)
	}
	var paths []string
	for _, f := range d.Files {
		paths = append(paths, f.Kind+" "+f.Path+" "+strings.Join(f.Changes, ","))
	}
	if want := []string{"C /etc/v content"}; !reflect.DeepEqual(paths, want) {
		t.Errorf("files %q, want %q", paths, want)
	}
	if f := d.Files[0]; f.A.Digest != contentDigest("one\n") || f.B.Digest != contentDigest("three\n") {
		t.Errorf("/etc/v: %+v -> %+v", f.A, f.B)
	}
}

// storeBlobs lists the blob files of the store at root.
func storeBlobs(t *testing.T, root string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(root, "blobs", "sha256"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}
