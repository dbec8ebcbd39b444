package e2e

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestMultiStageStaticBinary: a final FROM scratch stage gets a static
// binary from the first stage, and only that binary, which runs. (Which
// stages are built: builder's TestBuildStages.)
func TestMultiStageStaticBinary(t *testing.T) {
	requireRoot(t)
	umoci := requireTool(t, "umoci")
	root := t.TempDir()
	busyboxBase(t, root)
	ctx := t.TempDir()
	writeTree(t, ctx, map[string]string{"Dockerfile": `FROM busybox:test AS build
RUN mkdir /out && cp /bin/busybox /out/busybox && echo scratch > /out/note

FROM busybox:test AS unused
RUN echo never > /never

FROM scratch
COPY --from=build /out/busybox /busybox
CMD ["/busybox", "echo", "hello from a static binary"]
`})
	out := filepath.Join(t.TempDir(), "out")
	build(t, root, ctx, "-t", "hello:static", "-o", "type=oci,dest="+out)
	bundle := filepath.Join(t.TempDir(), "bundle")
	if raw, err := exec.Command(umoci, "unpack", "--image", out+":static", bundle).CombinedOutput(); err != nil {
		t.Fatalf("umoci unpack: %v\n%s", err, raw)
	}
	tree := describeTree(t, filepath.Join(bundle, "rootfs"))
	if len(tree) != 1 || !strings.HasPrefix(tree["busybox"], "-rwxr-xr-x 0:0 \x7fELF") {
		t.Fatalf("final image holds %d paths: %v", len(tree), keysOf(tree))
	}
	run, err := exec.Command("chroot", filepath.Join(bundle, "rootfs"), "/busybox", "echo", "it runs").CombinedOutput()
	if err != nil || string(run) != "it runs\n" {
		t.Errorf("the copied binary does not run: %v %q", err, run)
	}
}

func keysOf(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestTargetAndGlobalArg: --target and --build-arg reach the build: the
// image is the target's, and a build arg nothing declared is warned of.
// (The stages built, FROM ${BASE} and the cache results of a changed
// build arg: builder's TestBuildStages and TestBuildCache.)
func TestTargetAndGlobalArg(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	busyboxBase(t, root)
	ctx := t.TempDir()
	writeTree(t, ctx, map[string]string{"Dockerfile": `ARG BASE=busybox:test
FROM ${BASE} AS one
RUN echo one > /one
FROM one AS two
RUN echo two > /two
FROM ${BASE} AS three
RUN echo three > /three
`})
	dest := filepath.Join(t.TempDir(), "rootfs")
	_, r := build(t, root, ctx, "--target", "two", "--build-arg", "UNUSED=1", "-o", "type=local,dest="+dest)
	if !strings.Contains(r.stderr, "[UNUSED] were not consumed") {
		t.Errorf("no warning for an unconsumed build arg:\n%s", r.stderr)
	}
	tree := describeTree(t, dest)
	if tree["one"] == "" || tree["two"] == "" || tree["three"] != "" {
		t.Errorf("--target two: one=%q two=%q three=%q", tree["one"], tree["two"], tree["three"])
	}
}

// TestOnbuildTriggers: ONBUILD is stored in the config the image's
// inspect shows, and not passed on to a child. (The triggers run as the
// child's steps, right after FROM: builder's TestBuildStages.)
func TestOnbuildTriggers(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	busyboxBase(t, root)
	parent := t.TempDir()
	writeTree(t, parent, map[string]string{"Dockerfile": "FROM busybox:test\nONBUILD COPY trigger.txt /from-trigger\nONBUILD RUN echo ran > /onbuild-ran\n"})
	build(t, root, parent, "-t", "onbuild:parent")
	r := mustMB(t, "inspect", "--root", root, "onbuild:parent")
	var cfg struct {
		Config struct{ OnBuild []string } `json:"config"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &cfg); err != nil {
		t.Fatal(err)
	}
	if want := []string{"COPY trigger.txt /from-trigger", "RUN echo ran > /onbuild-ran"}; !reflect.DeepEqual(cfg.Config.OnBuild, want) {
		t.Errorf("OnBuild = %q, want %q", cfg.Config.OnBuild, want)
	}
	child := t.TempDir()
	writeTree(t, child, map[string]string{"Dockerfile": "FROM onbuild:parent\nRUN cat /from-trigger /onbuild-ran > /seen\n", "trigger.txt": "from the child's context\n"})
	build(t, root, child, "-t", "onbuild:child")
	r = mustMB(t, "inspect", "--root", root, "onbuild:child")
	cfg.Config.OnBuild = nil
	if err := json.Unmarshal([]byte(r.stdout), &cfg); err != nil || len(cfg.Config.OnBuild) != 0 {
		t.Errorf("triggers were passed on to the child: %v %v", cfg.Config.OnBuild, err)
	}
}
