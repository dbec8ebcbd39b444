package tarutil

import (
	"archive/tar"
	"bytes"
	stdgzip "compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/pgzip"
)

// benchInputSize is the size of benchInput: large enough that every level
// runs for a while and the block pipeline reaches its steady state.
const benchInputSize = 64 << 20

var benchInputOnce = sync.OnceValues(func() ([]byte, error) {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return nil, fmt.Errorf("go env GOROOT: %w", err)
	}
	half := benchInputSize / 2
	buf := make([]byte, half, benchInputSize)
	rand.NewChaCha8([32]byte{'m', 'i', 'n', 'i'}).Read(buf)
	src := filepath.Join(strings.TrimSpace(string(out)), "src")
	for len(buf) < benchInputSize {
		before := len(buf)
		err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() || !strings.HasSuffix(p, ".go") {
				return nil
			}
			if len(buf) == benchInputSize {
				return fs.SkipAll
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return nil
			}
			buf = append(buf, b[:min(len(b), benchInputSize-len(buf))]...)
			return nil
		})
		if err != nil {
			return nil, err
		}
		if len(buf) == before {
			return nil, fmt.Errorf("no Go source under %s", src)
		}
	}
	return buf, nil
})

// benchInput returns benchInputSize bytes that look like a layer of mixed
// content: the first half pseudo-random (incompressible, like binaries or
// compressed assets), the second half the Go sources under
// $(go env GOROOT)/src concatenated in walk order. With
// MINIBUILD_BENCH_INPUT=path it also writes them there, to compare with
// command-line compressors (pigz -p 2 -N < path).
func benchInput(b *testing.B) []byte {
	b.Helper()
	in, err := benchInputOnce()
	if err != nil {
		b.Skip(err)
	}
	if path := os.Getenv("MINIBUILD_BENCH_INPUT"); path != "" {
		if err := os.WriteFile(path, in, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return in
}

// benchCompress compresses in through newWriter's writer in tar-sized
// writes (32 KiB, as io.Copy into tar does), reporting MB/s of input, the
// ratio input/output and the output size.
func benchCompress(b *testing.B, in []byte, newWriter func(io.Writer) (io.WriteCloser, error)) {
	b.SetBytes(int64(len(in)))
	var out countWriter
	for b.Loop() {
		out.n = 0
		zw, err := newWriter(&out)
		if err != nil {
			b.Fatal(err)
		}
		for p := in; len(p) > 0; {
			n := min(len(p), 32<<10)
			if _, err := zw.Write(p[:n]); err != nil {
				b.Fatal(err)
			}
			p = p[n:]
		}
		if err := zw.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(in))/float64(out.n), "ratio")
	b.ReportMetric(float64(out.n), "out-bytes")
}

// BenchmarkGzipLevels measures WriteLayer's gzip compressor (pgzip with the
// fixed block size) at every level on benchInput; DefaultGzipLevel was
// chosen from it. Run with -benchtime=3x or so: one op is 64 MiB.
func BenchmarkGzipLevels(b *testing.B) {
	in := benchInput(b)
	for level := pgzip.BestSpeed; level <= pgzip.BestCompression; level++ {
		b.Run(fmt.Sprintf("level=%d", level), func(b *testing.B) {
			benchCompress(b, in, func(w io.Writer) (io.WriteCloser, error) {
				return compressor(w, Gzip, level)
			})
		})
	}
}

// BenchmarkGzipSerialLevels measures the single-goroutine klauspost gzip
// writer that pgzip replaced, for comparison.
func BenchmarkGzipSerialLevels(b *testing.B) {
	in := benchInput(b)
	for level := gzip.BestSpeed; level <= gzip.BestCompression; level++ {
		b.Run(fmt.Sprintf("level=%d", level), func(b *testing.B) {
			benchCompress(b, in, func(w io.Writer) (io.WriteCloser, error) {
				return gzip.NewWriterLevel(w, level)
			})
		})
	}
}

// BenchmarkGzipStdlibDefault measures Go's compress/gzip at
// DefaultCompression (6), what BuildKit and so Docker write layers with:
// the size DefaultGzipLevel is compared with.
func BenchmarkGzipStdlibDefault(b *testing.B) {
	in := benchInput(b)
	benchCompress(b, in, func(w io.Writer) (io.WriteCloser, error) {
		return stdgzip.NewWriterLevel(w, stdgzip.DefaultCompression)
	})
}

// BenchmarkGzipBlockSize measures pgzip at DefaultGzipLevel with other block
// sizes and queue lengths; gzipBlockSize and gzipBlocks were chosen from it.
func BenchmarkGzipBlockSize(b *testing.B) {
	in := benchInput(b)
	for _, size := range []int{256 << 10, 512 << 10, 1 << 20, 2 << 20} {
		for _, blocks := range []int{1, 2, 3, 4} {
			b.Run(fmt.Sprintf("size=%dK/blocks=%d", size>>10, blocks), func(b *testing.B) {
				benchCompress(b, in, func(w io.Writer) (io.WriteCloser, error) {
					zw, err := pgzip.NewWriterLevel(w, DefaultGzipLevel)
					if err != nil {
						return nil, err
					}
					return zw, zw.SetConcurrency(size, blocks)
				})
			})
		}
	}
}

// BenchmarkZstdConcurrency compares the zstd stream encoder at concurrency 1
// and zstdConcurrency (identical output).
func BenchmarkZstdConcurrency(b *testing.B) {
	in := benchInput(b)
	for _, conc := range []int{1, zstdConcurrency} {
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) {
			benchCompress(b, in, func(w io.Writer) (io.WriteCloser, error) {
				return newZstd(w, DefaultZstdLevel, conc)
			})
		})
	}
}

// BenchmarkWriteLayerGzip measures the whole of WriteLayer (tar, both
// digests, compression) on benchInput cut into 1 MiB files, at the levels
// compared with `tar -c | pigz -p 2 -N` on the same files.
func BenchmarkWriteLayerGzip(b *testing.B) {
	in := benchInput(b)
	var entries []Entry
	for i := 0; i < len(in); i += 1 << 20 {
		part := in[i:min(i+1<<20, len(in))]
		entries = append(entries, Entry{
			Name: fmt.Sprintf("f%03d", i>>20), Type: tar.TypeReg, Mode: 0o644, Size: int64(len(part)),
			Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(part)), nil },
		})
	}
	for _, level := range []int{1, 5, 6, 9} {
		b.Run(fmt.Sprintf("level=%d", level), func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			var layer Layer
			for b.Loop() {
				var err error
				layer, err = WriteLayer(io.Discard, entries, LayerOptions{Level: level})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(layer.UncompressedSize)/float64(layer.Size), "ratio")
			b.ReportMetric(float64(layer.Size), "out-bytes")
		})
	}
}
