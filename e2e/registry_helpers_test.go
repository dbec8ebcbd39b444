package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/minibuild/minibuild/internal/testregistry"
)

// startTestRegistry runs a real registry on loopback (see testregistry.Start).
func startTestRegistry(t *testing.T, htpasswd string) string {
	return testregistry.Start(t, htpasswd)
}

// emptyDockerConfig points DOCKER_CONFIG (inherited by minibuild) at a
// fresh directory, so no credentials of the machine leak into a test.
func emptyDockerConfig(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("DOCKER_CONFIG", dir)
	return dir
}

// writeDockerConfig writes DIR/config.json with basic-auth credentials
// for registry, as docker login leaves them.
func writeDockerConfig(t *testing.T, dir, registry, user, pass string) {
	t.Helper()
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	data, _ := json.Marshal(map[string]any{"auths": map[string]any{registry: map[string]string{"auth": auth}}})
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// regProxy is a small HTTP proxy in front of a registry that counts blob
// downloads and uploads and injects faults: a 500 for a blob a number of
// times, or a blob's content with one byte changed (same length, no
// Docker-Content-Digest header).
type regProxy struct {
	host string // 127.0.0.1:PORT of the proxy
	mu   sync.Mutex
	// gets counts GET requests per blob digest, faults included.
	gets map[string]int
	// uploads lists the digests of completed blob uploads.
	uploads []string
	// mounts lists the digests of blob mount requests.
	mounts  []string
	fail500 map[string]int
	corrupt map[string]bool
}

var (
	blobPathRE   = regexp.MustCompile(`^/v2/.+/blobs/(sha256:[a-f0-9]{64})$`)
	uploadPathRE = regexp.MustCompile(`^/v2/.+/blobs/uploads/`)
)

// newRegProxy starts a proxy to the registry at target (host:port).
func newRegProxy(t *testing.T, target string) *regProxy {
	t.Helper()
	p := &regProxy{gets: map[string]int{}, fail500: map[string]int{}, corrupt: map[string]bool{}}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: target})
	rp.ModifyResponse = p.modify
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.intercept(w, r) {
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.host = strings.TrimPrefix(srv.URL, "http://")
	return p
}

// intercept counts the request and answers it itself when a fault is due.
func (p *regProxy) intercept(w http.ResponseWriter, r *http.Request) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if uploadPathRE.MatchString(r.URL.Path) {
		q := r.URL.Query()
		if d := q.Get("digest"); d != "" && r.Method == http.MethodPut {
			p.uploads = append(p.uploads, d)
		}
		if d := q.Get("mount"); d != "" && r.Method == http.MethodPost {
			p.mounts = append(p.mounts, d)
		}
		return false
	}
	m := blobPathRE.FindStringSubmatch(r.URL.Path)
	if m == nil || r.Method != http.MethodGet {
		return false
	}
	p.gets[m[1]]++
	if p.fail500[m[1]] > 0 {
		p.fail500[m[1]]--
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"errors":[{"code":"UNKNOWN","message":"injected failure"}]}`)
		return true
	}
	return false
}

// modify corrupts the body of a blob marked corrupt, keeping its length.
func (p *regProxy) modify(resp *http.Response) error {
	m := blobPathRE.FindStringSubmatch(resp.Request.URL.Path)
	p.mu.Lock()
	bad := m != nil && p.corrupt[m[1]] && resp.StatusCode == http.StatusOK
	p.mu.Unlock()
	if !bad {
		return nil
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if len(body) > 0 {
		body[len(body)/2] ^= 0xff
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.Header.Del("Docker-Content-Digest")
	return nil
}

// takeGets returns the GET counts so far and resets them.
func (p *regProxy) takeGets() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.gets
	p.gets = map[string]int{}
	return out
}

// takeUploads returns the uploads and mounts so far and resets them.
func (p *regProxy) takeUploads() (uploads, mounts []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	uploads, mounts = p.uploads, p.mounts
	p.uploads, p.mounts = nil, nil
	return uploads, mounts
}

// ociManifest reads the manifest an OCI layout's index.json entry names.
func ociManifest(t *testing.T, dir string) (manifest struct {
	Config struct{ Digest string } `json:"config"`
	Layers []struct {
		MediaType string `json:"mediaType"`
		Digest    string `json:"digest"`
	} `json:"layers"`
}) {
	t.Helper()
	var idx struct {
		Manifests []struct{ Digest string } `json:"manifests"`
	}
	readJSONFile(t, filepath.Join(dir, "index.json"), &idx)
	if len(idx.Manifests) != 1 {
		t.Fatalf("%s: %d index entries, want 1", dir, len(idx.Manifests))
	}
	readJSONFile(t, ociBlobPath(dir, idx.Manifests[0].Digest), &manifest)
	return manifest
}

func ociBlobPath(dir, d string) string {
	return filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(d, "sha256:"))
}

func readJSONFile(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
