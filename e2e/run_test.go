package e2e

import (
	"archive/tar"
	"compress/gzip"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"testing"
)

// changesDockerfile makes every kind of filesystem change over a lower
// layer, then records the live rootfs (as the RUN saw it) in /listing.
const changesDockerfile = `FROM busybox:test
RUN mkdir -p /data/keep /data/replace/sub /data/gone && echo old > /data/modify && \
    echo x > /data/replace/sub/f && echo bye > /data/gone/f && echo del > /data/delete-me && \
    ln -s /data/modify /data/oldlink && echo base > /data/chmod-me
RUN echo new >> /data/modify && rm /data/delete-me && rm -rf /data/gone && \
    rm -rf /data/replace && mkdir /data/replace && echo fresh > /data/replace/new && \
    ln -s ../modify /data/keep/rel-link && ln -s /etc/passwd /data/abs-link && \
    echo hl > /data/hl1 && ln /data/hl1 /data/hl2 && \
    cp /bin/busybox /data/suid && chmod 4755 /data/suid && \
    echo owned > /data/owned && chown 1234:5678 /data/owned && \
    mkdir /data/sticky && chmod 1777 /data/sticky && rm /data/oldlink && chmod 0600 /data/chmod-me
RUN cd / && find . -xdev | sort | while read -r p; do \
      case "$p" in ./listing|./proc|./dev|./sys|./etc|./etc/hosts|./etc/resolv.conf) continue;; esac; \
      x=""; if [ -L "$p" ]; then x=$(readlink "$p"); elif [ -f "$p" ]; then x=$(md5sum < "$p" | cut -d" " -f1)/$(stat -c %h "$p"); fi; \
      echo "$(stat -c '%n|%f|%u|%g' "$p")|$x"; \
    done > /listing
`

