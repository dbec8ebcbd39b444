package tarutil

import (
	"archive/tar"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	digest "github.com/opencontainers/go-digest"
)

// LayerOptions controls how WriteLayer encodes a layer.
type LayerOptions struct {
	// Compression of the blob; the zero value is Gzip.
	Compression Compression
	// Level is the compressor's level; 0 picks DefaultGzipLevel or
	// DefaultZstdLevel. It must be 0 for Uncompressed.
	Level int
	// Epoch is SOURCE_DATE_EPOCH, truncated to whole seconds. The zero
	// time.Time stands for the Unix epoch.
	Epoch time.Time
	// Clamp false sets every mtime in the tar to Epoch; Clamp true keeps
	// mtimes older than Epoch and lowers newer ones to Epoch.
	Clamp bool
}

// Mode type bits written into tar headers, as Docker writes them (the tar
// "mode" field carries them although the type flag is authoritative).
const (
	modeDir     = 0o040000
	modeReg     = 0o100000
	modeSymlink = 0o120000
	modeChar    = 0o020000
	modeBlock   = 0o060000
	modeFifo    = 0o010000
	modePerm    = 0o7777 // permissions plus setuid, setgid and sticky
)

// WriteLayer writes entries as one layer blob to w and describes it.
//
// Entries are sorted by Name in byte order (so parents precede children)
// and written with normalized headers: numeric owners without names, no
// access or change times, type bits in the mode, directory names ending in
// "/", mtimes set or clamped to opts.Epoch (whole seconds, never before the
// Unix epoch), and the PAX format only when a header needs it (long names,
// xattrs, large ids). Each regular file's content is streamed from its Open
// function and must be exactly Size bytes long. The compressed digest and
// size and the uncompressed diffID and size are computed in the same pass.
// Gzip and zstd compress on other goroutines (gzip in fixed 1 MiB blocks,
// a few at a time), which write to w one call at a time; the blob is the
// same whatever the number of cores.
//
// Names must be clean, relative and unique; a TypeLink's Linkname must name
// an earlier non-directory entry. On error, w may have received a partial
// blob, and nothing is written to it after WriteLayer returns.
func WriteLayer(w io.Writer, entries []Entry, opts LayerOptions) (Layer, error) {
	mediaType, err := opts.Compression.MediaType()
	if err != nil {
		return Layer{}, err
	}
	sorted, err := sortEntries(entries)
	if err != nil {
		return Layer{}, err
	}
	blobHash, blobCount := sha256.New(), &countWriter{}
	comp, err := compressor(io.MultiWriter(w, blobHash, blobCount), opts.Compression, opts.Level)
	if err != nil {
		return Layer{}, err
	}
	// The compressor writes to w from its own goroutines: on error, stop
	// them before returning so that nothing writes to w afterwards.
	finished := false
	defer func() {
		if !finished {
			comp.abort()
		}
	}()
	diffID, tarSize, err := writeTar(comp, sorted, opts)
	if err != nil {
		return Layer{}, err
	}
	if err := comp.Close(); err != nil {
		return Layer{}, fmt.Errorf("finishing %s stream: %w", opts.Compression, err)
	}
	finished = true
	return Layer{
		MediaType:        mediaType,
		Digest:           digest.NewDigest(digest.SHA256, blobHash),
		DiffID:           diffID,
		Size:             blobCount.n,
		UncompressedSize: tarSize,
	}, nil
}

// WriteTar writes entries to w as the uncompressed tar stream WriteLayer
// compresses, byte for byte, and returns its digest (the layer's diffID)
// and length: written to io.Discard, it tells a layer's diffID without
// the cost of compressing it.
func WriteTar(w io.Writer, entries []Entry, opts LayerOptions) (diffID digest.Digest, size int64, err error) {
	sorted, err := sortEntries(entries)
	if err != nil {
		return "", 0, err
	}
	return writeTar(w, sorted, opts)
}

