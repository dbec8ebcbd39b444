package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minibuild/minibuild/internal/testregistry"
)

// TestRegistryFaults, with a test proxy in front of the real registry: a
// blob that fails with a 500 once is retried and the pull succeeds; a blob
// whose content does not match its digest is refused and leaves nothing in
// the store (no blob, no manifest, no tag, no temporary file); a registry
// with basic auth takes the credentials of the Docker config file, and
// without them, or with wrong ones, the error names the registry and the
// cause.
func TestRegistryFaults(t *testing.T) {
	requireRoot(t)
	dockerConfig := emptyDockerConfig(t)
	px := newRegProxy(t, startTestRegistry(t, ""))
	rootA := t.TempDir()
	base := busyboxBase(t, rootA)
	name := px.host + "/fault/busybox:1"
	mustMB(t, "push", "--root", rootA, "busybox:test", name)
	layer := *base.Steps[1].Layer // COPY busybox: the big layer
	px.takeGets()

	t.Run("500 once is retried", func(t *testing.T) {
		px.mu.Lock()
		px.fail500[layer] = 1
		px.mu.Unlock()
		root := t.TempDir()
		r := mustMB(t, "pull", "--root", root, name)
		if got := strings.TrimSpace(r.stdout); got != base.Image.ManifestDigest {
			t.Errorf("pull printed %q, want %s", got, base.Image.ManifestDigest)
		}
		if n := px.takeGets()[layer]; n != 2 {
			t.Errorf("layer fetched %d times, want 2 (the 500, then the retry)", n)
		}
		if _, err := os.Stat(filepath.Join(root, "blobs", "sha256", strings.TrimPrefix(layer, "sha256:"))); err != nil {
			t.Errorf("retried layer not stored: %v", err)
		}
	})

	t.Run("a wrong-digest blob is refused", func(t *testing.T) {
		px.mu.Lock()
		px.corrupt[layer] = true
		px.mu.Unlock()
		defer func() {
			px.mu.Lock()
			delete(px.corrupt, layer)
			px.mu.Unlock()
		}()
		root := t.TempDir()
		r := mb(t, "pull", "--root", root, name)
		if r.code != 1 || !strings.Contains(r.stderr, layer) || !strings.Contains(r.stderr, "content has digest") {
			t.Fatalf("pull of a corrupted blob: exit %d\n%s", r.code, r.stderr)
		}
		t.Logf("the refused pull says: %s", r.stderr)
		for _, d := range []string{layer, base.Image.ManifestDigest} {
			if _, err := os.Stat(filepath.Join(root, "blobs", "sha256", strings.TrimPrefix(d, "sha256:"))); err == nil {
				t.Errorf("%s is in the store after a refused pull", d)
			}
		}
		if r := mb(t, "inspect", "--root", root, name); r.code == 0 {
			t.Error("the image was tagged after a refused pull")
		}
		if ents, _ := os.ReadDir(filepath.Join(root, "tmp")); len(ents) != 0 {
			t.Errorf("temporary files left: %v", ents)
		}
	})

	t.Run("auth", func(t *testing.T) {
		auth := startTestRegistry(t, testregistry.Htpasswd(t, "ci", "pa55"))
		private := auth + "/private/busybox:1"
		r := mb(t, "push", "--root", rootA, "busybox:test", private)
		want := auth + ": authentication required: no credentials for it in " + filepath.Join(dockerConfig, "config.json")
		if r.code != 1 || !strings.Contains(r.stderr, want) {
			t.Errorf("push without credentials: exit %d, want an error saying %q:\n%s", r.code, want, r.stderr)
		}
		t.Logf("without credentials: %s", r.stderr)
		writeDockerConfig(t, dockerConfig, auth, "ci", "wrong")
		r = mb(t, "pull", "--root", t.TempDir(), private)
		if want := auth + `: authentication failed: the registry refused user "ci"`; r.code != 1 || !strings.Contains(r.stderr, want) {
			t.Errorf("pull with a wrong password: exit %d, want an error saying %q:\n%s", r.code, want, r.stderr)
		}
		t.Logf("with a wrong password: %s", r.stderr)
		writeDockerConfig(t, dockerConfig, auth, "ci", "pa55")
		mustMB(t, "push", "--root", rootA, "busybox:test", private)
		ctx := t.TempDir()
		writeTree(t, ctx, map[string]string{"Dockerfile": "FROM " + private + "\nRUN echo ok > /ok\n"})
		md, _ := build(t, t.TempDir(), ctx)
		if md.Steps[1].Cache != "miss" {
			t.Errorf("build FROM the private image: %v", md.cacheResults())
		}
	})
}
