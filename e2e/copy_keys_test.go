package e2e

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestSureMissKeysMatch: a COPY that cannot hit (no cache entry chains on
// its parent, or --no-cache) copies first and hashes what it copies; the
// key it gets must be the key the usual path (hash, then look up) gives,
// or a rebuild would never hit.
func TestSureMissKeysMatch(t *testing.T) {
	ctx := t.TempDir()
	writeTree(t, ctx, map[string]string{
		"Dockerfile":     "FROM scratch\nCOPY src /src\nCOPY one.txt /etc/one.txt\n",
		"src/a.txt":      "a",
		"src/sub/b.txt":  "bb",
		"src/sub/empty/": "",
		"src/big.bin":    string(make([]byte, 3<<20)),
		"one.txt":        "one",
	})
	if err := os.Symlink("a.txt", filepath.Join(ctx, "src/link")); err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	writeTree(t, other, map[string]string{"Dockerfile": "FROM scratch\nCOPY x /x\n", "x": "x"})

	keys := func(md metadata) []string {
		var out []string
		for _, s := range md.Steps {
			out = append(out, s.Key)
		}
		return out
	}
	// A fresh root: both COPYs are sure to miss.
	rootA := t.TempDir()
	mdA, _ := build(t, rootA, ctx, "-t", "a")
	if got := mdA.cacheResults(); !reflect.DeepEqual(got, []string{"base", "miss", "miss"}) {
		t.Fatalf("fresh root: %v", got)
	}
	// A root that already holds a child of the same FROM: the first COPY
	// is hashed and looked up as usual.
	rootB := t.TempDir()
	build(t, rootB, other, "-t", "other")
	mdB, _ := build(t, rootB, ctx, "-t", "a")
	if !reflect.DeepEqual(keys(mdA), keys(mdB)) || mdA.Image.ManifestDigest != mdB.Image.ManifestDigest {
		t.Fatalf("keys copied-then-hashed %v\nkeys hashed-then-looked-up %v", keys(mdA), keys(mdB))
	}
	// --no-cache is sure to miss too.
	mdC, _ := build(t, t.TempDir(), ctx, "-t", "a", "--no-cache")
	if !reflect.DeepEqual(keys(mdA), keys(mdC)) {
		t.Fatalf("--no-cache keys %v, want %v", keys(mdC), keys(mdA))
	}
	// And the rebuild hits every step with those keys.
	again, _ := build(t, rootA, ctx, "-t", "a")
	if got := again.cacheResults(); !reflect.DeepEqual(got, []string{"base", "hit", "hit"}) || !reflect.DeepEqual(keys(again), keys(mdA)) {
		t.Fatalf("rebuild: %v, keys %v", got, keys(again))
	}
}
