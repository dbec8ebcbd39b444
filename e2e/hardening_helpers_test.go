package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// mbWithin runs minibuild like mb, but kills it after limit and reports
// that as a failure: a hostile input must not hang a build.
func mbWithin(t *testing.T, limit time.Duration, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=")
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("minibuild %s did not finish within %v\nstderr:\n%s", strings.Join(args, " "), limit, errb.String())
	}
	r := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running minibuild: %v", err)
	}
	if strings.Contains(r.stderr, "panic:") || strings.Contains(r.stderr, "goroutine ") {
		t.Fatalf("minibuild panicked:\n%s", r.stderr)
	}
	return r
}

// verifyClean runs "minibuild cache verify" and fails the test unless it
// finds nothing wrong.
func verifyClean(t *testing.T, root string) {
	t.Helper()
	r := mb(t, "cache", "verify", "--root", root)
	if r.code != 0 || !strings.Contains(r.stdout, "no problems found") {
		t.Fatalf("cache verify: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// sentinelDir makes a directory outside every store and context whose
// tree must never change, and returns it with a check function.
func sentinelDir(t *testing.T) (string, func(t *testing.T)) {
	t.Helper()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"secret": "host secret: never in a layer\n", "sub/passwd": "root:x:0:0::/root:/bin/sh\nhostuser:x:4242:4242::/:/bin/sh\n"})
	before := describeTree(t, dir)
	return dir, func(t *testing.T) {
		t.Helper()
		if d := diffTrees(before, describeTree(t, dir)); d != "" {
			t.Fatalf("the sentinel outside the store changed:\n%s", d)
		}
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
