package imagediff

import (
	"github.com/minibuild/minibuild/builder"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// pairLayers pairs the layers of a and b position by position.
func pairLayers(a, b Image) []LayerPair {
	la, lb := layersOf(a), layersOf(b)
	out := make([]LayerPair, max(len(la), len(lb)))
	for i := range out {
		out[i].Index = i
		if i < len(la) {
			out[i].A = &la[i]
		}
		if i < len(lb) {
			out[i].B = &lb[i]
		}
		out[i].Shared = out[i].A != nil && out[i].B != nil && out[i].A.DiffID == out[i].B.DiffID
	}
	return out
}

// sharedPrefix counts the layers, from the base, that a and b share.
func sharedPrefix(pairs []LayerPair) int {
	n := 0
	for n < len(pairs) && pairs[n].Shared {
		n++
	}
	return n
}

// layersOf lists img's layers with the created_by of their history
// entries: each entry without empty_layer goes with the next layer.
func layersOf(img Image) []Layer {
	out := make([]Layer, len(img.Manifest.Layers))
	for i, d := range img.Manifest.Layers {
		out[i] = Layer{Digest: d.Digest, Size: d.Size, MediaType: d.MediaType, DiffID: img.Config.RootFS.DiffIDs[i]}
	}
	i := 0
	for _, h := range img.Config.History {
		if h.EmptyLayer {
			continue
		}
		if i == len(out) {
			break
		}
		out[i].CreatedBy = h.CreatedBy
		i++
	}
	return out
}

// platformOf is the image's os/architecture[/variant].
func platformOf(img builder.Image) string {
	return platformString(img.Platform)
}

func platformString(p ocispec.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}
