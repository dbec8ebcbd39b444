package builder

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/minibuild/minibuild/dockerfile"
	"github.com/minibuild/minibuild/internal/platform"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// addNodes adds to the graph, in Dockerfile order, a node for each stage
// this platform's target needs.
func (b *build) addNodes(target *dockerfile.Stage) error {
	for _, i := range b.neededStages(target) {
		st := b.set.Dockerfile.Stages[i]
		p, err := b.stagePlatform(st.From)
		if err != nil {
			return err
		}
		n := &node{order: len(b.g.nodes), b: b, st: st, platform: p, label: b.label, done: make(chan struct{})}
		if b.label == "" && platform.Format(p) != platform.Format(b.set.Platform) {
			n.label = platform.Format(p)
		}
		if dep := b.stageRef(b.fromName(st.From), i); dep >= 0 {
			n.from = b.nodes[dep]
		}
		for _, d := range b.stageDeps(st) {
			n.deps = append(n.deps, b.nodes[d])
		}
		b.nodes[i] = n
		b.g.nodes = append(b.g.nodes, n)
	}
	return nil
}

// stagePlatform is the platform a FROM builds for: its --platform,
// expanded with the global ARGs (and BUILDPLATFORM, TARGETPLATFORM…),
// else the build's.
func (b *build) stagePlatform(f *dockerfile.FromInstruction) (ocispec.Platform, error) {
	if f.Platform == "" {
		return b.set.Platform, nil
	}
	v, _, err := b.expander.Word(f.Platform, b.metaEnv())
	if err == nil && v == "" {
		err = fmt.Errorf("expands to nothing")
	}
	var p ocispec.Platform
	if err == nil {
		p, err = platform.Parse(v)
	}
	if err == nil && p.OS != "linux" {
		err = fmt.Errorf("%s: minibuild builds linux images only", v)
	}
	if err != nil {
		return p, &dockerfile.Error{File: b.file, Line: f.Line(), Err: fmt.Errorf("FROM --platform=%s: %w", f.Platform, err)}
	}
	return p, nil
}

// stageDone is the built stage of index i, nil when it is not built.
func (b *build) stageDone(i int) *stage {
	if n := b.nodes[i]; n != nil {
		return n.s
	}
	return nil
}

// prepare loads the images the nodes' FROMs name (each name and platform
// once, several at a time), then fixes what running needs to know first:
// each node's step count (its base's ONBUILD triggers included) and
// first index, and the earlier nodes it shadows.
func (g *graph) prepare(ctx context.Context) error {
	type want struct {
		name string
		p    string
	}
	var (
		wants []want
		nodes = map[want][]*node{}
	)
	for _, n := range g.nodes {
		name := n.b.fromName(n.st.From)
		if n.from != nil || strings.EqualFold(name, "scratch") || name == "" {
			continue
		}
		w := want{name, platform.Format(n.platform)}
		if nodes[w] == nil {
			wants = append(wants, w)
		}
		nodes[w] = append(nodes[w], n)
	}
	err := forEach(ctx, len(wants), func(i int) error {
		w := wants[i]
		n := nodes[w][0]
		img, layers, key, err := n.b.loadImageContext(ctx, w.name, n.platform)
		for _, m := range nodes[w] {
			if err != nil {
				m.baseErr = err
				continue
			}
			m.base = &loadedBase{img: img, layers: layers, key: key}
		}
		return nil
	})
	if err != nil {
		return err
	}
	next := 1
	specs := map[string][]*node{}
	for _, n := range g.nodes {
		triggers := 0
		switch {
		case n.from != nil:
			for _, inst := range n.from.st.Instructions {
				if _, ok := inst.(*dockerfile.OnbuildInstruction); ok {
					triggers++
				}
			}
		case n.base != nil:
			triggers = len(n.base.img.Config.OnBuild)
		}
		n.first, n.count = next, 1+len(n.st.Instructions)+triggers
		next += n.count
		spec := n.spec()
		n.shadows = specs[spec]
		specs[spec] = append(specs[spec], n)
	}
	g.total = next - 1
	return nil
}

// spec names what the node's stage starts from: nodes of one spec may
// have steps of equal keys.
func (n *node) spec() string {
	p := platform.Format(n.platform)
	switch {
	case n.from != nil:
		return p + " stage " + strconv.Itoa(n.from.order)
	case n.base != nil:
		return p + " image " + string(n.base.key)
	case n.baseErr != nil:
		return p + " unloaded " + strconv.Itoa(n.order)
	}
	return p + " scratch"
}

// stageGraph is the graph as the build's result shows it.
func (g *graph) stageGraph() []StageNode {
	var out []StageNode
	for _, n := range g.nodes {
		sn := StageNode{Stage: stageName(n.st), Platform: n.label}
		for _, d := range n.deps {
			sn.Needs = append(sn.Needs, d.order)
		}
		if n.s != nil {
			for _, st := range n.s.steps {
				sn.Steps = append(sn.Steps, st.Index)
			}
		}
		out = append(out, sn)
	}
	return out
}
