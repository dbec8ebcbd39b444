package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// bin is the minibuild binary built once for the whole test run.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "minibuild-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// The rootless tests run the binary as another user.
	if err := os.Chmod(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "minibuild")
	build := exec.Command("go", "build", "-o", bin, "../cmd/minibuild")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building minibuild:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// requireRoot skips a test that needs root.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (mounts and namespaces); run the tests as root")
	}
}

// requireTool skips when an independent checker is missing, except in CI,
// where the test command has installed it and its absence is a failure.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed; the test command should have installed it", name)
		}
		t.Skipf("%s is not installed (scripts/test.sh installs it)", name)
	}
	return p
}

// result is what one minibuild run printed and how it ended.
type result struct {
	stdout, stderr string
	code           int
}

// mb runs the minibuild binary.
func mb(t *testing.T, args ...string) result {
	t.Helper()
	r, err := runBin(exec.Command(bin, args...))
	if err != nil {
		t.Fatalf("minibuild %s: %v\n%s", strings.Join(args, " "), err, r.stderr)
	}
	return r
}

// runBin runs cmd, a minibuild command, with SOURCE_DATE_EPOCH unset (in
// cmd.Env when set, else in this process's environment) and its output
// captured. The error says why it could not run, or that it
// panicked; an exit code is the result's.
func runBin(cmd *exec.Cmd) (result, error) {
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, "SOURCE_DATE_EPOCH=")
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		return r, fmt.Errorf("running minibuild: %w", err)
	}
	if strings.Contains(r.stderr, "panic:") || strings.Contains(r.stderr, "goroutine ") {
		return r, errors.New("minibuild panicked")
	}
	return r, nil
}

// mustMB runs minibuild and fails the test on a non-zero exit.
func mustMB(t *testing.T, args ...string) result {
	t.Helper()
	r := mb(t, args...)
	if r.code != 0 {
		t.Fatalf("minibuild %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// writeTree writes files (path -> content) under dir; a path ending in "/" is a directory.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// metadata is the --metadata-file document.
type metadata struct {
	Image struct {
		Name           string `json:"name"`
		ManifestDigest string `json:"manifestDigest"`
		ConfigDigest   string `json:"configDigest"`
	} `json:"image"`
	Steps []struct {
		Index       int     `json:"index"`
		Line        int     `json:"line"`
		Stage       string  `json:"stage"`
		Instruction string  `json:"instruction"`
		Cache       string  `json:"cache"`
		Reason      string  `json:"reason"`
		Key         string  `json:"key"`
		Layer       *string `json:"layer"`
	} `json:"steps"`
}

func readMetadata(t *testing.T, path string) metadata {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m metadata
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("metadata file: %v\n%s", err, data)
	}
	return m
}

// cacheResults lists each step's cache field.
func (m metadata) cacheResults() []string {
	out := make([]string, len(m.Steps))
	for i, s := range m.Steps {
		out[i] = s.Cache
	}
	return out
}

// build runs "minibuild build" with a metadata file and returns it.
func build(t *testing.T, root, ctxDir string, extra ...string) (metadata, result) {
	t.Helper()
	md := filepath.Join(t.TempDir(), "md.json")
	args := append([]string{"build", "--root", root, "--progress", "plain", "--metadata-file", md}, extra...)
	r := mustMB(t, append(args, ctxDir)...)
	return readMetadata(t, md), r
}

// describeTree describes every path under dir: type, permissions, owner,
// and content or link target — what "the same filesystem" means here.
func describeTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := info.Sys().(*syscall.Stat_t)
		desc := fmt.Sprintf("%s %d:%d", info.Mode().String(), st.Uid, st.Gid)
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			desc += " -> " + target
		case info.Mode().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			desc += " " + string(data)
		}
		out[filepath.ToSlash(rel)] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// diffTrees reports the differences between two tree descriptions.
func diffTrees(want, got map[string]string) string {
	var keys []string
	seen := map[string]bool{}
	for k := range want {
		keys, seen[k] = append(keys, k), true
	}
	for k := range got {
		if !seen[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		if want[k] != got[k] {
			fmt.Fprintf(&b, "  %s:\n    want %q\n    got  %q\n", k, want[k], got[k])
		}
	}
	return b.String()
}

// blobCount counts the blobs in a store, to see that a failed build wrote none.
func blobCount(t *testing.T, root string) int {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(root, "blobs", "sha256"))
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

func sortStrings(s []string) { sort.Strings(s) }

func removeFile(dir, rel string) error { return os.Remove(filepath.Join(dir, rel)) }

// mbWithin runs minibuild like mb, but kills it after limit and reports
// that as a failure: a hostile input must not hang a build.
func mbWithin(t *testing.T, limit time.Duration, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	r, err := runBin(exec.CommandContext(ctx, bin, args...))
	if ctx.Err() != nil {
		t.Fatalf("minibuild %s did not finish within %v\nstderr:\n%s", strings.Join(args, " "), limit, r.stderr)
	}
	if err != nil {
		t.Fatalf("minibuild %s: %v\n%s", strings.Join(args, " "), err, r.stderr)
	}
	return r
}

// runMB runs minibuild from any goroutine (it never calls t.Fatal); the
// error says why it could not run or that it panicked.
func runMB(args ...string) (result, error) {
	return runBin(exec.Command(bin, args...))
}

// mbStdin runs minibuild with stdin as its standard input.
func mbStdin(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	r, err := runBin(cmd)
	if err != nil {
		t.Fatalf("minibuild %s: %v\n%s", strings.Join(args, " "), err, r.stderr)
	}
	return r
}

// syncBuffer is a bytes.Buffer safe to read while a process writes to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