// writeTar writes the sorted entries as a tar stream to w, hashing it.
func writeTar(w io.Writer, sorted []*Entry, opts LayerOptions) (digest.Digest, int64, error) {
	tarHash, tarCount := sha256.New(), &countWriter{}
	tw := tar.NewWriter(io.MultiWriter(w, tarHash, tarCount))
	stamp := mtimePolicy(opts)
	byName := make(map[string]*Entry, len(sorted))
	for _, e := range sorted {
		if err := writeEntry(tw, e, byName, stamp); err != nil {
			return "", 0, err
		}
		byName[e.Name] = e
	}
	if err := tw.Close(); err != nil {
		return "", 0, fmt.Errorf("finishing tar stream: %w", err)
	}
	return digest.NewDigest(digest.SHA256, tarHash), tarCount.n, nil
}

// sortEntries validates names and returns pointers to entries in byte order.
func sortEntries(entries []Entry) ([]*Entry, error) {
	sorted := make([]*Entry, len(entries))
	for i := range entries {
		if err := checkEntryName(entries[i].Name); err != nil {
			return nil, err
		}
		sorted[i] = &entries[i]
	}
	slices.SortStableFunc(sorted, func(a, b *Entry) int { return strings.Compare(a.Name, b.Name) })
	for i := 1; i < len(sorted); i++ {
		if sorted[i].Name == sorted[i-1].Name {
			return nil, fmt.Errorf("duplicate entry %q", sorted[i].Name)
		}
	}
	return sorted, nil
}

// checkEntryName accepts only clean, relative, slash-separated names that
// stay inside the layer root.
func checkEntryName(name string) error {
	if name == "" || name == "." || strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/") {
		return fmt.Errorf("invalid entry name %q: must be relative, without a trailing slash", name)
	}
	if strings.ContainsRune(name, 0) {
		return fmt.Errorf("invalid entry name %q: contains NUL", name)
	}
	for part := range strings.SplitSeq(name, "/") {
		if part == "" || part == "." || part == ".." {
			return fmt.Errorf("invalid entry name %q: must be clean", name)
		}
	}
	return nil
}

// mtimePolicy returns the function that maps an entry's mtime to the one
// written into its header.
func mtimePolicy(opts LayerOptions) func(time.Time) time.Time {
	unixZero := time.Unix(0, 0)
	epoch := opts.Epoch
	if epoch.IsZero() || epoch.Before(unixZero) {
		epoch = unixZero
	}
	epoch = epoch.Truncate(time.Second).UTC()
	if !opts.Clamp {
		return func(time.Time) time.Time { return epoch }
	}
	return func(t time.Time) time.Time {
		switch {
		case t.After(epoch):
			return epoch
		case t.Before(unixZero):
			return unixZero.UTC()
		default:
			return t.Truncate(time.Second).UTC()
		}
	}
}

// writeEntry writes one header and, for a regular file, its content.
func writeEntry(tw *tar.Writer, e *Entry, earlier map[string]*Entry, stamp func(time.Time) time.Time) error {
	hdr, err := header(e, earlier)
	if err != nil {
		return err
	}
	hdr.ModTime = stamp(e.ModTime)
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("writing header of %q: %w", e.Name, err)
	}
	if e.Type != tar.TypeReg || e.Size == 0 && e.Open == nil {
		return nil
	}
	return copyContent(tw, e)
}

