package export

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/minibuild/minibuild/internal/platform"
	"github.com/minibuild/minibuild/store"
	"github.com/minibuild/minibuild/tarutil"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Local writes the image's final filesystem into the directory dest,
// applying its layers in order (whiteouts delete what lower layers made).
// For an image index, each of its manifests is written into a
// subdirectory of dest named after its platform as BuildKit names it
// (PlatformDir: linux_amd64, linux_arm_v7). dest is created if missing
// and must be empty if it exists.
func Local(ctx context.Context, s *store.Store, desc ocispec.Descriptor, dest string) error {
	if !store.IsIndexType(desc.MediaType) {
		m, _, err := s.Manifest(desc)
		if err != nil {
			return err
		}
		if err := emptyDir(dest); err != nil {
			return err
		}
		return writeRootfs(ctx, s, m, dest)
	}
	idx, err := s.Index(desc)
	if err != nil {
		return err
	}
	// Every manifest is read before anything is written.
	dirs := map[string]bool{}
	ms := make([]ocispec.Manifest, len(idx.Manifests))
	for i, d := range idx.Manifests {
		if d.Platform == nil {
			return fmt.Errorf("index %s: manifest %s names no platform", desc.Digest, d.Digest)
		}
		dir := PlatformDir(*d.Platform)
		if dirs[dir] {
			return fmt.Errorf("index %s: two manifests of platform %s", desc.Digest, platform.Format(*d.Platform))
		}
		dirs[dir] = true
		if ms[i], _, err = s.Manifest(d); err != nil {
			return err
		}
	}
	if err := emptyDir(dest); err != nil {
		return err
	}
	for i, d := range idx.Manifests {
		sub := filepath.Join(dest, PlatformDir(*d.Platform))
		if err := os.Mkdir(sub, 0o755); err != nil {
			return err
		}
		if err := writeRootfs(ctx, s, ms[i], sub); err != nil {
			return fmt.Errorf("%s: %w", platform.Format(*d.Platform), err)
		}
	}
	return nil
}

// PlatformDir is the directory name of platform p in a multi-platform
// local export: os_arch[_variant], as BuildKit's local exporter names it.
func PlatformDir(p ocispec.Platform) string {
	return strings.ReplaceAll(platform.Format(platform.Normalize(p)), "/", "_")
}

// emptyDir creates dest if missing and fails if it holds anything.
func emptyDir(dest string) error {
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return err
	}
	if ents, err := os.ReadDir(dest); err != nil {
		return err
	} else if len(ents) > 0 {
		return fmt.Errorf("%s is not empty", dest)
	}
	return nil
}

// writeRootfs applies the layers of the image manifest m to dest.
func writeRootfs(ctx context.Context, s *store.Store, m ocispec.Manifest, dest string) error {
	noChown := os.Geteuid() != 0
	for _, l := range m.Layers {
		if err := applyBlob(ctx, s, l, dest, noChown); err != nil {
			return err
		}
	}
	return nil
}

func applyBlob(ctx context.Context, s *store.Store, l ocispec.Descriptor, dest string, noChown bool) error {
	rc, err := s.OpenBlob(l.Digest)
	if err != nil {
		return err
	}
	defer rc.Close()
	dr, err := tarutil.Decompress(rc)
	if err != nil {
		return fmt.Errorf("layer %s: %w", l.Digest, err)
	}
	defer dr.Close()
	opts := tarutil.ApplyOptions{LayerName: l.Digest.String(), NoChown: noChown}
	if _, err := tarutil.Apply(ctx, dest, dr, opts); err != nil {
		return fmt.Errorf("layer %s: %w", l.Digest, err)
	}
	return nil
}
