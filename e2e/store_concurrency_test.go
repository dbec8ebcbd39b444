package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestConcurrentBuildsAndPrune runs four builds at once in one
// store, two of them building the same layer, with "cache prune" run
// beside them: every build and prune succeeds, "cache verify" is clean,
// the shared layer is stored once, what a build needed was not pruned
// from under it, and the cache of an older untagged build was pruned.
func TestConcurrentBuildsAndPrune(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	busyboxBase(t, root)
	old := t.TempDir()
	writeTree(t, old, map[string]string{"Dockerfile": "FROM busybox:test\nRUN echo old > /old\n"})
	build(t, root, old)

	shared := "RUN echo shared > /shared && sleep 0.3"
	dockerfiles := map[string]string{
		"a": "FROM busybox:test\n" + shared + "\nRUN echo a > /a\n",
		"b": "FROM busybox:test\n" + shared + "\nCOPY f /b\n",
		"c": "FROM busybox:test\nCOPY f /c\nRUN cat /c > /c2 && sleep 0.2\n",
		"d": "FROM busybox:test\nENV D=1\nRUN echo $D > /d && sleep 0.2\nLABEL done=yes\n",
	}
	type outcome struct {
		res  result
		err  error
		md   string
		span string // when it ran, from the start of the builds
	}
	outcomes := map[string]*outcome{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	span := func(began time.Time) string {
		return began.Sub(start).Round(time.Millisecond).String() + ".." + time.Since(start).Round(time.Millisecond).String()
	}
	for name, df := range dockerfiles {
		ctx := t.TempDir()
		writeTree(t, ctx, map[string]string{"Dockerfile": df, "f": name + "\n"})
		md := filepath.Join(t.TempDir(), "md.json")
		wg.Go(func() {
			began := time.Now()
			r, err := runMB("build", "--root", root, "--progress", "plain", "--metadata-file", md, "-t", "conc-"+name+":test", ctx)
			mu.Lock()
			outcomes[name] = &outcome{res: r, err: err, md: md, span: span(began)}
			mu.Unlock()
		})
	}
	var prunes []outcome
	wg.Go(func() {
		for _, wait := range []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond} {
			time.Sleep(wait)
			began := time.Now()
			r, err := runMB("cache", "prune", "--root", root)
			mu.Lock()
			prunes = append(prunes, outcome{res: r, err: err, span: span(began)})
			mu.Unlock()
		}
	})
	wg.Wait()

	for name, o := range outcomes {
		t.Logf("build %s ran %s", name, o.span)
		if o.res.code != 0 || o.err != nil {
			t.Errorf("build %s: exit %d, %v\n%s", name, o.res.code, o.err, o.res.stderr)
		}
	}
	for i, p := range prunes {
		t.Logf("prune %d ran %s: %s", i, p.span, strings.TrimSpace(p.res.stdout))
		if p.res.code != 0 || p.err != nil {
			t.Errorf("prune %d: exit %d, %v\n%s%s", i, p.res.code, p.err, p.res.stdout, p.res.stderr)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	verifyClean(t, root)
	if m := mountsUnder(t, root); len(m) > 0 {
		t.Errorf("mounts left: %v", m)
	}

	// The shared step gave both builds one and the same layer.
	la := stepLayer(t, readMetadata(t, outcomes["a"].md), "RUN echo shared")
	lb := stepLayer(t, readMetadata(t, outcomes["b"].md), "RUN echo shared")
	if la != lb {
		t.Errorf("the same step stored two layers: %s and %s", la, lb)
	}
	ls := mustMB(t, "cache", "ls", "--root", root)
	if n := strings.Count(ls.stdout, "echo shared"); n != 1 {
		t.Errorf("%d cache entries for the shared step, want 1:\n%s", n, ls.stdout)
	}
	if strings.Contains(ls.stdout, "echo old") {
		t.Errorf("prune kept the untagged build's cache:\n%s", ls.stdout)
	}
	// Every tagged build is still fully cached: prune removed nothing they
	// need; and each tagged image still exports, and umoci unpacks it.
	umoci := requireTool(t, "umoci")
	for name := range dockerfiles {
		ctx := t.TempDir()
		writeTree(t, ctx, map[string]string{"Dockerfile": dockerfiles[name], "f": name + "\n"})
		out := filepath.Join(t.TempDir(), "out")
		md, _ := build(t, root, ctx, "-t", "conc-"+name+":test", "-o", "type=oci,dest="+out)
		for _, s := range md.Steps[1:] {
			if s.Cache != "hit" {
				t.Errorf("build %s, step %q after prune: %s (%s)", name, s.Instruction, s.Cache, s.Reason)
			}
		}
		bundle := filepath.Join(t.TempDir(), "bundle")
		if raw, err := exec.Command(umoci, "unpack", "--image", out+":test", bundle).CombinedOutput(); err != nil {
			t.Errorf("umoci unpack of conc-%s after prune: %v\n%s", name, err, raw)
		} else if _, err := os.Stat(filepath.Join(bundle, "rootfs", "bin", "busybox")); err != nil {
			t.Errorf("conc-%s unpacked without its base: %v", name, err)
		}
	}
}
