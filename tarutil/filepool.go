package tarutil

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// This file holds the workers that create Apply's small regular files
// while the entries after them are read. Apply keeps everything that
// depends on order: it resolves the parent directory (the confinement),
// removes what the file replaces, and only then hands the worker the
// parent's descriptor, the single component name and the content. A worker
// only ever creates that one name (O_EXCL, never following a link), so
// what it does cannot change what Apply resolves later, except that the
// name appears: Apply waits for the file before it looks at or links to
// the same name, and for every file before it removes a directory, makes
// a missing one, applies a whiteout or an opaque marker, or sets directory
// times.

// poolFileMax is the size from which a regular file is written by Apply
// itself, streaming, rather than buffered and handed to a worker.
const poolFileMax = 1 << 20

// poolBudget bounds the content bytes buffered for workers at once.
const poolBudget = 32 << 20

// poolQueue bounds the files handed to workers and not yet taken, and so
// (with the workers) the parent descriptors held open for them.
const poolQueue = 64

// fileKey names a file by its parent directory's identity and its name in
// it, so that two layer paths reaching one file through a symlink match.
type fileKey struct {
	dev, ino uint64
	base     string
}

// fileJob is one regular file for a worker to create.
type fileJob struct {
	seq   int    // the entry's position in the layer
	entry string // the entry's name in the tar, for errors
	pfd   int    // the parent directory, closed by the worker
	base  string
	at    attrs
	data  []byte
	key   fileKey
	done  chan struct{}
}

// filePool runs the workers of one Apply call.
type filePool struct {
	a       *applier
	jobs    chan *fileJob
	workers sync.WaitGroup
	// inflight counts the jobs handed out and not finished; only Apply's
	// goroutine adds to it, and waits on it in barrier.
	inflight sync.WaitGroup
	// failedSeq is the entry of the earliest failure so far (MaxInt64
	// while none): the files after it are skipped.
	failedSeq atomic.Int64

	mu      sync.Mutex
	pending map[fileKey]*fileJob
	budget  int64
	freed   *sync.Cond
	err     error // the failure of the earliest entry, with errSeq
	errSeq  int
}

// newFilePool starts one worker per usable core.
func newFilePool(a *applier) *filePool {
	p := &filePool{
		a:       a,
		jobs:    make(chan *fileJob, poolQueue),
		pending: make(map[fileKey]*fileJob),
		budget:  poolBudget,
	}
	p.freed = sync.NewCond(&p.mu)
	p.failedSeq.Store(math.MaxInt64)
	for range runtime.GOMAXPROCS(0) {
		p.workers.Go(p.work)
	}
	return p
}

// work runs jobs until the pool is closed.
func (p *filePool) work() {
	for j := range p.jobs {
		var err error
		// A file before the earliest failure is still written: it may
		// fail too, and its failure is the one to report.
		if int64(j.seq) < p.failedSeq.Load() {
			err = p.a.writeFile(j.pfd, j.base, j.at, j.data)
		}
		unix.Close(j.pfd)
		p.finish(j, err)
	}
}

// finish records the end of j and frees its budget.
func (p *filePool) finish(j *fileJob, err error) {
	p.mu.Lock()
	if p.pending[j.key] == j {
		delete(p.pending, j.key)
	}
	p.budget += int64(len(j.data))
	if err != nil {
		p.failLocked(j.seq, fmt.Errorf("entry %q: %w", j.entry, err))
	}
	p.mu.Unlock()
	p.freed.Broadcast()
	close(j.done)
	p.inflight.Done()
}

// failLocked keeps err if it concerns an earlier entry than the failure
// kept so far; p.mu is held.
func (p *filePool) failLocked(seq int, err error) {
	if p.err == nil || seq < p.errSeq {
		p.err, p.errSeq = err, seq
		p.failedSeq.Store(int64(seq))
	}
}

// failing reports whether a worker failed.
func (p *filePool) failing() bool { return p.failedSeq.Load() != math.MaxInt64 }

// reserve waits until n more content bytes may be buffered and takes them.
// n is at most poolFileMax, far below poolBudget.
func (p *filePool) reserve(n int64) {
	p.mu.Lock()
	for p.budget < n {
		p.freed.Wait()
	}
	p.budget -= n
	p.mu.Unlock()
}

// unreserve gives back n bytes reserve took for a file not handed out.
func (p *filePool) unreserve(n int64) {
	p.mu.Lock()
	p.budget += n
	p.mu.Unlock()
	p.freed.Broadcast()
}

// submit hands j, whose budget is reserved, to a worker; the pool owns
// j.pfd from here on.
func (p *filePool) submit(j *fileJob) {
	j.done = make(chan struct{})
	p.mu.Lock()
	p.pending[j.key] = j
	p.mu.Unlock()
	p.inflight.Add(1)
	p.jobs <- j
}

// wait waits for the file key, if a worker has yet to finish it.
func (p *filePool) wait(key fileKey) {
	p.mu.Lock()
	j := p.pending[key]
	p.mu.Unlock()
	if j != nil {
		<-j.done
	}
}

// barrier waits for every file handed out so far.
func (p *filePool) barrier() { p.inflight.Wait() }

// close stops the workers once the jobs handed out are done (skipped after
// a failure) and returns the failure of the earliest entry, if any.
func (p *filePool) close() error {
	close(p.jobs)
	p.workers.Wait()
	return p.err
}

// keyOf names base in the directory dirfd.
func keyOf(dirfd int, base string) (fileKey, error) {
	var st unix.Stat_t
	if err := unix.Fstat(dirfd, &st); err != nil {
		return fileKey{}, fmt.Errorf("inspecting parent directory: %w", err)
	}
	return fileKey{dev: st.Dev, ino: st.Ino, base: base}, nil
}
