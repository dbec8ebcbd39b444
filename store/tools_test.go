package store

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// requireTool skips the test unless name is on PATH.
func requireTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s is not installed; skipping the check with an independent OCI tool", name)
	}
}

// run runs a command and returns its stdout, failing the test on error.
func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes()
}

// skopeoDigest runs skopeo inspect on ref and returns the manifest digest
// it reports.
func skopeoDigest(t *testing.T, ref string) string {
	t.Helper()
	var out struct {
		Digest string `json:"Digest"`
		Layers []string
	}
	if err := json.Unmarshal(run(t, "skopeo", "inspect", ref), &out); err != nil {
		t.Fatalf("decoding skopeo output: %v", err)
	}
	return out.Digest
}

func TestLayoutsWithSkopeoAndUmoci(t *testing.T) {
	requireTool(t, "skopeo")
	s := openTestStore(t)
	img := writeTestImage(t, s, "hello from minibuild\n")
	for _, name := range []string{"app:dev", "localhost:5000/x/app:dev"} {
		if err := s.Tag(name, img.manifest); err != nil {
			t.Fatal(err)
		}
	}
	want := img.manifest.Digest.String()
	if got := skopeoDigest(t, "oci:"+s.Root()+":app:dev"); got != want {
		t.Errorf("skopeo inspect of the store: digest %s, want %s", got, want)
	}
	if got := skopeoDigest(t, "oci:"+s.Root()+":localhost:5000/x/app:dev"); got != want {
		t.Errorf("skopeo inspect of the store by full name: digest %s, want %s", got, want)
	}

	dest := filepath.Join(t.TempDir(), "layout")
	images := []ExportImage{{Name: "app:dev", Descriptor: img.manifest}}
	if err := s.ExportLayout(dest, images); err != nil {
		t.Fatal(err)
	}
	if got := skopeoDigest(t, "oci:"+dest+":dev"); got != want {
		t.Errorf("skopeo inspect of the export: digest %s, want %s", got, want)
	}

	var tarBuf bytes.Buffer
	if err := s.ExportLayoutTar(&tarBuf, images); err != nil {
		t.Fatal(err)
	}
	extracted := filepath.Join(t.TempDir(), "extracted")
	extractTar(t, bytes.NewReader(tarBuf.Bytes()), extracted)
	if a, b := treeFiles(t, dest), treeFiles(t, extracted); !reflect.DeepEqual(a, b) {
		t.Errorf("extracted tar differs from the exported directory:\n%v\n%v", keys(a), keys(b))
	}
	if got := skopeoDigest(t, "oci:"+extracted+":dev"); got != want {
		t.Errorf("skopeo inspect of the extracted tar: digest %s, want %s", got, want)
	}
	tarFile := filepath.Join(t.TempDir(), "layout.tar")
	if err := os.WriteFile(tarFile, tarBuf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := skopeoDigest(t, "oci-archive:"+tarFile+":dev"); got != want {
		t.Errorf("skopeo inspect oci-archive: digest %s, want %s", got, want)
	}

	t.Run("umoci", func(t *testing.T) {
		requireTool(t, "umoci")
		bundle := filepath.Join(t.TempDir(), "bundle")
		args := []string{"unpack", "--image", dest + ":dev", bundle}
		if os.Geteuid() != 0 {
			args = append([]string{"unpack", "--rootless"}, args[1:]...)
		}
		run(t, "umoci", args...)
		got, err := os.ReadFile(filepath.Join(bundle, "rootfs", "hello.txt"))
		if err != nil || string(got) != "hello from minibuild\n" {
			t.Errorf("unpacked hello.txt = %q, %v", got, err)
		}
		cfg, err := os.ReadFile(filepath.Join(bundle, "config.json"))
		if err != nil || !strings.Contains(string(cfg), "/hello") {
			t.Errorf("runtime config lacks the image's Cmd: %v", err)
		}
	})
}

// extractTar writes the regular files and directories of an OCI layout tar
// under dir. The tar is our own output, but names are still checked.
func extractTar(t *testing.T, r io.Reader, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(hdr.Name, "/")
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := root.Mkdir(name, os.FileMode(hdr.Mode).Perm()); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, os.FileMode(hdr.Mode).Perm())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(f, tr); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("unexpected tar entry %s of type %c", hdr.Name, hdr.Typeflag)
		}
	}
}
