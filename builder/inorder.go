package builder

import "sync"

// inOrder runs a stage's functions one at a time, in the order they were
// given: a function given while nothing else is waiting runs at once, on
// the caller's goroutine; one given while a slow function (Go) is still
// running, or waiting, runs after it, on the goroutine that runs the
// queue. A stage gives it what must follow a step in step order: reporting
// the step's events, putting its cache entry and publishing it done, so
// that a layer still being compressed holds back the events of the steps
// after it (which run meanwhile) and nothing is reported out of order.
type inOrder struct {
	mu      sync.Mutex
	queue   []func()
	running bool          // the queue's goroutine is running
	idle    chan struct{} // closed when the queue's goroutine stops
}

// Do runs f after everything given before it.
func (o *inOrder) Do(f func()) {
	o.mu.Lock()
	if !o.running && len(o.queue) == 0 {
		defer o.mu.Unlock()
		f()
		return
	}
	o.queue = append(o.queue, f)
	o.mu.Unlock()
}

// Go runs slow after everything given before it, on another goroutine, and
// what is given after it only once slow has returned.
func (o *inOrder) Go(slow func()) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.queue = append(o.queue, slow)
	if !o.running {
		o.running = true
		o.idle = make(chan struct{})
		go o.run(o.idle)
	}
}

// run runs the queue until it is empty.
func (o *inOrder) run(idle chan struct{}) {
	for {
		o.mu.Lock()
		if len(o.queue) == 0 {
			o.running = false
			o.mu.Unlock()
			close(idle)
			return
		}
		f := o.queue[0]
		o.queue = o.queue[1:]
		o.mu.Unlock()
		f()
	}
}

// Wait returns once everything given before it has run.
func (o *inOrder) Wait() {
	o.mu.Lock()
	running, idle := o.running, o.idle
	o.mu.Unlock()
	if running {
		<-idle
	}
}

// orderedReporter reports a stage's events through its inOrder.
type orderedReporter struct {
	o    *inOrder
	next Reporter
}

func (r orderedReporter) Report(e Event) { r.o.Do(func() { r.next.Report(e) }) }
