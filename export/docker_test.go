package export

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"sort"
	"testing"

	"github.com/minibuild/minibuild/store"
	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// dockerTestImage stores an image with two (not really compressed) layers.
func dockerTestImage(t *testing.T, s *store.Store) ocispec.Descriptor {
	t.Helper()
	var layers []ocispec.Descriptor
	var diffIDs []digest.Digest
	for _, c := range []string{"layer one", "layer two"} {
		d, err := s.WriteBlob(ocispec.MediaTypeImageLayer, []byte(c))
		if err != nil {
			t.Fatal(err)
		}
		layers, diffIDs = append(layers, d), append(diffIDs, d.Digest)
	}
	cfg, err := s.WriteJSON(ocispec.MediaTypeImageConfig, ocispec.Image{Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"},
		RootFS: ocispec.RootFS{Type: "layers", DiffIDs: diffIDs}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.WriteJSON(ocispec.MediaTypeImageManifest, ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest, Config: cfg, Layers: layers})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// readTar maps each file of a tar archive to its content.
func readTar(t *testing.T, data []byte) (map[string][]byte, []string) {
	t.Helper()
	files := map[string][]byte{}
	var order []string
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return files, order
		}
		if err != nil {
			t.Fatal(err)
		}
		order = append(order, hdr.Name)
		if hdr.ModTime.Unix() != 0 || hdr.Uid != 0 || hdr.Gid != 0 {
			t.Errorf("%s: mtime %v owner %d:%d", hdr.Name, hdr.ModTime, hdr.Uid, hdr.Gid)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[hdr.Name] = b
	}
}

func TestDocker(t *testing.T) {
	s, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	desc := dockerTestImage(t, s)
	tests := []struct {
		names    []string
		repoTags []string
		refNames []string
	}{
		{[]string{"app:dev", "localhost:5000/team/app"}, []string{"app:dev", "localhost:5000/team/app:latest"}, []string{"docker.io/library/app:dev", "localhost:5000/team/app:latest"}},
		{nil, []string{}, nil},
	}
	for _, tt := range tests {
		t.Run(caseName(tt.names), func(t *testing.T) {
			var buf bytes.Buffer
			if err := Docker(&buf, s, desc, tt.names); err != nil {
				t.Fatal(err)
			}
			var again bytes.Buffer
			if err := Docker(&again, s, desc, tt.names); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), again.Bytes()) {
				t.Error("two exports of the same image differ")
			}
			files, order := readTar(t, buf.Bytes())
			var mj []dockerManifestEntry
			if err := json.Unmarshal(files["manifest.json"], &mj); err != nil || len(mj) != 1 {
				t.Fatalf("manifest.json: %v %s", err, files["manifest.json"])
			}
			if !reflect.DeepEqual(mj[0].RepoTags, tt.repoTags) {
				t.Errorf("RepoTags %v, want %v", mj[0].RepoTags, tt.repoTags)
			}
			for _, p := range append([]string{mj[0].Config}, mj[0].Layers...) {
				data, ok := files[p]
				if !ok || "blobs/sha256/"+digest.FromBytes(data).Encoded() != p {
					t.Errorf("%s missing or not matching its name", p)
				}
			}
			if string(files["blobs/sha256/"+mj[0].Layers[1][len("blobs/sha256/"):]]) != "layer two" {
				t.Errorf("layers out of order: %v", mj[0].Layers)
			}
			var idx ocispec.Index
			if err := json.Unmarshal(files["index.json"], &idx); err != nil {
				t.Fatal(err)
			}
			var refs []string
			for _, m := range idx.Manifests {
				if m.Digest != desc.Digest {
					t.Errorf("index entry %s, want %s", m.Digest, desc.Digest)
				}
				if n := m.Annotations[store.AnnotationContainerdImageName]; n != "" {
					refs = append(refs, n)
				}
			}
			sort.Strings(refs)
			if !reflect.DeepEqual(refs, tt.refNames) {
				t.Errorf("index names %v, want %v", refs, tt.refNames)
			}
			if _, ok := files["oci-layout"]; !ok {
				t.Errorf("no oci-layout in %v", order)
			}
		})
	}
	if err := Docker(io.Discard, s, desc, []string{"Bad Name"}); err == nil {
		t.Error("an invalid name was accepted")
	}
}

func caseName(n []string) string {
	if len(n) == 0 {
		return "unnamed"
	}
	return n[0]
}
