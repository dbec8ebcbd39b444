package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestMultiStageStaticBinary: the "multi-stage builds" lesson — a final
// FROM scratch stage gets a static binary from the first stage, and only
// that binary, which runs. (Which stages are built: builder's
// TestBuildStages.)
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

// TestConfigFields: HEALTHCHECK and the other config instructions, checked
// in the exported config with skopeo inspect --config.
func TestConfigFields(t *testing.T) {
	requireRoot(t)
	skopeo := requireTool(t, "skopeo")
	ctx := t.TempDir()
	writeTree(t, ctx, map[string]string{"Dockerfile": `FROM scratch
MAINTAINER Ada Lovelace <ada@example.org>
HEALTHCHECK --interval=30s --timeout=5s --start-period=2s --retries=4 CMD /bin/check --quick
USER 1000:1000
EXPOSE 80 53/udp 8000-8001
VOLUME ["/data"]
VOLUME /logs /cache
STOPSIGNAL SIGQUIT
LABEL a=1 b="two words" \
      c=3
WORKDIR /srv
SHELL ["/bin/bash", "-eu", "-c"]
ENTRYPOINT ["/app"]
CMD run --fast
`})
	out := filepath.Join(t.TempDir(), "out")
	build(t, t.TempDir(), ctx, "-t", "cfg:dev", "-o", "type=oci,dest="+out)
	// --raw: the config as stored, with Docker's fields (skopeo's parsed
	// view keeps only the OCI ones).
	raw, err := exec.Command(skopeo, "inspect", "--config", "--raw", "oci:"+out+":dev").Output()
	if err != nil {
		t.Fatalf("skopeo inspect --config: %v", err)
	}
	var cfg struct {
		Author string `json:"author"`
		Config struct {
			User         string
			ExposedPorts map[string]struct{}
			Volumes      map[string]struct{}
			StopSignal   string
			Labels       map[string]string
			WorkingDir   string
			Shell        []string
			Entrypoint   []string
			Cmd          []string
			Healthcheck  struct {
				Test        []string
				Interval    time.Duration
				Timeout     time.Duration
				StartPeriod time.Duration
				Retries     int
			}
		} `json:"config"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	c := cfg.Config
	want := map[string]any{
		"author":     "Ada Lovelace <ada@example.org>",
		"user":       "1000:1000",
		"ports":      []string{"53/udp", "80/tcp", "8000/tcp", "8001/tcp"},
		"volumes":    []string{"/cache", "/data", "/logs"},
		"stopsignal": "SIGQUIT",
		"labels":     map[string]string{"a": "1", "b": "two words", "c": "3"},
		"workdir":    "/srv",
		"shell":      []string{"/bin/bash", "-eu", "-c"},
		"entrypoint": []string{"/app"},
		"cmd":        []string{"/bin/bash", "-eu", "-c", "run --fast"},
		"health":     []string{"CMD-SHELL", "/bin/check --quick"},
		"timing":     []any{30 * time.Second, 5 * time.Second, 2 * time.Second, 4},
	}
	got := map[string]any{
		"author": cfg.Author, "user": c.User, "ports": sortedKeys(c.ExposedPorts), "volumes": sortedKeys(c.Volumes),
		"stopsignal": c.StopSignal, "labels": c.Labels, "workdir": c.WorkingDir, "shell": c.Shell,
		"entrypoint": c.Entrypoint, "cmd": c.Cmd, "health": c.Healthcheck.Test,
		"timing": []any{c.Healthcheck.Interval, c.Healthcheck.Timeout, c.Healthcheck.StartPeriod, c.Healthcheck.Retries},
	}
	for k := range want {
		if !reflect.DeepEqual(want[k], got[k]) {
			t.Errorf("%s: got %v, want %v", k, got[k], want[k])
		}
	}
}

func sortedKeys(m map[string]struct{}) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sortStrings(out)
	return out
}

// TestAddURL: ADD of a URL served on loopback, with a right and a wrong
// checksum; a checksummed download is cached by its checksum; a remote
// archive is not extracted.
func TestAddURL(t *testing.T) {
	requireRoot(t)
	body := "downloaded content\n"
	var hits int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		switch r.URL.Path {
		case "/files/data.txt":
			w.Write([]byte(body))
		case "/files/pkg.tar.gz":
			w.Write([]byte("\x1f\x8b\x08\x00not really a tarball"))
		default:
			http.NotFound(w, r)
		}
	}))
	sum := sha256.Sum256([]byte(body))
	right := "sha256:" + hex.EncodeToString(sum[:])
	wrong := "sha256:" + strings.Repeat("0", 64)
	root := t.TempDir()

	ctx := t.TempDir()
	writeTree(t, ctx, map[string]string{"Dockerfile": "FROM scratch\nADD --checksum=" + right + " " + srv.URL + "/files/data.txt /dl/\nADD " + srv.URL + "/files/pkg.tar.gz /dl/\n"})
	dest := filepath.Join(t.TempDir(), "rootfs")
	build(t, root, ctx, "-o", "type=local,dest="+dest)
	tree := describeTree(t, dest)
	if tree["dl/data.txt"] != "-rw------- 0:0 "+body {
		t.Errorf("dl/data.txt = %q", tree["dl/data.txt"])
	}
	if !strings.HasPrefix(tree["dl/pkg.tar.gz"], "-rw------- 0:0 \x1f\x8b") {
		t.Errorf("a remote archive must be copied as is: %q", tree["dl/pkg.tar.gz"])
	}

	bad := t.TempDir()
	writeTree(t, bad, map[string]string{"Dockerfile": "FROM scratch\n\nADD --checksum=" + wrong + " " + srv.URL + "/files/data.txt /dl/\n"})
	r := mb(t, "build", "--root", t.TempDir(), bad)
	if r.code == 0 || !strings.Contains(r.stderr, "Dockerfile:3:") || !strings.Contains(r.stderr, "checksum mismatch") {
		t.Errorf("a wrong checksum: exit %d\n%s", r.code, r.stderr)
	}

	// Cached by checksum: with the server gone, the checksummed ADD still hits.
	srv.Close()
	only := t.TempDir()
	writeTree(t, only, map[string]string{"Dockerfile": "FROM scratch\nADD --checksum=" + right + " " + srv.URL + "/files/data.txt /dl/\n"})
	md, _ := build(t, root, only)
	if md.Steps[1].Cache != "hit" {
		t.Errorf("checksummed ADD with the server gone: %s", md.Steps[1].Cache)
	}
}
