package builder

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minibuild/minibuild/buildcontext"
	"github.com/minibuild/minibuild/cache"
	"github.com/minibuild/minibuild/dockerfile"
	"github.com/minibuild/minibuild/rootdir"
	"github.com/minibuild/minibuild/rootfs"
	"github.com/minibuild/minibuild/snapshot"
	"github.com/minibuild/minibuild/store"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// harness is the world of one builder test: a store, a cache and native
// snapshots under one temporary root, a build context in another
// temporary directory, and the fake executor. Nothing needs root (see
// TestMain) nor a tool outside this module.
type harness struct {
	t      *testing.T
	root   string // the store's root; the cache, snapshots and stat cache are under it
	ctxDir string
	store  *store.Store
	cache  *cache.Cache
	snaps  snapshot.Snapshotter
	exec   *fakeExecutor
	events *recorder
	// ranBefore counts the processes run before the last build.
	ranBefore int
	// canRun is the builds' Tools.CanRun.
	canRun func(ocispec.Platform) error
}

// newHarness makes an empty world for t; t skips when the harness cannot
// act as root.
func newHarness(t *testing.T) *harness {
	t.Helper()
	requireRoot(t)
	h := &harness{t: t, root: t.TempDir(), ctxDir: t.TempDir(), events: &recorder{}}
	var err error
	if h.store, err = store.Open(h.root); err != nil {
		t.Fatal(err)
	}
	layout := rootdir.At(h.root)
	if h.cache, err = cache.Open(layout); err != nil {
		t.Fatal(err)
	}
	h.snaps = snapshot.NewNative(layout.Snapshots())
	h.exec = &fakeExecutor{step: h.events.current}
	return h
}

// write writes context files (path → content); a path ending in "/" is
// a directory.
func (h *harness) write(files map[string]string) {
	h.t.Helper()
	for name, content := range files {
		p := filepath.Join(h.ctxDir, name)
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				h.t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			h.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			h.t.Fatal(err)
		}
	}
}

// remove removes context paths.
func (h *harness) remove(paths ...string) {
	h.t.Helper()
	for _, p := range paths {
		if err := os.RemoveAll(filepath.Join(h.ctxDir, p)); err != nil {
			h.t.Fatal(err)
		}
	}
}

// touch moves the modification time of context files an hour on,
// leaving their content as it was.
func (h *harness) touch(paths ...string) {
	h.t.Helper()
	later := time.Now().Add(time.Hour)
	for _, p := range paths {
		if err := os.Chtimes(filepath.Join(h.ctxDir, p), later, later); err != nil {
			h.t.Fatal(err)
		}
	}
}

// build parses the context's Dockerfile named file and builds it with
// set, as the CLI would: the context opened afresh with a stat cache in
// the root, the build record kept under the Dockerfile's path, the
// platform of this machine and the zero epoch. A parse error is returned
// as the build's error.
func (h *harness) build(file string, set Settings) (*Result, error) {
	h.t.Helper()
	h.events.reset()
	h.ranBefore = len(h.exec.ran())
	dfPath := filepath.Join(h.ctxDir, file)
	fh, err := os.Open(dfPath)
	if err != nil {
		h.t.Fatal(err)
	}
	df, err := dockerfile.Parse(fh, file)
	fh.Close()
	if err != nil {
		return nil, err
	}
	bctx, err := buildcontext.Open(h.ctxDir, buildcontext.Options{StatCachePath: filepath.Join(h.root, "statcache")})
	if err != nil {
		h.t.Fatal(err)
	}
	defer bctx.Close()
	set.Dockerfile, set.DockerfilePath = df, dfPath
	set.Platform = ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH}
	set.Epoch = time.Unix(0, 0).UTC()
	return Build(context.Background(), Options{
		Tools: Tools{Store: h.store, Cache: h.cache, Context: bctx, Snapshotter: h.snaps,
			Executor: h.exec, Reporter: h.events, CanRun: h.canRun},
		Settings: set,
	})
}

// readFile returns the content of the file at p in the image r built, and
// whether it is there.
func (h *harness) readFile(r *Result, p string) (string, bool) {
	h.t.Helper()
	m, _, err := h.store.Manifest(r.Manifest)
	if err != nil {
		h.t.Fatal(err)
	}
	chain, err := snapshot.Chain(m.Layers, r.Image.RootFS.DiffIDs, h.store.OpenDescriptor, 0)
	if err != nil {
		h.t.Fatal(err)
	}
	mnt, err := h.snaps.Prepare(context.Background(), chain)
	if err != nil {
		h.t.Fatal(err)
	}
	defer mnt.Release()
	root, err := rootfs.Open(mnt.Root())
	if err != nil {
		h.t.Fatal(err)
	}
	defer root.Close()
	f, err := root.OpenFile(p)
	if err != nil {
		return "", false
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		h.t.Fatal(err)
	}
	return string(data), true
}

// recorder keeps a build's events: the steps that finished (a failed
// build returns no Result) and the warnings; it knows which step runs.
type recorder struct {
	mu       sync.Mutex
	step     int
	done     []StepResult
	warnings []string
	// open is, by stage, the step started and not done; ended the steps
	// done; disorder what came out of step order.
	open     map[string]int
	ended    map[int]bool
	disorder []string
}

var _ Reporter = (*recorder)(nil)

// Report keeps e.
func (r *recorder) Report(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.open == nil {
		r.open, r.ended = map[string]int{}, map[int]bool{}
	}
	switch e := e.(type) {
	case StepStarted:
		r.step = e.Index
		if i, ok := r.open[e.Stage]; ok {
			r.disorder = append(r.disorder, fmt.Sprintf("step %d started before step %d of its stage was done", e.Index, i))
		}
		r.open[e.Stage] = e.Index
	case StepDone:
		r.done = append(r.done, e.Step)
		if i, ok := r.open[e.Step.Stage]; !ok || i != e.Step.Index {
			r.disorder = append(r.disorder, fmt.Sprintf("step %d done while its stage's open step is %d (%v)", e.Step.Index, i, ok))
		}
		delete(r.open, e.Step.Stage)
		r.ended[e.Step.Index] = true
	case StepOutput:
		if r.ended[e.Index] {
			r.disorder = append(r.disorder, fmt.Sprintf("output of step %d after it was done", e.Index))
		}
	case Warning:
		r.warnings = append(r.warnings, e.Message)
	}
}

// current is the index of the step that started last.
func (r *recorder) current() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.step
}

// reset forgets the last build's events.
func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.step, r.done, r.warnings = 0, nil, nil
	r.open, r.ended, r.disorder = nil, nil, nil
}

// outOfOrder returns what the last build reported out of step order.
func (r *recorder) outOfOrder() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.disorder...)
}

// finished returns the steps that finished in the last build.
func (r *recorder) finished() []StepResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]StepResult(nil), r.done...)
}
