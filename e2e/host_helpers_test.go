package e2e

import (
	"os"
	"strings"
	"testing"
)

// sentinelDir makes a directory outside every store and context whose
// tree must never change, and returns it with a check function.
func sentinelDir(t *testing.T) (string, func(t *testing.T)) {
	t.Helper()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"secret": "host secret: never in a layer\n", "sub/passwd": "root:x:0:0::/root:/bin/sh\nhostuser:x:4242:4242::/:/bin/sh\n"})
	before := describeTree(t, dir)
	return dir, func(t *testing.T) {
		t.Helper()
		if d := diffTrees(before, describeTree(t, dir)); d != "" {
			t.Fatalf("the sentinel outside the store changed:\n%s", d)
		}
	}
}

// sentinelFor is sentinelDir for the runner r: rootless, the sentinel is
// the rootless user's, so that only confinement, not a permission, keeps a
// hostile input from changing it.
func sentinelFor(t *testing.T, r runner) (string, func(t *testing.T)) {
	t.Helper()
	if !r.rootless {
		return sentinelDir(t)
	}
	dir := r.dir(t)
	writeTree(t, dir, map[string]string{"secret": "host secret: never in a layer\n", "sub/passwd": "root:x:0:0::/root:/bin/sh\nhostuser:x:4242:4242::/:/bin/sh\n"})
	r.own(t, dir)
	before := describeTree(t, dir)
	return dir, func(t *testing.T) {
		t.Helper()
		if d := diffTrees(before, describeTree(t, dir)); d != "" {
			t.Fatalf("the sentinel outside the store changed:\n%s", d)
		}
	}
}

// mountsUnder lists the mounts whose mount point is under dir.
func mountsUnder(t *testing.T, dir string) []string {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && strings.HasPrefix(f[4], dir) {
			out = append(out, f[4])
		}
	}
	return out
}