// header builds the normalized tar header of e, except its ModTime.
func header(e *Entry, earlier map[string]*Entry) (*tar.Header, error) {
	if e.Mode&^modePerm != 0 {
		return nil, fmt.Errorf("entry %q: mode %#o has bits beyond %#o", e.Name, e.Mode, modePerm)
	}
	if e.UID < 0 || e.GID < 0 {
		return nil, fmt.Errorf("entry %q: negative owner %d:%d", e.Name, e.UID, e.GID)
	}
	hdr := &tar.Header{
		Typeflag: e.Type,
		Name:     e.Name,
		Mode:     e.Mode,
		Uid:      e.UID,
		Gid:      e.GID,
	}
	switch e.Type {
	case tar.TypeReg:
		if e.Size < 0 {
			return nil, fmt.Errorf("entry %q: negative size %d", e.Name, e.Size)
		}
		hdr.Size = e.Size
		hdr.Mode |= modeReg
	case tar.TypeDir:
		hdr.Name += "/"
		hdr.Mode |= modeDir
	case tar.TypeSymlink:
		if e.Linkname == "" {
			return nil, fmt.Errorf("symlink %q has an empty target", e.Name)
		}
		hdr.Linkname = e.Linkname
		hdr.Mode |= modeSymlink
	case tar.TypeLink:
		target, ok := earlier[e.Linkname]
		if !ok {
			return nil, fmt.Errorf("hardlink %q: target %q is not an earlier entry of the layer", e.Name, e.Linkname)
		}
		if target.Type == tar.TypeDir {
			return nil, fmt.Errorf("hardlink %q: target %q is a directory", e.Name, e.Linkname)
		}
		hdr.Linkname = e.Linkname
		hdr.Mode |= typeBits(target, earlier)
	case tar.TypeChar, tar.TypeBlock:
		hdr.Devmajor, hdr.Devminor = e.Devmajor, e.Devminor
		hdr.Mode |= typeBits(e, earlier)
	case tar.TypeFifo:
		hdr.Mode |= modeFifo
	default:
		return nil, fmt.Errorf("entry %q: unsupported type %q", e.Name, e.Type)
	}
	if len(e.Xattrs) > 0 {
		hdr.PAXRecords = make(map[string]string, len(e.Xattrs))
		for k, v := range e.Xattrs {
			if k == "" || strings.ContainsAny(k, "=\x00") {
				return nil, fmt.Errorf("entry %q: invalid xattr name %q", e.Name, k)
			}
			hdr.PAXRecords["SCHILY.xattr."+k] = v
		}
	}
	return hdr, nil
}

// typeBits returns the mode type bits of e, following hardlinks to their
// (earlier, already validated) targets.
func typeBits(e *Entry, earlier map[string]*Entry) int64 {
	for range len(earlier) + 1 {
		switch e.Type {
		case tar.TypeReg:
			return modeReg
		case tar.TypeSymlink:
			return modeSymlink
		case tar.TypeChar:
			return modeChar
		case tar.TypeBlock:
			return modeBlock
		case tar.TypeFifo:
			return modeFifo
		case tar.TypeLink:
			next, ok := earlier[e.Linkname]
			if !ok {
				return modeReg
			}
			e = next
		default:
			return 0
		}
	}
	return modeReg
}

// copyContent streams e's content into tw and checks that it is exactly
// e.Size bytes long.
func copyContent(tw *tar.Writer, e *Entry) (err error) {
	if e.Open == nil {
		return fmt.Errorf("regular file %q of size %d has no Open function", e.Name, e.Size)
	}
	rc, err := e.Open()
	if err != nil {
		return fmt.Errorf("opening %q: %w", e.Name, err)
	}
	defer func() {
		if cerr := rc.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("closing %q: %w", e.Name, cerr)
		}
	}()
	n, err := io.CopyN(tw, rc, e.Size)
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("file %q changed size while being read: got %d bytes, want %d", e.Name, n, e.Size)
	}
	if err != nil {
		return fmt.Errorf("copying %q: %w", e.Name, err)
	}
	var probe [1]byte
	for range 100 {
		m, err := rc.Read(probe[:])
		if m > 0 {
			return fmt.Errorf("file %q changed size while being read: more than %d bytes", e.Name, e.Size)
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading %q: %w", e.Name, err)
		}
	}
	return fmt.Errorf("reading %q: %w", e.Name, io.ErrNoProgress)
}

// countWriter counts the bytes written through it.
type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}
