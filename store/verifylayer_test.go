package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minibuild/minibuild/internal/storetest"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestVerifyLayer(t *testing.T) {
	tests := []struct {
		name string
		// damage changes the store, or the descriptor and diffID asked about.
		damage func(t *testing.T, s *Store, l *testLayer)
		want   string // "" for success, else part of the error
	}{
		{"sound", func(*testing.T, *Store, *testLayer) {}, ""},
		{"bit flip", func(t *testing.T, s *Store, l *testLayer) { storetest.FlipBit(t, blobFile(t, s, l.desc.Digest)) }, "does not match"},
		{"right size, wrong content", func(t *testing.T, s *Store, l *testLayer) {
			other := putLayer(t, s, "f", "conTent")
			data, err := os.ReadFile(blobFile(t, s, other.desc.Digest))
			if err != nil {
				t.Fatal(err)
			}
			storetest.WriteFile(t, blobFile(t, s, l.desc.Digest), string(data))
		}, "does not match"},
		{"truncated", func(t *testing.T, s *Store, l *testLayer) {
			if err := os.Truncate(blobFile(t, s, l.desc.Digest), 5); err != nil {
				t.Fatal(err)
			}
		}, "bytes"},
		{"missing", func(t *testing.T, s *Store, l *testLayer) {
			if err := os.Remove(blobFile(t, s, l.desc.Digest)); err != nil {
				t.Fatal(err)
			}
		}, "not found"},
		{"wrong diffID", func(_ *testing.T, _ *Store, l *testLayer) { l.diffID = digest.FromString("other") }, "not the diffID"},
		{"bad diffID string", func(_ *testing.T, _ *Store, l *testLayer) { l.diffID = "sha256:../x" }, "diffID"},
		{"bad digest string", func(_ *testing.T, _ *Store, l *testLayer) { l.desc.Digest = "sha256:../../etc/passwd" }, "invalid digest"},
		{"wrong size", func(_ *testing.T, _ *Store, l *testLayer) { l.desc.Size++ }, "descriptor says"},
		{"symlink", func(t *testing.T, s *Store, l *testLayer) {
			p := blobFile(t, s, l.desc.Digest)
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("/etc/passwd", p); err != nil {
				t.Fatal(err)
			}
		}, "not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTestStore(t)
			l := putLayer(t, s, "f", "content")
			tt.damage(t, s, &l)
			err := s.VerifyLayer(l.desc, l.diffID)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("VerifyLayer: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("VerifyLayer = %v, want an error containing %q", err, tt.want)
			}
			if tt.name == "missing" && !errors.Is(err, ErrNotFound) {
				t.Errorf("a missing blob does not wrap ErrNotFound: %v", err)
			}
		})
	}
}

// TestVerifyLayerStamp: a full check is stamped; an unchanged blob is then
// not read again, and a blob written since is.
func TestVerifyLayerStamp(t *testing.T) {
	s := openTestStore(t)
	l := putLayer(t, s, "f", "content")
	if err := s.VerifyLayer(l.desc, l.diffID); err != nil {
		t.Fatal(err)
	}
	stamp := filepath.Join(s.layout.Verified(), l.desc.Digest.Encoded())
	data, err := os.ReadFile(stamp)
	if err != nil || !strings.HasPrefix(string(data), string(l.diffID)+" ") {
		t.Fatalf("stamp = %q, %v", data, err)
	}
	// Unreadable but unchanged: the stamp answers.
	p := blobFile(t, s, l.desc.Digest)
	if err := os.Chmod(p, 0); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		if err := s.VerifyLayer(l.desc, l.diffID); err == nil {
			t.Error("the chmod did not force a full check")
		}
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	// A stamp for another diffID does not vouch for this one.
	if err := s.VerifyLayer(l.desc, digest.FromString("x")); err == nil {
		t.Error("the stamp vouched for another diffID")
	}
	// Written in place, same size: the identity changes, the check is full.
	time.Sleep(10 * time.Millisecond)
	storetest.FlipBit(t, p)
	if err := s.VerifyLayer(l.desc, l.diffID); err == nil {
		t.Error("a blob changed after its stamp passed")
	}
	// RemoveStaleStamps (Prune) drops stamps of removed blobs.
	if err := s.RemoveBlob(l.desc.Digest); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveStaleStamps(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stamp); !os.IsNotExist(err) {
		t.Errorf("stamp of a removed blob kept: %v", err)
	}
	if err := s.VerifyLayer(ocispec.Descriptor{Digest: l.desc.Digest, Size: -1}, l.diffID); !errors.Is(err, ErrNotFound) {
		t.Errorf("VerifyLayer of a removed blob = %v", err)
	}
}

func TestMarkLayerVerified(t *testing.T) {
	s := openTestStore(t)
	img := writeTestImage(t, s, "marked")
	if err := s.MarkLayerVerified(img.layer, img.diffID); err != nil {
		t.Fatal(err)
	}
	if err := s.VerifyLayer(img.layer, img.diffID); err != nil {
		t.Fatalf("VerifyLayer after MarkLayerVerified: %v", err)
	}
	// A stamp never hides damage done afterwards: the file's identity changes.
	path, _ := s.BlobPath(img.layer.Digest)
	storetest.FlipBit(t, path)
	if err := s.VerifyLayer(img.layer, img.diffID); err == nil {
		t.Fatal("a bit flip after the stamp went unnoticed")
	}
	if err := s.MarkLayerVerified(img.layer, "sha256:../x"); err == nil {
		t.Error("a bad diffID was stamped")
	}
}
