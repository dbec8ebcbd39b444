package tarutil

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// requireRoot skips tests that chown, mknod or set trusted xattrs.
func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: needs root (chown, mknod and trusted.* xattrs)")
	}
}

// tEntry is one raw tar entry for hand-built (possibly malicious) tars.
type tEntry struct {
	hdr  tar.Header
	body string
}

func reg(name, body string) tEntry {
	return tEntry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644}, body: body}
}

func dirE(name string) tEntry {
	return tEntry{hdr: tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755}}
}

func symE(name, target string) tEntry {
	return tEntry{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777}}
}

func linkE(name, target string) tEntry {
	return tEntry{hdr: tar.Header{Typeflag: tar.TypeLink, Name: name, Linkname: target, Mode: 0o644}}
}

// buildTar writes entries in the given order with archive/tar.
func buildTar(t testing.TB, entries ...tEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := e.hdr
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if h.ModTime.IsZero() && h.Typeflag != tar.TypeXGlobalHeader {
			h.ModTime = time.Unix(1_600_000_000, 0)
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatalf("writing header %q: %v", h.Name, err)
		}
		if _, err := io.WriteString(tw, e.body); err != nil {
			t.Fatalf("writing body %q: %v", h.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// applyTar applies a tar into root.
func applyTar(t testing.TB, root string, data []byte, opts ApplyOptions) (int64, error) {
	t.Helper()
	return Apply(context.Background(), root, bytes.NewReader(data), opts)
}

// treeState describes every object under a directory (not following
// links), so tests can assert nothing outside a root changed.
type treeState map[string]string

// snapshotTree records type, mode, owner, size, link count, mtime, link
// target and content hash of everything under dir, skipping the subtree
// named skip (relative to dir).
func snapshotTree(t testing.TB, dir, skip string) treeState {
	t.Helper()
	state := treeState{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if skip != "" && rel == skip {
			return filepath.SkipDir
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		desc := fmt.Sprintf("mode=%o uid=%d gid=%d size=%d nlink=%d mtime=%d.%09d",
			st.Mode, st.Uid, st.Gid, st.Size, st.Nlink, st.Mtim.Sec, st.Mtim.Nsec)
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFLNK:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			desc += " -> " + target
		case unix.S_IFREG:
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			desc += " sha256=" + hex.EncodeToString(sum[:])
		}
		state[rel] = desc
		return nil
	})
	if err != nil {
		t.Fatalf("snapshotting %s: %v", dir, err)
	}
	return state
}

// diff lists the differences between two tree states.
func (s treeState) diff(other treeState) []string {
	var out []string
	for k, v := range s {
		if w, ok := other[k]; !ok {
			out = append(out, "removed "+k)
		} else if v != w {
			out = append(out, fmt.Sprintf("changed %s: %s => %s", k, v, w))
		}
	}
	for k := range other {
		if _, ok := s[k]; !ok {
			out = append(out, "added "+k)
		}
	}
	sort.Strings(out)
	return out
}

// sandbox is a parent directory holding the root that layers are applied
// to and a sentinel directory beside it that must never change.
type sandbox struct {
	parent, root, sentinel string
}

func newSandbox(t testing.TB) sandbox {
	t.Helper()
	parent := t.TempDir()
	s := sandbox{parent: parent, root: filepath.Join(parent, "root"), sentinel: filepath.Join(parent, "sentinel")}
	for _, d := range []string{s.root, s.sentinel, filepath.Join(s.sentinel, "dir")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{filepath.Join(s.sentinel, "file"), filepath.Join(s.sentinel, "dir", "x")} {
		if err := os.WriteFile(f, []byte("sentinel\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Unix(1_000_000_000, 0)
	for _, p := range []string{filepath.Join(s.sentinel, "dir", "x"), filepath.Join(s.sentinel, "file"),
		filepath.Join(s.sentinel, "dir"), s.sentinel} {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// outside snapshots everything in the sandbox except the root's contents.
func (s sandbox) outside(t testing.TB) treeState {
	return snapshotTree(t, s.parent, "root")
}

// readFile reads a file under root, failing the test on error.
func readFile(t testing.TB, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// lstat stats p without following it.
func lstat(t testing.TB, p string) unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		t.Fatalf("lstat %s: %v", p, err)
	}
	return st
}

// exists reports whether p exists (without following it).
func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// mustContain fails unless err's text contains every part.
func mustContain(t testing.TB, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not contain %q", err, p)
		}
	}
}
