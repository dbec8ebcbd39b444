package userns

import (
	"os"
	"os/signal"
	"syscall"
)

// forwarded are the signals the parent passes on to the child instead of
// dying of them. A terminal's ^C reaches both (they share a process
// group); the child sees it twice, which minibuild takes as one.
var forwarded = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}

// forwarder catches the forwarded signals from its creation on, and
// passes them on once it knows the child.
type forwarder struct {
	ch   chan os.Signal
	done chan struct{}
}

// forwardSignals starts catching the forwarded signals.
func forwardSignals() *forwarder {
	f := &forwarder{ch: make(chan os.Signal, 8), done: make(chan struct{})}
	signal.Notify(f.ch, forwarded...)
	return f
}

// to passes the signals caught so far, and all later ones, on to p.
func (f *forwarder) to(p *os.Process) {
	go func() {
		for {
			select {
			case s := <-f.ch:
				_ = p.Signal(s)
			case <-f.done:
				return
			}
		}
	}()
}

// stop stops catching; signals caught before the child started and not
// yet passed on are dropped.
func (f *forwarder) stop() {
	signal.Stop(f.ch)
	close(f.done)
}
