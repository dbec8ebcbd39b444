package builder

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minibuild/minibuild/cache"
	"github.com/minibuild/minibuild/dockerfile"
	"github.com/minibuild/minibuild/executor"
	"github.com/minibuild/minibuild/internal/platform"
	"github.com/minibuild/minibuild/tarutil"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Build runs the stages the target stage needs, for each platform, step
// by step, reusing cached steps, independent stages at once (at most
// Settings.Jobs), and writes the target's image (config and manifest) to
// the store; for several platforms, an image of each and their index. It
// tags nothing: naming the image is the caller's output.
func Build(ctx context.Context, o Options) (*Result, error) {
	t, set := o.Tools, o.Settings
	if t.Reporter == nil {
		t.Reporter = nopReporter{}
	}
	if set.Network == "" {
		set.Network = executor.NetworkHost
	}
	if set.Epoch.IsZero() {
		set.Epoch = time.Unix(0, 0).UTC()
	}
	platforms := set.Platforms
	if len(platforms) == 0 {
		if set.Platform.OS == "" && set.Platform.Architecture == "" {
			set.Platform = ocispec.Platform{OS: "linux", Architecture: "amd64"}
		}
		platforms = []ocispec.Platform{set.Platform}
	}
	var err error
	if set.CacheMode, err = ParseCacheMode(string(set.CacheMode)); err != nil {
		return nil, err
	}
	df := set.Dockerfile
	target, err := targetStage(df, set.Target)
	if err != nil {
		return nil, err
	}
	g := newGraph(set.Jobs, t.Reporter)
	t.Reporter = g.rep
	var builds []*build
	for _, p := range platforms {
		one := set
		one.Platform = platform.Normalize(p)
		b := &build{tools: t, set: one, file: df.File, expander: dockerfile.NewExpander(df.Escape), g: g, nodes: map[int]*node{}}
		if len(platforms) > 1 {
			b.label = platform.Format(one.Platform)
		}
		builds = append(builds, b)
	}
	builds[0].noteDirectives()
	for _, b := range builds {
		if err := b.addNodes(target); err != nil {
			return nil, err
		}
	}
	if err := g.prepare(ctx); err != nil {
		return nil, err
	}
	if err := g.run(ctx); err != nil {
		return nil, err
	}
	builds[0].warnUnconsumed()
	res := &Result{Graph: g.stageGraph()}
	for _, n := range g.nodes {
		res.Steps = append(res.Steps, n.s.steps...)
	}
	var images []PlatformImage
	for _, b := range builds {
		final := b.nodes[target.Index].s
		if set.DryRun {
			res.ImageStages = final.chain
			continue
		}
		one, err := b.commit(final)
		if err != nil {
			return nil, err
		}
		images = append(images, PlatformImage{Platform: *one.Manifest.Platform, Manifest: one.Manifest, Config: one.Config, Image: one.Image, ImageStages: final.chain})
		b.saveRecord()
	}
	if set.DryRun {
		return res, nil
	}
	first := images[0]
	res.Manifest, res.Config, res.Image, res.ImageStages = first.Manifest, first.Config, first.Image, first.ImageStages
	if len(builds) > 1 {
		var ms []ocispec.Descriptor
		for _, im := range images {
			ms = append(ms, im.Manifest)
		}
		if res.Manifest, err = t.Store.WriteIndex(ms); err != nil {
			return nil, fmt.Errorf("writing image index: %w", err)
		}
		res.Images = images
	}
	return res, nil
}

// targetStage picks the stage named by target, or the last one.
func targetStage(df *dockerfile.Dockerfile, target string) (*dockerfile.Stage, error) {
	if len(df.Stages) == 0 {
		return nil, &dockerfile.Error{File: df.File, Err: errors.New("no build stage in Dockerfile")}
	}
	if target == "" {
		return df.Stages[len(df.Stages)-1], nil
	}
	for _, s := range df.Stages {
		if strings.EqualFold(s.Name, target) {
			return s, nil
		}
	}
	return nil, fmt.Errorf("target stage %q could not be found", target)
}

