package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// verifyClean runs "minibuild cache verify" and fails the test unless it
// finds nothing wrong.
func verifyClean(t *testing.T, root string) {
	t.Helper()
	r := mb(t, "cache", "verify", "--root", root)
	if r.code != 0 || !strings.Contains(r.stdout, "no problems found") {
		t.Fatalf("cache verify: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// layerHeaders reads the tar headers of a layer blob in the store, with
// each regular file's content in the returned map.
func layerHeaders(t *testing.T, root, digest string) (map[string]*tar.Header, map[string]string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "blobs", "sha256", strings.TrimPrefix(digest, "sha256:")))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	hdrs, bodies := map[string]*tar.Header{}, map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return hdrs, bodies
		}
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(h.Name, "/")
		hdrs[name] = h
		if h.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			bodies[name] = string(b)
		}
	}
}

// storeHolds reports whether any blob of the store, decompressed when it
// is gzip, contains needle.
func storeHolds(t *testing.T, root, needle string) bool {
	t.Helper()
	blobs, err := filepath.Glob(filepath.Join(root, "blobs", "sha256", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range blobs {
		data, err := os.ReadFile(b)
		if err != nil {
			t.Fatal(err)
		}
		if zr, err := gzip.NewReader(bytes.NewReader(data)); err == nil {
			if raw, err := io.ReadAll(zr); err == nil {
				data = raw
			}
		}
		if bytes.Contains(data, []byte(needle)) {
			return true
		}
	}
	return false
}

// stepLayer returns the layer digest metadata records for the step whose
// instruction starts with prefix.
func stepLayer(t *testing.T, md metadata, prefix string) string {
	t.Helper()
	for _, s := range md.Steps {
		if strings.HasPrefix(s.Instruction, prefix) {
			if s.Layer == nil {
				t.Fatalf("step %q has no layer", s.Instruction)
			}
			return *s.Layer
		}
	}
	t.Fatalf("no step starts with %q in %+v", prefix, md.Steps)
	return ""
}

// storeManifest reads the manifest a tag points at straight from the
// store's OCI layout: the layer digests and sizes an independent reader sees.
type storeManifest struct {
	Layers []struct {
		Digest string `json:"digest"`
		Size   int64  `json:"size"`
	} `json:"layers"`
}

func readStoreManifest(t *testing.T, root, digest string) storeManifest {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "blobs", "sha256", strings.TrimPrefix(digest, "sha256:")))
	if err != nil {
		t.Fatal(err)
	}
	var m storeManifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
