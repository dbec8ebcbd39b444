package builder

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/minibuild/minibuild/cache"
	digest "github.com/opencontainers/go-digest"
)

// Cache modes.
const (
	// ModeCascade is Docker's classic rule: a step's parent is the key of
	// the step before it, so a miss invalidates every later step.
	ModeCascade = "cascade"
	// ModeContent cuts the cascade early: a step's parent is the content
	// the steps before it left (layers, environment, working directory,
	// user, shell), so a rebuilt step that changed nothing lets the next
	// steps hit again.
	ModeContent = "content"
)

// parentKey is what the next step's key chains on.
func (b *build) parentKey(s *stage) digest.Digest {
	if b.o.CacheMode != ModeContent {
		return s.key
	}
	c := s.img.Config
	state, _ := json.Marshal(struct {
		Layers     []digest.Digest
		Env        []string
		WorkingDir string
		User       string
		Shell      []string
	}{s.img.RootFS.DiffIDs, c.Env, c.WorkingDir, c.User, c.Shell})
	return digest.FromBytes(append([]byte("minibuild content state v1\n"), state...))
}

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
// same step of the last build of this Dockerfile. It starts with one of
// the words new, instruction, source, arg, env, parent, base, no-cache.
func (b *build) missReason(s *stage, cur cache.StepRecord) string {
	if b.o.NoCache {
		return "no-cache: --no-cache was given"
	}
	if s.firstMiss != nil && b.o.CacheMode == ModeCascade {
		return fmt.Sprintf("parent: cascade from step %d, line %d", s.firstMiss.Index, s.firstMiss.Line)
	}
	if b.prev == nil {
		return "new: no earlier build of this Dockerfile is known"
	}
	prev, ok := b.prev.Find(cur.Stage, cur.Position)
	if !ok {
		return "new: no earlier build of this step is known"
	}
	if prev.Text != cur.Text {
		return fmt.Sprintf("instruction: changed from %q to %q", clip(prev.Text), clip(cur.Text))
	}
	if s.firstMiss == nil && prev.Parent != cur.Parent {
		if from, ok := b.prev.Find(cur.Stage, 0); ok && from.Base != b.baseOf(s) {
			return fmt.Sprintf("base: the FROM image changed from %s to %s", short(from.Base), short(b.baseOf(s)))
		}
	}
	if why := varsReason(s, prev.Vars, cur.Vars); why != "" {
		return why
	}
	if b.loadPrevSources() {
		prev, _ = b.prev.Find(cur.Stage, cur.Position)
		if why := sourcesReason(prev.Sources, cur.Sources); why != "" {
			return why
		}
	}
	if strings.Join(prev.Extra, "\n") != strings.Join(cur.Extra, "\n") {
		for _, e := range cur.Extra {
			if strings.HasPrefix(e, "from=") {
				return "source: the content of the --from stage or image changed"
			}
		}
		return "instruction: its settings changed (shell, user, working directory or network)"
	}
	if prev.Instruction != cur.Instruction {
		return fmt.Sprintf("instruction: it now expands to %q", clip(cur.Instruction))
	}
	if s.firstMiss != nil {
		return fmt.Sprintf("parent: step %d (line %d) changed what this step starts from", s.lastMiss.Index, s.lastMiss.Line)
	}
	if prev.Parent != cur.Parent {
		return "parent: the steps before it are not those of the earlier build"
	}
	return "new: the earlier build's entry for this step is no longer in the cache (pruned?)"
}

// hitReason explains a hit that follows a miss in content mode.
func (b *build) hitReason(s *stage) string {
	if b.o.CacheMode != ModeContent || s.lastMiss == nil {
		return ""
	}
	lm := s.lastMiss
	what := "but left the filesystem and the environment as they were"
	if lm.Layer == nil {
		what = "but changed only the image's metadata"
	} else if prev, ok := b.prevStep(lm); ok && prev.Layer != "" {
		for _, r := range b.records {
			if r.Index == lm.Index && r.Layer == prev.Layer {
				what = "to a byte-identical layer"
			}
		}
	}
	return fmt.Sprintf("content: step %d (line %d) was rebuilt %s, so this step's inputs are unchanged", lm.Index, lm.Line, what)
}

