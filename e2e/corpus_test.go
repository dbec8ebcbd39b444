package e2e

// The Dockerfile corpus: testdata/corpus/<NN-name>/ holds a Dockerfile (and
// any context files) plus either want.json, the expected result, or
// want-error.txt, the expected failure.
//
// Every case was built with BuildKit v0.34.2 (the dockerfile.v0 frontend, as
// /work/shared/tools/buildkit.sh runs it; busybox:test supplied as a named
// context built from FROM scratch + COPY busybox + busybox --install -s, and
// the `# syntax=` forward to a frontend image switched off), and every
// expectation is BuildKit's result: the files of the unpacked image (less the
// dev/, proc/, sys/ mount points BuildKit's RUN leaves), the config fields,
// the failing line and message. One deliberate exception:
//
//   - 58-error-invalid-escape-directive and 59-error-duplicate-escape-directive:
//     BuildKit's parser locates an error in a parser directive one line too
//     early (it reports the line count before the directive's line, so a bad
//     directive on line 2 shows as Dockerfile:1 and one on line 1 has no
//     line at all). The expectation is the directive's own line.
//
// BuildKit's message wording is kept where minibuild's differs only in
// decoration (a quoted flag name, an "ENV:" prefix): those cases check the
// line and the message's essential words.

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// corpusWant is a case's want.json: what a successful build must produce.
type corpusWant struct {
	// Files maps a path in the exported rootfs to its describeTree description.
	Files map[string]string `json:"files"`
	// Absent lists paths that must not exist in the exported rootfs.
	Absent []string `json:"absent"`
	// Config holds image config fields (as in "minibuild inspect" .config)
	// that must equal these values; null means the field must be absent.
	Config map[string]json.RawMessage `json:"config"`
}

// corpusCase is one directory of the corpus.
type corpusCase struct {
	name, dir   string
	usesBusybox bool
	want        *corpusWant // nil for an error case
	wantErr     []string    // substrings stderr must contain; the first is "Dockerfile:LINE: …"
}

// minCorpusCases is the least number of cases the corpus must hold, so that
// a lost directory cannot go unnoticed.
const minCorpusCases = 30

// TestDockerfileCorpus builds every case of testdata/corpus and checks that it
// either produced the expected files and config or failed with the expected
// Dockerfile:LINE: error.
func TestDockerfileCorpus(t *testing.T) {
	requireRoot(t)
	cases := loadCorpus(t, "testdata/corpus")
	if len(cases) < minCorpusCases {
		t.Fatalf("the corpus has %d cases, want at least %d", len(cases), minCorpusCases)
	}
	root := t.TempDir()
	var (
		once     sync.Once
		baseDone bool
	)
	// base builds busybox:test into root the first time a case needs it.
	base := func(t *testing.T) {
		t.Helper()
		requireBusybox(t)
		once.Do(func() {
			busyboxBase(t, root)
			baseDone = true
		})
		if !baseDone {
			t.Fatal("building the busybox:test base failed (see the first case that needed it)")
		}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.usesBusybox {
				base(t)
			}
			if tc.want == nil {
				checkCorpusError(t, root, tc)
				return
			}
			checkCorpusBuild(t, root, tc)
		})
	}
}

// loadCorpus reads every case directory under dir.
func loadCorpus(t *testing.T, dir string) []corpusCase {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var cases []corpusCase
	for _, e := range ents {
		if e.Name() == "README.md" {
			continue
		}
		if !e.IsDir() {
			t.Fatalf("%s: stray file in the corpus; every case is a directory", e.Name())
		}
		cases = append(cases, loadCorpusCase(t, filepath.Join(dir, e.Name())))
	}
	return cases
}

