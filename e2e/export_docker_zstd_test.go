package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestDockerArchiveAndZstd: -o type=docker writes an archive skopeo
// inspects (by itself and by its RepoTag), with the image's layers; a
// busybox image built with --compression zstd and pushed is copied by
// skopeo, its layers carry the OCI zstd media type, and the zstd tool
// decompresses each into a tar that lists the files.
func TestDockerArchiveAndZstd(t *testing.T) {
	requireRoot(t)
	skopeo, zstd := requireTool(t, "skopeo"), requireTool(t, "zstd")
	emptyDockerConfig(t)

	t.Run("docker archive", func(t *testing.T) {
		root := t.TempDir()
		busyboxBase(t, root)
		ctx := t.TempDir()
		writeTree(t, ctx, map[string]string{"Dockerfile": "FROM busybox:test\nRUN echo hi > /hi\n"})
		archive := filepath.Join(t.TempDir(), "app.tar")
		md, _ := build(t, root, ctx, "-t", "app:dev", "-o", "type=docker,dest="+archive)
		var img ocispec.Image
		if err := json.Unmarshal([]byte(mustMB(t, "inspect", "--root", root, "app:dev").stdout), &img); err != nil {
			t.Fatal(err)
		}
		for _, ref := range []string{"docker-archive:" + archive, "docker-archive:" + archive + ":app:dev"} {
			raw, err := exec.Command(skopeo, "inspect", ref).CombinedOutput()
			if err != nil {
				t.Fatalf("skopeo inspect %s: %v\n%s", ref, err, raw)
			}
			var insp struct{ Layers []string }
			if err := json.Unmarshal(raw, &insp); err != nil {
				t.Fatal(err)
			}
			// A docker archive's layers are named by their uncompressed digest.
			var diffIDs []string
			for _, d := range img.RootFS.DiffIDs {
				diffIDs = append(diffIDs, d.String())
			}
			if strings.Join(insp.Layers, " ") != strings.Join(diffIDs, " ") {
				t.Errorf("skopeo inspect %s: layers %v, want the diff_ids %v", ref, insp.Layers, diffIDs)
			}
		}
		if md.Image.ManifestDigest == "" {
			t.Error("no manifest digest in the metadata")
		}
	})

	t.Run("zstd", func(t *testing.T) {
		reg := startTestRegistry(t, "")
		name := reg + "/zstd/busybox:1"
		build(t, t.TempDir(), busyboxContext(t), "--compression", "zstd", "--compression-level", "9", "-t", name, "--push")
		layout := filepath.Join(t.TempDir(), "layout")
		if out, err := exec.Command(skopeo, "copy", "--src-tls-verify=false", "docker://"+name, "oci:"+layout+":z").CombinedOutput(); err != nil {
			t.Fatalf("skopeo copy: %v\n%s", err, out)
		}
		m := ociManifest(t, layout)
		if len(m.Layers) != 2 {
			t.Fatalf("%d layers, want 2", len(m.Layers))
		}
		var listing []string
		for _, l := range m.Layers {
			if l.MediaType != ocispec.MediaTypeImageLayerZstd {
				t.Errorf("layer %s has media type %s, want %s", l.Digest, l.MediaType, ocispec.MediaTypeImageLayerZstd)
			}
			tarPath := filepath.Join(t.TempDir(), "layer.tar")
			if out, err := exec.Command(zstd, "-q", "-d", "-o", tarPath, ociBlobPath(layout, l.Digest)).CombinedOutput(); err != nil {
				t.Fatalf("zstd -d of layer %s: %v\n%s", l.Digest, err, out)
			}
			out, err := exec.Command("tar", "-tf", tarPath).Output()
			if err != nil {
				t.Fatalf("tar -tf of the decompressed layer %s: %v", l.Digest, err)
			}
			listing = append(listing, strings.Fields(string(out))...)
			os.Remove(tarPath)
		}
		for _, want := range []string{"bin/busybox", "bin/sh"} {
			if !strings.Contains(" "+strings.Join(listing, " ")+" ", " "+want+" ") {
				t.Errorf("decompressed layers do not list %s: %v", want, listing)
			}
		}
	})
}