// prevStep finds the earlier build's record of a step of this build.
func (b *build) prevStep(r *StepResult) (cache.StepRecord, bool) {
	if b.prev == nil {
		return cache.StepRecord{}, false
	}
	for _, cur := range b.records {
		if cur.Index == r.Index {
			return b.prev.Find(cur.Stage, cur.Position)
		}
	}
	return cache.StepRecord{}, false
}

// varsReason names the first variable the step sees whose value changed.
func varsReason(s *stage, prev, cur map[string]string) string {
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
		kind := "env"
		if s.isArg(n) {
			kind = "arg"
		}
		return fmt.Sprintf("%s: %s changed from %s to %s", kind, n, quoteOrUnset(old, hadOld), quoteOrUnset(now, hasNow))
	}
	return ""
}

func quoteOrUnset(v string, set bool) string {
	if !set {
		return "(unset)"
	}
	return fmt.Sprintf("%q", clip(v))
}

// sourcesReason names the COPY/ADD inputs that were added, removed or
// changed: the first few, then a count.
func sourcesReason(prev, cur []cache.SourceFile) string {
	old := map[string]cache.SourceFile{}
	for _, f := range prev {
		old[f.Path] = f
	}
	var changed, added, removed []string
	seen := map[string]bool{}
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
	var parts []string
	for _, g := range []struct {
		verb  string
		paths []string
	}{{"changed", changed}, {"added", added}, {"removed", removed}} {
		if len(g.paths) == 0 {
			continue
		}
		sort.Strings(g.paths)
		part := g.verb + " " + strings.Join(firstN(g.paths, 3), ", ")
		if len(g.paths) > 3 {
			part += fmt.Sprintf(" and %d more", len(g.paths)-3)
		}
		parts = append(parts, part)
	}
	if len(parts) == 0 {
		return ""
	}
	return "source: " + strings.Join(parts, "; ")
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}

func short(d digest.Digest) string {
	if d == "" {
		return "scratch"
	}
	if len(d) > 19 {
		return string(d[:19])
	}
	return string(d)
}

// baseOf is what the stage's FROM resolved to, as recorded.
func (b *build) baseOf(s *stage) digest.Digest {
	for _, r := range b.records {
		if r.Stage == s.name && r.Position == 0 {
			return r.Base
		}
	}
	return ""
}

// loadRecord reads the last build's record, when there is one.
func (b *build) loadRecord() {
	if b.o.RecordID == "" {
		return
	}
	r, ok, err := b.o.Cache.LoadRecord(b.o.RecordID)
	if err != nil {
		b.o.Reporter.Report(Warning{Message: fmt.Sprintf("ignoring the last build's record: %v", err)})
	}
	if ok {
		b.prev = &r
	}
}

// loadPrevSources reads, once, what the last build's steps read (a file
// of its own, so that a build without misses never reads it) and tells
// whether they are known.
func (b *build) loadPrevSources() bool {
	if b.prevSources == nil {
		ok := true
		if err := b.o.Cache.LoadSources(b.o.RecordID, b.prev); err != nil {
			ok = false
			b.o.Reporter.Report(Warning{Message: fmt.Sprintf("the last build's sources are unknown, a COPY's miss cannot name the files that changed: %v", err)})
		}
		b.prevSources = &ok
	}
	return *b.prevSources
}

// saveRecord keeps this build's record for the next build to compare with.
func (b *build) saveRecord() {
	if b.o.RecordID == "" || b.o.DryRun {
		return
	}
	r := cache.Record{Dockerfile: b.o.RecordDockerfile, Target: b.o.Target, Mode: b.o.CacheMode, Steps: b.records}
	if err := b.o.Cache.SaveRecord(b.o.RecordID, r); err != nil {
		b.o.Reporter.Report(Warning{Message: fmt.Sprintf("could not save the build record: %v", err)})
	}
}
