package snapshot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// lockFile opens path, creating it, and takes an exclusive flock on it,
// waiting until it is free or ctx is done. The lock guards goroutines of
// one process as well as other processes, and dies with the process.
func lockFile(ctx context.Context, path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening lock %q: %w", path, err)
	}
	wait := time.Millisecond
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			f.Close()
			return nil, fmt.Errorf("locking %q: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for lock %q: %w", path, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, 100*time.Millisecond)
	}
}

// tryLock takes the exclusive flock of path if nobody holds it, creating
// the file if create is set. It returns nil, nil if the file is missing or
// held.
func tryLock(path string, create bool) (*os.File, error) {
	flags := os.O_RDWR
	if create {
		flags |= os.O_CREATE
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("opening lock %q: %w", path, err)
	}
	err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		f.Close()
		return nil, nil
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %q: %w", path, err)
	}
	return f, nil
}

// randomID returns 16 random hex digits.
func randomID() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("making a random id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// mountsDir is where every prepared snapshot has its directory.
func mountsDir(stateDir string) string { return stateDir + "/mounts" }

// lockName is the lock file inside a snapshot directory; whoever holds it
// owns the snapshot, and Cleanup removes only snapshots nobody holds.
const lockName = "lock"

// newSnapshotDir creates a fresh, private snapshot directory under
// stateDir/mounts and returns it with its lock held.
func newSnapshotDir(stateDir string) (string, *os.File, error) {
	parent := mountsDir(stateDir)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return "", nil, fmt.Errorf("creating %q: %w", parent, err)
	}
	lastErr := errors.New("too many id collisions")
	for range 8 {
		id, err := randomID()
		if err != nil {
			return "", nil, err
		}
		dir := parent + "/" + id
		if err := os.Mkdir(dir, 0o700); errors.Is(err, os.ErrExist) {
			continue
		} else if err != nil {
			return "", nil, fmt.Errorf("creating snapshot directory: %w", err)
		}
		lock, err := os.OpenFile(dir+"/"+lockName, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			err = unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB)
			if err == nil {
				err = checkSameFile(lock, dir+"/"+lockName)
			}
			if err != nil {
				lock.Close()
			}
		}
		if err != nil {
			// A concurrent Cleanup (another build starting) took the new
			// directory for a dead one before its lock existed: leave it
			// to that Cleanup and try a fresh one.
			lastErr = fmt.Errorf("locking snapshot directory %q: %w", dir, err)
			continue
		}
		return dir, lock, nil
	}
	return "", nil, fmt.Errorf("creating a snapshot directory under %q: %w", parent, lastErr)
}

// checkSameFile checks that path still names the open file f.
func checkSameFile(f *os.File, path string) error {
	var a, b unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &a); err != nil {
		return err
	}
	if err := unix.Lstat(path, &b); err != nil {
		return err
	}
	if a.Dev != b.Dev || a.Ino != b.Ino {
		return fmt.Errorf("%q was replaced", path)
	}
	return nil
}
