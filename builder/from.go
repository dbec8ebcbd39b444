package builder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/minibuild/minibuild/cache"
	"github.com/minibuild/minibuild/dockerfile"
	"github.com/minibuild/minibuild/internal/platform"
	"github.com/minibuild/minibuild/store"
	digest "github.com/opencontainers/go-digest"
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
	rec := cache.StepRecord{Stage: s.name, Index: r.Index, Line: r.Line, Text: r.Instruction, Instruction: name, Platform: platform.Format(s.platform)}
	switch dep := b.stageRef(name, s.index); {
	case dep >= 0:
		from := b.stageDone(dep)
		s.img = from.img.clone()
		s.layers = append([]ocispec.Descriptor(nil), from.layers...)
		s.key = from.key
		s.unknown, s.layersUnknown = from.unknown, from.layersUnknown
		s.chain = append(s.chain, from.chain...)
		rec.Base = from.key
	case strings.EqualFold(name, "scratch"):
		s.img = emptyImage(s.platform)
	default:
		err := b.base(s, name)
		if err != nil && b.set.DryRun {
			// plan reports a missing base; it does not fail on it.
			r.Reason = Reason{Kind: ReasonBase, Cause: CauseUnavailable, Detail: err.Error()}
			s.img = emptyImage(s.platform)
			s.unknown = Reason{Kind: ReasonUnknown, Cause: CauseNoBase}
			break
		}
		if err != nil {
			return b.errorAt(f, err)
		}
		rec.Base = s.key
	}
	s.records = append(s.records, rec)
	if s.unknown.IsZero() {
		s.node.publishKey(0, "base "+string(s.key)+" "+platform.Format(s.platform))
	} else {
		s.node.publishKey(0, unknownKey)
	}
	b.finish(s, r, began)
	return b.onbuild(ctx, s, f)
}

// onbuild runs the base image's ONBUILD triggers as steps of this stage,
// right after its FROM, and does not pass them on (Docker's rule).
func (b *build) onbuild(ctx context.Context, s *stage, f *dockerfile.FromInstruction) error {
	triggers := s.img.Config.OnBuild
	s.img.Config.OnBuild = nil
	if len(triggers) == 0 {
		return nil
	}
	for _, t := range triggers {
		df, err := dockerfile.Parse(strings.NewReader("FROM scratch\n"+t+"\n"), b.file)
		if err != nil || len(df.Stages) != 1 || len(df.Stages[0].Instructions) != 1 {
			return b.errorAt(f, fmt.Errorf("ONBUILD trigger %q of the base image: not a single instruction: %v", t, err))
		}
		if err := b.stepAt(ctx, s, df.Stages[0].Instructions[0], f.Line(), "ONBUILD "+t); err != nil {
			return err
		}
	}
	return nil
}

// base starts the stage from the image FROM names, loaded before the
// build ran (graph.prepare).
func (b *build) base(s *stage, name string) error {
	n := s.node
	if n.base == nil {
		if n.baseErr != nil {
			return n.baseErr
		}
		return fmt.Errorf("image %s was not loaded", name)
	}
	s.img = n.base.img.clone()
	s.layers = append([]ocispec.Descriptor(nil), n.base.layers...)
	s.key = n.base.key
	if got := s.img.Platform; got.Architecture != "" && !platform.Match(&got, s.platform) {
		b.warn(s.node.st.From.Line(), "base image %s is %s, but the stage builds for %s (InvalidBaseImagePlatform)", name, platform.Format(got), platform.Format(s.platform))
	}
	return nil
}

// loadImage is loadImageContext without a context of its own.
func (b *build) loadImage(name string, p ocispec.Platform) (Image, []ocispec.Descriptor, digest.Digest, error) {
	return b.loadImageContext(context.Background(), name, p)
}

// loadImageContext reads an image: a --build-context OCI layout of that
// name (imported into the store, verified), else an image in the local
// store, else (with a Puller, in a real build) one pulled into the store.
// An image index is resolved for platform p. It returns the config, the
// layers and the manifest digest.
func (b *build) loadImageContext(ctx context.Context, name string, p ocispec.Platform) (Image, []ocispec.Descriptor, digest.Digest, error) {
	var desc ocispec.Descriptor
	var err error
	if lc, ok := b.set.Contexts[name]; ok {
		desc, err = b.tools.Store.ImportLayout(lc.Dir, lc.Tag, p)
	} else {
		desc, err = b.tools.Store.ResolvePlatform(name, p)
		if errors.Is(err, store.ErrNotFound) && b.tools.Puller != nil && !b.set.DryRun {
			desc, err = b.tools.Puller.Pull(ctx, name, p)
		}
	}
	if err != nil {
		return Image{}, nil, "", fmt.Errorf("image %s: %w", name, err)
	}
	m, _, err := b.tools.Store.Manifest(desc)
	if err != nil {
		return Image{}, nil, "", fmt.Errorf("image %s: %w", name, err)
	}
	raw, err := b.tools.Store.ReadBlob(m.Config.Digest)
	if err != nil {
		return Image{}, nil, "", fmt.Errorf("image %s config: %w", name, err)
	}
	var img Image
	if err := json.Unmarshal(raw, &img); err != nil {
		return Image{}, nil, "", fmt.Errorf("image %s config: %w", name, err)
	}
	if len(img.RootFS.DiffIDs) != len(m.Layers) {
		return Image{}, nil, "", fmt.Errorf("image %s: %d layers but %d diff_ids", name, len(m.Layers), len(img.RootFS.DiffIDs))
	}
	return img.clone(), append([]ocispec.Descriptor(nil), m.Layers...), desc.Digest, nil
}
