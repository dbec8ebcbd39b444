package unixfs

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// MaxRetries bounds every retry of a system call in the confined file
// operations: a call interrupted by a signal (EINTR), an openat2 lookup the
// kernel refused because a rename or a mount raced with it (EAGAIN), or a
// check-then-act step that lost a race with a concurrent change of the tree.
// A few retries are enough for a tree that changes by accident; past the
// bound the operation fails instead of spinning, as a tree kept changing
// under the lookup on purpose is an attack.
const MaxRetries = 128

// Openat2 is openat2(2) retried on EINTR and on EAGAIN, which the kernel
// returns when a concurrent rename or mount may have made a RESOLVE_IN_ROOT
// or RESOLVE_BENEATH lookup unsafe. O_CLOEXEC is always added to
// how.Flags (how itself is not changed). Any other failure is the bare
// errno; after MaxRetries retries the last EINTR or EAGAIN is returned
// wrapped in an error that says so.
func Openat2(dirfd int, path string, how *unix.OpenHow) (int, error) {
	h := *how
	h.Flags |= unix.O_CLOEXEC
	fd, spent, err := retry(isEINTROrEAGAIN, func() (int, error) {
		return unix.Openat2(dirfd, path, &h)
	})
	if spent {
		return -1, fmt.Errorf("openat2 %q: gave up after %d attempts: %w", path, MaxRetries+1, err)
	}
	return fd, err
}

// Retry calls fn again while it fails with EINTR, at most MaxRetries times.
// Any other result is fn's own; after the last retry the EINTR is returned
// wrapped in an error that says so.
func Retry(fn func() (int, error)) (int, error) {
	fd, spent, err := retry(isEINTR, fn)
	if spent {
		return -1, fmt.Errorf("gave up after %d attempts: %w", MaxRetries+1, err)
	}
	return fd, err
}

// RetryErr is Retry for calls that return only an error.
func RetryErr(fn func() error) error {
	_, err := Retry(func() (int, error) { return 0, fn() })
	return err
}

// retry runs fn until it succeeds or fails with an error again does not
// accept, at most MaxRetries+1 times; spent says the last call still failed
// with an error again accepts.
func retry(again func(error) bool, fn func() (int, error)) (fd int, spent bool, err error) {
	for i := 0; ; i++ {
		fd, err := fn()
		if err == nil || !again(err) {
			return fd, false, err
		}
		if i == MaxRetries {
			return -1, true, err
		}
	}
}

func isEINTR(err error) bool { return errors.Is(err, unix.EINTR) }

func isEINTROrEAGAIN(err error) bool {
	return errors.Is(err, unix.EINTR) || errors.Is(err, unix.EAGAIN)
}
