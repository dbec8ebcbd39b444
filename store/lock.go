package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Lock takes the store-wide lock, shared or exclusive, as a flock on
// ROOT/locks/store.lock. It excludes other processes and other Lock calls in
// this process alike (every call opens its own descriptor), so a caller must
// not take it twice on one goroutine. Builds hold it shared and garbage
// collection exclusive. Lock waits until the lock is free or ctx is done;
// the returned unlock function is safe to call more than once.
//
// Tag and Untag do not take this lock: they serialize on a separate lock
// (ROOT/locks/index.lock), so a build holding Lock may tag its result.
//
// An exclusive waiter is not starved by a stream of shared holders: every
// Lock passes through a gate (ROOT/locks/gate.lock) that an exclusive
// waiter holds while it waits, so builds that start meanwhile queue
// behind it.
func (s *Store) Lock(ctx context.Context, exclusive bool) (unlock func(), err error) {
	gate, err := lockFile(ctx, s.gateLockPath(), exclusive)
	if err != nil {
		return nil, err
	}
	defer gate()
	return lockFile(ctx, s.storeLockPath(), exclusive)
}

func (s *Store) storeLockPath() string { return filepath.Join(s.root, "locks", "store.lock") }
func (s *Store) gateLockPath() string  { return filepath.Join(s.root, "locks", "gate.lock") }

// lockFile flocks path (created if missing). When ctx can be cancelled it
// polls, so that cancellation ends the wait; otherwise it blocks.
func lockFile(ctx context.Context, path string, exclusive bool) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening lock %s: %w", path, err)
	}
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	if ctx.Done() == nil {
		// Nothing can cancel the wait: block in the kernel.
		for {
			err := unix.Flock(int(f.Fd()), how)
			if err == nil {
				return unlocker(f), nil
			}
			if !errors.Is(err, unix.EINTR) {
				_ = f.Close()
				return nil, fmt.Errorf("locking %s: %w", path, err)
			}
		}
	}
	delay := time.Millisecond
	for {
		err := unix.Flock(int(f.Fd()), how|unix.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
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
		if delay < 100*time.Millisecond {
			delay *= 2
		}
	}
	return unlocker(f), nil
}

// unlocker returns an idempotent function that releases the flock on f and
// closes it.
func unlocker(f *os.File) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
			_ = f.Close()
		})
	}
}
