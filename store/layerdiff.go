package store

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/minibuild/minibuild/tarutil"
	digest "github.com/opencontainers/go-digest"
)

// layerDiffID decompresses layer blob d (verified as it is read) and
// returns the digest of the uncompressed stream, reading at most
// tarutil.DefaultMaxBytes of it.
func (s *Store) layerDiffID(d digest.Digest) (digest.Digest, error) {
	rc, err := s.OpenBlob(d)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	// A damaged blob is best reported as such, not by what the
	// decompressor makes of it.
	damaged := func(err error) error {
		if _, verr := io.Copy(io.Discard, rc); verr != nil {
			return verr
		}
		return err
	}
	dr, err := tarutil.Decompress(rc)
	if err != nil {
		return "", damaged(err)
	}
	defer dr.Close()
	dg := digest.SHA256.Digester()
	if _, err := io.Copy(dg.Hash(), tarutil.LimitReader(dr, tarutil.DefaultMaxBytes)); err != nil {
		return "", damaged(err)
	}
	// Whatever the decompressor left unread must still match the blob's
	// digest.
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return "", err
	}
	return dg.Digest(), nil
}

// resetIndex keeps an unreadable index.json as index.json.corrupt-NANOS
// and writes an empty index in its place, under the index lock.
func (s *Store) resetIndex() error {
	unlock, err := lockFile(context.Background(), s.layout.IndexLock(), true)
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := readIndex(s.layout.Index()); err == nil {
		return nil // repaired meanwhile
	}
	backup := s.layout.Index() + ".corrupt-" + strconv.FormatInt(time.Now().UnixNano(), 10)
	if err := os.Rename(s.layout.Index(), backup); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("keeping the unreadable index: %w", err)
	}
	return writeIndex(s.layout.Index(), emptyIndex())
}
