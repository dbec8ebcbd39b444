package buildcontext

import (
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"os"
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

// HashingFile is a listed regular file opened for copying that hashes what
// is read from it (OpenHashing).
type HashingFile struct {
	c      *Context
	f      *os.File
	path   string
	before statKey
	ok     bool // before is valid
	start  time.Time
	h      hash.Hash
	n      int64
	eof    bool
}

// OpenHashing opens the regular file f that Files listed, like Open, and
// hashes its content as it is read, so that a COPY that reads every file
// anyway need not read it a second time for its cache key. Once the file
// is read to its end, Digest returns the digest of exactly the bytes read
// and records it in the stat cache, as Digest(f) would have.
func (c *Context) OpenHashing(f File) (*HashingFile, error) {
	if !f.Mode.IsRegular() {
		return nil, fmt.Errorf("hashing %s: not a regular file (%s)", f.Path, f.Mode.Type())
	}
	start := time.Now()
	file, err := c.open(f.Path)
	if err != nil {
		return nil, fmt.Errorf("hashing %s: %w", f.Path, err)
	}
	fi, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, fmt.Errorf("hashing %s: %w", f.Path, err)
	}
	if !fi.Mode().IsRegular() {
		file.Close()
		return nil, fmt.Errorf("hashing %s: not a regular file (%s)", f.Path, fi.Mode().Type())
	}
	k, ok := keyOf(fi)
	return &HashingFile{c: c, f: file, path: f.Path, before: k, ok: ok, start: start, h: sha256.New()}, nil
}

// Read implements io.Reader.
func (h *HashingFile) Read(p []byte) (int, error) {
	n, err := h.f.Read(p)
	h.h.Write(p[:n])
	h.n += int64(n)
	if err == io.EOF {
		h.eof = true
	}
	return n, err
}

// Close closes the file.
func (h *HashingFile) Close() error { return h.f.Close() }

// Digest returns the digest of the bytes read, which must be the whole
// file, and records it in the stat cache when the file did not change
// while it was read and is not racily clean. Call it before Close.
func (h *HashingFile) Digest() (digest.Digest, error) {
	if !h.eof {
		// Readers such as io.Copy stop at EOF without reporting it to
		// us when they know the size; make sure nothing follows.
		var b [1]byte
		if n, _ := h.Read(b[:]); n != 0 || !h.eof {
			return "", fmt.Errorf("hashing %s: not read to its end", h.path)
		}
	}
	d := digest.NewDigestFromBytes(digest.SHA256, h.h.Sum(nil))
	fi, err := h.f.Stat()
	if err != nil {
		return "", fmt.Errorf("hashing %s: %w", h.path, err)
	}
	after, ok := keyOf(fi)
	trust := h.ok && ok && after == h.before && after.Size == h.n &&
		after.Mtime < h.start.Add(-h.c.racyWindow(after.Dev)).UnixNano()
	h.c.cache.store(h.path, h.before, d, trust)
	return d, nil
}
