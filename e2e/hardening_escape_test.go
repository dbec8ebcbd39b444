package e2e

import (
	"archive/tar"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHardeningContextEscapes: a context symlink that points outside the
// context is never followed to host content: the build either refuses
// the source, naming it, or copies the link as a link.
func TestHardeningContextEscapes(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	busyboxBase(t, root)
	sentinel, unchanged := sentinelDir(t)
	secret := "host secret: never in a layer"
	cases := []struct {
		name       string
		dockerfile string
		links      map[string]string // context path -> link target
		refused    string            // what the error names; "" = the build succeeds
		want       map[string]string // for a success: rootfs paths and their description
	}{
		{name: "COPY of a symlink to a host file", dockerfile: "FROM busybox:test\nCOPY link /link\n",
			links: map[string]string{"link": sentinel + "/secret"}, refused: "Dockerfile:2:"},
		{name: "COPY through a symlinked directory", dockerfile: "FROM busybox:test\nCOPY dir/secret /s\n",
			links: map[string]string{"dir": sentinel}, refused: "Dockerfile:2:"},
		{name: "COPY through a relative symlink climbing out", dockerfile: "FROM busybox:test\nCOPY up/secret /s\n",
			links: map[string]string{"up": strings.Repeat("../", 12) + strings.TrimPrefix(sentinel, "/")}, refused: "Dockerfile:2:"},
		{name: "ADD of a symlink to a host archive", dockerfile: "FROM busybox:test\nADD evil.tar /\n",
			links: map[string]string{"evil.tar": sentinel + "/secret"}, refused: "Dockerfile:2:"},
		{name: "COPY of an absolute host path", dockerfile: "FROM busybox:test\nCOPY " + sentinel + "/secret /s\n", refused: "Dockerfile:2:"},
		{name: "COPY of the context keeps links as links", dockerfile: "FROM busybox:test\nCOPY . /ctx/\n",
			links: map[string]string{"link": sentinel + "/secret", "dir": sentinel},
			want:  map[string]string{"ctx/link": "Lrwxrwxrwx 0:0 -> " + sentinel + "/secret", "ctx/dir": "Lrwxrwxrwx 0:0 -> " + sentinel}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer unchanged(t)
			ctx := t.TempDir()
			writeTree(t, ctx, map[string]string{"Dockerfile": tc.dockerfile})
			for name, target := range tc.links {
				if err := os.Symlink(target, filepath.Join(ctx, name)); err != nil {
					t.Fatal(err)
				}
			}
			dest := filepath.Join(t.TempDir(), "rootfs")
			r := mbWithin(t, time.Minute, "build", "--root", root, "-o", "type=local,dest="+dest, ctx)
			if storeHolds(t, root, secret) {
				t.Fatal("host content reached the store")
			}
			if tc.refused != "" {
				if r.code == 0 || !strings.Contains(r.stderr, tc.refused) {
					t.Fatalf("exit %d, want an error naming %q:\n%s", r.code, tc.refused, r.stderr)
				}
				return
			}
			if r.code != 0 {
				t.Fatalf("build failed:\n%s", r.stderr)
			}
			tree := describeTree(t, dest)
			for p, want := range tc.want {
				if tree[p] != want {
					t.Errorf("%s = %q, want %q", p, tree[p], want)
				}
			}
		})
	}
}