// build is the state of one platform's part of a Build call.
type build struct {
	tools    Tools
	set      Settings
	file     string
	expander *dockerfile.Expander
	g        *graph
	// nodes are this platform's stages, by stage index.
	nodes map[int]*node
	// label names the platform in events when the build has several.
	label string
	// prev is the record of the last build of this Dockerfile and target
	// (and platform, when the build has several), read by prevRecord on
	// the first miss that is explained (a build without a miss never
	// decodes it); each stage keeps its part of this build's, saved when
	// the build succeeds.
	prev     *cache.Record
	prevOnce sync.Once
	// prevSources tells whether prev's Sources were loaded (nil: not
	// tried yet); they are read on the first miss that needs them.
	prevMu      sync.Mutex
	prevSources *bool
}

// stage is the state of a stage while its steps run.
type stage struct {
	index    int
	name     string
	node     *node
	platform ocispec.Platform
	// next is the index of the stage's next step; current that of the
	// step running.
	next, current int
	// steps and records are the stage's part of the build's results and
	// record, in order.
	steps   []StepResult
	records []cache.StepRecord
	// live are the nodes this one shadows still (graph).
	live []*node
	img  Image
	// layers are the stage's stored layers, and unstored those still
	// being stored (layercommit.go): together, parallel to
	// img.RootFS.DiffIDs.
	layers   []ocispec.Descriptor
	unstored []unstored
	// order runs what follows each step in step order, and rep reports
	// the stage's events through it (inOrder).
	order    inOrder
	rep      Reporter
	key      digest.Digest // the key of the last step
	args     []buildArg    // ARGs in scope, in declaration order
	cmdSet   bool
	position int // steps of this stage so far; its FROM is 0
	// seq counts ARG and ENV instructions; envSeq holds, per ENV name, the
	// seq of its last ENV, so ARG and ENV of one name apply in order.
	seq       int
	envSeq    map[string]int
	firstMiss *StepResult
	lastMiss  *StepResult
	// unknown, in a dry run, says why this stage's keys cannot be known
	// any more (zero while they can); layersUnknown that some of its
	// layers cannot.
	unknown       Reason
	layersUnknown bool
	// chain names the stages whose steps make this stage's layers: this
	// one, and the stages it is FROM, transitively (Result.ImageStages).
	chain []string
}

// buildArg is an ARG in scope.
type buildArg struct {
	name  string
	value string
	set   bool
	seq   int // when it was declared, against stage.envSeq
}

// runStage runs the FROM of n's stage and then each of its instructions.
func (b *build) runStage(ctx context.Context, n *node) (*stage, error) {
	st := n.st
	s := &stage{index: st.Index, name: stageName(st), node: n, platform: n.platform, next: n.first, live: n.shadows}
	s.rep = orderedReporter{o: &s.order, next: b.tools.Reporter}
	s.chain = []string{s.name}
	if err := b.runSteps(ctx, s); err != nil {
		s.order.Wait() // nothing of a failed stage runs on
		return nil, err
	}
	if err := b.settle(s); err != nil {
		return nil, err
	}
	return s, nil
}

// runSteps runs the FROM of the stage and then each of its instructions.
func (b *build) runSteps(ctx context.Context, s *stage) error {
	if err := b.from(ctx, s, s.node.st.From); err != nil {
		return err
	}
	for _, inst := range s.node.st.Instructions {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.failed(); err != nil {
			return err
		}
		if err := b.step(ctx, s, inst); err != nil {
			return err
		}
	}
	return nil
}

// start reports a step's beginning and returns its result skeleton.
func (b *build) start(s *stage, inst dockerfile.Instruction) StepResult {
	return b.startAt(s, inst.Line(), inst.Text())
}

// startAt is start for a step reported at line with text.
func (b *build) startAt(s *stage, line int, text string) StepResult {
	s.current = s.next
	s.next++
	r := StepResult{Index: s.current, Line: line, Stage: s.name, Platform: s.node.label, Instruction: text}
	s.rep.Report(StepStarted{Index: r.Index, Total: b.g.total, Stage: s.name, Line: r.Line, Instruction: r.Instruction, Platform: r.Platform})
	return r
}

// finish records the result of a step that left no layer to store, and
// publishes it done and reports it, in step order (see finishStored for
// one that did).
func (b *build) finish(s *stage, r StepResult, began time.Time) {
	s.steps = append(s.steps, r)
	pos, node, rep := s.position, s.node, b.tools.Reporter
	s.order.Do(func() {
		node.publishDone(pos)
		rep.Report(StepDone{Step: r, Duration: time.Since(began)})
	})
}

