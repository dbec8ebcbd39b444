package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestRecordCorpus re-records the corpus from BuildKit: every case is
// built with BuildKit (through the script MINIBUILD_BUILDKIT names,
// /work/shared/tools/buildkit.sh's interface), unpacked with umoci, and
// its want.json rewritten with BuildKit's description of the same paths
// and config fields; a want.json whose content BuildKit confirms is left
// as it is. A want-error.txt case must fail in BuildKit too; its first
// line (minibuild's Dockerfile:LINE and words) is compared by hand with
// BuildKit's message, which the log shows. It runs only when
// MINIBUILD_BUILDKIT is set: scripts/record-corpus.sh sets it.
func TestRecordCorpus(t *testing.T) {
	bk := os.Getenv("MINIBUILD_BUILDKIT")
	if bk == "" {
		t.Skip("re-records the corpus against BuildKit; run scripts/record-corpus.sh")
	}
	requireRoot(t)
	umoci := requireTool(t, "umoci")
	run := func(name string, args ...string) (string, error) {
		var out bytes.Buffer
		cmd := exec.Command(name, args...)
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	if out, err := run(bk, "start"); err != nil {
		t.Fatalf("starting BuildKit: %v\n%s", err, out)
	}
	// busybox:test, made by BuildKit from the same Dockerfile, as a named
	// context of every case that uses it.
	bb := filepath.Join(t.TempDir(), "bb")
	if out, err := run(bk, "build", busyboxContext(t), bb); err != nil {
		t.Fatalf("building busybox:test with BuildKit: %v\n%s", err, out)
	}
	var idx struct{ Manifests []struct{ Digest string } }
	readJSONFile(t, filepath.Join(bb, "index.json"), &idx)
	if len(idx.Manifests) != 1 {
		t.Fatalf("BuildKit's busybox layout has %d images", len(idx.Manifests))
	}
	for _, tc := range loadCorpus(t, "testdata/corpus") {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			args := []string{"build", tc.dir, out, "--opt", "cmdline=builtin"}
			if tc.usesBusybox {
				args = append(args, "--oci-layout", "bb="+bb, "--opt", "context:busybox:test=oci-layout://bb@"+idx.Manifests[0].Digest)
			}
			log, err := run(bk, args...)
			if tc.want == nil {
				if err == nil {
					t.Fatalf("BuildKit built a case that must fail (%s)", tc.wantErr[0])
				}
				t.Logf("expected: %s\nBuildKit: %s", strings.Join(tc.wantErr, " | "), buildkitError(log))
				return
			}
			if err != nil {
				t.Fatalf("BuildKit failed: %v\n%s", err, log)
			}
			bundle := filepath.Join(t.TempDir(), "bundle")
			if log, err := run(umoci, "unpack", "--image", out+":latest", bundle); err != nil {
				t.Fatalf("umoci unpack: %v\n%s", err, log)
			}
			recordCase(t, tc, filepath.Join(bundle, "rootfs"), imageConfig(t, out))
		})
	}
}

// recordCase rewrites tc's want.json from BuildKit's rootfs and config,
// when they differ from it.
func recordCase(t *testing.T, tc corpusCase, rootfs string, config map[string]json.RawMessage) {
	t.Helper()
	got := corpusWant{Absent: tc.want.Absent}
	tree := describeTree(t, rootfs)
	if len(tc.want.Files) > 0 {
		got.Files = map[string]string{}
	}
	for p := range tc.want.Files {
		d, ok := tree[p]
		if !ok {
			t.Errorf("BuildKit's image has no %s", p)
			continue
		}
		got.Files[p] = d
	}
	for _, p := range tc.want.Absent {
		if _, ok := tree[p]; ok {
			t.Errorf("BuildKit's image has %s, which want.json says is absent", p)
		}
	}
	if len(tc.want.Config) > 0 {
		got.Config = map[string]json.RawMessage{}
	}
	for field := range tc.want.Config {
		v, ok := config[field]
		if !ok {
			v = json.RawMessage("null")
		}
		got.Config[field] = v
	}
	if sameWant(t, *tc.want, got) {
		return
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(struct {
		Files  map[string]string          `json:"files,omitempty"`
		Absent []string                   `json:"absent,omitempty"`
		Config map[string]json.RawMessage `json:"config,omitempty"`
	}{got.Files, got.Absent, got.Config}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tc.dir, "want.json"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("want.json re-recorded: BuildKit differs from what it held")
}

// sameWant compares two expectations by value (JSON whitespace and key
// order aside).
func sameWant(t *testing.T, a, b corpusWant) bool {
	t.Helper()
	norm := func(w corpusWant) any {
		data, err := json.Marshal(w)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

// imageConfig is the "config" object of the one image in the OCI layout dir.
func imageConfig(t *testing.T, dir string) map[string]json.RawMessage {
	t.Helper()
	m := ociManifest(t, dir)
	var img struct {
		Config map[string]json.RawMessage `json:"config"`
	}
	readJSONFile(t, ociBlobPath(dir, m.Config.Digest), &img)
	return img.Config
}

// buildkitError is where BuildKit's output locates its error (a line
// "Dockerfile:N") and the error itself, on one line.
func buildkitError(log string) string {
	var where, what string
	for _, l := range strings.Split(log, "\n") {
		switch {
		case strings.HasPrefix(l, "Dockerfile:"):
			where = l
		case strings.HasPrefix(l, "error: "):
			what = strings.TrimPrefix(l, "error: ")
		}
	}
	return where + " | " + what
}
