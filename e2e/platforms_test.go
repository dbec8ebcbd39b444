package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// arm64Busybox is Debian's static busybox for arm64 that scripts/test.sh
// fetches; the test skips without it, except in CI.
func arm64Busybox(t *testing.T) string {
	t.Helper()
	p := os.Getenv("MINIBUILD_TEST_BUSYBOX_ARM64")
	if p == "" {
		p = "/var/cache/minibuild-test/busybox-arm64/bin/busybox"
	}
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no arm64 busybox at %s: scripts/test.sh fetches it", p)
		}
		t.Skipf("no arm64 busybox at %s (scripts/test.sh fetches it)", p)
	}
	if _, err := os.Stat("/proc/sys/fs/binfmt_misc/qemu-aarch64"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("no qemu-aarch64 binfmt_misc handler: scripts/test.sh registers it")
		}
		t.Skip("no qemu-aarch64 binfmt_misc handler (scripts/test.sh registers it)")
	}
	return p
}

// TestPlatforms builds one Dockerfile for linux/amd64 and linux/arm64: an
// image index whose manifests carry their platforms and whose configs say
// their architecture, a RUN that recorded x86_64 and aarch64 (arm64 through
// QEMU), a FROM --platform=$BUILDPLATFORM stage run natively once whose
// output differs by TARGETARCH, the index pushed and read back per
// architecture, and the same index with --jobs 1.
func TestPlatforms(t *testing.T) {
	requireRoot(t)
	requireBusybox(t)
	arm := arm64Busybox(t)
	skopeo := requireTool(t, "skopeo")
	umoci := requireTool(t, "umoci")
	root := t.TempDir()
	ctx := t.TempDir()
	writeTree(t, ctx, map[string]string{"Dockerfile": `FROM --platform=$BUILDPLATFORM scratch AS tools
ARG TARGETARCH
COPY busybox-amd64 /bin/busybox
RUN ["/bin/busybox", "sh", "-c", "echo built on $(/bin/busybox uname -m) for $TARGETARCH > /note"]

FROM scratch
ARG TARGETARCH
COPY busybox-${TARGETARCH} /bin/busybox
COPY --from=tools /note /note
RUN ["/bin/busybox", "sh", "-c", "/bin/busybox uname -m > /arch"]
`})
	for name, src := range map[string]string{"busybox-amd64": "/bin/busybox", "busybox-arm64": arm} {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ctx, name), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "oci")
	md, r := build(t, root, ctx, "--platform", "linux/amd64,linux/arm64", "-t", "multi:1", "-o", "type=oci,dest="+out)
	if got := strings.Join(md.cacheResults(), " "); got != "base miss miss miss base hit hit miss miss base hit hit miss base miss miss miss miss" {
		t.Errorf("steps: %s (the final amd64 stage shares its first steps with tools; the arm64 build finds tools cached)\n%s", got, r.stderr)
	}
	raw, err := exec.Command(skopeo, "inspect", "--raw", "oci:"+out+":1").Output()
	if err != nil {
		t.Fatalf("skopeo inspect --raw: %v", err)
	}
	var idx struct {
		MediaType string `json:"mediaType"`
		Manifests []struct {
			Digest   string            `json:"digest"`
			Platform map[string]string `json:"platform"`
		} `json:"manifests"`
	}
	if err := json.Unmarshal(raw, &idx); err != nil || idx.MediaType != "application/vnd.oci.image.index.v1+json" || len(idx.Manifests) != 2 ||
		idx.Manifests[0].Platform["architecture"] != "amd64" || idx.Manifests[1].Platform["architecture"] != "arm64" {
		t.Fatalf("not an index of amd64 and arm64 (%v):\n%s", err, raw)
	}
	for _, c := range []struct{ arch, uname string }{{"amd64", "x86_64"}, {"arm64", "aarch64"}} {
		cfg, err := exec.Command(skopeo, "inspect", "--override-arch", c.arch, "--config", "oci:"+out+":1").Output()
		var config struct {
			Architecture string `json:"architecture"`
		}
		if err != nil || json.Unmarshal(cfg, &config) != nil || config.Architecture != c.arch {
			t.Errorf("%s config (%v): %s", c.arch, err, cfg)
		}
		sel := filepath.Join(t.TempDir(), "sel")
		if b, err := exec.Command(skopeo, "copy", "-q", "--override-arch", c.arch, "oci:"+out+":1", "oci:"+sel+":x").CombinedOutput(); err != nil {
			t.Fatalf("skopeo copy %s: %v\n%s", c.arch, err, b)
		}
		bundle := filepath.Join(t.TempDir(), "b")
		if b, err := exec.Command(umoci, "unpack", "--image", sel+":x", bundle).CombinedOutput(); err != nil {
			t.Fatalf("umoci unpack %s: %v\n%s", c.arch, err, b)
		}
		arch, _ := os.ReadFile(filepath.Join(bundle, "rootfs", "arch"))
		note, _ := os.ReadFile(filepath.Join(bundle, "rootfs", "note"))
		if string(arch) != c.uname+"\n" || string(note) != "built on x86_64 for "+c.arch+"\n" {
			t.Errorf("%s image: /arch %q, /note %q", c.arch, arch, note)
		}
	}

	// Each platform's image has its own saved results and stage graph.
	for _, c := range []struct{ platform, want string }{{"linux/amd64", "tools [linux/amd64]"}, {"linux/arm64", "tools [linux/arm64]"}} {
		text := mustMB(t, "report", "--root", root, "--format", "text", "--platform", c.platform, "multi:1").stdout
		other := "linux/arm64"
		if c.platform == other {
			other = "linux/amd64"
		}
		if !strings.Contains(text, "Stages: 2 in 2 columns") || !strings.Contains(text, "← "+c.want) || strings.Contains(text, other) || strings.Contains(text, "unknown") {
			t.Errorf("report --platform %s:\n%s", c.platform, text)
		}
	}

	reg := startTestRegistry(t, "")
	dest := reg + "/multi:1"
	mustMB(t, "push", "--root", root, "--insecure-registry", reg, "multi:1", dest)
	got, err := exec.Command(skopeo, "inspect", "--tls-verify=false", "--override-arch", "arm64", "docker://"+dest).Output()
	if err != nil || !strings.Contains(string(got), `"Architecture": "arm64"`) {
		t.Errorf("skopeo inspect --override-arch arm64 of the pushed index (%v):\n%s", err, got)
	}

	md1, _ := build(t, t.TempDir(), ctx, "--jobs", "1", "--platform", "linux/amd64,linux/arm64")
	if md1.Image.ManifestDigest != md.Image.ManifestDigest {
		t.Errorf("--jobs 1 built index %s, the parallel build %s", md1.Image.ManifestDigest, md.Image.ManifestDigest)
	}
}
