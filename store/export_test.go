package store

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/minibuild/minibuild/internal/storetest"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// readLayoutIndex decodes dir/index.json.
func readLayoutIndex(t *testing.T, dir string) ocispec.Index {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx ocispec.Index
	if err := json.Unmarshal(data, &idx); err != nil {
		t.Fatal(err)
	}
	return idx
}

// treeFiles maps every regular file under dir (slash paths) to its content
// and every directory to "<dir>"; it also records permission bits.
func treeFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			out[filepath.ToSlash(rel)] = "<dir " + fi.Mode().Perm().String() + ">"
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[filepath.ToSlash(rel)] = fi.Mode().Perm().String() + " " + string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func blobNames(ds ...ocispec.Descriptor) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Digest.Encoded())
	}
	sort.Strings(out)
	return out
}

func TestExportLayoutAndTar(t *testing.T) {
	s := openTestStore(t)
	one := writeTestImage(t, s, "one")
	two := writeTestImage(t, s, "two")
	writeTestImage(t, s, "not exported")
	images := []ExportImage{
		{Name: "app:dev", Descriptor: one.manifest},
		{Name: "localhost:5000/x:1", Descriptor: two.manifest},
		{Name: "app:dev", Descriptor: one.manifest}, // an exact repeat is folded
	}
	dest := filepath.Join(t.TempDir(), "out")
	if err := s.ExportLayout(dest, images); err != nil {
		t.Fatalf("ExportLayout: %v", err)
	}
	idx := readLayoutIndex(t, dest)
	type names struct{ ref, full string }
	var got []names
	for _, m := range idx.Manifests {
		got = append(got, names{m.Annotations[ocispec.AnnotationRefName], m.Annotations[AnnotationContainerdImageName]})
	}
	want := []names{{"1", "localhost:5000/x:1"}, {"dev", "docker.io/library/app:dev"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("index.json names = %v, want %v", got, want)
	}
	gotBlobs := listDir(t, filepath.Join(dest, "blobs", "sha256"))
	wantBlobs := blobNames(one.manifest, one.config, one.layer, two.manifest, two.config, two.layer)
	if !reflect.DeepEqual(gotBlobs, wantBlobs) {
		t.Errorf("exported blobs = %v, want %v", gotBlobs, wantBlobs)
	}
	dir := treeFiles(t, dest)

	var tar1, tar2 bytes.Buffer
	if err := s.ExportLayoutTar(&tar1, images); err != nil {
		t.Fatalf("ExportLayoutTar: %v", err)
	}
	if err := s.ExportLayoutTar(&tar2, images); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(tar1.Bytes(), tar2.Bytes()) {
		t.Error("two ExportLayoutTar runs differ")
	}
	fromTar := map[string]string{}
	var order []string
	tr := tar.NewReader(&tar1)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Uid != 0 || hdr.Gid != 0 || hdr.Uname != "" || hdr.Gname != "" || hdr.ModTime.Unix() != 0 {
			t.Errorf("%s: uid %d gid %d uname %q gname %q mtime %v", hdr.Name, hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname, hdr.ModTime)
		}
		name := strings.TrimSuffix(hdr.Name, "/")
		order = append(order, hdr.Name)
		mode := fs.FileMode(hdr.Mode).Perm().String()
		if hdr.Typeflag == tar.TypeDir {
			fromTar[name] = "<dir " + mode + ">"
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		fromTar[name] = mode + " " + string(data)
	}
	if !sort.StringsAreSorted(order) {
		t.Errorf("tar entries not sorted: %v", order)
	}
	if !reflect.DeepEqual(fromTar, dir) {
		t.Errorf("tar layout differs from ExportLayout's directory:\ntar: %v\ndir: %v", keys(fromTar), keys(dir))
		for k, v := range dir {
			if fromTar[k] != v {
				t.Errorf("%s differs", k)
			}
		}
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestExportLayoutIntoExistingLayout(t *testing.T) {
	s := openTestStore(t)
	one := writeTestImage(t, s, "one")
	two := writeTestImage(t, s, "two")
	dest := t.TempDir()
	if err := s.ExportLayout(dest, []ExportImage{{Name: "app:dev", Descriptor: one.manifest}}); err != nil {
		t.Fatal(err)
	}
	// Damage an exported blob: the next export must notice and replace it.
	// The first export may have hardlinked it, so replace the file rather
	// than writing through the link into the store.
	layerPath := filepath.Join(dest, "blobs", "sha256", one.layer.Digest.Encoded())
	if err := os.Remove(layerPath); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(layerPath, []byte("damaged"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := s.ExportLayout(dest, []ExportImage{
		{Name: "app:dev", Descriptor: two.manifest},
		{Name: "app:prod", Descriptor: one.manifest},
	})
	if err != nil {
		t.Fatal(err)
	}
	idx := readLayoutIndex(t, dest)
	got := map[string]digest.Digest{}
	for _, m := range idx.Manifests {
		got[m.Annotations[ocispec.AnnotationRefName]] = m.Digest
	}
	want := map[string]digest.Digest{"dev": two.manifest.Digest, "prod": one.manifest.Digest}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("index after second export = %v, want %v", got, want)
	}
	if err := verifyBlob(dest, one.layer); err != nil {
		t.Errorf("damaged blob was not replaced: %v", err)
	}
	if !s.HasBlob(one.layer.Digest) {
		t.Fatal("store lost a blob")
	}
	if _, err := s.ReadBlob(one.layer.Digest); err != nil {
		t.Errorf("store blob damaged by export: %v", err)
	}
}

func TestExportRefusals(t *testing.T) {
	s := openTestStore(t)
	one := writeTestImage(t, s, "one")
	two := writeTestImage(t, s, "two")
	missing := one.manifest
	missing.Digest = digest.FromString("no such manifest")
	tests := []struct {
		name   string
		images []ExportImage
	}{
		{"same tag twice", []ExportImage{{"app:dev", one.manifest}, {"other:dev", two.manifest}}},
		{"digest name", []ExportImage{{"app@" + one.manifest.Digest.String(), one.manifest}}},
		{"bad name", []ExportImage{{"App", one.manifest}}},
		{"missing manifest", []ExportImage{{"app", missing}}},
		{"config as image", []ExportImage{{"app", one.config}}},
		{"invalid digest", []ExportImage{{"app", ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: "sha256:../../x", Size: 1}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dest := t.TempDir()
			if err := s.ExportLayout(dest, tt.images); err == nil {
				t.Error("ExportLayout succeeded")
			}
			if err := s.ExportLayoutTar(io.Discard, tt.images); err == nil {
				t.Error("ExportLayoutTar succeeded")
			}
			if _, err := os.Stat(filepath.Join(dest, "index.json")); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a refused export wrote index.json: %v", err)
			}
		})
	}
	if err := s.ExportLayout(s.Root(), []ExportImage{{"app", one.manifest}}); err == nil {
		t.Error("ExportLayout into the store itself succeeded")
	}
}

func TestExportDetectsCorruptBlob(t *testing.T) {
	s := openTestStore(t)
	img := writeTestImage(t, s, "payload")
	path, _ := s.BlobPath(img.layer.Digest)
	storetest.FlipBit(t, path)
	images := []ExportImage{{"app:dev", img.manifest}}
	dest := t.TempDir()
	err := s.ExportLayout(dest, images)
	if err == nil || !strings.Contains(err.Error(), img.layer.Digest.String()) {
		t.Errorf("ExportLayout of a corrupt blob: %v, want an error naming %s", err, img.layer.Digest)
	}
	if _, err := os.Stat(filepath.Join(dest, "blobs", "sha256", img.layer.Digest.Encoded())); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("corrupt blob left in dest: %v", err)
	}
	if err := s.ExportLayoutTar(io.Discard, images); err == nil {
		t.Error("ExportLayoutTar of a corrupt blob succeeded")
	}
	copyDest := filepath.Join(t.TempDir(), "blob")
	if err := s.copyBlob(copyDest, img.layer); err == nil {
		t.Error("copyBlob of a corrupt blob succeeded")
	}
	if left := listDir(t, filepath.Dir(copyDest)); len(left) != 0 {
		t.Errorf("copyBlob left %v behind", left)
	}
}

func TestCopyBlob(t *testing.T) {
	s := openTestStore(t)
	img := writeTestImage(t, s, "copied")
	dst := filepath.Join(t.TempDir(), img.layer.Digest.Encoded())
	if err := s.copyBlob(dst, img.layer); err != nil {
		t.Fatal(err)
	}
	src, _ := s.BlobPath(img.layer.Digest)
	a, _ := os.Stat(src)
	b, err := os.Stat(dst)
	if err != nil || os.SameFile(a, b) || b.Mode().Perm() != 0o644 {
		t.Fatalf("copy: %v, same file %v", err, err == nil && os.SameFile(a, b))
	}
	got, _ := os.ReadFile(dst)
	if digest.FromBytes(got) != img.layer.Digest {
		t.Error("copied content differs")
	}
}

func TestExportFollowsImageIndex(t *testing.T) {
	s := openTestStore(t)
	amd := writeTestImage(t, s, "amd64")
	arm := writeTestImage(t, s, "arm64")
	amd.manifest.Platform = &ocispec.Platform{OS: "linux", Architecture: "amd64"}
	arm.manifest.Platform = &ocispec.Platform{OS: "linux", Architecture: "arm64"}
	inner := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{arm.manifest}}
	inner.SchemaVersion = 2
	innerDesc, err := s.WriteJSON(ocispec.MediaTypeImageIndex, inner)
	if err != nil {
		t.Fatal(err)
	}
	outer := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{amd.manifest, innerDesc}}
	outer.SchemaVersion = 2
	outerDesc, err := s.WriteJSON(ocispec.MediaTypeImageIndex, outer)
	if err != nil {
		t.Fatal(err)
	}
	dest := t.TempDir()
	if err := s.ExportLayout(dest, []ExportImage{{"multi:1", outerDesc}}); err != nil {
		t.Fatal(err)
	}
	got := listDir(t, filepath.Join(dest, "blobs", "sha256"))
	want := blobNames(outerDesc, innerDesc, amd.manifest, amd.config, amd.layer, arm.manifest, arm.config, arm.layer)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("blobs = %v, want %v", got, want)
	}
}

func TestExportUnnamed(t *testing.T) {
	s := openTestStore(t)
	img := writeTestImage(t, s, "anonymous")
	dest := t.TempDir()
	for range 2 {
		err := s.ExportLayout(dest, []ExportImage{{Descriptor: img.manifest}, {Descriptor: img.manifest}})
		if err != nil {
			t.Fatal(err)
		}
	}
	idx := readLayoutIndex(t, dest)
	if len(idx.Manifests) != 1 || idx.Manifests[0].Digest != img.manifest.Digest || len(idx.Manifests[0].Annotations) != 0 {
		t.Fatalf("index after two unnamed exports = %+v, want one entry without annotations", idx.Manifests)
	}
	if err := s.ExportLayout(dest, []ExportImage{{Name: "app:dev", Descriptor: img.manifest}}); err != nil {
		t.Fatal(err)
	}
	if idx := readLayoutIndex(t, dest); len(idx.Manifests) != 2 {
		t.Errorf("a named export next to an unnamed one: %d entries, want 2", len(idx.Manifests))
	}
	var buf bytes.Buffer
	if err := s.ExportLayoutTar(&buf, []ExportImage{{Descriptor: img.manifest}}); err != nil {
		t.Fatal(err)
	}
}
