package progress

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/minibuild/minibuild/builder"
	"github.com/minibuild/minibuild/internal/textfmt"
	"golang.org/x/sys/unix"
)

// ttyOptions configures the live view.
type ttyOptions struct {
	terminal bool             // the writer is a terminal
	color    bool             // use SGR colours
	width    func() int       // the terminal's columns
	height   func() int       // the terminal's rows
	now      func() time.Time // the clock
	tick     time.Duration    // spinner frame interval; 0: no ticker (tests)
}

// IsTerminal reports whether w is a terminal (a file whose descriptor
// answers a terminal's ioctl).
func IsTerminal(w any) bool {
	f, ok := w.(interface{ Fd() uintptr })
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// terminalOptions describes w: a terminal gets colour (unless NO_COLOR is
// set or TERM is dumb) and its size; anything else 80 columns, 24 rows
// and no colour.
func terminalOptions(w io.Writer) ttyOptions {
	opts := ttyOptions{width: func() int { return 80 }, height: func() int { return 24 }, now: time.Now, tick: 100 * time.Millisecond}
	if !IsTerminal(w) {
		return opts
	}
	fd := int(w.(interface{ Fd() uintptr }).Fd())
	opts.terminal = true
	opts.color = os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
	opts.width = func() int {
		ws, err := unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ)
		if err != nil || ws.Col == 0 {
			return 80
		}
		return int(ws.Col)
	}
	opts.height = func() int {
		ws, err := unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ)
		if err != nil || ws.Row == 0 {
			return 24
		}
		return int(ws.Row)
	}
	return opts
}

// ttyRenderer is the terminal view: finished steps scroll up as one line
// each (with the reason of a miss under it), the running steps stay at
// the bottom, each with a spinner, its elapsed time, the last lines of
// its output and its byte progress, redrawn in place within the
// terminal's height (see layoutLive); Finish prints the cascade summary.
// Once the build shows a second stage or platform, each step's line names
// its stage, as the plain view's do.
//
// A step is known by its Index alone, as StepOutput and StepProgress
// name it: the builder numbers the steps of every stage and platform of
// a build apart, before any runs.
type ttyRenderer struct {
	mu        sync.Mutex
	w         io.Writer
	opts      ttyOptions
	running   []*ttyStep // in the order they started
	stages    stageSeen
	total     int
	doneCount int
	frame     int
	live      int // lines of the live area on screen
	lastDraw  time.Time
	finished  bool
	stop      chan struct{} // closed to stop the ticker; nil before it starts
	done      chan struct{} // closed when the ticker has stopped
	buf       bytes.Buffer
}

func newTTYRenderer(w io.Writer, opts ttyOptions) *ttyRenderer {
	if opts.width == nil {
		opts.width = func() int { return 80 }
	}
	if opts.height == nil {
		opts.height = func() int { return 24 }
	}
	if opts.now == nil {
		opts.now = time.Now
	}
	return &ttyRenderer{w: w, opts: opts}
}

func (r *ttyRenderer) Report(e builder.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished {
		return
	}
	switch e := e.(type) {
	case builder.StepStarted:
		r.total = e.Total
		r.stages.see(e.Stage, e.Platform)
		r.running = append(r.running, &ttyStep{StepStarted: e, began: r.opts.now(), partial: map[string][]byte{}})
		r.startTicker()
		r.redraw(nil)
	case builder.StepOutput:
		if st := r.step(e.Index); st != nil {
			st.write(e.Stream, e.Data)
			r.redrawSoon()
		}
	case builder.StepProgress:
		if st := r.step(e.Index); st != nil {
			p := e
			st.progress = &p
			r.redrawSoon()
		}
	case builder.StepDone:
		r.stages.see(e.Step.Stage, e.Step.Platform)
		r.doneCount++
		st := r.remove(e.Step.Index)
		r.redraw(func() { r.writeDone(e, st) })
	case builder.Warning:
		r.redraw(func() { r.line(r.fit([]seg{{warningText(e), sgrYellow}})) })
	default:
		if line, ok := registryLine(e); ok {
			r.redraw(func() { r.line(line) })
		}
	}
}

