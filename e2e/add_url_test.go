package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

// TestAddURL: ADD of a URL served on loopback, with a right and a wrong
// checksum; a checksummed download is cached by its checksum; a remote
// archive is not extracted.
func TestAddURL(t *testing.T) {
	requireRoot(t)
	body := "downloaded content\n"
	var hits int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		switch r.URL.Path {
		case "/files/data.txt":
			w.Write([]byte(body))
		case "/files/pkg.tar.gz":
			w.Write([]byte("\x1f\x8b\x08\x00not really a tarball"))
		default:
			http.NotFound(w, r)
		}
	}))
	sum := sha256.Sum256([]byte(body))
	right := "sha256:" + hex.EncodeToString(sum[:])
	wrong := "sha256:" + strings.Repeat("0", 64)
	root := t.TempDir()

	ctx := t.TempDir()
	writeTree(t, ctx, map[string]string{"Dockerfile": "FROM scratch\nADD --checksum=" + right + " " + srv.URL + "/files/data.txt /dl/\nADD " + srv.URL + "/files/pkg.tar.gz /dl/\n"})
	dest := filepath.Join(t.TempDir(), "rootfs")
	build(t, root, ctx, "-o", "type=local,dest="+dest)
	tree := describeTree(t, dest)
	if tree["dl/data.txt"] != "-rw------- 0:0 "+body {
		t.Errorf("dl/data.txt = %q", tree["dl/data.txt"])
	}
	if !strings.HasPrefix(tree["dl/pkg.tar.gz"], "-rw------- 0:0 \x1f\x8b") {
		t.Errorf("a remote archive must be copied as is: %q", tree["dl/pkg.tar.gz"])
	}

	bad := t.TempDir()
	writeTree(t, bad, map[string]string{"Dockerfile": "FROM scratch\n\nADD --checksum=" + wrong + " " + srv.URL + "/files/data.txt /dl/\n"})
	r := mb(t, "build", "--root", t.TempDir(), bad)
	if r.code == 0 || !strings.Contains(r.stderr, "Dockerfile:3:") || !strings.Contains(r.stderr, "checksum mismatch") {
		t.Errorf("a wrong checksum: exit %d\n%s", r.code, r.stderr)
	}

	// Cached by checksum: with the server gone, the checksummed ADD still hits.
	srv.Close()
	only := t.TempDir()
	writeTree(t, only, map[string]string{"Dockerfile": "FROM scratch\nADD --checksum=" + right + " " + srv.URL + "/files/data.txt /dl/\n"})
	md, _ := build(t, root, only)
	if md.Steps[1].Cache != "hit" {
		t.Errorf("checksummed ADD with the server gone: %s", md.Steps[1].Cache)
	}
}
