package tarutil

import (
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/klauspost/pgzip"
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
// is 0. It was measured with BenchmarkGzipLevels on 2 cores over 64 MiB,
// half random bytes and half Go source: level 6 is the knee, 600 MB/s for
// 39.69 MB, 0.4% more than Docker's layers (Go's compress/gzip at level 6,
// 39.53 MB, 58 MB/s) and 7 times as fast as `pigz -p 2 -6` (87 MB/s,
// 39.49 MB). Level 5 is 12% faster but 0.3% bigger (2% on the compressible
// half); level 7, the first with the slow matcher, is 2.4 times slower for
// 0.15% less; level 1 runs at about 900 MB/s but is 3.3% bigger. Any level
// stays well within 1.3 times the time of `tar | pigz -p 2` at that level.
const DefaultGzipLevel = 6

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

// gzipBlockSize is the size of the pieces pgzip compresses in parallel. It
// is a constant, never derived from the machine: pgzip cuts the stream
// every gzipBlockSize input bytes, compresses each piece with the previous
// piece's last 16 KiB as its dictionary and ends it with a sync flush, so
// the compressed bytes depend only on the input, the level and this size.
// Changing it changes every gzip layer digest. Measured at level 5 on 2
// cores (BenchmarkGzipBlockSize), 512 KiB to 2 MiB run at the same speed
// and sizes differ by under 0.01%; 256 KiB is slower. 1 MiB is also pgzip's
// default, its most used setting.
const gzipBlockSize = 1 << 20

// gzipMaxBlocks bounds the blocks queued for compression at once. Blocks in
// flight, not the layer size, set the compressor's memory (three buffers of
// gzipBlockSize and a flate state per block): WriteLayer's peak heap was
// 16 MiB at GOMAXPROCS=2 for a 128 MiB and for a 1 GiB layer, 24 MiB at 4
// and 48 MiB at 16 (sync.Pool keeps buffers per P).
const gzipMaxBlocks = 4

// gzipBlocks is how many blocks WriteLayer's gzip writer queues: one per
// usable core, at least 2 so the tar writer can fill the next block while
// one is compressed, and at most gzipMaxBlocks. It changes the speed and
// the memory, never the bytes.
func gzipBlocks() int {
	return min(max(runtime.GOMAXPROCS(0), 2), gzipMaxBlocks)
}

// zstdConcurrency is the zstd encoder's concurrency for streams. Above 1,
// klauspost/compress/zstd (v1.20.4) finds the matches of block n+1 while
// block n is entropy-coded and written, in 2 goroutines whatever the value.
// Blocks are still cut and matched in order, the entropy tables are handed
// from block to block, and the matchers use repeat offsets only once a
// block has sequences of its own, so the output is byte-identical to
// concurrency 1, the synchronous path. The library does not promise that;
// TestZstdConcurrencyIdentical checks it. It gains about 10% on 2 cores.
const zstdConcurrency = 2

// layerWriter is a compressing writer. Close finishes the stream; abort
// gives up after an error. After either returns, nothing more is written
// to the destination and no goroutine of the writer is left running.
type layerWriter interface {
	io.WriteCloser
	abort()
}

// compressor wraps w so that writes to the result are compressed into w.
// Closing the result flushes the compressor but does not close w. The gzip
// and zstd writers write to w from their own goroutines, one write at a
// time and in order.
func compressor(w io.Writer, c Compression, level int) (layerWriter, error) {
	switch c {
	case Gzip:
		if level == 0 {
			level = DefaultGzipLevel
		}
		if level < pgzip.BestSpeed || level > pgzip.BestCompression {
			return nil, fmt.Errorf("gzip level %d out of range %d..%d", level, pgzip.BestSpeed, pgzip.BestCompression)
		}
		zw, err := newGzip(w, level, gzipBlocks())
		if err != nil {
			return nil, err
		}
		return gzipWriter{zw}, nil
	case Zstd:
		if level == 0 {
			level = DefaultZstdLevel
		}
		if level < 1 || level > 22 {
			return nil, fmt.Errorf("zstd level %d out of range 1..22", level)
		}
		zw, err := newZstd(w, level, zstdConcurrency)
		if err != nil {
			return nil, err
		}
		return zstdWriter{zw}, nil
	case Uncompressed:
		if level != 0 {
			return nil, fmt.Errorf("level %d given for an uncompressed layer", level)
		}
		return nopWriteCloser{w}, nil
	default:
		return nil, fmt.Errorf("unknown compression %d", int(c))
	}
}

// newGzip returns a pgzip writer at level that queues up to blocks blocks
// of gzipBlockSize.
func newGzip(w io.Writer, level, blocks int) (*pgzip.Writer, error) {
	zw, err := pgzip.NewWriterLevel(w, level)
	if err != nil {
		return nil, err
	}
	if err := zw.SetConcurrency(gzipBlockSize, blocks); err != nil {
		return nil, err
	}
	// No name and OS "unknown" (pgzip's defaults). pgzip writes the mtime
	// field unconditionally: the Unix epoch gives the 0 that means "no
	// mtime" (the zero time.Time would give a date in 2042).
	zw.ModTime = time.Unix(0, 0)
	return zw, nil
}

// newZstd returns a zstd stream encoder at zstd level level.
func newZstd(w io.Writer, level, concurrency int) (*zstd.Encoder, error) {
	return zstd.NewWriter(w,
		zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(level)),
		zstd.WithEncoderConcurrency(concurrency))
}

// gzipWriter is a pgzip.Writer that can be aborted.
type gzipWriter struct{ *pgzip.Writer }

// abort stops the writer without finishing the stream. pgzip's Reset waits
// for the blocks in flight (which may still be written) and for the
// goroutine that writes them, including after a failed Write or Close.
func (g gzipWriter) abort() { g.Reset(io.Discard) }

// zstdWriter is a zstd.Encoder that can be aborted.
type zstdWriter struct{ *zstd.Encoder }

// abort waits for the encoder's goroutines (Reset does) and drops the
// stream.
func (z zstdWriter) abort() { z.Reset(io.Discard) }

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

func (nopWriteCloser) abort() {}
