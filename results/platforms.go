package results

import (
	"github.com/minibuild/minibuild/builder"
	"github.com/minibuild/minibuild/internal/platform"
	digest "github.com/opencontainers/go-digest"
)

// PlatformImage is one platform's image of a multi-platform build: the
// platform as the build's steps name it ("linux/arm64") and the image's
// manifest digest (a manifest of the index the build tagged).
type PlatformImage struct {
	Platform string
	Manifest digest.Digest
}

// platformImages lists the per-platform images of a result (none for a
// single-platform build).
func platformImages(res *builder.Result) []PlatformImage {
	var out []PlatformImage
	for _, im := range res.Images {
		out = append(out, PlatformImage{Platform: platform.Format(im.Platform), Manifest: im.Manifest.Digest})
	}
	return out
}

// ForPlatform is the part of a multi-platform build b that made the image
// of one platform (named as the steps name it), as if that image had
// been built alone: its steps, and its stages with the stages they need
// (renumbered), under that image's manifest digest m.
func (b Build) ForPlatform(name string, m digest.Digest) Build {
	out := Build{Manifest: m, Mode: b.Mode}
	for _, st := range b.Steps {
		if st.Platform == name {
			out.Steps = append(out.Steps, st)
		}
	}
	keep := make([]bool, len(b.Graph))
	var mark func(i int)
	mark = func(i int) {
		if i < 0 || i >= len(b.Graph) || keep[i] {
			return
		}
		keep[i] = true
		for _, d := range b.Graph[i].Needs {
			mark(d)
		}
	}
	for i, n := range b.Graph {
		if n.Platform == name {
			mark(i)
		}
	}
	renumber, n := make([]int, len(b.Graph)), 0
	for i := range b.Graph {
		if keep[i] {
			renumber[i], n = n, n+1
		}
	}
	for i, node := range b.Graph {
		if !keep[i] {
			continue
		}
		c := builder.StageNode{Stage: node.Stage, Platform: node.Platform, Steps: append([]int(nil), node.Steps...)}
		for _, d := range node.Needs {
			if d >= 0 && d < len(b.Graph) {
				c.Needs = append(c.Needs, renumber[d])
			}
		}
		out.Graph = append(out.Graph, c)
	}
	return out
}