// errorAt wraps err as a Dockerfile error at inst's line, unless it already is one.
func (b *build) errorAt(inst dockerfile.Instruction, err error) error {
	var de *dockerfile.Error
	if errors.As(err, &de) {
		return err
	}
	return &dockerfile.Error{File: b.file, Line: inst.Line(), Err: err}
}

// step expands one instruction, computes its key, and reuses or runs it.
func (b *build) step(ctx context.Context, s *stage, inst dockerfile.Instruction) error {
	return b.stepAt(ctx, s, inst, inst.Line(), inst.Text())
}

// stepAt is step for an instruction reported at line with text (an
// ONBUILD trigger is reported at its FROM).
func (b *build) stepAt(ctx context.Context, s *stage, inst dockerfile.Instruction, line int, text string) error {
	began := time.Now()
	r := b.startAt(s, line, text)
	s.position++
	errorAt := func(err error) error {
		var de *dockerfile.Error
		if errors.As(err, &de) {
			return err
		}
		return &dockerfile.Error{File: b.file, Line: line, Err: err}
	}
	expanded, used, err := b.expander.Expand(inst, b.file, s.env())
	if err != nil {
		return errorAt(err)
	}
	// Each ENV A=$A$A doubles a value: stop before memory does.
	if n := len(canonical(expanded)); n > maxExpanded {
		return errorAt(fmt.Errorf("%s expands to %d bytes, more than the %d allowed", inst.Keyword(), n, maxExpanded))
	}
	rec := cache.StepRecord{Stage: s.name, Position: s.position, Index: r.Index, Line: line, Text: text, Platform: platform.Format(s.platform), Vars: s.values(used)}
	p, err := b.plan(ctx, s, expanded)
	var unknown *unknownError
	switch {
	case errors.As(err, &unknown):
		s.unknown = unknown.why
	case err != nil:
		return errorAt(err)
	}
	var entry cache.Entry
	var lc *layerCommit // the step's layer, still to be stored
	if !s.unknown.IsZero() {
		r.Cache, r.Reason = CacheUnknown, s.unknown
		s.layersUnknown = true
		s.node.publishKey(s.position, unknownKey)
	} else {
		p.key.Parent = b.parentKey(s)
		if p.change != nil && b.set.Layer.Compression != tarutil.Gzip {
			// Another compression is another blob for the same diffID.
			p.key.Extra = append(p.key.Extra, "compression="+b.set.Layer.Compression.String())
		}
		if p.change != nil && b.set.Epoch.Unix() != 0 {
			// A layer's times come from SOURCE_DATE_EPOCH: another epoch is
			// another layer (the default, 0, keeps the keys it always had).
			p.key.Extra = append(p.key.Extra, "epoch="+strconv.FormatInt(b.set.Epoch.Unix(), 10))
		}
		record := func() {
			rec.Instruction, rec.Key, rec.Parent, rec.Sources, rec.Extra = p.key.Instruction, r.Key, p.key.Parent, p.key.Sources, p.key.Extra
			rec.From = p.from
			if p.vars != nil {
				rec.Vars = p.vars
			}
		}
		var inputs *cache.Inputs // made once, for the entry and the result
		p.inputs = func() *cache.Inputs {
			if inputs == nil {
				record()
				inputs = s.inputsOf(rec).Bounded()
			}
			return inputs
		}
		// Nodes that start from this stage's base may have this step's
		// key: wait to know theirs (a step of theirs with this key is
		// then waited for, and found cached, as in a --jobs 1 build).
		shadowKeys, err := s.shadowKeys(ctx, s.position)
		if err != nil {
			return err
		}
		sureMiss := p.keyLater != nil && len(s.live) == 0 && b.sureMiss(p.key.Parent)
		if p.keyLater != nil && !sureMiss {
			if err := p.keyLater(ctx); err != nil {
				return errorAt(err)
			}
		}
		if sureMiss {
			// No entry chains on this parent: the step misses whatever
			// it reads. Copy first, hashing what is copied, and key the
			// step by exactly those bytes (each file read once).
			p.hashWhileCopying()
			r.Cache = CacheMiss
			if entry, lc, err = b.execute(ctx, s, p, r); err != nil {
				return errorAt(b.stateHint(s, p, err))
			}
			r.Key = entry.Key
			s.node.publishKey(s.position, string(r.Key))
			record()
			r.Reason = b.explainMiss(s, rec)
		} else {
			r.Key = p.key.Key()
			s.node.publishKey(s.position, string(r.Key))
			if err := s.followShadows(ctx, s.position, shadowKeys, string(r.Key)); err != nil {
				return err
			}
			record()
			var hit bool
			if entry, hit, err = b.lookup(ctx, r.Key); err != nil {
				return errorAt(err)
			}
			if hit {
				r.Cache = CacheHit
				r.Reason = b.hitReason(s)
				if !b.set.DryRun {
					_ = b.tools.Cache.Touch(r.Key)
				}
			} else {
				r.Cache = CacheMiss
				r.Reason = b.explainMiss(s, rec)
				if b.set.DryRun {
					b.predictMiss(s, p, r)
				} else if entry, lc, err = b.execute(ctx, s, p, r); err != nil {
					return errorAt(b.stateHint(s, p, err))
				}
			}
		}
	}
	r.Layer = entry.Layer
	if p != nil {
		r.Mounts = p.mounts
	}
	if r.Key != "" && p != nil && p.inputs != nil {
		r.Inputs = p.inputs()
	}
	if r.Cache == CacheMiss {
		s.firstMiss = firstNonNil(s.firstMiss, &r)
		s.lastMiss = firstNonNil(nil, &r)
	}
	if entry.Layer != nil || lc != nil {
		rec.Layer = entry.DiffID
	}
	if p != nil && p.apply != nil {
		p.apply(s)
	}
	s.key = r.Key
	if entry.Layer != nil {
		s.addLayer(*entry.Layer)
	}
	if entry.Layer != nil || lc != nil {
		s.img.RootFS.DiffIDs = append(s.img.RootFS.DiffIDs, entry.DiffID)
	}
	createdBy := text
	if p != nil {
		createdBy = p.createdBy
	}
	epoch := b.set.Epoch.UTC()
	s.img.History = append(s.img.History, ocispec.History{
		Created:    &epoch,
		CreatedBy:  createdBy,
		Comment:    "minibuild",
		EmptyLayer: entry.Layer == nil && lc == nil,
	})
	s.records = append(s.records, rec)
	if lc != nil {
		b.finishStored(ctx, s, r, began, entry, lc)
	} else {
		b.finish(s, r, began)
	}
	return nil
}

