package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteFile(t *testing.T) {
	tests := []struct {
		name string
		old  string // "" for no file before
		data string
		perm os.FileMode
	}{
		{"new file", "", "hello", 0o644},
		{"replaces", "old content, longer than the new", "new", 0o644},
		{"private", "", "secret", 0o600},
		{"empty", "x", "", 0o644},
	}
	syncs := []struct {
		name string
		sync Sync
	}{{"all", SyncAll}, {"file", SyncFile}, {"none", SyncNone}}
	for _, tt := range tests {
		for _, sy := range syncs {
			t.Run(tt.name+"/sync "+sy.name, func(t *testing.T) {
				testWriteFile(t, tt.old, tt.data, tt.perm, sy.sync)
			})
		}
	}
}

// testWriteFile replaces a file holding old ("" for none) with data and
// checks the content, the mode and that no temporary file is left.
func testWriteFile(t *testing.T, old, data string, perm os.FileMode, sync Sync) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.json")
	if old != "" {
		if err := os.WriteFile(path, []byte(old), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	write := func() error { return WriteFileSynced(path, []byte(data), perm, sync) }
	if sync == SyncAll {
		write = func() error { return WriteFile(path, []byte(data), perm) }
	}
	if err := write(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != data {
		t.Fatalf("content %q, %v; want %q", got, err, data)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != perm {
		t.Errorf("mode %v, %v; want %v", fi.Mode().Perm(), err, perm)
	}
	if names := dirNames(t, dir); len(names) != 1 {
		t.Errorf("directory holds %v, want only f.json", names)
	}
}

func TestWriteFailureLeavesTarget(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := Write(path, 0o644, func(w io.Writer) error {
		if _, err := io.WriteString(w, strings.Repeat("partial ", 1<<14)); err != nil {
			return err
		}
		return boom
	})
	if err != boom {
		t.Fatalf("Write = %v, want fn's error as it is", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Errorf("target holds %q after a failed write", got)
	}
	if names := dirNames(t, dir); len(names) != 1 {
		t.Errorf("temporary file left: %v", names)
	}
	if err := WriteFile(filepath.Join(dir, "missing", "f"), nil, 0o644); err == nil {
		t.Error("WriteFile into a missing directory succeeded")
	}
}

func TestWriteStreams(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big")
	want := strings.Repeat("0123456789", 100_000)
	err := Write(path, 0o644, func(w io.Writer) error {
		_, err := io.Copy(w, strings.NewReader(want))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != want {
		t.Errorf("streamed content differs: %d bytes, want %d", len(got), len(want))
	}
}

// TestIsTemp: the temporary files Write makes, and those of the writers
// it replaced, are recognised; the files they replace are not.
func TestIsTemp(t *testing.T) {
	dir := t.TempDir()
	boom := errors.New("stop")
	var made string
	_ = Write(filepath.Join(dir, "index.json"), 0o644, func(io.Writer) error {
		made = filepath.Base(onlyName(t, dir))
		return boom
	})
	tests := []struct {
		name string
		want bool
	}{
		{made, true},
		{".index.json.tmp-123456", true}, // the store's old writer
		{".tmp-987654", true},            // the cache's old writer
		{".oci-layout.tmp-1", true},
		{"index.json", false},
		{"0123abcd.json", false},
		{"blob-1234", false},
		{"statcache.tmp", false},
		{".hidden", false},
	}
	for _, tt := range tests {
		if got := IsTemp(tt.name); got != tt.want {
			t.Errorf("IsTemp(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func onlyName(t *testing.T, dir string) string {
	t.Helper()
	names := dirNames(t, dir)
	if len(names) != 1 {
		t.Fatalf("directory holds %v, want one file", names)
	}
	return names[0]
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, de := range des {
		out = append(out, de.Name())
	}
	return out
}
