package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Root A fills a cache mount; root B reads it in another step (ARG X
// before it, so it misses and runs).
const (
	mountsWriterDockerfile = "FROM busybox:test\nRUN --mount=type=cache,target=/c sh -c 'echo from-A > /c/f'\n"
	mountsReaderDockerfile = "FROM busybox:test\nARG X=1\nRUN --mount=type=cache,target=/c sh -c 'cat /c/f > /seen || echo absent > /seen'\n"
)

// mountSeen builds the reader Dockerfile in a fresh root with flags and
// returns what its RUN found in the cache mount.
func mountSeen(t *testing.T, flags ...string) (string, result) {
	t.Helper()
	root, ctx := t.TempDir(), t.TempDir()
	busyboxBase(t, root)
	writeTree(t, ctx, map[string]string{"Dockerfile": mountsReaderDockerfile})
	out := filepath.Join(t.TempDir(), "rootfs")
	_, r := build(t, root, ctx, append(flags, "-o", "type=local,dest="+out)...)
	data, err := os.ReadFile(filepath.Join(out, "seen"))
	if err != nil {
		t.Fatal(err)
	}
	return string(data), r
}

// TestCacheMountsRemote: --cache-to mounts=true carries a cache mount's
// directory in the remote cache (a local directory or a registry), and
// --cache-from in a fresh root seeds the directory from it when a step
// that mounts the id runs; without mounts=true it is not carried, and a
// build whose steps all hit never downloads it (but re-exports it).
func TestCacheMountsRemote(t *testing.T) {
	requireRoot(t)
	emptyDockerConfig(t)
	px := newRegProxy(t, startTestRegistry(t, ""))
	rootA, ctx := t.TempDir(), t.TempDir()
	busyboxBase(t, rootA)
	writeTree(t, ctx, map[string]string{"Dockerfile": mountsWriterDockerfile})
	withMounts, without := filepath.Join(t.TempDir(), "with"), filepath.Join(t.TempDir(), "without")
	ref := px.host + "/cache/mounts:main"
	_, out := build(t, rootA, ctx, "--cache-to", "type=local,dest="+withMounts+",mounts=true",
		"--cache-to", "type=local,dest="+without, "--cache-to", "type=registry,ref="+ref+",mounts=true")
	if !strings.Contains(out.stderr, "and 1 cache mounts") {
		t.Errorf("the export does not report the cache mount:\n%s", out.stderr)
	}

	var cfg struct {
		Mounts []struct {
			ID    string `json:"id"`
			Layer struct{ Digest string }
		} `json:"mounts"`
	}
	readJSONFile(t, ociBlobPath(withMounts, ociManifest(t, withMounts).Config.Digest), &cfg)
	if len(cfg.Mounts) != 1 || cfg.Mounts[0].ID != "/c" {
		t.Fatalf("cache config mounts %+v, want one of /c", cfg.Mounts)
	}
	mountLayer := cfg.Mounts[0].Layer.Digest
	// The same tree gives the same blob: a second export is the same.
	again := filepath.Join(t.TempDir(), "again")
	mustMB(t, "build", "--root", rootA, "--progress", "plain", "--cache-to", "type=local,dest="+again+",mounts=true", ctx)
	if a, b := ociManifest(t, withMounts).Config.Digest, ociManifest(t, again).Config.Digest; a != b {
		t.Errorf("exporting the same cache mount twice gave configs %s and %s", a, b)
	}
	// The snapshot blobs nothing references do not trouble verify.
	if v := mustMB(t, "cache", "verify", "--root", rootA); v.code != 0 {
		t.Errorf("cache verify: exit %d\n%s", v.code, v.stderr)
	}
	px.takeGets()

	t.Run("local directory", func(t *testing.T) {
		seen, r := mountSeen(t, "--cache-from", "type=local,src="+withMounts)
		if seen != "from-A\n" {
			t.Errorf("/seen = %q, want from-A", seen)
		}
		if !strings.Contains(r.stderr, "seeding cache mount /c") {
			t.Errorf("the seed is not reported:\n%s", r.stderr)
		}
	})
	t.Run("without mounts=true", func(t *testing.T) {
		if seen, _ := mountSeen(t, "--cache-from", "type=local,src="+without); seen != "absent\n" {
			t.Errorf("/seen = %q, want absent", seen)
		}
	})
	t.Run("registry", func(t *testing.T) {
		seen, _ := mountSeen(t, "--cache-from", "type=registry,ref="+ref)
		if seen != "from-A\n" {
			t.Errorf("/seen = %q, want from-A", seen)
		}
		if n := px.takeGets()[mountLayer]; n != 1 {
			t.Errorf("the cache mount's blob was downloaded %d times, want once", n)
		}
	})
	t.Run("all hits: no download", func(t *testing.T) {
		root := t.TempDir()
		busyboxBase(t, root)
		px.takeGets()
		md, _ := build(t, root, ctx, "--cache-from", "type=registry,ref="+ref)
		if got := md.cacheResults(); len(got) != 2 || got[1] != "hit" {
			t.Errorf("cache results %v, want the RUN to hit", got)
		}
		if n := px.takeGets()[mountLayer]; n != 0 {
			t.Errorf("a build whose RUN hit downloaded the cache mount's blob %d times", n)
		}
	})
	t.Run("all hits: the imported mount is carried on", func(t *testing.T) {
		root, next := t.TempDir(), filepath.Join(t.TempDir(), "next")
		busyboxBase(t, root)
		build(t, root, ctx, "--cache-from", "type=local,src="+withMounts, "--cache-to", "type=local,dest="+next+",mounts=true")
		readJSONFile(t, ociBlobPath(next, ociManifest(t, next).Config.Digest), &cfg)
		if len(cfg.Mounts) != 1 || cfg.Mounts[0].Layer.Digest != mountLayer {
			t.Errorf("re-exported mounts %+v, want /c's %s", cfg.Mounts, mountLayer)
		}
	})
}
