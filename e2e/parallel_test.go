package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestParallelStagesSameResult builds a Dockerfile whose stages can run
// at once (two of them sharing their first step, one failing in a second
// variant) with --jobs 1 and with --jobs 4, cold and after a change, and
// wants byte-equal metadata files; the failing variant fails the same way
// with both and leaves no snapshot mounted.
func TestParallelStagesSameResult(t *testing.T) {
	requireRoot(t)
	df := `FROM busybox:test AS a
RUN echo shared > /shared
RUN sleep 0.3 && echo a > /a
FROM busybox:test AS b
RUN echo shared > /shared
COPY f /f
RUN sleep 0.3 && cat /f > /b
FROM busybox:test AS c
RUN sleep 0.3 && echo c > /c
FROM busybox:test
COPY --from=a /a /a
COPY --from=b /b /b
COPY --from=c /c /c
`
	var metas [2][]string
	for i, jobs := range []string{"1", "4"} {
		root := t.TempDir()
		busyboxBase(t, root)
		ctx := t.TempDir()
		writeTree(t, ctx, map[string]string{"Dockerfile": df, "f": "one\n"})
		for round := 0; round < 2; round++ {
			if round == 1 {
				writeTree(t, ctx, map[string]string{"f": "two\n"})
			}
			md := filepath.Join(t.TempDir(), "md.json")
			r := mustMB(t, "build", "--root", root, "--jobs", jobs, "--progress", "plain", "--metadata-file", md, "-t", "par:1", ctx)
			_ = r
			data, err := os.ReadFile(md)
			if err != nil {
				t.Fatal(err)
			}
			metas[i] = append(metas[i], string(data))
		}
	}
	for r := range metas[0] {
		if metas[0][r] != metas[1][r] {
			t.Errorf("build %d: the metadata of --jobs 1 and --jobs 4 differ:\n%s\n%s", r+1, metas[0][r], metas[1][r])
		}
	}
	m := readMetadata(t, writeTemp(t, metas[1][1]))
	if got := strings.Join(m.cacheResults(), " "); got != "base hit hit base hit miss miss base hit base hit miss miss" {
		t.Errorf("second build's steps: %s", got)
	}

	// A stage that fails cancels the others: the error is its own, with
	// any number of jobs, and no step's rootfs is left mounted.
	failing := strings.Replace(df, "RUN sleep 0.3 && echo c > /c", "RUN exit 7", 1)
	for _, jobs := range []string{"1", "4"} {
		root := t.TempDir()
		busyboxBase(t, root)
		ctx := t.TempDir()
		writeTree(t, ctx, map[string]string{"Dockerfile": failing, "f": "one\n"})
		r := mb(t, "build", "--root", root, "--jobs", jobs, "--progress", "plain", ctx)
		if r.code == 0 || !strings.Contains(r.stderr, "Dockerfile:9: RUN exit 7") {
			t.Errorf("--jobs %s: exit %d, want the failure of line 9:\n%s", jobs, r.code, r.stderr)
		}
		mounts, _ := os.ReadFile("/proc/self/mountinfo")
		if strings.Contains(string(mounts), root) {
			t.Errorf("--jobs %s: mounts left under %s", jobs, root)
		}
	}
}

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
