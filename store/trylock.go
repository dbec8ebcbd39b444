package store

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// TryLock is Lock without waiting: ok is false, with a nil unlock, when
// another holder keeps the lock from being taken now. Startup cleanup
// uses it to learn whether any other process is using the store.
func (s *Store) TryLock(exclusive bool) (unlock func(), ok bool, err error) {
	gate, ok, err := tryLockFile(s.gateLockPath(), exclusive)
	if !ok {
		return nil, false, err
	}
	defer gate()
	return tryLockFile(s.storeLockPath(), exclusive)
}

// tryLockFile flocks path (created if missing) if that can be done now.
func tryLockFile(path string, exclusive bool) (func(), bool, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o644)
	if err != nil {
		return nil, false, fmt.Errorf("opening lock %s: %w", path, err)
	}
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	for {
		err = unix.Flock(int(f.Fd()), how|unix.LOCK_NB)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	switch {
	case err == nil:
		return unlocker(f), true, nil
	case errors.Is(err, unix.EWOULDBLOCK):
		_ = f.Close()
		return nil, false, nil
	default:
		_ = f.Close()
		return nil, false, fmt.Errorf("locking %s: %w", path, err)
	}
}
