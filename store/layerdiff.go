package store

import (
	"io"

	"github.com/minibuild/minibuild/tarutil"
	digest "github.com/opencontainers/go-digest"
)

// LayerDiffID decompresses layer blob d (verified as it is read) and
// returns the digest of the uncompressed stream, reading at most
// tarutil.DefaultMaxBytes of it: what its image's config must list as its
// diffID.
func (s *Store) LayerDiffID(d digest.Digest) (digest.Digest, error) {
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
