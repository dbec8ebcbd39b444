package buildcontext

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Options configures Open.
type Options struct {
	// DockerignorePath is an explicit ignore file, typically
	// "<Dockerfile>.dockerignore" beside the Dockerfile. As in BuildKit it
	// takes precedence when it exists; when it does not exist,
	// <dir>/.dockerignore is used if present. "" means <dir>/.dockerignore
	// if present.
	DockerignorePath string
	// StatCachePath is a file that persists content digests keyed by file
	// stat data between runs; "" means no persistent stat cache.
	StatCachePath string
}

// Context is a build context directory opened through os.Root: every read
// stays inside it, and .dockerignore decides which paths exist for COPY and
// ADD. A Context is safe for concurrent use.
type Context struct {
	dir        string
	root       *os.Root
	ignore     *matcher
	ignoreName string
	cache      *statCache
	dirs       dirRoots      // open directories, for open
	dev        uint64        // the context directory's device
	window     time.Duration // racy window of its file system

	closeOnce sync.Once
	closeErr  error
}

// Open opens the build context at dir and reads its ignore file and stat
// cache.
func Open(dir string, opts Options) (*Context, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("opening build context: %w", err)
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("opening build context: %w", err)
	}
	c := &Context{dir: abs, root: root}
	if c.dev, c.window, err = fsOf(abs); err != nil {
		root.Close()
		return nil, fmt.Errorf("opening build context: %w", err)
	}
	patterns, name, err := loadIgnore(root, opts.DockerignorePath)
	if err != nil {
		root.Close()
		return nil, fmt.Errorf("opening build context %s: %w", abs, err)
	}
	if c.ignore, err = newMatcher(patterns); err != nil {
		root.Close()
		return nil, fmt.Errorf("opening build context %s: invalid pattern in %s: %w", abs, filepath.Base(name), err)
	}
	c.ignoreName = filepath.Base(name)
	if c.cache, err = loadStatCache(opts.StatCachePath, abs); err != nil {
		root.Close()
		return nil, fmt.Errorf("opening build context %s: %w", abs, err)
	}
	return c, nil
}

// fsOf returns the device of dir and the racy window of its file system.
func fsOf(dir string) (uint64, time.Duration, error) {
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return 0, 0, &fs.PathError{Op: "stat", Path: dir, Err: err}
	}
	var sfs unix.Statfs_t
	if err := unix.Statfs(dir, &sfs); err != nil {
		return 0, 0, &fs.PathError{Op: "statfs", Path: dir, Err: err}
	}
	return uint64(st.Dev), racyWindowOf(int64(sfs.Type)), nil
}

// Close saves the stat cache (atomically, when it changed) and releases the
// context directory. Calling Close again returns the first result.
func (c *Context) Close() error {
	c.closeOnce.Do(func() {
		c.dirs.close()
		saveErr := c.cache.save(c.root)
		closeErr := c.root.Close()
		c.closeErr = errors.Join(saveErr, closeErr)
	})
	return c.closeErr
}

// Dir returns the absolute path of the context directory.
func (c *Context) Dir() string { return c.dir }

// Open opens a context-relative file for reading through os.Root; links that
// leave the context are refused. It does not consult .dockerignore.
func (c *Context) Open(path string) (*os.File, error) {
	p, err := cleanRel(path)
	if err != nil {
		return nil, err
	}
	return c.open(p)
}
