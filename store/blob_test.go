package store

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	digest "github.com/opencontainers/go-digest"
)

// listDir returns the names in dir.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestBlobWriterCommit(t *testing.T) {
	data := []byte("hello, blob")
	right := digest.FromBytes(data)
	wrong := digest.FromString("something else")
	tests := []struct {
		name     string
		want     digest.Digest
		wantSize int64
		wantErr  string
	}{
		{"right digest and size", right, int64(len(data)), ""},
		{"no expectations", "", -1, ""},
		{"right digest, size unchecked", right, -1, ""},
		{"wrong digest", wrong, int64(len(data)), "want " + wrong.String()},
		{"size mismatch", right, int64(len(data)) + 1, "size 11, want 12"},
		{"invalid want", digest.Digest("sha256:../../x"), -1, "invalid digest"},
		{"non-sha256 want", digest.Digest("sha512:" + strings.Repeat("a", 128)), -1, "invalid digest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTestStore(t)
			w, err := s.NewBlobWriter("application/octet-stream")
			if err != nil {
				t.Fatal(err)
			}
			// Write in two pieces to exercise streaming.
			if _, err := w.Write(data[:5]); err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(data[5:]); err != nil {
				t.Fatal(err)
			}
			desc, err := w.Commit(tt.want, tt.wantSize)
			blobs := listDir(t, filepath.Join(s.Root(), "blobs", "sha256"))
			if tmp := listDir(t, filepath.Join(s.Root(), "tmp")); len(tmp) != 0 {
				t.Errorf("tmp/ not empty after Commit: %v", tmp)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Commit error = %v, want one containing %q", err, tt.wantErr)
				}
				if len(blobs) != 0 {
					t.Errorf("blobs/sha256 holds %v after a failed Commit", blobs)
				}
				return
			}
			if err != nil {
				t.Fatalf("Commit: %v", err)
			}
			if desc.Digest != right || desc.Size != int64(len(data)) || desc.MediaType != "application/octet-stream" {
				t.Errorf("descriptor = %+v", desc)
			}
			if len(blobs) != 1 || blobs[0] != right.Encoded() {
				t.Errorf("blobs/sha256 = %v, want [%s]", blobs, right.Encoded())
			}
			got, err := s.ReadBlob(right)
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("ReadBlob = %q, %v", got, err)
			}
			fi, err := os.Stat(filepath.Join(s.Root(), "blobs", "sha256", right.Encoded()))
			if err != nil || fi.Mode().Perm() != 0o644 {
				t.Errorf("blob file mode = %v, %v; want 0644", fi.Mode(), err)
			}
			if _, err := w.Write([]byte("x")); err == nil {
				t.Error("Write after Commit succeeded")
			}
		})
	}
}

func TestBlobWriterCancel(t *testing.T) {
	s := openTestStore(t)
	w, err := s.NewBlobWriter("x")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("partial")); err != nil {
		t.Fatal(err)
	}
	if err := w.Cancel(); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	if err := w.Cancel(); err != nil {
		t.Errorf("second Cancel: %v", err)
	}
	if _, err := w.Commit("", -1); err == nil {
		t.Error("Commit after Cancel succeeded")
	}
	if tmp := listDir(t, filepath.Join(s.Root(), "tmp")); len(tmp) != 0 {
		t.Errorf("tmp/ not empty after Cancel: %v", tmp)
	}
	if blobs := listDir(t, filepath.Join(s.Root(), "blobs", "sha256")); len(blobs) != 0 {
		t.Errorf("blobs after Cancel: %v", blobs)
	}
}

func TestConcurrentCommitsOfSameBlob(t *testing.T) {
	s := openTestStore(t)
	data := bytes.Repeat([]byte("concurrent "), 10000)
	want := digest.FromBytes(data)
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w, err := s.NewBlobWriter("x")
			if err != nil {
				errs <- err
				return
			}
			for off := 0; off < len(data); off += 4096 {
				if _, err := w.Write(data[off:min(off+4096, len(data))]); err != nil {
					errs <- err
					return
				}
			}
			_, err = w.Commit(want, int64(len(data)))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Commit: %v", err)
		}
	}
	got, err := s.ReadBlob(want)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("ReadBlob after concurrent commits: %v", err)
	}
	if blobs := listDir(t, filepath.Join(s.Root(), "blobs", "sha256")); len(blobs) != 1 {
		t.Errorf("blobs = %v, want exactly one", blobs)
	}
	if tmp := listDir(t, filepath.Join(s.Root(), "tmp")); len(tmp) != 0 {
		t.Errorf("tmp/ not empty: %v", tmp)
	}
}

func TestWriteJSONAndHasBlob(t *testing.T) {
	s := openTestStore(t)
	desc, err := s.WriteJSON("application/json", map[string]int{"b": 2, "a": 1})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.ReadBlob(desc.Digest)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != `{"a":1,"b":2}` {
		t.Errorf("WriteJSON stored %q", got)
	}
	if !s.HasBlob(desc.Digest) {
		t.Error("HasBlob = false for a written blob")
	}
	if s.HasBlob(digest.FromString("absent")) {
		t.Error("HasBlob = true for an absent blob")
	}
	if _, err := s.WriteJSON("x", func() {}); err == nil {
		t.Error("WriteJSON of a func succeeded")
	}
}

func TestWriteBlobPresent(t *testing.T) {
	ino := func(t *testing.T, p string) uint64 {
		t.Helper()
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Sys().(*syscall.Stat_t).Ino
	}
	data := []byte(`{"config":"small"}`)
	tests := []struct {
		name      string
		damage    func(t *testing.T, path string)
		rewritten bool
	}{
		{"intact copy is kept as it is", func(*testing.T, string) {}, false},
		{"damaged copy is replaced", func(t *testing.T, p string) {
			if err := os.WriteFile(p, bytes.ToUpper(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"truncated copy is replaced", func(t *testing.T, p string) {
			if err := os.Truncate(p, 3); err != nil {
				t.Fatal(err)
			}
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTestStore(t)
			desc, err := s.WriteBlob("x", data)
			if err != nil {
				t.Fatal(err)
			}
			path, _ := s.BlobPath(desc.Digest)
			tt.damage(t, path)
			before := ino(t, path)
			again, err := s.WriteBlob("x", data)
			if err != nil || again.Digest != desc.Digest || again.Size != desc.Size || again.MediaType != "x" {
				t.Fatalf("WriteBlob again = %+v, %v; want %+v", again, err, desc)
			}
			if got := ino(t, path) != before; got != tt.rewritten {
				t.Fatalf("rewritten = %v, want %v", got, tt.rewritten)
			}
			if b, err := os.ReadFile(path); err != nil || !bytes.Equal(b, data) {
				t.Fatalf("blob = %q, %v", b, err)
			}
		})
	}
}
