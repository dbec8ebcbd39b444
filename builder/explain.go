package builder

import (
	"fmt"
	"slices"
	"sort"

	"github.com/minibuild/minibuild/cache"
	digest "github.com/opencontainers/go-digest"
)

// values returns the values the named variables have for the step ("" for
// an unset one is kept apart from the empty string by its absence).
func (s *stage) values(names []string) map[string]string {
	if len(names) == 0 {
		return nil
	}
	env := s.env()
	out := map[string]string{}
	for _, n := range names {
		if v, ok := lookupEnv(env, n); ok {
			out[n] = v
		}
	}
	return out
}

// isArg reports whether name is an ARG in scope that no ENV overrides.
func (s *stage) isArg(name string) bool {
	for _, a := range s.args {
		if a.name == name {
			return s.argWins(a)
		}
	}
	return false
}

// missReason says why a step could not be reused, comparing it with the
// same step of the last build of this Dockerfile.
func (b *build) missReason(s *stage, cur cache.StepRecord) Reason {
	if b.set.NoCache {
		return Reason{Kind: ReasonNoCache}
	}
	if s.firstMiss != nil && b.set.CacheMode == ModeCascade {
		return Reason{Kind: ReasonParent, Cause: CauseCascade, Step: s.firstMiss.Index, Line: s.firstMiss.Line}
	}
	last := b.prevRecord()
	if last == nil {
		return Reason{Kind: ReasonNew, Cause: CauseNoRecord}
	}
	prev, ok := last.Find(cur.Stage, cur.Position)
	if !ok {
		return Reason{Kind: ReasonNew, Cause: CauseNoStep}
	}
	if prev.Text != cur.Text {
		return Reason{Kind: ReasonInstruction, Cause: CauseText, Old: ptr(prev.Text), New: ptr(cur.Text)}
	}
	if s.firstMiss == nil && prev.Parent != cur.Parent {
		if why, ok := platformReason(prev.Platform, cur.Platform); ok {
			return why
		}
		if from, ok := last.Find(cur.Stage, 0); ok && from.Base != b.baseOf(s) {
			return Reason{Kind: ReasonBase, Cause: CauseChanged, Old: ptr(from.Base.String()), New: ptr(b.baseOf(s).String())}
		}
	}
	withSources := b.loadPrevSources()
	if withSources {
		prev, _ = last.Find(cur.Stage, cur.Position)
	}
	if why, ok := inputsReason(s.inputsOf(prev), s.inputsOf(cur), withSources); ok {
		return why
	}
	if s.firstMiss != nil {
		return Reason{Kind: ReasonParent, Cause: CauseRebuilt, Step: s.lastMiss.Index, Line: s.lastMiss.Line}
	}
	if prev.Parent != cur.Parent {
		return Reason{Kind: ReasonParent, Cause: CauseHistory}
	}
	return Reason{Kind: ReasonNew, Cause: CausePruned}
}

// inputsReason names the first input of cur that differs from prev (an
// earlier build's step, or an entry of a remote cache): the instruction's
// text, a variable, the files read (when sources, else they are not
// compared), the --from filesystem, the settings, the expansion.
func inputsReason(prev, cur *cache.Inputs, sources bool) (Reason, bool) {
	if prev.Text != cur.Text {
		return Reason{Kind: ReasonInstruction, Cause: CauseText, Old: ptr(prev.Text), New: ptr(cur.Text)}, true
	}
	if why, ok := platformReason(prev.Platform, cur.Platform); ok {
		return why, true
	}
	if prev.Base != cur.Base {
		return Reason{Kind: ReasonBase, Cause: CauseChanged, Old: ptr(prev.Base.String()), New: ptr(cur.Base.String())}, true
	}
	isArg := func(n string) bool { return cur.IsArg(n) || prev.IsArg(n) }
	if why, ok := varsReason(isArg, prev.Vars, cur.Vars); ok {
		return why, true
	}
	if sources {
		if files := sourceChanges(prev.Sources, cur.Sources); files != nil {
			return Reason{Kind: ReasonSource, Cause: CauseFiles, Files: files, FileDiff: fileDiff(prev.Sources, cur.Sources)}, true
		}
	}
	if cur.From != prev.From {
		return Reason{Kind: ReasonSource, Cause: CauseFrom}, true
	}
	if !slices.Equal(prev.Extra, cur.Extra) {
		return Reason{Kind: ReasonInstruction, Cause: CauseSettings}, true
	}
	if prev.Instruction != cur.Instruction {
		return Reason{Kind: ReasonInstruction, Cause: CauseExpansion, Old: ptr(prev.Instruction), New: ptr(cur.Instruction)}, true
	}
	return Reason{}, false
}

// platformReason names a change of platform; a record from before
// platforms were kept ("") names none.
func platformReason(prev, cur string) (Reason, bool) {
	if prev == "" || cur == "" || prev == cur {
		return Reason{}, false
	}
	return Reason{Kind: ReasonPlatform, Old: ptr(prev), New: ptr(cur)}, true
}

// CompareInputs says what differs between the inputs of two steps, as a
// miss's reason: prev is the other build's (named by against in the
// text, e.g. a metadata file), cur this one's. It is false when nothing
// it can see differs (an entry that left its sources out, say).
func CompareInputs(prev, cur *cache.Inputs, against string) (Reason, bool) {
	sources := prev.SourcesOmitted == 0 && cur.SourcesOmitted == 0
	why, ok := inputsReason(prev, cur, sources)
	if ok {
		why.Against = against
	}
	return why, ok
}

