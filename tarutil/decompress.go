package tarutil

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/bzip2"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// format is what the first bytes of a stream say it is.
type format int

const (
	formatPlain format = iota
	formatGzip
	formatBzip2
	formatXz
	formatZstd
)

var (
	magicGzip  = []byte{0x1f, 0x8b, 0x08}
	magicBzip2 = []byte("BZh")
	magicXz    = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
	magicZstd  = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// sniff names the format of a stream starting with head.
func sniff(head []byte) format {
	switch {
	case bytes.HasPrefix(head, magicGzip):
		return formatGzip
	case bytes.HasPrefix(head, magicBzip2):
		return formatBzip2
	case bytes.HasPrefix(head, magicXz):
		return formatXz
	case bytes.HasPrefix(head, magicZstd):
		return formatZstd
	default:
		return formatPlain
	}
}

// Decompress sniffs r's magic (gzip, zstd, bzip2, xz, or anything else taken
// as an uncompressed stream) and returns a reader of the decompressed stream.
// Closing the result releases the decompressor; it does not close r.
func Decompress(r io.Reader) (io.ReadCloser, error) {
	return decompress(r, false)
}

// decompress implements Decompress; sniffing trades zstd's read-ahead for
// reading as little of r as possible.
func decompress(r io.Reader, sniffing bool) (io.ReadCloser, error) {
	br := bufio.NewReader(r)
	head, err := br.Peek(len(magicXz))
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("reading compression magic: %w", err)
	}
	switch sniff(head) {
	case formatGzip:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("opening gzip stream: %w", err)
		}
		return zr, nil
	case formatBzip2:
		return io.NopCloser(bzip2.NewReader(br)), nil
	case formatXz:
		xr, err := xz.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("opening xz stream: %w", err)
		}
		return io.NopCloser(xr), nil
	case formatZstd:
		var opts []zstd.DOption
		if sniffing {
			opts = append(opts, zstd.WithDecoderConcurrency(1))
		}
		zr, err := zstd.NewReader(br, opts...)
		if err != nil {
			return nil, fmt.Errorf("opening zstd stream: %w", err)
		}
		return zr.IOReadCloser(), nil
	default:
		return io.NopCloser(br), nil
	}
}

// maxSniffInput bounds how much of its input IsArchive reads. gzip, zstd and
// plain tars need a few KB; bzip2 decodes whole blocks (up to 900 KB).
const maxSniffInput = 1 << 20

// maxSniffTar bounds how much decompressed data IsArchive hands the tar
// reader; enough for a first header preceded by long-name or PAX records.
const maxSniffTar = 64 << 10

// IsArchive reports whether r starts like a tar archive, plain or compressed
// with gzip, bzip2, xz or zstd: Docker's rule for ADD auto-extraction, i.e.
// whether the first tar header decodes. It reads at most 1 MiB of r: 4 KiB
// of a plain tar, tens of KB of a compressed one, more only for bzip2. Only a read error of r itself is
// returned as an error; undecodable data is simply not an archive.
func IsArchive(r io.Reader) (bool, error) {
	src := &errRecorder{r: io.LimitReader(r, maxSniffInput)}
	dr, err := decompress(src, true)
	if err != nil {
		return false, src.failure()
	}
	defer dr.Close()
	_, err = tar.NewReader(io.LimitReader(dr, maxSniffTar)).Next()
	if err != nil {
		return false, src.failure()
	}
	return true, nil
}

// errRecorder remembers the first error other than io.EOF from r, so that a
// failing source is told apart from data that is not an archive.
type errRecorder struct {
	r   io.Reader
	err error
}

func (e *errRecorder) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && e.err == nil {
		e.err = err
	}
	return n, err
}

func (e *errRecorder) failure() error {
	if e.err != nil {
		return fmt.Errorf("reading archive head: %w", e.err)
	}
	return nil
}
