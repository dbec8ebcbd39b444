package e2e

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// treeHolds reports, for every file under dir that contains needle
// (gzip files decompressed), its path.
func treeHolds(t *testing.T, dir, needle string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if zr, err := gzip.NewReader(bytes.NewReader(data)); err == nil {
			if raw, err := io.ReadAll(zr); err == nil {
				data = append(data, raw...)
			}
		}
		if bytes.Contains(data, []byte(needle)) {
			found = append(found, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// TestRunMountSecret: a secret given by file and one by variable are
// readable in RUN, with the modes BuildKit gives, and the values are found
// nowhere: not in the store root, an export, the metadata file, the report
// or the build's output. Changing a value alone does not miss.
func TestRunMountSecret(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	busyboxBase(t, root)
	fileValue, envValue := "file-secret-4f1d9c2e", "env-secret-8b3a7e61"
	secretFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(secretFile, []byte(fileValue), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := t.TempDir()
	writeTree(t, ctx, map[string]string{"Dockerfile": `FROM busybox:test
RUN --mount=type=secret,id=tok --mount=type=secret,id=api,env=API_TOKEN,target=/s/api,mode=0440,uid=1,gid=2 \
    sha256sum /run/secrets/tok | cut -c1-64 > /tok.sha && \
    printf %s "$API_TOKEN" | sha256sum | cut -c1-64 > /env.sha && \
    stat -c '%a %u:%g' /run/secrets/tok /s/api > /modes && \
    { env | grep -c "^API_TOKEN=" || true; } > /env.count
RUN env | grep -c "^API_TOKEN=" > /later.count || echo 0 > /later.count
`})
	out := t.TempDir()
	md := filepath.Join(out, "md.json")
	report := filepath.Join(out, "report.html")
	oci := filepath.Join(out, "oci")
	local := filepath.Join(out, "local")
	cmd := []string{"build", "--root", root, "--progress", "plain", "--metadata-file", md, "--report", report,
		"-t", "secret:test", "-o", "type=oci,dest=" + oci, "-o", "type=local,dest=" + local,
		"--secret", "id=tok,src=" + secretFile, "--secret", "id=api,env=MB_TEST_API", ctx}
	t.Setenv("MB_TEST_API", envValue)
	r := mustMB(t, cmd...)
	read := func(name string) string {
		data, err := os.ReadFile(filepath.Join(local, name))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(data))
	}
	if got := read("tok.sha"); got != sha(fileValue) {
		t.Errorf("file secret hash %s, want %s", got, sha(fileValue))
	}
	if got := read("env.sha"); got != sha(envValue) {
		t.Errorf("env secret hash %s, want %s", got, sha(envValue))
	}
	if got := read("modes"); got != "400 0:0\n440 1:2" && got != "400 0:0\n440 1:2\n" {
		t.Errorf("modes = %q, want 400 0:0 and 440 1:2", got)
	}
	if got := read("env.count"); got != "1" {
		t.Errorf("API_TOKEN set %s times in the step", got)
	}
	if got := read("later.count"); got != "0" {
		t.Errorf("API_TOKEN leaked into a later step (%s)", got)
	}
	if _, err := os.Lstat(filepath.Join(local, "run", "secrets")); err == nil {
		t.Error("/run/secrets is in the image")
	}
	if _, err := os.Lstat(filepath.Join(local, "s")); err == nil {
		t.Error("the secret's target directory /s is in the image")
	}
	for _, v := range []string{fileValue, envValue} {
		for _, dir := range []string{root, out} {
			if found := treeHolds(t, dir, v); len(found) > 0 {
				t.Errorf("secret value found in %v", found)
			}
		}
		if strings.Contains(r.stdout+r.stderr, v) {
			t.Errorf("secret value in the build's output")
		}
	}
	// Another value for the same id: every step hits, as in BuildKit.
	t.Setenv("MB_TEST_API", "another-value")
	again, _ := build(t, root, ctx, "--secret", "id=tok,src="+secretFile, "--secret", "id=api,env=MB_TEST_API")
	for _, s := range again.Steps[1:] {
		if s.Cache != "hit" {
			t.Errorf("step %q: %s (%s) after a secret's value changed, want hit", s.Instruction, s.Cache, s.Reason)
		}
	}
	// required: a missing secret fails, naming it.
	writeTree(t, ctx, map[string]string{"Dockerfile": "FROM busybox:test\nRUN --mount=type=secret,id=npmrc,required=true cat /run/secrets/npmrc\n"})
	r = mb(t, "build", "--root", root, "--progress", "plain", ctx)
	if r.code == 0 || !strings.Contains(r.stderr, "Dockerfile:2: secret npmrc is required but was not given") {
		t.Errorf("missing required secret: exit %d\n%s", r.code, r.stderr)
	}
	// Not required: the step runs without it.
	writeTree(t, ctx, map[string]string{"Dockerfile": "FROM busybox:test\nRUN --mount=type=secret,id=npmrc test ! -e /run/secrets/npmrc\n"})
	build(t, root, ctx)
}

// TestRunMountBind: a bind of a context file is keyed by its content (a
// change misses naming the file, no change hits), a bind of the whole
// context is read-only unless rw, writes to an rw bind go nowhere, and
// binds from a stage and from an image expose their files. Nothing of a
// mount lands in a layer.
func TestRunMountBind(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	busyboxBase(t, root)
	ctx := t.TempDir()
	writeTree(t, ctx, map[string]string{
		"packages.txt":  "curl\n",
		"other.txt":     "x\n",
		"src/main.c":    "int main(){}\n",
		".dockerignore": "secret.env\n",
		"secret.env":    "hidden\n",
		"Dockerfile": `FROM busybox:test AS builder
RUN mkdir /out && echo built > /out/artifact
FROM busybox:test
WORKDIR /app
RUN --mount=type=bind,source=packages.txt,target=/tmp/packages.txt cat /tmp/packages.txt > /pkgs
RUN --mount=type=bind,target=ctx sh -c 'ls ctx | sort > /listing; touch ctx/x 2> /ro.err || true; test ! -e ctx/secret.env'
RUN --mount=type=bind,target=/w,rw sh -c 'echo new > /w/new && rm /w/other.txt && ls /w | sort > /rw.listing'
RUN --mount=type=bind,from=builder,source=/out,target=/in cat /in/artifact > /from-stage
RUN --mount=type=bind,from=busybox:test,target=/bb test -x /bb/bin/busybox && echo yes > /from-image
`})
	out := filepath.Join(t.TempDir(), "rootfs")
	md, _ := build(t, root, ctx, "-o", "type=local,dest="+out)
	read := func(name string) string {
		data, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	checks := map[string]string{
		"pkgs":       "curl\n",
		"listing":    "Dockerfile\nother.txt\npackages.txt\nsrc\n",
		"rw.listing": "Dockerfile\nnew\npackages.txt\nsrc\n",
		"from-stage": "built\n",
		"from-image": "yes\n",
	}
	for name, want := range checks {
		if got := read(name); got != want {
			t.Errorf("/%s = %q, want %q", name, got, want)
		}
	}
	if !strings.Contains(read("ro.err"), "Read-only file system") {
		t.Errorf("a write to a read-only bind: %q", read("ro.err"))
	}
	if _, err := os.Stat(filepath.Join(ctx, "new")); err == nil {
		t.Error("a write to an rw bind reached the context")
	}
	if _, err := os.Stat(filepath.Join(ctx, "other.txt")); err != nil {
		t.Error("a removal in an rw bind reached the context")
	}
	for _, p := range []string{"tmp/packages.txt", "app/ctx", "w", "in", "bb"} {
		if _, err := os.Lstat(filepath.Join(out, p)); err == nil {
			t.Errorf("mount target /%s is in the image", p)
		}
	}
	for _, s := range md.Steps {
		if strings.HasPrefix(s.Instruction, "RUN --mount") && s.Layer != nil {
			for _, p := range []string{"tmp/packages.txt", "w/new", "in/artifact"} {
				if hdrs, _ := layerHeaders(t, root, *s.Layer); hdrs[p] != nil {
					t.Errorf("step %q: layer holds %s", s.Instruction, p)
				}
			}
		}
	}
	// Unchanged: every step hits.
	again, _ := build(t, root, ctx)
	for _, s := range again.Steps {
		if s.Cache != "hit" && !strings.HasPrefix(s.Instruction, "FROM") {
			t.Errorf("rebuild: step %q %s (%s)", s.Instruction, s.Cache, s.Reason)
		}
	}
	// packages.txt changes: the steps that bind it miss, naming it.
	writeTree(t, ctx, map[string]string{"packages.txt": "curl\ngit\n"})
	changed, _ := build(t, root, ctx)
	var pkgStep *struct{ cache, reason string }
	for _, s := range changed.Steps {
		if strings.Contains(s.Instruction, "source=packages.txt") {
			pkgStep = &struct{ cache, reason string }{s.Cache, s.Reason}
		}
		if strings.HasPrefix(s.Instruction, "WORKDIR") && s.Cache != "hit" {
			t.Errorf("WORKDIR before the bind: %s", s.Cache)
		}
	}
	if pkgStep == nil || pkgStep.cache != "miss" || !strings.Contains(pkgStep.reason, "packages.txt") {
		t.Errorf("after packages.txt changed, its step: %+v, want a miss naming packages.txt", pkgStep)
	}
}

// TestRunMountTmpfsAndNetwork: a tmpfs is fresh, sized and left out of
// the layer; RUN --network=none cannot reach (busybox's nc: its wget
// crashes on Go's HTTP replies) a server on the host's
// loopback, while the default network can.
func TestRunMountTmpfsAndNetwork(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	busyboxBase(t, root)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "from-host") })}
	go srv.Serve(l)
	defer srv.Close()
	host, port, _ := net.SplitHostPort(l.Addr().String())
	ctx := t.TempDir()
	writeTree(t, ctx, map[string]string{"Dockerfile": `FROM busybox:test
RUN --mount=type=tmpfs,target=/scratch,size=1m sh -c 'echo hi > /scratch/f && df -k /scratch | tail -1 | awk "{print \$2}" > /tmpfs.size; dd if=/dev/zero of=/scratch/big bs=1k count=2048 2>/dev/null && echo fit > /tmpfs.full || echo full > /tmpfs.full'
RUN --network=none sh -c 'printf "GET / HTTP/1.0\r\n\r\n" | nc ` + host + ` ` + port + ` > /none.out 2>&1; grep -q from-host /none.out && echo reached > /none || echo unreachable > /none'
RUN --network=default sh -c 'printf "GET / HTTP/1.0\r\n\r\n" | nc ` + host + ` ` + port + ` > /default.out'
RUN --network=host sh -c 'printf "GET / HTTP/1.0\r\n\r\n" | nc ` + host + ` ` + port + ` > /host.out'
`})
	out := filepath.Join(t.TempDir(), "rootfs")
	build(t, root, ctx, "-o", "type=local,dest="+out)
	read := func(name string) string {
		data, _ := os.ReadFile(filepath.Join(out, name))
		return strings.TrimSpace(string(data))
	}
	if got := read("tmpfs.size"); got != "1024" {
		t.Errorf("tmpfs size = %q KiB, want 1024", got)
	}
	if got := read("tmpfs.full"); got != "full" {
		t.Errorf("2 MiB into a 1 MiB tmpfs: %q", got)
	}
	if _, err := os.Lstat(filepath.Join(out, "scratch")); err == nil {
		t.Error("/scratch is in the image")
	}
	if got := read("none"); got != "unreachable" {
		t.Errorf("--network=none reached the host's loopback: %q", got)
	}
	for _, f := range []string{"default.out", "host.out"} {
		if got := read(f); !strings.HasSuffix(got, "from-host") {
			t.Errorf("%s = %q", f, got)
		}
	}
	// --security=insecure is refused, saying why.
	writeTree(t, ctx, map[string]string{"Dockerfile": "FROM busybox:test\nRUN --security=insecure true\n"})
	if r := mb(t, "build", "--root", root, ctx); r.code == 0 || !strings.Contains(r.stderr, "Dockerfile:2: RUN --security=insecure") {
		t.Errorf("--security=insecure: exit %d\n%s", r.code, r.stderr)
	}
}

