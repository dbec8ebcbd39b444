package store

import (
	"os"
	"strings"
	"testing"
)

// TestSyncPending: committing a blob leaves blobs/sha256 to be synced;
// Sync, or an index.json update, syncs it; a failed sync leaves it
// pending, so the next Sync tries again.
func TestSyncPending(t *testing.T) {
	tests := []struct {
		name        string
		act         func(t *testing.T, s *Store) error
		wantPending bool
		wantErr     string
	}{
		{"nothing written", func(*testing.T, *Store) error { return nil }, false, ""},
		{"blob committed", func(t *testing.T, s *Store) error {
			_, err := s.WriteBlob("application/octet-stream", []byte("a blob"))
			return err
		}, true, ""},
		{"blob committed, then Sync", func(t *testing.T, s *Store) error {
			if _, err := s.WriteBlob("application/octet-stream", []byte("a blob")); err != nil {
				return err
			}
			return s.Sync()
		}, false, ""},
		{"image committed, then tagged", func(t *testing.T, s *Store) error {
			img := writeTestImage(t, s, "tagged")
			return s.Tag("app:1", img.manifest)
		}, false, ""},
		{"Sync of a directory that is gone", func(t *testing.T, s *Store) error {
			if _, err := s.WriteBlob("application/octet-stream", []byte("a blob")); err != nil {
				return err
			}
			if err := os.RemoveAll(s.layout.Blobs()); err != nil {
				t.Fatal(err)
			}
			return s.Sync()
		}, true, "syncing directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTestStore(t)
			err := tt.act(t, s)
			if tt.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
			if got := s.unsynced.Load(); got != tt.wantPending {
				t.Errorf("blobs/sha256 pending a sync: %v, want %v", got, tt.wantPending)
			}
		})
	}
}

// TestWriteBlobPresentLeavesNothingPending: a blob already stored is not
// written again, so there is nothing to sync (a no-change rebuild's
// config and manifest).
func TestWriteBlobPresentLeavesNothingPending(t *testing.T) {
	s := openTestStore(t)
	if _, err := s.WriteBlob("application/octet-stream", []byte("same")); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WriteBlob("application/octet-stream", []byte("same")); err != nil {
		t.Fatal(err)
	}
	if s.unsynced.Load() {
		t.Error("rewriting a present blob left blobs/sha256 pending a sync")
	}
}
