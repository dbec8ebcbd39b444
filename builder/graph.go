package builder

import (
	"context"
	"errors"
	"runtime"
	"sync"

	"github.com/minibuild/minibuild/dockerfile"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// graph is the stages of one Build, for every platform, and what runs
// them: each node runs on its own goroutine once the nodes it needs are
// done, at most jobs at a time.
//
// Results never depend on scheduling. Step indexes are fixed before
// anything runs (a --jobs 1 build's order), and a node whose steps may
// have the keys of an earlier node's steps (it starts from the same
// base) shadows that node: at each step it waits for the earlier node's
// key, and for that step to be done when the keys are equal, so it finds
// the step cached exactly as it would after a --jobs 1 build ran the
// earlier node first.
type graph struct {
	nodes []*node // in build order
	total int     // steps of the whole build
	slots chan struct{}
	rep   Reporter

	mu       sync.Mutex
	consumed map[string]bool // build args some ARG declared
}

// node is one stage built for one platform.
type node struct {
	order int // position in graph.nodes
	b     *build
	st    *dockerfile.Stage
	// platform is the stage's platform: its FROM --platform, else the
	// build's; label is how events name it ("" when the build has one).
	platform ocispec.Platform
	label    string
	from     *node       // the stage FROM names, when it is one
	base     *loadedBase // the image FROM names, loaded before the build runs
	baseErr  error
	deps     []*node // every node this one needs (FROM, COPY --from, mount from=)
	// first is the index of its FROM step; count its steps (ONBUILD
	// triggers included).
	first, count int
	// shadows are the earlier nodes that start from the same base.
	shadows []*node

	done chan struct{} // closed when the node ends
	s    *stage        // the stage built, once done without error
	err  error

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every publish
	keys    []string      // the key of each step position, once known
	doneTo  int           // positions whose steps are done
	ended   bool
	// held says the node holds a build slot (only its goroutine looks).
	held bool
}

// loadedBase is an image a FROM names, as loadImageContext read it.
type loadedBase struct {
	img    Image
	layers []ocispec.Descriptor
	key    digest.Digest // the manifest digest
}

// newGraph makes an empty graph running at most jobs nodes at once (0:
// the number of CPUs).
func newGraph(jobs int, rep Reporter) *graph {
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	return &graph{slots: make(chan struct{}, jobs), rep: &lockedReporter{r: rep}, consumed: map[string]bool{}}
}

// consume notes that an ARG declared the build arg k.
func (g *graph) consume(k string) {
	g.mu.Lock()
	g.consumed[k] = true
	g.mu.Unlock()
}

// isConsumed says whether an ARG declared the build arg k.
func (g *graph) isConsumed(k string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.consumed[k]
}

// errSkipped ends a node whose dependency failed.
var errSkipped = errors.New("skipped: a stage it needs failed")

// run runs every node and returns the error of the first node, in build
// order, that failed on its own (not by being cancelled after another
// failed), or ctx's error when the build was interrupted.
func (g *graph) run(parent context.Context) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	var wg sync.WaitGroup
	for _, n := range g.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.err = n.run(ctx)
			if n.err != nil {
				cancel()
			}
			n.publish(func() { n.ended = true })
			close(n.done)
		}()
	}
	wg.Wait()
	if err := parent.Err(); err != nil {
		return err
	}
	for _, n := range g.nodes {
		if n.err != nil && !errors.Is(n.err, errSkipped) && !errors.Is(n.err, context.Canceled) {
			return n.err
		}
	}
	for _, n := range g.nodes {
		if n.err != nil && !errors.Is(n.err, errSkipped) {
			return n.err
		}
	}
	return nil
}

// run waits for the nodes this one needs, then builds its stage.
func (n *node) run(ctx context.Context) error {
	for _, d := range n.deps {
		select {
		case <-d.done:
			if d.err != nil {
				return errSkipped
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := n.acquire(ctx); err != nil {
		return err
	}
	defer n.release()
	s, err := n.b.runStage(ctx, n)
	if err != nil {
		return err
	}
	n.s = s
	return nil
}

// publish changes the node's published state under its lock and wakes
// its waiters.
func (n *node) publish(fn func()) {
	n.mu.Lock()
	fn()
	if n.changed != nil {
		close(n.changed)
	}
	n.changed = make(chan struct{})
	n.mu.Unlock()
}

// publishKey makes the key of the step at pos known to shadowing nodes.
func (n *node) publishKey(pos int, key string) {
	n.publish(func() {
		for len(n.keys) <= pos {
			n.keys = append(n.keys, "")
		}
		n.keys[pos] = key
	})
}

// publishDone says the step at pos is done (its cache entry written).
func (n *node) publishDone(pos int) {
	n.publish(func() { n.doneTo = max(n.doneTo, pos) })
}

// awaitOn waits, with its build slot given back meanwhile, until cond
// holds of x's published state.
func (n *node) awaitOn(ctx context.Context, x *node, cond func() bool) error {
	for {
		x.mu.Lock()
		if x.changed == nil {
			x.changed = make(chan struct{})
		}
		ok, ch := cond(), x.changed
		x.mu.Unlock()
		if ok {
			return nil
		}
		n.release()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := n.acquire(ctx); err != nil {
			return err
		}
	}
}

// acquire takes one of the build's slots for the node.
func (n *node) acquire(ctx context.Context) error {
	select {
	case n.b.g.slots <- struct{}{}:
		n.held = true
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// release gives the node's slot back, when it holds one.
func (n *node) release() {
	if n.held {
		n.held = false
		<-n.b.g.slots
	}
}

// shadowKeys waits until each shadowed node still in line has published
// its key for pos (or ended), and returns those keys by node.
func (s *stage) shadowKeys(ctx context.Context, pos int) (map[*node]string, error) {
	if s.node == nil || len(s.live) == 0 {
		return nil, nil
	}
	out := map[*node]string{}
	for _, x := range s.live {
		err := s.node.awaitOn(ctx, x, func() bool { return x.ended || len(x.keys) > pos && x.keys[pos] != "" })
		if err != nil {
			return nil, err
		}
		x.mu.Lock()
		if len(x.keys) > pos {
			out[x] = x.keys[pos]
		}
		x.mu.Unlock()
	}
	return out, nil
}

// followShadows keeps in line the shadowed nodes whose key at pos is key
// and waits for their step at pos to be done, so the lookup that follows
// finds its entry. A node with another key can share no later key.
func (s *stage) followShadows(ctx context.Context, pos int, keys map[*node]string, key string) error {
	if s.node == nil || len(s.live) == 0 {
		return nil
	}
	var live, same []*node
	for _, x := range s.live {
		switch k, ok := keys[x]; {
		case ok && k == key && key != unknownKey:
			live = append(live, x)
		case ok && s.node.b.set.CacheMode == ModeContent:
			// Content keys chain on the state, not on the parent key: a
			// node that differed here may meet this one again.
			live = append(live, x)
		}
	}
	s.live = live
	for _, x := range live {
		if keys[x] == key {
			same = append(same, x)
		}
	}
	for _, x := range same {
		if err := s.node.awaitOn(ctx, x, func() bool { return x.ended || x.doneTo >= pos }); err != nil {
			return err
		}
	}
	return nil
}

// unknownKey is what a node publishes for a step whose key a dry run
// cannot know: it equals no other.
const unknownKey = "unknown"

// lockedReporter passes events on one at a time.
type lockedReporter struct {
	mu sync.Mutex
	r  Reporter
}

func (l *lockedReporter) Report(e Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.r.Report(e)
}
