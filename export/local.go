package export

import (
	"context"
	"fmt"
	"os"

	"github.com/minibuild/minibuild/store"
	"github.com/minibuild/minibuild/tarutil"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Local writes the image's final filesystem into the directory dest,
// applying its layers in order (whiteouts delete what lower layers made).
// dest is created if missing and must be empty if it exists.
func Local(ctx context.Context, s *store.Store, desc ocispec.Descriptor, dest string) error {
	m, _, err := s.Manifest(desc)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return err
	}
	if ents, err := os.ReadDir(dest); err != nil {
		return err
	} else if len(ents) > 0 {
		return fmt.Errorf("%s is not empty", dest)
	}
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
