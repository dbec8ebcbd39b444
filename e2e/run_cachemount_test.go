package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestRunMountCache: a cache mount's contents persist across builds and
// never reach a layer; cache du shows it and cache prune --mounts empties
// it.
func TestRunMountCache(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	busyboxBase(t, root)
	ctx := t.TempDir()
	writeTree(t, ctx, map[string]string{"Dockerfile": `FROM busybox:test
ARG RUNID
RUN --mount=type=cache,target=/var/cache/pkgs,uid=1000,mode=0750 sh -c 'echo $RUNID >> /var/cache/pkgs/log && cat /var/cache/pkgs/log > /seen && stat -c "%a %u" /var/cache/pkgs > /cache.mode'
`})
	seen := func(runID string) string {
		out := filepath.Join(t.TempDir(), "rootfs")
		md, _ := build(t, root, ctx, "--build-arg", "RUNID="+runID, "-o", "type=local,dest="+out)
		for _, s := range md.Steps {
			if strings.HasPrefix(s.Instruction, "RUN") && s.Layer != nil {
				if hdrs, _ := layerHeaders(t, root, *s.Layer); hdrs["var/cache/pkgs/log"] != nil {
					t.Errorf("the cache mount's file is in the layer")
				}
			}
		}
		if _, err := os.Lstat(filepath.Join(out, "var/cache/pkgs")); err == nil {
			t.Error("/var/cache/pkgs is in the image")
		}
		if mode, _ := os.ReadFile(filepath.Join(out, "cache.mode")); string(mode) != "750 1000\n" {
			t.Errorf("cache directory mode and owner = %q, want 750 1000", mode)
		}
		data, err := os.ReadFile(filepath.Join(out, "seen"))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	if got := seen("1"); got != "1\n" {
		t.Fatalf("first build saw %q", got)
	}
	if got := seen("2"); got != "1\n2\n" {
		t.Fatalf("second build saw %q, want the first build's line too", got)
	}
	du := mustMB(t, "cache", "du", "--root", root)
	if !strings.Contains(du.stdout, "/var/cache/pkgs") {
		t.Errorf("cache du does not show the cache mount:\n%s", du.stdout)
	}
	mustMB(t, "cache", "prune", "--root", root, "--mounts")
	if got := seen("3"); got != "3\n" {
		t.Fatalf("after cache prune --mounts the build saw %q", got)
	}
}

// TestRunMountCacheSharing: two concurrent builds on one locked id take
// turns; on a shared id each sees the other's file while both run.
func TestRunMountCacheSharing(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	busyboxBase(t, root)
	ctx := t.TempDir()
	writeTree(t, ctx, map[string]string{"Dockerfile": `FROM busybox:test
ARG RUNID
ARG OTHER
RUN --mount=type=cache,id=locked,target=/c,sharing=locked sh -c 'echo start-$RUNID >> /c/log; sleep 1; echo end-$RUNID >> /c/log'
RUN --mount=type=cache,id=shared,target=/c,sharing=shared sh -c 'touch /c/$RUNID; i=0; while [ ! -e /c/$OTHER ]; do sleep 0.1; i=$((i+1)); [ $i -lt 150 ] || exit 9; done'
`})
	var wg sync.WaitGroup
	results := make([]result, 2)
	for i, ids := range [][2]string{{"a", "b"}, {"b", "a"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], _ = runMB("build", "--root", root, "--progress", "plain", "--build-arg", "RUNID="+ids[0], "--build-arg", "OTHER="+ids[1], ctx)
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r.code != 0 {
			t.Fatalf("build %d: exit %d\n%s", i, r.code, r.stderr)
		}
	}
	// Read the locked id's log through a third build.
	writeTree(t, ctx, map[string]string{"Dockerfile": "FROM busybox:test\nRUN --mount=type=cache,id=locked,target=/c cp /c/log /log\n"})
	out := filepath.Join(t.TempDir(), "rootfs")
	build(t, root, ctx, "--no-cache", "-o", "type=local,dest="+out)
	data, err := os.ReadFile(filepath.Join(out, "log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(string(data))
	if len(lines) != 4 || strings.TrimPrefix(lines[0], "start-") != strings.TrimPrefix(lines[1], "end-") ||
		strings.TrimPrefix(lines[2], "start-") != strings.TrimPrefix(lines[3], "end-") {
		t.Errorf("locked cache mount: the two builds overlapped: %q", lines)
	}
}

// TestRunMountCacheSeeded: a cache mount with from= starts with the
// stage's files at source=, is its own directory (the unseeded cache of
// the same id stays empty), and keeps what the steps add.
func TestRunMountCacheSeeded(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	busyboxBase(t, root)
	ctx := t.TempDir()
	writeTree(t, ctx, map[string]string{"Dockerfile": `FROM busybox:test AS seed
RUN mkdir /s && echo seeded > /s/f && chown 5:6 /s/f
FROM busybox:test
RUN --mount=type=cache,target=/c,from=seed,source=/s sh -c 'cat /c/f > /got && stat -c %u:%g /c/f > /owner && echo more > /c/g'
RUN --mount=type=cache,target=/c,from=seed,source=/s sh -c 'ls /c > /second'
RUN --mount=type=cache,target=/c sh -c 'ls -A /c > /unseeded'
`})
	out := filepath.Join(t.TempDir(), "rootfs")
	build(t, root, ctx, "-o", "type=local,dest="+out)
	for name, want := range map[string]string{"got": "seeded\n", "owner": "5:6\n", "second": "f\ng\n", "unseeded": ""} {
		data, err := os.ReadFile(filepath.Join(out, name))
		if err != nil || string(data) != want {
			t.Errorf("/%s = %q, %v; want %q", name, data, err, want)
		}
	}
}
