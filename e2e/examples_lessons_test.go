package e2e

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestLessons runs each lesson script of examples/README.md as a learner
// would, and checks the cascade it prints.
func TestLessons(t *testing.T) {
	requireRoot(t)
	requireBusybox(t)
	for _, tc := range []struct {
		lesson string
		want   []string
	}{
		{"1-order", []string{
			"✗ MISS  step 4 line 5   RUN echo \"installing",
			"why: parent: cascade from step 3, line 4",
			"HIT   step 4 line 6   RUN echo \"installing",
			"why: source: changed app/main.sh",
		}},
		{"2-chaining", []string{"tool:separate", "tool:chained", "8.0 MiB"}},
		{"3-identical-layer", []string{
			"✗ MISS  step 4 line 5   RUN wc -c /greeting > /size\n                 why: parent: cascade from step 2, line 3",
			"HIT   step 4 line 5   RUN wc -c /greeting > /size\n                 why: content: step 2 (line 3) was rebuilt to a byte-identical layer",
		}},
		{"4-build-arg", []string{
			"[2] line 4   hit     RUN echo \"expensive setup\"",
			"why: arg: VERSION changed from \"1.0\" to \"2.0\"",
			"HIT   step 2 line 4   RUN echo \"expensive setup\"",
			"✗ MISS  step 4 line 6   RUN echo \"$VERSION\" > /version\n                 why: arg: VERSION changed from \"1.0\" to \"2.0\"",
		}},
		{"5-volumes", []string{
			"looks for both\ncat: can't open '/note': No such file or directory\nwritten by run 1\n",
			"image's /data\nnote\nreadme\n",
			"never the volume's\nA /scratch\n\n",
			"NAME   SIZE",
			"Deleted: notes (",
		}},
		{"6-cache-mounts", []string{
			"both packages are downloaded into the cache mount.\n  downloading   libfoo\n  downloading   libbar\n",
			"✗ MISS  step 4 line 5   COPY deps.txt .\n                 why: source: changed deps.txt",
			"only libbaz was downloaded:\n  in the cache  libfoo\n  in the cache  libbar\n  downloading   libbaz\n",
			"/var/cache/pkgs  1",
		}},
		{"7-base-and-parent", []string{
			"COPY rootfs/ /             152 B  shared: 1 image",
			"layers: 1 of 2 shared",
			"1   only b",
			"A /app/app.txt  file 0644 0:0",
		}},
		{"8-why-ci-missed", []string{
			"why: source: changed src/run.sh (src/run.sh: mode 0775 here, 0755 in shared-cache:latest)",
			"✗ MISS  step 5 line 5   RUN echo \"version $VERSION\" > /app/VERSION\n                 why: arg: VERSION is \"1.2\" here, \"1.1\" in shared-cache:latest",
			"every step CI built\n    BASE  step 1 line 1   FROM busybox:local\n    HIT   step 2 line 2   ARG VERSION=1.1\n    HIT   step 3 line 3   WORKDIR /app\n    HIT   step 4 line 4   COPY src/ /app/\n    HIT   step 5 line 5",
		}},
	} {
		t.Run(tc.lesson, func(t *testing.T) {
			cmd := exec.Command("bash", "../examples/lessons/"+tc.lesson+"/run.sh")
			cmd.Env = append(os.Environ(), "MINIBUILD="+bin, "LESSON_ROOT="+t.TempDir())
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("lesson %s failed: %v\n%s", tc.lesson, err, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("lesson %s output lacks %q:\n%s", tc.lesson, w, out)
				}
			}
		})
	}
}
