package export

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minibuild/minibuild/internal/storetest"
	"github.com/minibuild/minibuild/store"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestPlatformDir(t *testing.T) {
	for _, c := range []struct {
		p    ocispec.Platform
		want string
	}{
		{ocispec.Platform{OS: "linux", Architecture: "amd64"}, "linux_amd64"},
		{ocispec.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}, "linux_arm64"},
		{ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}, "linux_arm_v7"},
		{ocispec.Platform{OS: "linux", Architecture: "arm"}, "linux_arm_v7"},
		{ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v6"}, "linux_arm_v6"},
	} {
		if got := PlatformDir(c.p); got != c.want {
			t.Errorf("PlatformDir(%+v) = %q, want %q", c.p, got, c.want)
		}
	}
}

// indexImage stores an index of an amd64 image (file f "amd64") and an
// arm/v7 one (f "arm", g "v7").
func indexImage(t *testing.T, s *store.Store) ocispec.Descriptor {
	t.Helper()
	amd := ocispec.Platform{OS: "linux", Architecture: "amd64"}
	arm := ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}
	a := storetest.PutImage(t, s, amd, map[string]string{"f": "amd64"})
	b := storetest.PutImage(t, s, arm, map[string]string{"f": "arm", "g": "v7"})
	a.Platform, b.Platform = &amd, &arm
	idx, err := s.WriteIndex([]ocispec.Descriptor{a, b})
	if err != nil {
		t.Fatal(err)
	}
	return idx
}

func TestLocalIndex(t *testing.T) {
	s, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	idx := indexImage(t, s)
	dest := filepath.Join(t.TempDir(), "out")
	if err := Local(context.Background(), s, idx, dest); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"linux_amd64/f": "amd64", "linux_arm_v7/f": "arm", "linux_arm_v7/g": "v7"}
	var got []string
	err = filepath.Walk(dest, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dest, p)
		got = append(got, rel)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if string(data) != want[rel] {
			t.Errorf("%s holds %q, want %q", rel, data, want[rel])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("files %v, want those of %v", got, want)
	}
	if err := Local(context.Background(), s, idx, dest); err == nil || !strings.Contains(err.Error(), "is not empty") {
		t.Errorf("a second export into the same directory: %v", err)
	}

	// An entry without a platform has no directory: nothing is written.
	noPlatform := storetest.PutImage(t, s, ocispec.Platform{OS: "linux", Architecture: "amd64"}, map[string]string{"x": "y"})
	bad, err := s.WriteIndex([]ocispec.Descriptor{noPlatform})
	if err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(t.TempDir(), "bad")
	if err := Local(context.Background(), s, bad, empty); err == nil || !strings.Contains(err.Error(), "names no platform") {
		t.Errorf("an entry without a platform: %v", err)
	}
	if _, err := os.Stat(empty); !os.IsNotExist(err) {
		t.Errorf("the failed export created its directory: %v", err)
	}
}

func TestDockerRefusesIndex(t *testing.T) {
	s, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	err = Docker(&buf, s, indexImage(t, s), []string{"app:multi"})
	if !errors.Is(err, ErrDockerIndex) || !strings.Contains(err.Error(), "use -o type=oci, or build one --platform") {
		t.Errorf("Docker of an index: %v", err)
	}
	if buf.Len() != 0 {
		t.Errorf("Docker of an index wrote %d bytes", buf.Len())
	}
}
