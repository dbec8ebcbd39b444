package buildcontext

import (
	"fmt"
	"io"
	"path/filepath"
	"time"

	digest "github.com/opencontainers/go-digest"
)

// FileDigest returns the sha256 digest of a regular file's content (path is
// context-relative; symbolic links are followed within the context). With
// the stat cache, a file whose size, mtime, ctime, inode and device are
// unchanged since it was hashed is not read again, like git's index; a file
// modified shortly before it was hashed is not trusted to the cache (racily
// clean: see localRacyWindow). It does not consult .dockerignore.
// FileDigest is safe for concurrent use.
func (c *Context) FileDigest(path string) (digest.Digest, error) {
	p, err := cleanRel(path)
	if err != nil {
		return "", fmt.Errorf("hashing %w", err)
	}
	fi, err := c.root.Stat(filepath.FromSlash(p))
	if err != nil {
		return "", fmt.Errorf("hashing %s: %w", p, err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("hashing %s: not a regular file (%s)", p, fi.Mode().Type())
	}
	k, ok := keyOf(fi)
	return c.digest(p, k, ok)
}

// Digest returns the content digest of a regular file that Files listed,
// like FileDigest, but looks the stat cache up with the stat data the
// listing already read: an unchanged file costs no system call at all.
func (c *Context) Digest(f File) (digest.Digest, error) {
	if !f.Mode.IsRegular() {
		return "", fmt.Errorf("hashing %s: not a regular file (%s)", f.Path, f.Mode.Type())
	}
	return c.digest(f.Path, f.key, f.hasKey)
}

// digest serves the clean path p from the stat cache when k (its stat data,
// valid when ok) matches, and otherwise reads and hashes it.
func (c *Context) digest(p string, k statKey, ok bool) (digest.Digest, error) {
	if ok {
		if d, hit := c.cache.lookup(p, k); hit {
			return d, nil
		}
	}
	start := time.Now()
	f, err := c.open(p)
	if err != nil {
		return "", fmt.Errorf("hashing %s: %w", p, err)
	}
	defer f.Close()
	before, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("hashing %s: %w", p, err)
	}
	if !before.Mode().IsRegular() {
		return "", fmt.Errorf("hashing %s: not a regular file (%s)", p, before.Mode().Type())
	}
	d := digest.Canonical.Digester()
	if _, err := io.Copy(d.Hash(), f); err != nil {
		return "", fmt.Errorf("hashing %s: %w", p, err)
	}
	after, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("hashing %s: %w", p, err)
	}
	k1, ok1 := keyOf(before)
	k2, ok2 := keyOf(after)
	// Trust the digest only if the file did not change while it was read
	// and its mtime is safely older than the start of hashing.
	trust := ok1 && ok2 && k1 == k2 && k1.Mtime < start.Add(-c.racyWindow(k1.Dev)).UnixNano()
	c.cache.store(p, k1, d.Digest(), trust)
	return d.Digest(), nil
}

// racyWindow is the racy window for a file on device dev: the context
// directory's file system decides; a file on another device (a mount inside
// the context) gets the conservative window.
func (c *Context) racyWindow(dev uint64) time.Duration {
	if dev == c.dev {
		return c.window
	}
	return remoteRacyWindow
}

// Stats reports how many FileDigest calls in this session hashed a file by
// reading it and how many were served from the stat cache.
func (c *Context) Stats() (read, cached int) { return c.cache.stats() }
