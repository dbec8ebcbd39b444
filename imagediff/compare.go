package imagediff

import (
	"context"
	"errors"
	"sync"
)

// Options controls Compare.
type Options struct {
	// IgnoreTimes leaves out file mtimes, the config's created and the
	// history entries' created.
	IgnoreTimes bool
}

// Compare tells how a and b differ. Images with one manifest digest are
// identical without more reading; with one config digest, identical with
// their layers listed. Otherwise the configs are compared field by
// field, the layers paired by position and, unless every layer is
// shared, both file systems flattened from their layer tars and compared
// path by path. The layers both images share from the base are read
// once, from a; the rest of each image is read concurrently.
func Compare(ctx context.Context, a, b Image, opts Options) (*Result, error) {
	res := &Result{A: infoOf(a), B: infoOf(b), IgnoreTimes: opts.IgnoreTimes,
		Config: []ConfigChange{}, Layers: []LayerPair{}, Files: []FileChange{}}
	if a.Descriptor.Digest == b.Descriptor.Digest {
		res.Identical, res.Same = true, "manifest"
		return res, nil
	}
	for _, img := range []Image{a, b} {
		if err := checkLayers(img); err != nil {
			return nil, err
		}
	}
	res.Layers = pairLayers(a, b)
	if a.Manifest.Config.Digest == b.Manifest.Config.Digest {
		res.Identical, res.Same = true, "config"
		return res, nil
	}
	res.Config = append(diffConfigs(a.Config, b.Config, opts), diffOtherFields(a.RawConfig, b.RawConfig)...)
	if sameValues(a.RawConfig, b.RawConfig) {
		res.Config = append(res.Config, ConfigChange{Field: EncodingField, A: a.Manifest.Config.Digest, B: b.Manifest.Config.Digest})
	}
	shared := sharedPrefix(res.Layers)
	layersDiffer := shared != len(res.Layers)
	if layersDiffer {
		ta, tb, err := flattenBoth(ctx, a, b, shared)
		if err != nil {
			return nil, err
		}
		res.Files = diffTrees(ta, tb, opts)
	}
	res.Differ = len(res.Config) > 0 || len(res.Files) > 0 || (layersDiffer && !opts.IgnoreTimes)
	return res, nil
}

// flattenBoth flattens a and b, reading their first shared layers once.
func flattenBoth(ctx context.Context, a, b Image, shared int) (*tree, *tree, error) {
	ta := newTree()
	if err := flatten(ctx, a, 0, shared, ta); err != nil {
		return nil, nil, err
	}
	tb := ta.clone()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var errA, errB error
	wg.Go(func() {
		if errA = flatten(ctx, a, shared, len(a.Manifest.Layers), ta); errA != nil {
			cancel()
		}
	})
	wg.Go(func() {
		if errB = flatten(ctx, b, shared, len(b.Manifest.Layers), tb); errB != nil {
			cancel()
		}
	})
	wg.Wait()
	// The error that caused the other side's cancellation is the one to tell.
	for _, err := range []error{errA, errB} {
		if err != nil && !errors.Is(err, context.Canceled) {
			return nil, nil, err
		}
	}
	for _, err := range []error{errA, errB} {
		if err != nil {
			return nil, nil, err
		}
	}
	return ta, tb, nil
}

func infoOf(img Image) ImageInfo {
	return ImageInfo{Name: img.Name, Manifest: img.Descriptor.Digest, Config: img.Manifest.Config.Digest, Platform: platformOf(img.Config)}
}