// TestRunMountSSH: --ssh default forwards the host's agent; inside RUN
// the agent at $SSH_AUTH_SOCK (/run/buildkit/ssh_agent.0) lists the host
// agent's key, a user given by uid= can use it, and a missing required
// agent fails naming its id.
func TestRunMountSSH(t *testing.T) {
	requireRoot(t)
	agent, keygen, add := requireTool(t, "ssh-agent"), requireTool(t, "ssh-keygen"), requireTool(t, "ssh-add")
	dir := t.TempDir()
	sock := filepath.Join(dir, "agent.sock")
	ag := exec.Command(agent, "-D", "-a", sock)
	if err := ag.Start(); err != nil {
		t.Fatalf("ssh-agent: %v", err)
	}
	defer func() { ag.Process.Kill(); ag.Wait() }()
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	key := filepath.Join(dir, "id")
	if out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-C", "minibuild-test-key", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	cmd := exec.Command(add, key)
	cmd.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v\n%s", err, out)
	}
	root := t.TempDir()
	busyboxBase(t, root)
	ctx := t.TempDir()
	gb := exec.Command("go", "build", "-o", filepath.Join(ctx, "agentlist"), "./testdata/agentlist")
	gb.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := gb.CombinedOutput(); err != nil {
		t.Fatalf("building agentlist: %v\n%s", err, out)
	}
	writeTree(t, ctx, map[string]string{"Dockerfile": `FROM busybox:test
COPY agentlist /usr/bin/agentlist
RUN --mount=type=ssh sh -c 'echo $SSH_AUTH_SOCK > /sock && stat -c "%a %u" $SSH_AUTH_SOCK > /sock.mode && agentlist > /keys'
RUN mkdir -m 1777 /out
USER 1000
RUN --mount=type=ssh,id=default,uid=1000,mode=0600 agentlist > /out/dev.keys
RUN agentlist > /out/denied.keys 2>&1; echo $? > /out/denied.code
`})
	out := filepath.Join(t.TempDir(), "rootfs")
	t.Setenv("SSH_AUTH_SOCK", sock)
	build(t, root, ctx, "--ssh", "default", "-o", "type=local,dest="+out)
	read := func(name string) string {
		data, _ := os.ReadFile(filepath.Join(out, name))
		return string(data)
	}
	if got := read("sock"); got != "/run/buildkit/ssh_agent.0\n" {
		t.Errorf("SSH_AUTH_SOCK = %q", got)
	}
	if got := read("sock.mode"); got != "600 0\n" {
		t.Errorf("socket mode and owner = %q, want 600 0", got)
	}
	if got := read("out/denied.code"); got == "0\n" {
		t.Errorf("a step without the ssh mount reached an agent: %q", read("out/denied.keys"))
	}
	for _, f := range []string{"keys", "out/dev.keys"} {
		if got := read(f); got != "1 keys\nminibuild-test-key\n" {
			t.Errorf("/%s = %q, want the host agent's key", f, got)
		}
	}
	if _, err := os.Lstat(filepath.Join(out, "run", "buildkit")); err == nil {
		t.Error("/run/buildkit is in the image")
	}
	writeTree(t, ctx, map[string]string{"Dockerfile": "FROM busybox:test\nRUN --mount=type=ssh,id=github,required true\n"})
	if r := mb(t, "build", "--root", root, "--ssh", "default", ctx); r.code == 0 || !strings.Contains(r.stderr, "ssh agent github is required but was not given") {
		t.Errorf("missing required agent: exit %d\n%s", r.code, r.stderr)
	}
}

