package e2e

import (
	"archive/tar"
	"os"
	"strings"
	"testing"
	"time"
)

// TestRunLeaks: what a RUN step leaves is taken from its rootfs,
// never from the host: a link to a host secret is stored as a link; no
// descriptor of minibuild is open in the step; a process the step left
// running writes nothing into the layer.
func TestRunLeaks(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	busyboxBase(t, root)
	sentinel, unchanged := sentinelDir(t)
	defer unchanged(t)
	ctx := t.TempDir()
	writeTree(t, ctx, map[string]string{"Dockerfile": "FROM busybox:test\n" +
		"RUN ln -s /etc/shadow /leak && ln -s " + sentinel + "/secret /leak2 && ln -s ../../../../../../" + strings.TrimPrefix(sentinel, "/") + " /leak3\n" +
		"RUN for f in /proc/self/fd/*; do readlink $f; done > /fds; true\n" +
		"RUN (sleep 1; echo late > /late) & echo started > /started\n"})
	began := time.Now()
	md, _ := build(t, root, ctx)
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("the build took %v: it waited for the step's background process", took)
	}
	hdrs, _ := layerHeaders(t, root, stepLayer(t, md, "RUN ln -s"))
	for name, target := range map[string]string{"leak": "/etc/shadow", "leak2": sentinel + "/secret", "leak3": "../../../../../../" + strings.TrimPrefix(sentinel, "/")} {
		h := hdrs[name]
		if h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != target || h.Size != 0 {
			t.Errorf("%s in the layer: %+v, want a symlink to %s", name, h, target)
		}
	}
	if storeHolds(t, root, "host secret: never in a layer") {
		t.Error("host content reached the store")
	}
	if shadow, err := os.ReadFile("/etc/shadow"); err == nil && len(shadow) > 20 && storeHolds(t, root, string(shadow[:20])) {
		t.Error("the host's /etc/shadow reached the store")
	}
	_, bodies := layerHeaders(t, root, stepLayer(t, md, "RUN for f"))
	for _, line := range strings.Fields(bodies["fds"]) {
		// The step's own: its output file, pipes, /dev/null, the listed
		// directory.
		if line != "/fds" && !strings.HasPrefix(line, "pipe:") && !strings.HasPrefix(line, "/dev/") && !strings.HasPrefix(line, "/proc/") {
			t.Errorf("a RUN step has a descriptor open on %s (all: %q)", line, bodies["fds"])
		}
		if strings.Contains(line, root) {
			t.Errorf("a RUN step has a descriptor into the store: %s", line)
		}
	}
	hdrs, _ = layerHeaders(t, root, stepLayer(t, md, "RUN (sleep"))
	if hdrs["late"] != nil || hdrs["started"] == nil {
		t.Errorf("background process: layer holds %v, want started and not late", headerNames(hdrs))
	}
	time.Sleep(1500 * time.Millisecond)
	if m := mountsUnder(t, root); len(m) > 0 {
		t.Errorf("mounts left: %v", m)
	}
	verifyClean(t, root)
}

func headerNames(m map[string]*tar.Header) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
