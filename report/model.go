package report

import (
	"fmt"

	"github.com/minibuild/minibuild/builder"
)

// Step is one box of the stack: a build step, or a layer of the base image.
type Step struct {
	// ID names the step in the page's data-step attribute: the build's
	// step index ("3"), or "base.N" for the base image's N-th layer.
	ID    string
	Index int // build step index; 0 for a base image layer
	Line  int // Dockerfile line; 0 when unknown
	Stage string
	// Platform is the step's platform when the build has several, as
	// builder.StepResult.Platform.
	Platform    string
	Instruction string
	Cache       builder.CacheResult
	Reason      builder.Reason
	Layer       string // layer blob digest; "" for an empty layer
	Size        int64  // layer blob size
	EmptyLayer  bool   // the step changed only the config
	// Shared counts the other images in the store that hold this layer.
	Shared int
	// InImage is false for a step of another stage: it is listed in the
	// table but is not one of the image's layers.
	InImage bool
	// Mounts are a RUN's --mount flags (secrets by id only).
	Mounts []builder.StepMount
}

// Build is one image as the report draws it.
type Build struct {
	Title  string // the image name
	Digest string // the manifest digest
	Mode   string // the cache mode it was built with, when known
	// Steps are in build order: the base image's layers first.
	Steps []Step
	// Graph is the build's stages and what each needed, in build order,
	// as its saved results keep it; nil when they kept none.
	Graph []builder.StageNode
}

// Mark is how a step is drawn: its kind and text mark.
type Mark struct {
	Kind   string // hit, miss, cascade, base, unknown
	Symbol string // ✓ ✗ ↳ • ?
	Word   string // what the box says beside the symbol
	Origin bool   // the first miss: where the cascade starts
	// Stopped is a hit right after a miss, reused because the rebuilt
	// step left the same content (content mode).
	Stopped bool
}

// Marks classifies each step of steps: the first miss is the cascade's
// origin, a later miss whose reason is a cascade is cascaded.
func Marks(steps []Step) []Mark {
	out := make([]Mark, len(steps))
	origin := -1
	lastMiss := false
	for i, s := range steps {
		var m Mark
		switch s.Cache {
		case builder.CacheBase:
			m = Mark{Kind: "base", Symbol: "•", Word: "base"}
		case builder.CacheHit:
			m = Mark{Kind: "hit", Symbol: "✓", Word: "hit"}
			m.Stopped = lastMiss && s.Reason.Kind == builder.ReasonContent
		case builder.CacheMiss:
			m = Mark{Kind: "miss", Symbol: "✗", Word: "miss"}
			if origin < 0 {
				origin = i
				m.Origin, m.Word = true, "origin"
			} else if s.Reason.Cascaded() {
				m = Mark{Kind: "cascade", Symbol: "↳", Word: "cascade"}
			}
		default:
			m = Mark{Kind: "unknown", Symbol: "?", Word: "unknown"}
		}
		if s.InImage || s.Cache == builder.CacheBase {
			lastMiss = s.Cache == builder.CacheMiss
		}
		out[i] = m
	}
	return out
}

// Summary is one sentence on a build: how many steps hit and missed, and
// where the cascade started.
func Summary(steps []Step) string {
	marks := Marks(steps)
	counts := map[string]int{}
	origin := -1
	for i, m := range marks {
		if steps[i].Index == 0 {
			continue
		}
		counts[m.Kind]++
		if m.Origin {
			origin = i
		}
	}
	total := 0
	for _, n := range counts {
		total += n
	}
	s := fmt.Sprintf("%d steps: %d hit, %d miss", total, counts["hit"], counts["miss"]+counts["cascade"])
	if counts["cascade"] > 0 {
		s += fmt.Sprintf(" (%d cascaded)", counts["cascade"])
	}
	if counts["unknown"] > 0 {
		s += fmt.Sprintf(", %d unknown", counts["unknown"])
	}
	if origin >= 0 {
		o := steps[origin]
		s += fmt.Sprintf("; the cascade starts at step %d", o.Index)
		if o.Line > 0 {
			s += fmt.Sprintf(", line %d", o.Line)
		}
		if !o.Reason.IsZero() {
			s += " (" + o.Reason.String() + ")"
		}
	} else if counts["miss"] == 0 && counts["hit"] > 0 {
		s += "; every step was reused"
	}
	return s + "."
}
