package cache

import (
	"errors"
	"fmt"
	"sort"

	"github.com/minibuild/minibuild/internal/digestcheck"
	digest "github.com/opencontainers/go-digest"
)

// MaxInputSources bounds the source files an Inputs lists: a step that
// read more keeps the first ones by path and counts the rest, so an entry
// stays small whatever the context.
const MaxInputSources = 1000

// maxInputVars bounds the variables an Inputs holds.
const maxInputVars = 1000

// Inputs is a compact record of what went into a cache entry's key, kept
// with the entry (locally and in a remote cache artifact) so that a miss
// can be explained against an entry made on another machine: the
// instruction as written and as expanded, the variables it saw, its
// parent key and base, its settings and the files it read. A secret's
// value is never among them (the key holds none).
type Inputs struct {
	Stage       string        `json:"stage,omitempty"`
	Position    int           `json:"position"`
	Text        string        `json:"text"`
	Instruction string        `json:"instruction"`
	Parent      digest.Digest `json:"parent,omitempty"`
	Base        digest.Digest `json:"base,omitempty"`
	From        digest.Digest `json:"from,omitempty"`
	// Platform is the platform the stage builds for ("" when unknown).
	Platform string            `json:"platform,omitempty"`
	Vars     map[string]string `json:"vars,omitempty"`
	// Args names the Vars that are build args (the others are ENV).
	Args  []string `json:"args,omitempty"`
	Extra []string `json:"extra,omitempty"`
	// Sources are the files the step read, sorted by path, at most
	// MaxInputSources; SourcesOmitted counts the ones left out.
	Sources        []SourceFile `json:"sources,omitempty"`
	SourcesOmitted int          `json:"sourcesOmitted,omitempty"`
}

// InputsOf summarizes a step's record, every source included (Bounded
// cuts them for keeping).
func InputsOf(r StepRecord) *Inputs {
	in := &Inputs{Stage: r.Stage, Position: r.Position, Text: r.Text, Instruction: r.Instruction,
		Parent: r.Parent, Base: r.Base, From: r.From, Platform: r.Platform, Extra: append([]string(nil), r.Extra...)}
	if len(r.Vars) > 0 {
		in.Vars = make(map[string]string, len(r.Vars))
		for k, v := range r.Vars {
			in.Vars[k] = v
		}
	}
	in.Sources = append([]SourceFile(nil), r.Sources...)
	return in
}

// Bounded returns in as kept with an entry: its sources sorted by path
// and cut to MaxInputSources, the rest counted in SourcesOmitted.
func (in *Inputs) Bounded() *Inputs {
	out := *in
	src := append([]SourceFile(nil), in.Sources...)
	sort.SliceStable(src, func(i, j int) bool { return src[i].Path < src[j].Path })
	if len(src) > MaxInputSources {
		out.SourcesOmitted += len(src) - MaxInputSources
		src = src[:MaxInputSources]
	}
	out.Sources = src
	return &out
}

// IsArg reports whether the variable name is one of the build args.
func (in *Inputs) IsArg(name string) bool {
	for _, a := range in.Args {
		if a == name {
			return true
		}
	}
	return false
}

// Check refuses an Inputs read from elsewhere (a remote cache) that is
// too large or names malformed digests.
func (in *Inputs) Check() error {
	if in == nil {
		return nil
	}
	if len(in.Sources) > MaxInputSources || len(in.Vars) > maxInputVars || in.SourcesOmitted < 0 {
		return errors.New("inputs: too many sources or variables")
	}
	for _, d := range []digest.Digest{in.Parent, in.Base, in.From} {
		if d != "" {
			if err := digestcheck.Validate(d); err != nil {
				return fmt.Errorf("inputs: %w", err)
			}
		}
	}
	for _, f := range in.Sources {
		if f.Digest != "" {
			if err := digestcheck.Validate(f.Digest); err != nil {
				return fmt.Errorf("inputs: source %q: %w", f.Path, err)
			}
		}
	}
	return nil
}
