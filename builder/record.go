package builder

import (
	"fmt"

	"github.com/minibuild/minibuild/cache"
)

// recordID names this build's record: the Dockerfile, target and cache
// mode; "" when the build keeps none.
func (b *build) recordID() string {
	if b.set.DockerfilePath == "" {
		return ""
	}
	target := b.set.Target
	if b.label != "" {
		// Each platform of a multi-platform build keeps its own record.
		target += "@" + b.label
	}
	return cache.RecordID(b.set.DockerfilePath, target, string(b.set.CacheMode))
}

// prevRecord returns the last build's record (nil when there is none),
// reading it on the first call.
func (b *build) prevRecord() *cache.Record {
	b.prevOnce.Do(b.loadRecord)
	return b.prev
}

// loadRecord reads the last build's record, when there is one.
func (b *build) loadRecord() {
	id := b.recordID()
	if id == "" {
		return
	}
	r, ok, err := b.tools.Cache.LoadRecord(id)
	if err != nil {
		b.warn(0, "ignoring the last build's record: %v", err)
	}
	if ok {
		b.prev = &r
	}
}

// loadPrevSources reads, once, what the last build's steps read (a file
// of its own, so that a build without misses never reads it) and tells
// whether they are known.
func (b *build) loadPrevSources() bool {
	b.prevMu.Lock()
	defer b.prevMu.Unlock()
	if b.prevSources == nil {
		ok := true
		if err := b.tools.Cache.LoadSources(b.recordID(), b.prevRecord()); err != nil {
			ok = false
			b.warn(0, "the last build's sources are unknown, a COPY's miss cannot name the files that changed: %v", err)
		}
		b.prevSources = &ok
	}
	return *b.prevSources
}

// saveRecord keeps this build's record for the next build to compare with.
func (b *build) saveRecord() {
	id := b.recordID()
	if id == "" || b.set.DryRun {
		return
	}
	var steps []cache.StepRecord
	for _, n := range b.g.nodes {
		if n.b == b {
			steps = append(steps, n.s.records...)
		}
	}
	r := cache.Record{Dockerfile: b.set.DockerfilePath, Target: b.set.Target, Mode: string(b.set.CacheMode), Steps: steps}
	if err := b.tools.Cache.SaveRecord(id, r); err != nil {
		b.warn(0, "could not save the build record: %v", err)
	}
}

// warn reports a warning about line (0: the whole build).
func (b *build) warn(line int, format string, args ...any) {
	b.tools.Reporter.Report(Warning{Line: line, Message: fmt.Sprintf(format, args...)})
}
