package flock

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Mode is the kind of lock: many Shared holders exclude an Exclusive one.
type Mode int

const (
	// Shared lets other Shared holders in and keeps Exclusive ones out.
	Shared Mode = iota
	// Exclusive keeps every other holder out.
	Exclusive
)

// how is the flock operation of m.
func (m Mode) how() int {
	if m == Exclusive {
		return unix.LOCK_EX
	}
	return unix.LOCK_SH
}

// Lock is a flock held on an open lock file. It excludes other processes
// and other open descriptors in this process alike, and dies with the
// process.
type Lock struct {
	f    *os.File
	once sync.Once
	err  error
}

// Unlock releases the lock and closes its file. It is safe to call more
// than once and from several goroutines; later calls return what the
// first returned.
func (l *Lock) Unlock() error {
	l.once.Do(func() {
		_ = unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
		l.err = l.f.Close()
	})
	return l.err
}

// maxPoll bounds the pause between two attempts of a cancellable wait.
const maxPoll = 100 * time.Millisecond

// Acquire opens path, creating it with mode perm if missing, and takes a
// lock of the given mode, waiting until it is free or ctx is done. When
// nothing can cancel ctx (ctx.Done() is nil) it blocks in the kernel;
// otherwise it polls, so that cancellation ends the wait.
func Acquire(ctx context.Context, path string, mode Mode, perm fs.FileMode) (*Lock, error) {
	f, err := open(path, os.O_CREATE, perm)
	if err != nil {
		return nil, err
	}
	if ctx.Done() == nil {
		if err := flock(f, mode.how()); err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		return &Lock{f: f}, nil
	}
	delay := time.Millisecond
	for {
		err := flock(f, mode.how()|unix.LOCK_NB)
		if err == nil {
			return &Lock{f: f}, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			_ = f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			_ = f.Close()
			return nil, fmt.Errorf("waiting for lock %s: %w", path, ctx.Err())
		case <-t.C:
		}
		delay = min(2*delay, maxPoll)
	}
}

// TryAcquire is Acquire without waiting: it returns (nil, nil) when
// another holder keeps the lock from being taken now.
func TryAcquire(path string, mode Mode, perm fs.FileMode) (*Lock, error) {
	f, err := open(path, os.O_CREATE, perm)
	if err != nil {
		return nil, err
	}
	return try(f, path, mode)
}

// TryExisting is TryAcquire of a lock file that must exist already: it
// creates nothing, and a missing file, like a held lock, gives (nil, nil).
func TryExisting(path string, mode Mode) (*Lock, error) {
	f, err := open(path, 0, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return try(f, path, mode)
}

// TryCreate creates the lock file path, which must not exist yet, takes
// its exclusive lock without waiting and checks that path still names the
// file it locked. Any failure is an error: nobody else can hold a lock on
// a file just created, unless it was replaced meanwhile.
func TryCreate(path string, perm fs.FileMode) (*Lock, error) {
	f, err := open(path, os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return nil, err
	}
	l, err := try(f, path, Exclusive)
	if err == nil && l == nil {
		err = fmt.Errorf("locking %s: %w", path, unix.EWOULDBLOCK)
	}
	if err == nil {
		err = sameFile(f, path)
		if err != nil {
			_ = l.Unlock()
		}
	}
	if err != nil {
		return nil, err
	}
	return l, nil
}

// Free reports whether nobody holds a lock on path. It creates nothing: a
// missing file is free.
func Free(path string) (bool, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("opening lock %s: %w", path, err)
	}
	defer f.Close()
	err = flock(f, unix.LOCK_EX|unix.LOCK_NB)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, unix.EWOULDBLOCK):
		return false, nil
	default:
		return false, fmt.Errorf("locking %s: %w", path, err)
	}
}

// open opens the lock file path read-write, never following a symlink.
func open(path string, flags int, perm fs.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|flags|unix.O_NOFOLLOW|unix.O_CLOEXEC, perm)
	if err != nil {
		return nil, fmt.Errorf("opening lock %s: %w", path, err)
	}
	return f, nil
}

// try takes the lock on f without waiting; (nil, nil) means it is held.
// f is closed unless it is returned locked.
func try(f *os.File, path string, mode Mode) (*Lock, error) {
	err := flock(f, mode.how()|unix.LOCK_NB)
	switch {
	case err == nil:
		return &Lock{f: f}, nil
	case errors.Is(err, unix.EWOULDBLOCK):
		_ = f.Close()
		return nil, nil
	default:
		_ = f.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
}

// flock is flock(2) on f, retried when a signal interrupts it.
func flock(f *os.File, how int) error {
	for {
		err := unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// Names reports whether path still names the file l locks: it does not
// once the lock file was removed, renamed or replaced since it was
// opened. A process that removes a lock file does so holding its lock; a
// waiter that then gets the lock of the removed file must let it go and
// start again.
func (l *Lock) Names(path string) (bool, error) {
	same, err := names(l.f, path)
	if err != nil {
		return false, fmt.Errorf("checking lock %s: %w", path, err)
	}
	return same, nil
}

// names reports whether path names the open file f.
func names(f *os.File, path string) (bool, error) {
	var a, b unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &a); err != nil {
		return false, err
	}
	err := unix.Lstat(path, &b)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return a.Dev == b.Dev && a.Ino == b.Ino, nil
}

// sameFile checks that path still names the open file f.
func sameFile(f *os.File, path string) error {
	same, err := names(f, path)
	if err == nil && !same {
		err = errors.New("the file was replaced")
	}
	if err != nil {
		return fmt.Errorf("locking %s: %w", path, err)
	}
	return nil
}