// TestHardeningRunLeaks: what a RUN step leaves is taken from its rootfs,
// never from the host: a link to a host secret is stored as a link; no
// descriptor of minibuild is open in the step; a process the step left
// running writes nothing into the layer.
func TestHardeningRunLeaks(t *testing.T) {
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

// TestHardeningUserDatabase: USER and --chown read the image's
// /etc/passwd in pure Go, bounded, inside the rootfs: a FIFO, a huge file
// or a link to /dev/zero or to a host file there cannot hang the build or
// read the host (where user "hostuser" exists: it must not be found).
func TestHardeningUserDatabase(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	busyboxBase(t, root)
	sentinel, unchanged := sentinelDir(t)
	cases := []struct {
		name  string
		setup string
	}{
		{"a FIFO", "mkfifo /etc/passwd"},
		{"a huge file", "head -c 3000000 /dev/zero > /etc/passwd"},
		{"a link to /dev/zero", "ln -s /dev/zero /etc/passwd"},
		{"a link to a host passwd", "ln -s " + sentinel + "/sub/passwd /etc/passwd"},
		{"a link climbing to a host passwd", "ln -s ../../../../../../" + strings.TrimPrefix(sentinel, "/") + "/sub/passwd /etc/passwd"},
	}
	for _, tc := range cases {
		for _, use := range []struct{ name, lines, line string }{
			{"USER", "USER hostuser\nRUN true\n", "Dockerfile:4:"},
			{"COPY --chown", "COPY --chown=hostuser Dockerfile /x\n", "Dockerfile:3:"},
		} {
			t.Run(tc.name+"/"+use.name, func(t *testing.T) {
				defer unchanged(t)
				ctx := t.TempDir()
				writeTree(t, ctx, map[string]string{"Dockerfile": "FROM busybox:test\nRUN mkdir -p /etc && " + tc.setup + "\n" + use.lines})
				r := mbWithin(t, 30*time.Second, "build", "--root", root, ctx)
				if r.code == 0 {
					t.Fatalf("user hostuser was found through %s", tc.name)
				}
				if !strings.Contains(r.stderr, use.line) {
					t.Errorf("the error does not name %s:\n%s", use.line, r.stderr)
				}
			})
		}
	}
}

// TestHardeningDockerfileCorners: malformed Dockerfiles fail at once with
// an error naming the line, and write nothing to the store.
func TestHardeningDockerfileCorners(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	busyboxBase(t, root)
	long := strings.Repeat("x", 2<<20)
	cases := []struct {
		name, dockerfile, want string
	}{
		{"a line over 1 MiB", "FROM busybox:test\nLABEL a=" + long + "\n", "Dockerfile:2:"},
		{"a continued line over 1 MiB", "FROM busybox:test\nLABEL a=\\\n" + long + "\n", "Dockerfile:3:"},
		{"a NUL byte", "FROM busybox:test\nRUN echo a\x00b\n", "Dockerfile:2:"},
		{"an unterminated heredoc", "FROM busybox:test\nRUN <<EOF\necho hi\n", "Dockerfile:2:"},
		{"FROM without an image", "FROM\n", "Dockerfile:1:"},
		{"an invalid escape directive", "# escape=x\nFROM busybox:test\n", "Dockerfile:1:"},
		{"a duplicate stage name", "FROM busybox:test AS a\nFROM a AS b\nFROM b AS a\n", "Dockerfile:3:"},
		{"a uid out of range", "FROM busybox:test\nUSER 99999999999999999999\nRUN id\n", "Dockerfile:3:"},
		{"an invalid port", "FROM busybox:test\nEXPOSE 99999\n", "Dockerfile:2:"},
		{"an invalid chmod", "FROM busybox:test\nCOPY --chmod=77777 Dockerfile /x\n", "Dockerfile:2:"},
		{"an empty image tag from an ARG", "ARG X=${X}\nFROM busybox:$X\n", "Dockerfile:2:"},
		{"COPY --from an unknown image", "FROM busybox:test\nCOPY --from=nope /x /y\n", "Dockerfile:2:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.TempDir()
			writeTree(t, ctx, map[string]string{"Dockerfile": tc.dockerfile})
			before := blobCount(t, root)
			r := mbWithin(t, 30*time.Second, "build", "--root", root, ctx)
			if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("exit %d, want an error naming %q:\n%.2000s", r.code, tc.want, r.stderr)
			}
			if strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 && len(r.stderr) > 4096 {
				t.Errorf("the error is %d bytes long", len(r.stderr))
			}
			if after := blobCount(t, root); after != before {
				t.Errorf("a failed build wrote %d blobs", after-before)
			}
		})
	}
}

// TestHardeningCacheCommandsHelp: every cache subcommand has --help with
// examples and --root, and bad use is a usage error.
func TestHardeningCacheCommandsHelp(t *testing.T) {
	for _, args := range [][]string{{"cache", "--help"}, {"cache", "ls", "--help"}, {"cache", "du", "--help"},
		{"cache", "verify", "--help"}, {"cache", "prune", "--help"}, {"help", "cache"}} {
		r := mustMB(t, args...)
		if !strings.Contains(r.stdout, "Examples:") || !strings.Contains(r.stdout, "--root") {
			t.Errorf("%v lacks examples or --root:\n%s", args, r.stdout)
		}
	}
	for _, args := range [][]string{{"cache"}, {"cache", "bogus"}, {"cache", "prune", "--keep-storage", "lots"}, {"cache", "ls", "extra"}} {
		if r := mb(t, args...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s", args, r.code, r.stderr)
		}
	}
}
