package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

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

// TestEpochInKey: a rebuild with another SOURCE_DATE_EPOCH does not reuse
// the layers (and their times) of the first: it gives the digest a fresh
// build with that epoch gives.
func TestEpochInKey(t *testing.T) {
	requireRoot(t)
	ctx := t.TempDir()
	writeTree(t, ctx, map[string]string{"Dockerfile": "FROM scratch\nCOPY a /a\n", "a": "x"})
	root := t.TempDir()
	build(t, root, ctx, "--source-date-epoch", "1000")
	again, _ := build(t, root, ctx, "--source-date-epoch", "2000")
	fresh, _ := build(t, t.TempDir(), ctx, "--source-date-epoch", "2000")
	if again.Image.ManifestDigest != fresh.Image.ManifestDigest {
		t.Errorf("epoch 2000 after 1000 gave %s, a fresh build %s", again.Image.ManifestDigest, fresh.Image.ManifestDigest)
	}
}