// loadCorpusCase reads one case and rejects a malformed one.
func loadCorpusCase(t *testing.T, dir string) corpusCase {
	t.Helper()
	tc := corpusCase{name: filepath.Base(dir), dir: dir}
	df, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
	if err != nil {
		t.Fatalf("%s: %v", tc.name, err)
	}
	tc.usesBusybox = bytes.Contains(df, []byte("busybox"))
	wantJSON, errJSON := os.ReadFile(filepath.Join(dir, "want.json"))
	wantErr, errErr := os.ReadFile(filepath.Join(dir, "want-error.txt"))
	switch {
	case errJSON == nil && errErr == nil:
		t.Fatalf("%s: has both want.json and want-error.txt", tc.name)
	case errJSON == nil:
		dec := json.NewDecoder(bytes.NewReader(wantJSON))
		dec.DisallowUnknownFields()
		tc.want = &corpusWant{}
		if err := dec.Decode(tc.want); err != nil {
			t.Fatalf("%s: want.json: %v", tc.name, err)
		}
		if len(tc.want.Files)+len(tc.want.Absent)+len(tc.want.Config) == 0 {
			t.Fatalf("%s: want.json checks nothing", tc.name)
		}
	case errErr == nil:
		for _, l := range strings.Split(string(wantErr), "\n") {
			if l != "" {
				tc.wantErr = append(tc.wantErr, l)
			}
		}
		if len(tc.wantErr) == 0 || !strings.HasPrefix(tc.wantErr[0], "Dockerfile:") {
			t.Fatalf("%s: want-error.txt must start with a Dockerfile:LINE: line", tc.name)
		}
	case errors.Is(errJSON, fs.ErrNotExist) && errors.Is(errErr, fs.ErrNotExist):
		t.Fatalf("%s: has neither want.json nor want-error.txt", tc.name)
	default:
		t.Fatalf("%s: %v / %v", tc.name, errJSON, errErr)
	}
	return tc
}

// checkCorpusBuild builds a case that must succeed and compares its exported
// rootfs and image config with want.json.
func checkCorpusBuild(t *testing.T, root string, tc corpusCase) {
	tag := "corpus-" + tc.name + ":test"
	dest := filepath.Join(t.TempDir(), "rootfs")
	mustMB(t, "build", "--root", root, "--progress", "plain", "-t", tag, "-o", "type=local,dest="+dest, tc.dir)

	if len(tc.want.Files) > 0 {
		all := describeTree(t, dest)
		got := map[string]string{}
		for p := range tc.want.Files {
			if d, ok := all[p]; ok {
				got[p] = d
			}
		}
		if d := diffTrees(tc.want.Files, got); d != "" {
			t.Errorf("exported files differ from want.json (\"\" = missing):\n%s", d)
		}
	}
	for _, p := range tc.want.Absent {
		if _, err := os.Lstat(filepath.Join(dest, p)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s exists in the image (err %v); want it absent", p, err)
		}
	}
	if len(tc.want.Config) > 0 {
		checkCorpusConfig(t, root, tag, tc.want.Config)
	}
}

// checkCorpusConfig compares the fields of want with the image's config.
func checkCorpusConfig(t *testing.T, root, tag string, want map[string]json.RawMessage) {
	r := mustMB(t, "inspect", "--root", root, tag)
	var img struct {
		Config map[string]json.RawMessage `json:"config"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &img); err != nil {
		t.Fatalf("inspect output: %v\n%s", err, r.stdout)
	}
	for field, w := range want {
		var wv, gv any
		if err := json.Unmarshal(w, &wv); err != nil {
			t.Fatalf("want.json config.%s: %v", field, err)
		}
		if g, ok := img.Config[field]; ok {
			if err := json.Unmarshal(g, &gv); err != nil {
				t.Fatalf("inspect config.%s: %v", field, err)
			}
		}
		if !reflect.DeepEqual(wv, gv) {
			gotJSON, _ := json.Marshal(gv)
			wantJSON, _ := json.Marshal(wv)
			t.Errorf("config.%s = %s, want %s", field, gotJSON, wantJSON)
		}
	}
}

// checkCorpusError builds a case that must fail and checks its error.
func checkCorpusError(t *testing.T, root string, tc corpusCase) {
	r := mb(t, "build", "--root", root, "--progress", "plain", tc.dir)
	if r.code == 0 {
		t.Fatalf("build succeeded; want an error containing %q\nstdout:\n%s", tc.wantErr, r.stdout)
	}
	for _, w := range tc.wantErr {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr does not contain %q\nstderr:\n%s", w, r.stderr)
		}
	}
}
