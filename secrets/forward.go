package secrets

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"

	"github.com/minibuild/minibuild/internal/idmap"
)

// Forward listens on a new Unix socket at path, owned by uid:gid with
// permission bits mode, and relays every connection to the agent socket
// of the ssh id: what RUN --mount=type=ssh binds into the step, so the
// step's user may reach the agent (BuildKit's defaults: 0:0, 0600)
// without the host socket's own owner or mode changing. stop closes the
// socket and every relayed connection and removes the socket file.
func (s *Store) Forward(id, path string, uid, gid int, mode os.FileMode) (stop func() error, err error) {
	agent, ok := s.Socket(id)
	if !ok {
		return nil, fmt.Errorf("no ssh agent %q", id)
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("ssh %s: %w", id, err)
	}
	ul := l.(*net.UnixListener)
	ul.SetUnlinkOnClose(true)
	if err := os.Chmod(path, mode); err == nil {
		err = idmap.UnmappedError(os.Lchown(path, uid, gid), uid, gid)
	}
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("ssh %s: %w", id, err)
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		conns   = map[net.Conn]bool{}
		stopped bool
	)
	// track adds or removes a connection stop must close; one added
	// after stop is closed at once.
	track := func(c net.Conn, add bool) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case add && stopped:
			c.Close()
		case add:
			conns[c] = true
		default:
			delete(conns, c)
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				track(c, true)
				defer track(c, false)
				defer c.Close()
				a, err := net.Dial("unix", agent)
				if err != nil {
					return
				}
				track(a, true)
				defer track(a, false)
				defer a.Close()
				relay(c, a)
			}()
		}
	}()
	return func() error {
		err := l.Close()
		mu.Lock()
		stopped = true
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
		if errors.Is(err, net.ErrClosed) {
			err = nil
		}
		return err
	}, nil
}

// relay copies both ways between a and b until either side is done.
func relay(a, b net.Conn) {
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
		done <- struct{}{}
	}
	go cp(a, b)
	go cp(b, a)
	<-done
	<-done
}
