package tarutil

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fuzzSeeds returns the seed layers kept under testdata/fuzz/FuzzApply:
// every malicious case but the 1 MiB PAX one, each layer of the whiteout
// cases, and the sample layer holding every entry type.
func fuzzSeeds(t testing.TB) map[string][]byte {
	seeds := map[string][]byte{}
	sanitize := strings.NewReplacer(" ", "-", "/", "-", ".", "-", "'", "")
	for _, tc := range maliciousCases() {
		if tc.name == "huge pax header" {
			continue
		}
		name := "malicious-" + sanitize.Replace(tc.name)
		if tc.raw != nil {
			seeds[name] = tc.raw(t)
			continue
		}
		layer := tc.layer
		if tc.lower != nil {
			layer = append(append([]tEntry(nil), tc.lower...), tc.layer...)
		}
		seeds[name] = buildTar(t, layer...)
	}
	seeds["whiteouts"] = buildTar(t, dirE("a/"), reg("a/f", "f"), reg("a/.wh.g", ""), reg(".wh.b", ""),
		dirE("d/"), reg("d/new", "n"), reg("d/.wh..wh..opq", ""), reg(".wh.x", ""), dirE("x/"))
	blob, err := func() ([]byte, error) {
		var buf bytes.Buffer
		_, err := WriteLayer(&buf, sampleEntries(), LayerOptions{Compression: Uncompressed, Epoch: epoch})
		return buf.Bytes(), err
	}()
	if err != nil {
		t.Fatal(err)
	}
	seeds["sample"] = blob
	return seeds
}

// fuzzCorpusFile encodes one seed in the go fuzz corpus format.
func fuzzCorpusFile(data []byte, overlay bool) []byte {
	return fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\nbool(%v)\n", data, overlay)
}

// TestFuzzCorpusCurrent checks the checked-in seed corpus matches
// fuzzSeeds; run with -update to rewrite it.
func TestFuzzCorpusCurrent(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzApply")
	for name, data := range fuzzSeeds(t) {
		for _, overlay := range []bool{false, true} {
			file := filepath.Join(dir, name)
			if overlay {
				file += "-overlay"
			}
			want := fuzzCorpusFile(data, overlay)
			if *update {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, want, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := os.ReadFile(file)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s is missing or stale (run go test -run FuzzCorpus -update): %v", file, err)
			}
		}
	}
}

// FuzzApply applies arbitrary bytes as a layer; whatever happens, nothing
// beside the root may change and nothing may panic. Where Apply (without
// overlay markers) succeeds, Paths must accept the layer and list what
// Apply left.
func FuzzApply(f *testing.F) {
	f.Add(buildTar(f, reg("a", "x"), symE("l", "/"), reg("l/b", "y")), false)
	f.Fuzz(func(t *testing.T, data []byte, overlay bool) {
		s := newSandbox(t)
		before := s.outside(t)
		opts := ApplyOptions{LayerName: "fuzz", NoChown: os.Geteuid() != 0}
		if overlay {
			opts.Whiteouts = WhiteoutOverlay
		}
		_, err := Apply(context.Background(), s.root, bytes.NewReader(data), opts)
		if err != nil && !strings.Contains(err.Error(), "layer fuzz") {
			t.Errorf("error does not name the layer: %v", err)
		}
		if d := before.diff(s.outside(t)); len(d) > 0 {
			t.Fatalf("outside the root changed:\n%s", strings.Join(d, "\n"))
		}
		if err != nil || overlay {
			return
		}
		p := NewPaths()
		if err := p.ApplyHeaders(context.Background(), bytes.NewReader(data)); err != nil {
			t.Fatalf("Apply succeeded, Paths: %v", err)
		}
		if got, want := pathsList(p), listTree(t, s.root); !slices.Equal(got, want) {
			t.Fatalf("Paths %q\nApply %q", got, want)
		}
	})
}