// inputsOf is the inputs of a step's record, with which of its variables
// are build args.
func (s *stage) inputsOf(rec cache.StepRecord) *cache.Inputs {
	in := cache.InputsOf(rec)
	for n := range rec.Vars {
		if s.isArg(n) {
			in.Args = append(in.Args, n)
		}
	}
	sort.Strings(in.Args)
	return in
}

// RemoteInputs is a RemoteCache that can say which of its entries is
// nearest to a step that missed (registry.RemoteCache).
type RemoteInputs interface {
	Nearest(parent digest.Digest, stage string, position int, text string) (cache.Inputs, string, bool)
}

// explainMiss is missReason, or, when an imported cache holds an entry
// near the step (the same parent key), what differs from that entry: the
// answer to "why did this machine miss what the other one cached".
func (b *build) explainMiss(s *stage, cur cache.StepRecord) Reason {
	local := b.missReason(s, cur)
	if local.Kind == ReasonNoCache || local.Kind == ReasonParent {
		return local
	}
	near, ok := b.tools.RemoteCache.(RemoteInputs)
	if !ok {
		return local
	}
	in, where, found := near.Nearest(cur.Parent, cur.Stage, cur.Position, cur.Text)
	if !found {
		return local
	}
	why, ok := CompareInputs(&in, s.inputsOf(cur), where)
	if !ok {
		return local
	}
	return why
}

// hitReason explains a hit that follows a miss in content mode.
func (b *build) hitReason(s *stage) Reason {
	if b.set.CacheMode != ModeContent || s.lastMiss == nil {
		return Reason{}
	}
	lm := s.lastMiss
	r := Reason{Kind: ReasonContent, Cause: CauseUnchanged, Step: lm.Index, Line: lm.Line}
	// The record has the layer's diffID while its blob is still being
	// stored (lm.Layer is nil until then).
	var layer digest.Digest
	for _, rec := range s.records {
		if rec.Index == lm.Index {
			layer = rec.Layer
		}
	}
	if layer == "" {
		r.Cause = CauseMetadataOnly
	} else if prev, ok := b.prevStep(s, lm); ok && prev.Layer == layer {
		r.Cause = CauseSameLayer
	}
	return r
}

// prevStep finds the earlier build's record of a step of this build.
func (b *build) prevStep(s *stage, r *StepResult) (cache.StepRecord, bool) {
	last := b.prevRecord()
	if last == nil {
		return cache.StepRecord{}, false
	}
	for _, cur := range s.records {
		if cur.Index == r.Index {
			return last.Find(cur.Stage, cur.Position)
		}
	}
	return cache.StepRecord{}, false
}

// varsReason names the first variable the step sees whose value changed.
func varsReason(isArg func(string) bool, prev, cur map[string]string) (Reason, bool) {
	names := map[string]bool{}
	for k := range prev {
		names[k] = true
	}
	for k := range cur {
		names[k] = true
	}
	var sorted []string
	for k := range names {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		old, hadOld := prev[n]
		now, hasNow := cur[n]
		if old == now && hadOld == hasNow {
			continue
		}
		r := Reason{Kind: ReasonEnv, Name: n}
		if isArg(n) {
			r.Kind = ReasonArg
		}
		if hadOld {
			r.Old = ptr(old)
		}
		if hasNow {
			r.New = ptr(now)
		}
		return r, true
	}
	return Reason{}, false
}

// sourceChanges lists the COPY/ADD inputs that were added, removed or
// changed; nil when none was.
func sourceChanges(prev, cur []cache.SourceFile) *FileChanges {
	old := make(map[string]cache.SourceFile, len(prev))
	for _, f := range prev {
		old[f.Path] = f
	}
	var changed, added, removed []string
	seen := make(map[string]bool, len(cur))
	for _, f := range cur {
		seen[f.Path] = true
		o, ok := old[f.Path]
		switch {
		case !ok:
			added = append(added, f.Path)
		case o != f:
			changed = append(changed, f.Path)
		}
	}
	for _, f := range prev {
		if !seen[f.Path] {
			removed = append(removed, f.Path)
		}
	}
	if len(changed)+len(added)+len(removed) == 0 {
		return nil
	}
	return newFileChanges(changed, added, removed)
}

// fileDiff says how the first input (by path) whose mode, owner or link
// changed differs; nil when none did (a content change alone is said by
// the list of changed files).
func fileDiff(prev, cur []cache.SourceFile) *FileDiff {
	old := make(map[string]cache.SourceFile, len(prev))
	for _, f := range prev {
		old[f.Path] = f
	}
	var first *FileDiff
	for _, f := range cur {
		o, ok := old[f.Path]
		if !ok || o == f || (first != nil && first.Path < f.Path) {
			continue
		}
		d := &FileDiff{Path: f.Path}
		if o.Mode != f.Mode {
			d.OldMode, d.NewMode = o.Mode, f.Mode
		}
		if o.UID != f.UID || o.GID != f.GID {
			d.OldOwner, d.NewOwner = fmt.Sprintf("%d:%d", o.UID, o.GID), fmt.Sprintf("%d:%d", f.UID, f.GID)
		}
		if o.Linkname != f.Linkname {
			d.OldLink, d.NewLink = o.Linkname, f.Linkname
		}
		if d.OldMode == d.NewMode && d.OldOwner == d.NewOwner && d.OldLink == d.NewLink {
			// Content alone: "changed PATH" says it all.
			continue
		}
		if o.Digest != f.Digest {
			d.OldDigest, d.NewDigest = o.Digest, f.Digest
		}
		first = d
	}
	return first
}

// baseOf is what the stage's FROM resolved to, as recorded.
func (b *build) baseOf(s *stage) digest.Digest {
	for _, r := range s.records {
		if r.Stage == s.name && r.Position == 0 {
			return r.Base
		}
	}
	return ""
}
