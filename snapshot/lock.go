package snapshot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"

	"github.com/minibuild/minibuild/internal/flock"
)

// lockFile opens path, creating it (0600), and takes an exclusive flock
// on it, waiting until it is free or ctx is done. The lock guards
// goroutines of one process as well as other processes, and dies with the
// process.
func lockFile(ctx context.Context, path string) (*flock.Lock, error) {
	return flock.Acquire(ctx, path, flock.Exclusive, 0o600)
}

// tryLock takes the exclusive flock of path if nobody holds it, creating
// the file (0600) if create is set. It returns nil, nil if the file is
// missing or held.
func tryLock(path string, create bool) (*flock.Lock, error) {
	if create {
		return flock.TryAcquire(path, flock.Exclusive, 0o600)
	}
	return flock.TryExisting(path, flock.Exclusive)
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
func newSnapshotDir(stateDir string) (string, *flock.Lock, error) {
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
		lock, err := flock.TryCreate(dir+"/"+lockName, 0o600)
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
