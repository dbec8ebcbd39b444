package store

import (
	"context"

	"github.com/minibuild/minibuild/internal/flock"
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
	gate, err := lockFile(ctx, s.layout.GateLock(), exclusive)
	if err != nil {
		return nil, err
	}
	defer gate()
	return lockFile(ctx, s.layout.StoreLock(), exclusive)
}

// TryLock is Lock without waiting: ok is false, with a nil unlock, when
// another holder keeps the lock from being taken now. Startup cleanup
// uses it to learn whether any other process is using the store.
func (s *Store) TryLock(exclusive bool) (unlock func(), ok bool, err error) {
	gate, ok, err := tryLockFile(s.layout.GateLock(), exclusive)
	if !ok {
		return nil, false, err
	}
	defer gate()
	return tryLockFile(s.layout.StoreLock(), exclusive)
}

// lockFile takes the flock on path (created 0644 if missing), waiting as
// flock.Acquire does, and returns an idempotent unlock function.
func lockFile(ctx context.Context, path string, exclusive bool) (func(), error) {
	l, err := flock.Acquire(ctx, path, lockMode(exclusive), 0o644)
	if err != nil {
		return nil, err
	}
	return func() { _ = l.Unlock() }, nil
}

// tryLockFile is lockFile without waiting: ok is false, with a nil unlock
// (and a nil error), when another holder keeps the lock.
func tryLockFile(path string, exclusive bool) (unlock func(), ok bool, err error) {
	l, err := flock.TryAcquire(path, lockMode(exclusive), 0o644)
	if err != nil || l == nil {
		return nil, false, err
	}
	return func() { _ = l.Unlock() }, true, nil
}

func lockMode(exclusive bool) flock.Mode {
	if exclusive {
		return flock.Exclusive
	}
	return flock.Shared
}