// TestRunMountHostile: mounts never reach the host. A bind of a context
// symlink to /etc, a source climbing out with "..", a bind from a stage
// whose path links out of its rootfs, and targets climbing out of the
// rootfs stay confined or fail naming the mount.
func TestRunMountHostile(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	busyboxBase(t, root)
	ctx := t.TempDir()
	if err := os.Symlink("/etc", filepath.Join(ctx, "etc-link")); err != nil {
		t.Fatal(err)
	}
	hostMarker := filepath.Join(t.TempDir(), "host-marker")
	if err := os.WriteFile(hostMarker, []byte("host"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, dockerfile, wantErr string
	}{
		{"context symlink to the host's /etc", "FROM busybox:test\nRUN --mount=type=bind,source=etc-link,target=/x test ! -e /x/passwd -o -e /x/minibuild-never\n", "--mount source=etc-link"},
		{"source climbing out of the context", "FROM busybox:test\nRUN --mount=type=bind,source=../../../../" + hostMarker + ",target=/x cat /x\n", "--mount source=../../../../"},
		{"stage path linking to the host", "FROM busybox:test AS s\nRUN ln -s " + filepath.Dir(hostMarker) + " /out\nFROM busybox:test\nRUN --mount=type=bind,from=s,source=/out,target=/x cat /x/host-marker\n", "--mount from=s,source=/out"},
		{"target climbing out of the rootfs", "FROM busybox:test\nRUN --mount=type=tmpfs,target=../../../../" + filepath.Dir(hostMarker) + " touch " + filepath.Dir(hostMarker) + "/from-build\n", ""},
		{"secret target climbing out", "FROM busybox:test\nRUN --mount=type=secret,id=s,target=../../../../" + hostMarker + " true\n", ""},
		{"mount over /proc", "FROM busybox:test\nRUN --mount=type=tmpfs,target=/proc/sys true\n", "/proc"},
	}
	secret := filepath.Join(t.TempDir(), "s")
	os.WriteFile(secret, []byte("x"), 0o600)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			writeTree(t, ctx, map[string]string{"Dockerfile": tt.dockerfile})
			r := mb(t, "build", "--root", root, "--progress", "plain", "--secret", "id=s,src="+secret, ctx)
			if tt.wantErr != "" && (r.code == 0 || !strings.Contains(r.stderr, tt.wantErr)) {
				t.Errorf("exit %d, want an error naming %q:\n%s", r.code, tt.wantErr, r.stderr)
			}
			if tt.wantErr == "" && r.code != 0 {
				t.Errorf("exit %d:\n%s", r.code, r.stderr)
			}
			if data, err := os.ReadFile(hostMarker); err != nil || string(data) != "host" {
				t.Errorf("the host's file changed: %q, %v", data, err)
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(hostMarker), "from-build")); err == nil {
				t.Error("a build wrote into the host's directory")
			}
		})
	}
}
