package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMissExplainedAgainstRemoteCache: root A exports its cache; root B
// has the same context but for one file's mode and one build arg. B's
// misses, built and planned with --cache-from, name the file with both
// modes and the arg with both values, against the imported cache.
func TestMissExplainedAgainstRemoteCache(t *testing.T) {
	requireRoot(t)
	dockerfile := `FROM busybox:test AS version
ARG VERSION=1.1
RUN echo $VERSION > /v
FROM busybox:test
COPY src/run.sh /app/run.sh
COPY --from=version /v /v
`
	ctxA, ctxB := t.TempDir(), t.TempDir()
	for _, c := range []string{ctxA, ctxB} {
		writeTree(t, c, map[string]string{"Dockerfile": dockerfile, "src/run.sh": "#!/bin/sh\necho run\n"})
	}
	if err := os.Chmod(filepath.Join(ctxA, "src/run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(ctxB, "src/run.sh"), 0o775); err != nil {
		t.Fatal(err)
	}
	rootA, rootB := t.TempDir(), t.TempDir()
	busyboxBase(t, rootA)
	busyboxBase(t, rootB)
	cacheDir := filepath.Join(t.TempDir(), "cache")
	build(t, rootA, ctxA, "--cache-to", "type=local,dest="+cacheDir+",mode=max")
	from := "type=local,src=" + cacheDir
	where := cacheDir + ":latest" // how minibuild names the imported cache
	wantFile := "source: changed src/run.sh (src/run.sh: mode 0775 here, 0755 in " + where + ")"
	wantArg := `arg: VERSION is "1.2" here, "1.1" in ` + where

	plan := mustMB(t, "plan", "--root", rootB, "--cache-from", from, "--build-arg", "VERSION=1.2", ctxB)
	for _, want := range []string{wantFile, wantArg} {
		if !strings.Contains(plan.stdout, want) {
			t.Errorf("plan in B does not say %q:\n%s", want, plan.stdout)
		}
	}
	md, _ := build(t, rootB, ctxB, "--cache-from", from, "--build-arg", "VERSION=1.2")
	got := map[string]string{}
	for _, s := range md.Steps {
		got[s.Instruction] = s.Cache + ": " + s.Reason
	}
	if r := got["RUN echo $VERSION > /v"]; r != "miss: "+wantArg {
		t.Errorf("RUN in B: %q, want a miss: %q", r, wantArg)
	}
	if r := got["COPY src/run.sh /app/run.sh"]; r != "miss: "+wantFile {
		t.Errorf("COPY in B: %q, want a miss: %q", r, wantFile)
	}
	// With the same mode and arg, B hits what A exported.
	if err := os.Chmod(filepath.Join(ctxB, "src/run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	same, _ := build(t, t.TempDir(), ctxB, "--cache-from", from, "--build-context", "busybox:test=oci-layout://"+exportBusybox(t, rootA))
	for _, s := range same.Steps {
		if s.Cache == "miss" {
			t.Errorf("same inputs, step %q missed: %s", s.Instruction, s.Reason)
		}
	}
}

// exportBusybox writes root's busybox:test as an OCI layout and returns it.
func exportBusybox(t *testing.T, root string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "bb")
	ctx := t.TempDir()
	writeTree(t, ctx, map[string]string{"Dockerfile": "FROM busybox:test\n"})
	build(t, root, ctx, "-o", "type=oci,dest="+dir)
	return dir
}

// TestExplainMetadataFiles: explain of two builds' metadata files (two
// roots, as CI's and a laptop's) names each stage's first differing
// input, and says "same" of two builds with the same keys.
func TestExplainMetadataFiles(t *testing.T) {
	requireRoot(t)
	dockerfile := "FROM busybox:test AS version\nARG VERSION=1.1\nRUN echo $VERSION > /v\nFROM busybox:test\nCOPY src/run.sh /app/run.sh\nCOPY --from=version /v /v\n"
	ctxA, ctxB := t.TempDir(), t.TempDir()
	for _, c := range []string{ctxA, ctxB} {
		writeTree(t, c, map[string]string{"Dockerfile": dockerfile, "src/run.sh": "echo run\n"})
	}
	os.Chmod(filepath.Join(ctxA, "src/run.sh"), 0o755)
	os.Chmod(filepath.Join(ctxB, "src/run.sh"), 0o775)
	rootA, rootB := t.TempDir(), t.TempDir()
	busyboxBase(t, rootA)
	busyboxBase(t, rootB)
	dir := t.TempDir()
	a, b, b2 := filepath.Join(dir, "ci.json"), filepath.Join(dir, "local.json"), filepath.Join(dir, "again.json")
	mustMB(t, "build", "--root", rootA, "--metadata-file", a, ctxA)
	mustMB(t, "build", "--root", rootB, "--metadata-file", b, "--build-arg", "VERSION=1.2", ctxB)
	out := mustMB(t, "explain", a, b).stdout
	for _, want := range []string{
		"stage version: step 3 (line 3) RUN echo $VERSION > /v\n  why: arg: VERSION is \"1.2\" here, \"1.1\" in " + a,
		"stage 1: step 5 (line 5) COPY src/run.sh /app/run.sh\n  why: source: changed src/run.sh (src/run.sh: mode 0775 here, 0755 in " + a + ")",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("explain lacks %q:\n%s", want, out)
		}
	}
	mustMB(t, "build", "--root", rootB, "--metadata-file", b2, "--build-arg", "VERSION=1.2", ctxB)
	if out := mustMB(t, "explain", b, b2).stdout; !strings.HasPrefix(out, "same:") {
		t.Errorf("explain of two builds with the same keys:\n%s", out)
	}
	if r := mb(t, "explain", a); r.code != 2 {
		t.Errorf("explain with one file: exit %d", r.code)
	}
}