// Finish stops the live view and prints the cascade summary.
func (r *ttyRenderer) Finish(res *builder.Result, took time.Duration) {
	if !r.end() {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.redraw(func() {
		r.writeSummary(res.Steps)
		c := summarize(res.Steps)
		r.line(fmt.Sprintf("built %s in %.2fs (%d cached, %d built)", res.Manifest.Digest, took.Seconds(), c.hits, c.misses))
	})
}

// Close stops the live view of a build that did not finish, leaving each
// unfinished step, in step order, and its last output lines on screen.
func (r *ttyRenderer) Close() {
	if !r.end() {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.redraw(func() {
		left := append([]*ttyStep(nil), r.running...)
		sort.SliceStable(left, func(i, j int) bool { return left[i].Index < left[j].Index })
		for _, st := range left {
			elapsed := r.opts.now().Sub(st.began).Seconds()
			r.line(r.fit([]seg{{"✗ ", sgrRed}, {r.tag(st.StepStarted) + " ", ""},
				{textfmt.OneLine(st.Instruction), flexible}, {fmt.Sprintf("  did not finish (%.1fs)", elapsed), sgrRed}}))
			for _, l := range st.shown(keepLines) {
				r.line(r.fit([]seg{{"    │ " + l, sgrDim}}))
			}
		}
		r.running = nil
	})
}

// end marks the view finished and stops the ticker; it reports whether
// this call did so.
func (r *ttyRenderer) end() bool {
	r.mu.Lock()
	if r.finished {
		r.mu.Unlock()
		return false
	}
	r.finished = true
	stop, done := r.stop, r.done
	r.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
	return true
}

func (r *ttyRenderer) startTicker() {
	if r.stop != nil || r.opts.tick <= 0 {
		return
	}
	r.stop, r.done = make(chan struct{}), make(chan struct{})
	go r.loop(r.stop, r.done)
}

// loop advances the spinner and redraws the live area until stopped.
func (r *ttyRenderer) loop(stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(r.opts.tick)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			r.mu.Lock()
			if !r.finished && len(r.running) > 0 {
				r.frame++
				r.redraw(nil)
			}
			r.mu.Unlock()
		}
	}
}

func (r *ttyRenderer) step(index int) *ttyStep {
	for _, st := range r.running {
		if st.Index == index {
			return st
		}
	}
	return nil
}

func (r *ttyRenderer) remove(index int) *ttyStep {
	for i, st := range r.running {
		if st.Index == index {
			r.running = append(r.running[:i], r.running[i+1:]...)
			return st
		}
	}
	return nil
}

// redrawSoon redraws unless the last redraw was very recent: output can
// come in many small pieces, and the ticker catches up.
func (r *ttyRenderer) redrawSoon() {
	if r.opts.now().Sub(r.lastDraw) >= 50*time.Millisecond {
		r.redraw(nil)
	}
}

// redraw erases the live area, lets permanent print lines that scroll up
// with the finished steps, draws the live area again below them, and
// writes it all at once.
func (r *ttyRenderer) redraw(permanent func()) {
	r.buf.Reset()
	if r.live > 0 {
		fmt.Fprintf(&r.buf, "\r\x1b[%dA\x1b[J", r.live)
		r.live = 0
	}
	if permanent != nil {
		permanent()
	}
	if !r.finished {
		r.live = r.drawLive()
	}
	r.lastDraw = r.opts.now()
	_, _ = r.w.Write(r.buf.Bytes())
}

// writeDone prints a finished step's line and the reason of a miss.
func (r *ttyRenderer) writeDone(e builder.StepDone, st *ttyStep) {
	s := e.Step
	total := r.total
	if st != nil {
		total = st.Total
	}
	col := resultColor(s)
	tag := r.tag(builder.StepStarted{Index: s.Index, Total: total, Stage: s.Stage, Platform: s.Platform})
	r.line(r.fit([]seg{{stepMark(s) + " ", col}, {tag + " ", ""},
		{textfmt.OneLine(s.Instruction), flexible}, {"  " + stepStatus(e), col}}))
	if !s.Reason.IsZero() && s.Cache != builder.CacheBase {
		r.line(r.fit([]seg{{"    why: " + s.Reason.String(), col}}))
	}
}

func (r *ttyRenderer) line(s string) {
	r.buf.WriteString(s)
	r.buf.WriteByte('\n')
}

func (r *ttyRenderer) width() int {
	return max(r.opts.width(), 20)
}