// stateHint adds to the error of a command that failed how to look at
// the state it ran on: a container of its parent step (run --step), when
// the parent is a cache entry (once the stage's layers are stored).
func (b *build) stateHint(s *stage, p *stepPlan, err error) error {
	var exit *executor.ExitError
	if !errors.As(err, &exit) {
		return err
	}
	if serr := b.settle(s); serr != nil {
		return errors.Join(err, serr)
	}
	if _, ok, _ := b.tools.Cache.Get(p.key.Parent); !ok {
		return err
	}
	return &FailedRunError{Err: err, State: p.key.Parent, Env: p.process.Env, User: p.process.User, Workdir: p.process.Workdir}
}

// FailedRunError is a RUN whose command failed, with the state it ran on
// (a cache key, for minibuild run --step) and the process's environment,
// user and working directory: what build --on-error shell opens a shell
// with.
type FailedRunError struct {
	Err     error
	State   digest.Digest
	Env     []string
	User    string
	Workdir string
}

// Error says what failed and how to look at the state it ran on.
func (e *FailedRunError) Error() string {
	return fmt.Sprintf("%v (to look at the state it ran on: minibuild run --step %s -- sh)", e.Err, e.State)
}

// Unwrap returns the command's error.
func (e *FailedRunError) Unwrap() error { return e.Err }

// predictMiss notes, in a dry run, what a missed step leaves unknown: in
// content mode every later key; in cascade mode only its layer.
func (b *build) predictMiss(s *stage, p *stepPlan, r StepResult) {
	if p.change != nil {
		s.layersUnknown = true
	}
	if b.set.CacheMode == ModeContent {
		s.unknown = Reason{Kind: ReasonUnknown, Cause: CauseMustRebuild, Step: r.Index, Line: r.Line}
	}
}

// maxExpanded bounds an instruction after variable expansion.
const maxExpanded = 1 << 20

// unknownError is what planning a step returns in a dry run when its key
// needs something only a real build has (a download, a rebuilt stage).
type unknownError struct{ why Reason }

func (e *unknownError) Error() string { return e.why.String() }

func firstNonNil(a, b *StepResult) *StepResult {
	if a != nil {
		return a
	}
	c := *b
	return &c
}
