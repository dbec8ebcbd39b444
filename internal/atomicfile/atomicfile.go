package atomicfile

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// tempInfix separates a temporary file's target name from its random
// suffix: the temporary file of DIR/NAME is DIR/.NAME.tmp-RANDOM.
const tempInfix = ".tmp-"

// WriteFile replaces path with data: it writes a temporary file in the
// same directory, fsyncs it, sets its mode to perm, renames it over path
// and fsyncs the directory. On failure path is unchanged and the
// temporary file is removed. The directory must exist.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	return WriteFileSynced(path, data, perm, SyncAll)
}

// Sync is how much of a replacement WriteFileSynced makes durable (able
// to survive a power loss) before it returns. Every mode is atomic for
// readers and against a crashing process: path holds the old content or
// the new.
type Sync int

const (
	// SyncAll fsyncs the file before the rename and the directory after
	// it: when the call returns, the new content is durable (WriteFile).
	SyncAll Sync = iota
	// SyncFile fsyncs the file before the rename but leaves the rename
	// to the caller's later SyncDir of the directory, which one call can
	// do for many files. Until then a power loss may keep the old file
	// or none, but never a torn or empty new one.
	SyncFile
	// SyncNone fsyncs nothing, for hints whose loss costs only time: a
	// power loss may leave the old content, the new, or an empty file.
	SyncNone
)

// WriteFileSynced is WriteFile with the durability of sync.
func WriteFileSynced(path string, data []byte, perm fs.FileMode, sync Sync) error {
	return write(path, perm, sync, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Write is WriteFile for content that fn writes to w, for outputs too
// large to hold in memory. An error of fn is returned as it is, and path
// is left unchanged.
func Write(path string, perm fs.FileMode, fn func(w io.Writer) error) error {
	return write(path, perm, SyncAll, fn)
}

func write(path string, perm fs.FileMode, sync Sync, fn func(w io.Writer) error) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+tempInfix+"*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 64<<10)
	if err := fn(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Chmod(perm); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if sync != SyncNone {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("syncing %s: %w", path, err)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("replacing %s: %w", path, err)
	}
	ok = true
	if sync != SyncAll {
		return nil
	}
	return SyncDir(dir)
}

// SyncDir fsyncs the directory dir, so that the renames, creations and
// removals in it survive a crash.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}

// IsTemp reports whether the file name (a base name, not a path) is a
// temporary file of Write — ".NAME.tmp-RANDOM" — or of the writers it
// replaced (".tmp-RANDOM"). Only a caller that knows the writer is dead
// may remove such a file.
func IsTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, tempInfix)
}
