package e2e

import (
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// cacheTestDockerfile has a build stage whose layers the final image does
// not contain, and a final stage that copies from it.
const cacheTestDockerfile = `FROM BASE AS build
COPY src.txt /src.txt
RUN cat /src.txt > /built.txt && echo built >> /built.txt
FROM BASE
COPY --from=build /built.txt /app/built.txt
COPY extra.txt /app/extra.txt
RUN ls /app > /app/list.txt
`

// TestRegistryRemoteCache: a build on root A exports its cache with
// --cache-to (mode=max) to a registry; builds on empty roots with
// --cache-from hit on every step. Without an output (no -t, no -o) no
// cached layer is downloaded at all; with -t and -o type=oci exactly the
// final image's cached layers are, once each, and never the build
// stage's; either way "cache verify" finds the store clean. With
// mode=min (and a local directory) only the final stage's steps are
// exported, so the build stage is rebuilt and the final stage hits.
func TestRegistryRemoteCache(t *testing.T) {
	requireRoot(t)
	emptyDockerConfig(t)
	px := newRegProxy(t, startTestRegistry(t, ""))
	rootA := t.TempDir()
	busyboxBase(t, rootA)
	baseName := px.host + "/base/busybox:1"
	mustMB(t, "push", "--root", rootA, "busybox:test", baseName)
	ctx := t.TempDir()
	writeTree(t, ctx, map[string]string{
		"Dockerfile": strings.ReplaceAll(cacheTestDockerfile, "BASE", baseName),
		"src.txt":    "source\n",
		"extra.txt":  "extra\n",
	})
	cacheRef := px.host + "/cache/app:main"
	localCache := filepath.Join(t.TempDir(), "cache")
	a, _ := build(t, rootA, ctx, "-t", "app:a",
		"--cache-to", "type=registry,ref="+cacheRef+",mode=max",
		"--cache-to", "type=local,dest="+localCache+",mode=min")
	buildLayers, finalLayers := map[string]bool{}, map[string]bool{}
	for _, s := range a.Steps {
		if s.Layer == nil {
			continue
		}
		if s.Stage == "build" {
			buildLayers[*s.Layer] = true
		} else {
			finalLayers[*s.Layer] = true
		}
	}
	if len(buildLayers) != 2 || len(finalLayers) != 3 {
		t.Fatalf("root A layers: build stage %v, final stage %v", buildLayers, finalLayers)
	}
	px.takeGets()

	t.Run("lazy: no export downloads no cached layer", func(t *testing.T) {
		root := t.TempDir()
		md, out := build(t, root, ctx, "--cache-from", "type=registry,ref="+cacheRef)
		checkAllHit(t, md, a)
		for d, n := range px.takeGets() {
			if buildLayers[d] || finalLayers[d] {
				t.Errorf("cached layer %s downloaded %d times by a build that needed none", d, n)
			}
		}
		if strings.Contains(out.stderr, "cache: downloaded") {
			t.Errorf("output reports cache downloads:\n%s", out.stderr)
		}
		// The entries whose layers stayed remote are not left dangling.
		mustMB(t, "cache", "verify", "--root", root)
	})

	t.Run("an OCI export downloads exactly the final image's layers", func(t *testing.T) {
		root, out := t.TempDir(), filepath.Join(t.TempDir(), "out")
		md, _ := build(t, root, ctx, "--cache-from", "type=registry,ref="+cacheRef, "-o", "type=oci,dest="+out, "-t", "app:b")
		checkAllHit(t, md, a)
		gets := px.takeGets()
		var cachedGot []string
		for d, n := range gets {
			if n != 1 {
				t.Errorf("blob %s downloaded %d times", d, n)
			}
			if buildLayers[d] {
				t.Errorf("build-stage layer %s downloaded: the final image does not contain it", d)
			}
			if finalLayers[d] {
				cachedGot = append(cachedGot, d)
			}
		}
		if len(cachedGot) != len(finalLayers) {
			sort.Strings(cachedGot)
			t.Errorf("cached layers downloaded: %v, want the final stage's %v", cachedGot, sortedKeysOf(finalLayers))
		}
		// Everything downloaded is the base image (config and 2 layers),
		// the cache's entry list, and the cached layers.
		if len(gets) != 3+1+len(finalLayers) {
			t.Errorf("%d blobs downloaded, want %d: %v", len(gets), 3+1+len(finalLayers), gets)
		}
		mustMB(t, "cache", "verify", "--root", root)
		if skopeo, err := exec.LookPath("skopeo"); err == nil {
			if o, err := exec.Command(skopeo, "inspect", "oci:"+out+":b").CombinedOutput(); err != nil {
				t.Errorf("skopeo inspect of the export: %v\n%s", err, o)
			}
		}
	})

	t.Run("mode=min in a local directory holds the final stage's steps", func(t *testing.T) {
		md, _ := build(t, t.TempDir(), ctx, "--cache-from", "type=local,src="+localCache)
		var got []string
		for _, s := range md.Steps {
			got = append(got, s.Stage+":"+s.Cache)
		}
		want := []string{"build:base", "build:miss", "build:miss", "1:base", "1:hit", "1:hit", "1:hit"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("steps %v, want %v", got, want)
		}
		if md.Image.ManifestDigest != a.Image.ManifestDigest {
			t.Errorf("digest %s, want root A's %s", md.Image.ManifestDigest, a.Image.ManifestDigest)
		}
	})
}

// checkAllHit fails unless every step but the FROMs hit and the image is
// root A's.
func checkAllHit(t *testing.T, md, a metadata) {
	t.Helper()
	var got []string
	for _, s := range md.Steps {
		got = append(got, s.Cache)
	}
	want := []string{"base", "hit", "hit", "base", "hit", "hit", "hit"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cache results %v, want %v", got, want)
	}
	if md.Image.ManifestDigest != a.Image.ManifestDigest {
		t.Errorf("digest %s, want root A's %s", md.Image.ManifestDigest, a.Image.ManifestDigest)
	}
}

// sortedKeysOf returns m's keys, sorted.
func sortedKeysOf(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestCacheMinFollowsGlobalArgs: --cache-to mode=min exports the stages
// the image is built FROM even when a FROM names its stage through a
// global ARG, so a fresh root with --cache-from hits on every step.
func TestCacheMinFollowsGlobalArgs(t *testing.T) {
	requireRoot(t)
	requireBusybox(t)
	ctx := busyboxContext(t)
	writeTree(t, ctx, map[string]string{"Dockerfile": `ARG BASE=build
FROM scratch AS build
COPY busybox /bin/busybox
RUN ["/bin/busybox", "echo", "a"]
FROM ${BASE}
RUN ["/bin/busybox", "echo", "b"]
`})
	dir := filepath.Join(t.TempDir(), "cache")
	first, _ := build(t, t.TempDir(), ctx, "--cache-to", "type=local,dest="+dir+",mode=min")
	md, _ := build(t, t.TempDir(), ctx, "--cache-from", "type=local,src="+dir)
	if got, want := md.cacheResults(), []string{"base", "hit", "hit", "base", "hit"}; !reflect.DeepEqual(got, want) {
		t.Errorf("cache results in a fresh root %v, want %v", got, want)
	}
	if md.Image.ManifestDigest != first.Image.ManifestDigest {
		t.Errorf("digest %s, want the first build's %s", md.Image.ManifestDigest, first.Image.ManifestDigest)
	}
}
