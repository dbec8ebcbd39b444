package tarutil

import (
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// Compression selects how WriteLayer compresses the tar stream.
type Compression int

const (
	// Gzip compresses with gzip; it is the zero value and the default.
	Gzip Compression = iota
	// Zstd compresses with zstd.
	Zstd
	// Uncompressed writes the plain tar stream.
	Uncompressed
)

// DefaultGzipLevel is the gzip level WriteLayer uses when LayerOptions.Level
// is 0: level 5 of klauspost/compress, which is fast and compresses nearly as
// well as level 6.
const DefaultGzipLevel = 5

// DefaultZstdLevel is the zstd level WriteLayer uses when LayerOptions.Level
// is 0 (klauspost's SpeedDefault, comparable to zstd -3).
const DefaultZstdLevel = 3

// String returns the compression's name: "gzip", "zstd" or "uncompressed".
func (c Compression) String() string {
	switch c {
	case Gzip:
		return "gzip"
	case Zstd:
		return "zstd"
	case Uncompressed:
		return "uncompressed"
	default:
		return fmt.Sprintf("compression(%d)", int(c))
	}
}

// MediaType returns the OCI layer media type for a blob compressed with c.
func (c Compression) MediaType() (string, error) {
	switch c {
	case Gzip:
		return v1.MediaTypeImageLayerGzip, nil
	case Zstd:
		return v1.MediaTypeImageLayerZstd, nil
	case Uncompressed:
		return v1.MediaTypeImageLayer, nil
	default:
		return "", fmt.Errorf("unknown compression %d", int(c))
	}
}

// compressor wraps w so that writes to the result are compressed into w.
// Closing the result flushes the compressor but does not close w.
func compressor(w io.Writer, c Compression, level int) (io.WriteCloser, error) {
	switch c {
	case Gzip:
		if level == 0 {
			level = DefaultGzipLevel
		}
		if level < gzip.BestSpeed || level > gzip.BestCompression {
			return nil, fmt.Errorf("gzip level %d out of range %d..%d", level, gzip.BestSpeed, gzip.BestCompression)
		}
		// The header carries no name, no mtime and OS "unknown" (klauspost's
		// defaults), so the bytes depend only on the input and the level.
		return gzip.NewWriterLevel(w, level)
	case Zstd:
		if level == 0 {
			level = DefaultZstdLevel
		}
		if level < 1 || level > 22 {
			return nil, fmt.Errorf("zstd level %d out of range 1..22", level)
		}
		// One encoder goroutine keeps the output independent of GOMAXPROCS.
		return zstd.NewWriter(w,
			zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(level)),
			zstd.WithEncoderConcurrency(1))
	case Uncompressed:
		if level != 0 {
			return nil, fmt.Errorf("level %d given for an uncompressed layer", level)
		}
		return nopWriteCloser{w}, nil
	default:
		return nil, fmt.Errorf("unknown compression %d", int(c))
	}
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
