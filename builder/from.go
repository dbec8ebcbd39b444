package builder

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/minibuild/minibuild/dockerfile"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// from runs a stage's FROM step: it sets the stage's starting image.
func (b *build) from(ctx context.Context, s *stage, f *dockerfile.FromInstruction) error {
	began := time.Now()
	r := b.start(s, f)
	r.Cache = CacheBase
	expanded, _, err := b.expander.Expand(f, b.file, b.metaEnv())
	if err != nil {
		return b.errorAt(f, err)
	}
	name := expanded.(*dockerfile.FromInstruction).Image
	if name == "" {
		return b.errorAt(f, fmt.Errorf("base name (%s) should not be blank", f.Image))
	}
	if strings.EqualFold(name, "scratch") {
		s.img = emptyImage(b.o.Platform)
	} else if err := b.base(s, name); err != nil {
		return b.errorAt(f, err)
	}
	b.finish(r, began)
	return nil
}

// base starts the stage from the image FROM names: a --build-context
// OCI layout of that name (imported into the store, verified), else an
// image in the local store.
func (b *build) base(s *stage, name string) error {
	var desc ocispec.Descriptor
	var err error
	if lc, ok := b.o.Contexts[name]; ok {
		desc, err = b.o.Store.ImportLayout(lc.Dir, lc.Tag, b.o.Platform)
	} else {
		desc, err = b.o.Store.Resolve(name)
	}
	if err != nil {
		return fmt.Errorf("base image %s: %w", name, err)
	}
	m, _, err := b.o.Store.Manifest(desc)
	if err != nil {
		return fmt.Errorf("base image %s: %w", name, err)
	}
	raw, err := b.o.Store.ReadBlob(m.Config.Digest)
	if err != nil {
		return fmt.Errorf("base image %s config: %w", name, err)
	}
	var img Image
	if err := json.Unmarshal(raw, &img); err != nil {
		return fmt.Errorf("base image %s config: %w", name, err)
	}
	if len(img.RootFS.DiffIDs) != len(m.Layers) {
		return fmt.Errorf("base image %s: %d layers but %d diff_ids", name, len(m.Layers), len(img.RootFS.DiffIDs))
	}
	s.img = img.clone()
	s.layers = append([]ocispec.Descriptor(nil), m.Layers...)
	s.key = desc.Digest
	return nil
}
