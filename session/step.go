package session

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/minibuild/minibuild/container"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// StepImage is the state the cached step key left, as a container can
// start from it: the layers of the step and of the steps it chains on
// (following each entry's parent key to the base image, whose config it
// starts from), with the environment, user and working directory the
// step recorded when it is a RUN. Keys chain on their parents in the
// default cascade mode; a content-mode key names no parent entry, and
// only its own stage's base is known.
func (r Root) StepImage(key digest.Digest) (container.Image, error) {
	var out container.Image
	e, ok, err := r.Cache.Get(key)
	if err != nil {
		return out, err
	}
	if !ok {
		return out, fmt.Errorf("step %s: no such cache entry (keys are in 'minibuild plan' and --metadata-file)", key)
	}
	inputs := e.Inputs
	var layers []ocispec.Descriptor
	var diffIDs []digest.Digest
	cur := e
	for depth := 0; ; depth++ {
		if depth > 10000 {
			return out, fmt.Errorf("step %s: its parent chain does not end", key)
		}
		if cur.Layer != nil {
			layers = append([]ocispec.Descriptor{*cur.Layer}, layers...)
			diffIDs = append([]digest.Digest{cur.DiffID}, diffIDs...)
		}
		if cur.Parent == "" {
			break // FROM scratch
		}
		parent, ok, err := r.Cache.Get(cur.Parent)
		if err != nil {
			return out, err
		}
		if ok {
			cur = parent
			continue
		}
		// Not an entry: the base image's manifest digest.
		desc, err := r.Store.Resolve(cur.Parent.String())
		if err != nil {
			return out, fmt.Errorf("step %s: what it chains on (%s) is neither a cache entry nor an image in the store: %w", key, cur.Parent, err)
		}
		m, img, err := r.Store.Manifest(desc)
		if err != nil {
			return out, err
		}
		layers = append(append([]ocispec.Descriptor(nil), m.Layers...), layers...)
		diffIDs = append(append([]digest.Digest(nil), img.RootFS.DiffIDs...), diffIDs...)
		out.Config = img.Config
		break
	}
	if len(layers) != len(diffIDs) {
		return out, errors.New("step: layers and diffIDs do not pair")
	}
	out.Layers, out.DiffIDs = layers, diffIDs
	if inputs != nil && strings.HasPrefix(inputs.Instruction, "RUN ") { // the canonical text the key holds
		// A RUN records the whole environment it ran with, and its user
		// and working directory.
		if len(inputs.Vars) > 0 {
			out.Config.Env = nil
			for k, v := range inputs.Vars {
				out.Config.Env = append(out.Config.Env, k+"="+v)
			}
			sort.Strings(out.Config.Env)
		}
		for _, x := range inputs.Extra {
			if v, ok := strings.CutPrefix(x, "user="); ok {
				out.Config.User = v
			}
			if v, ok := strings.CutPrefix(x, "workdir="); ok {
				out.Config.WorkingDir = v
			}
		}
	}
	return out, nil
}
