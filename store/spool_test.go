package store

import (
	"io"
	"os"
	"testing"
)

func TestNewSpool(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f, err := s.NewSpool()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("layer bytes"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(f); err != nil || string(b) != "layer bytes" {
		t.Fatalf("read back %q, %v", b, err)
	}
	names, err := os.ReadDir(s.layout.Tmp())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		t.Errorf("the spool left a name behind: %s", n.Name())
	}
}
