package store

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// NewSpool returns a temporary file under ROOT/tmp, open for reading and
// writing, that no name points to: its space is freed when it is closed
// or when the process dies, however it dies. A build writes a layer's
// uncompressed tar into one, to compress it later.
func (s *Store) NewSpool() (*os.File, error) {
	dir := s.layout.Tmp()
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err == nil {
		return os.NewFile(uintptr(fd), dir+"/(spool)"), nil
	}
	if !errors.Is(err, unix.EOPNOTSUPP) && !errors.Is(err, unix.EISDIR) {
		return nil, fmt.Errorf("starting spool file in %s: %w", dir, err)
	}
	// A file system without O_TMPFILE: a named file, unlinked at once.
	f, err := os.CreateTemp(dir, "spool-*")
	if err != nil {
		return nil, fmt.Errorf("starting spool file: %w", err)
	}
	if err := os.Remove(f.Name()); err != nil {
		return nil, errors.Join(fmt.Errorf("starting spool file: %w", err), f.Close())
	}
	return f, nil
}
