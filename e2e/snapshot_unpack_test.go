package e2e

import (
	"os"
	"path/filepath"
	"testing"
)

// TestCachedStepsUnpackNothing: when every step hits, no layer is unpacked.
func TestCachedStepsUnpackNothing(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	busyboxBase(t, root)
	ctx := t.TempDir()
	writeTree(t, ctx, map[string]string{"Dockerfile": "FROM busybox:test\nRUN echo a > /a\nCOPY Dockerfile /\nRUN echo b > /b\n"})
	build(t, root, ctx)
	layers := filepath.Join(root, "layers")
	if err := os.RemoveAll(layers); err != nil {
		t.Fatal(err)
	}
	md, _ := build(t, root, ctx)
	for _, s := range md.Steps[1:] {
		if s.Cache != "hit" {
			t.Fatalf("step %d: %s", s.Index, s.Cache)
		}
	}
	var unpacked []string
	_ = filepath.Walk(layers, func(p string, info os.FileInfo, err error) error {
		if err == nil && p != layers && info.IsDir() {
			unpacked = append(unpacked, p)
		}
		return nil
	})
	if len(unpacked) > 0 {
		t.Errorf("a fully cached build unpacked layers: %v", unpacked)
	}
}