// describeLikeListing describes dir in the listing's format.
func describeLikeListing(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		name := "./" + filepath.ToSlash(rel)
		if rel == "." {
			name = "."
		}
		if name == "./listing" {
			return nil
		}
		var st syscall.Stat_t
		if err := syscall.Lstat(p, &st); err != nil {
			return err
		}
		x := ""
		switch st.Mode & syscall.S_IFMT {
		case syscall.S_IFLNK:
			x, _ = os.Readlink(p)
		case syscall.S_IFREG:
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := md5.Sum(data)
			x = fmt.Sprintf("%s/%d", hex.EncodeToString(sum[:]), st.Nlink)
		}
		out = append(out, fmt.Sprintf("%s|%x|%d|%d|%s", name, st.Mode, st.Uid, st.Gid, x))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// TestRunChangesMatchLiveRootfs: a RUN's additions, modifications and
// deletions become its layer; umoci's unpacking of the export equals the
// live rootfs the last RUN listed, exactly.
func TestRunChangesMatchLiveRootfs(t *testing.T) {
	requireRoot(t)
	umoci := requireTool(t, "umoci")
	root := t.TempDir()
	busyboxBase(t, root)
	ctx := t.TempDir()
	writeTree(t, ctx, map[string]string{"Dockerfile": changesDockerfile})
	out := filepath.Join(t.TempDir(), "out")
	md, _ := build(t, root, ctx, "-t", "changes:dev", "-o", "type=oci,dest="+out)

	bundle := filepath.Join(t.TempDir(), "bundle")
	if raw, err := exec.Command(umoci, "unpack", "--image", out+":dev", bundle).CombinedOutput(); err != nil {
		t.Fatalf("umoci unpack: %v\n%s", err, raw)
	}
	rootfs := filepath.Join(bundle, "rootfs")
	listing, err := os.ReadFile(filepath.Join(rootfs, "listing"))
	if err != nil {
		t.Fatal(err)
	}
	live := strings.Split(strings.TrimSpace(string(listing)), "\n")
	sort.Strings(live)
	got := describeLikeListing(t, rootfs)
	if !reflect.DeepEqual(live, got) {
		t.Errorf("unpacked image differs from the live rootfs:\n%s", lineDiff(live, got))
	}

	tree := describeTree(t, rootfs)
	for path, want := range map[string]string{
		"data/modify":        "-rw-r--r-- 0:0 old\nnew\n",
		"data/replace/new":   "-rw-r--r-- 0:0 fresh\n",
		"data/keep/rel-link": "Lrwxrwxrwx 0:0 -> ../modify",
		"data/abs-link":      "Lrwxrwxrwx 0:0 -> /etc/passwd",
		"data/owned":         "-rw-r--r-- 1234:5678 owned\n",
		"data/sticky":        "dtrwxrwxrwx 0:0",
		"data/chmod-me":      "-rw------- 0:0 base\n",
		"data/hl1":           "-rw-r--r-- 0:0 hl\n",
		"data/replace/sub":   "",
		"data/gone":          "",
		"data/delete-me":     "",
		"data/oldlink":       "",
	} {
		if tree[path] != want {
			t.Errorf("%s: got %q, want %q", path, tree[path], want)
		}
	}
	if !strings.HasPrefix(tree["data/suid"], "urwxr-xr-x 0:0") { // Go's notation for setuid
		t.Errorf("data/suid: %q", tree["data/suid"][:20])
	}
	var a, b syscall.Stat_t
	_ = syscall.Stat(filepath.Join(rootfs, "data/hl1"), &a)
	_ = syscall.Stat(filepath.Join(rootfs, "data/hl2"), &b)
	if a.Ino != b.Ino || a.Nlink != 2 {
		t.Errorf("hl1 and hl2 are not one hardlinked file (inodes %d %d, nlink %d)", a.Ino, b.Ino, a.Nlink)
	}

	// The deleting step's layer carries OCI whiteouts and an opaque marker.
	names := layerNames(t, root, *md.Steps[2].Layer)
	for _, want := range []string{"data/.wh.delete-me", "data/.wh.gone", "data/replace/.wh..wh..opq", "data/.wh.oldlink", "data/replace/new"} {
		if !names[want] {
			t.Errorf("layer of step 3 lacks %s; it has %v", want, keys(names))
		}
	}
	if names["bin/busybox"] || names["bin"] || names["data/replace/sub"] {
		t.Errorf("layer of step 3 holds unchanged paths: %v", keys(names))
	}
}

// layerNames lists the entry names of a layer blob in the store.
func layerNames(t *testing.T, root, digest string) map[string]bool {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "blobs", "sha256", strings.TrimPrefix(digest, "sha256:")))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	names := map[string]bool{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names[strings.TrimSuffix(h.Name, "/")] = true
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func lineDiff(want, got []string) string {
	w, g := map[string]bool{}, map[string]bool{}
	for _, l := range want {
		w[l] = true
	}
	for _, l := range got {
		g[l] = true
	}
	var b strings.Builder
	for _, l := range want {
		if !g[l] {
			fmt.Fprintf(&b, "  only live:     %s\n", l)
		}
	}
	for _, l := range got {
		if !w[l] {
			fmt.Fprintf(&b, "  only unpacked: %s\n", l)
		}
	}
	return b.String()
}

// TestSnapshottersAndExecutorsAgree: overlay and native snapshotters, the
// built-in executor and runc, give the same layers for the same Dockerfile.
func TestSnapshottersAndExecutorsAgree(t *testing.T) {
	requireRoot(t)
	requireTool(t, "runc")
	ctx := t.TempDir()
	writeTree(t, ctx, map[string]string{"Dockerfile": changesDockerfile})
	var first metadata
	var firstName string
	for _, combo := range [][]string{
		{"--snapshotter", "overlay"},
		{"--snapshotter", "native"},
		{"--snapshotter", "overlay", "--runtime", "runc"},
		{"--snapshotter", "native", "--runtime", "runc"},
	} {
		name := strings.Join(combo, " ")
		root := t.TempDir()
		busyboxBase(t, root, combo...)
		md, _ := build(t, root, ctx, combo...)
		if firstName == "" {
			first, firstName = md, name
			continue
		}
		for i, s := range md.Steps {
			if deref(s.Layer) != deref(first.Steps[i].Layer) {
				t.Errorf("%s: step %d layer %v, %s gave %v", name, i+1, deref(s.Layer), firstName, deref(first.Steps[i].Layer))
			}
		}
		if md.Image.ManifestDigest != first.Image.ManifestDigest {
			t.Errorf("%s: manifest %s, %s gave %s", name, md.Image.ManifestDigest, firstName, first.Image.ManifestDigest)
		}
		if m := mountsUnder(t, root); len(m) > 0 {
			t.Errorf("%s: mounts left behind: %v", name, m)
		}
	}
}

func deref(p *string) string {
	if p == nil {
		return "none"
	}
	return *p
}

// TestRunSemantics: shell, exec and heredoc forms; ENV, ARG, WORKDIR and
// USER reach the process; network none.
func TestRunSemantics(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	busyboxBase(t, root)
	ctx := t.TempDir()
	writeTree(t, ctx, map[string]string{"Dockerfile": `FROM busybox:test
ARG GREETING=hi
ENV WHO=world
WORKDIR /work
RUN echo "$GREETING $WHO $(pwd)" > out1
RUN ["/bin/sh", "-c", "echo exec-form > out2"]
RUN <<EOF
echo "heredoc $WHO" > out3
EOF
RUN cat <<EOT > out4
inline heredoc
EOT
RUN mkdir /work/u && chown 1000:1000 /work/u
USER 1000:1000
RUN id > /work/u/id
USER root
RUN cat /proc/net/dev | grep -c : > net
`})
	dest := filepath.Join(t.TempDir(), "rootfs")
	build(t, root, ctx, "--build-arg", "GREETING=hello", "--network", "none", "-o", "type=local,dest="+dest)
	tree := describeTree(t, dest)
	for path, want := range map[string]string{
		"work/out1": "-rw-r--r-- 0:0 hello world /work\n",
		"work/out2": "-rw-r--r-- 0:0 exec-form\n",
		"work/out3": "-rw-r--r-- 0:0 heredoc world\n",
		"work/out4": "-rw-r--r-- 0:0 inline heredoc\n",
		"work/u/id": "-rw-r--r-- 1000:1000 uid=1000 gid=1000 groups=1000\n",
		"work/net":  "-rw-r--r-- 0:0 1\n",
	} {
		if tree[path] != want {
			t.Errorf("%s: got %q, want %q", path, tree[path], want)
		}
	}
	r := mustMB(t, "inspect", "--root", root, "busybox:test")
	var cfg struct {
		Config struct{ Env []string } `json:"config"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &cfg); err != nil || len(cfg.Config.Env) != 1 {
		t.Errorf("ARG values must not persist in the image: %v %v", cfg, err)
	}
}

// TestFailingRun: a failing RUN stops the build with the line and exit
// code, records nothing, leaves no mount; the fixed Dockerfile builds with
// the steps before it cached.
func TestFailingRun(t *testing.T) {
	requireRoot(t)
	root := t.TempDir()
	busyboxBase(t, root)
	ctx := t.TempDir()
	writeTree(t, ctx, map[string]string{"Dockerfile": "FROM busybox:test\nRUN echo one > /one\nRUN echo partial > /p && exit 3\nRUN echo after\n"})
	r := mb(t, "build", "--root", root, "--progress", "plain", ctx)
	if r.code == 0 {
		t.Fatal("a failing RUN did not fail the build")
	}
	if !strings.Contains(r.stderr, "Dockerfile:3: RUN echo partial > /p && exit 3: exit code 3") {
		t.Errorf("error does not give the line and exit code:\n%s", r.stderr)
	}
	if m := mountsUnder(t, root); len(m) > 0 {
		t.Errorf("mounts left behind: %v", m)
	}
	writeTree(t, ctx, map[string]string{"Dockerfile": "FROM busybox:test\nRUN echo one > /one\nRUN echo fixed > /p\nRUN echo after\n"})
	md, _ := build(t, root, ctx)
	if got, want := md.cacheResults(), []string{"base", "hit", "miss", "miss"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after the fix: %v, want %v", got, want)
	}
}
