package tarutil

import (
	"archive/tar"
	"bytes"
	"cmp"
	stdgzip "compress/gzip"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// mixedInput returns n deterministic bytes that exercise a compressor the
// way a layer does: word soup with long-distance repeats (matches across
// gzip blocks), incompressible random stretches, and runs of zeros, in
// pieces whose sizes do not line up with any block size.
func mixedInput(n int) []byte {
	r := rand.New(rand.NewPCG(7, 11))
	words := make([]string, 3000)
	for i := range words {
		w := make([]byte, 2+r.IntN(9))
		for j := range w {
			w[j] = byte('a' + r.IntN(26))
		}
		words[i] = string(w)
	}
	buf := make([]byte, 0, n)
	for len(buf) < n {
		size := 1 + r.IntN(300_000)
		switch r.IntN(4) {
		case 0, 1:
			for end := len(buf) + size; len(buf) < end; {
				buf = append(buf, words[r.IntN(len(words))]...)
				buf = append(buf, " \n\t"[r.IntN(3)])
			}
		case 2:
			chunk := make([]byte, size)
			for i := range chunk {
				chunk[i] = byte(r.Uint32())
			}
			buf = append(buf, chunk...)
		case 3:
			buf = append(buf, make([]byte, size)...)
		}
	}
	return buf[:n]
}

// writeChunks writes in to w in pieces of the sizes next returns.
func writeChunks(t *testing.T, w io.WriteCloser, in []byte, next func() int) {
	t.Helper()
	for p := in; len(p) > 0; {
		n := min(len(p), next())
		if _, err := w.Write(p[:n]); err != nil {
			t.Fatalf("Write: %v", err)
		}
		p = p[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// writePatterns are the ways tests feed a compressor: the output must not
// depend on them.
var writePatterns = []struct {
	name string
	next func() func() int
}{
	{"32KiB", func() func() int { return func() int { return 32 << 10 } }},
	{"1byte", func() func() int { return func() int { return 1 } }},
	{"all-at-once", func() func() int { return func() int { return 1 << 30 } }},
	{"random", func() func() int {
		r := rand.New(rand.NewPCG(3, 5))
		return func() int { return 1 + r.IntN(3<<20) }
	}},
}

// withProcs runs f with GOMAXPROCS set to procs.
func withProcs(procs int, f func()) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
	f()
}

// TestGzipDeterministic checks that the gzip bytes depend only on the input
// and the level: not on GOMAXPROCS, on the number of blocks in flight, or
// on how the input is split into writes. The input spans several
// gzipBlockSize blocks and ends in a partial one.
func TestGzipDeterministic(t *testing.T) {
	in := mixedInput(3*gzipBlockSize + 12345)
	levels := []int{1, DefaultGzipLevel, 9}
	if testing.Short() {
		levels = []int{DefaultGzipLevel}
	}
	type variant struct {
		name   string
		procs  int // GOMAXPROCS; 0 keeps it
		blocks int // SetConcurrency blocks; 0 means compressor's choice
	}
	variants := []variant{
		{"GOMAXPROCS=1", 1, 0},
		{"GOMAXPROCS=4", 4, 0},
		{"blocks=1", 0, 1},
		{"blocks=3", 0, 3},
		{"blocks=8", 0, 8},
		{"GOMAXPROCS=1,blocks=8", 1, 8},
	}
	for _, level := range levels {
		t.Run(fmt.Sprintf("level=%d", level), func(t *testing.T) {
			var ref bytes.Buffer
			zw, err := compressor(&ref, Gzip, level)
			if err != nil {
				t.Fatal(err)
			}
			writeChunks(t, zw, in, writePatterns[0].next())
			want := ref.Bytes()
			checkGzip(t, want, in)

			for i, v := range variants {
				for j, p := range writePatterns {
					if level >= 7 && j != i%len(writePatterns) {
						continue // the slow matcher: one write pattern per variant
					}
					var got bytes.Buffer
					withProcs(cmp.Or(v.procs, runtime.GOMAXPROCS(0)), func() {
						var zw io.WriteCloser
						var err error
						if v.blocks == 0 {
							zw, err = compressor(&got, Gzip, level)
						} else {
							zw, err = newGzip(&got, level, v.blocks)
						}
						if err != nil {
							t.Fatal(err)
						}
						writeChunks(t, zw, in, p.next())
					})
					if !bytes.Equal(got.Bytes(), want) {
						t.Errorf("%s, %s writes: %d bytes differ from the reference's %d", v.name, p.name, got.Len(), len(want))
					}
				}
			}
		})
	}
}

// checkGzip checks that blob is a single gzip member with an empty header
// (no name, comment, extra field or mtime; OS unknown) that the standard
// library decompresses to want.
func checkGzip(t *testing.T, blob, want []byte) {
	t.Helper()
	if len(blob) < 10 {
		t.Fatalf("gzip blob of %d bytes", len(blob))
	}
	if flags, mtime, os := blob[3], blob[4:8], blob[9]; flags != 0 || !bytes.Equal(mtime, []byte{0, 0, 0, 0}) || os != 255 {
		t.Errorf("gzip header flags %#x, mtime % x, OS %d; want 0, 00 00 00 00, 255", flags, mtime, os)
	}
	br := bytes.NewReader(blob)
	zr, err := stdgzip.NewReader(br)
	if err != nil {
		t.Fatalf("compress/gzip: %v", err)
	}
	zr.Multistream(false)
	got, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("compress/gzip: %v", err)
	}
	if zr.Name != "" || zr.Comment != "" || !zr.ModTime.IsZero() {
		t.Errorf("gzip header has name %q, comment %q, mtime %v", zr.Name, zr.Comment, zr.ModTime)
	}
	if br.Len() != 0 {
		t.Errorf("%d bytes after the gzip member", br.Len())
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("compress/gzip decompressed %d bytes, want the %d written", len(got), len(want))
	}
}

// TestGzipLevels checks that every level 1..9 (and 0, the default) gives a
// stream the standard library reads back, and that other levels are refused.
func TestGzipLevels(t *testing.T) {
	in := mixedInput(gzipBlockSize + 999)
	for level := range 12 {
		t.Run(fmt.Sprintf("level=%d", level), func(t *testing.T) {
			var buf bytes.Buffer
			zw, err := compressor(&buf, Gzip, level)
			if level > 9 {
				mustContain(t, err, "out of range")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			writeChunks(t, zw, in, writePatterns[0].next())
			checkGzip(t, buf.Bytes(), in)
		})
	}
	_, err := compressor(io.Discard, Gzip, -1)
	mustContain(t, err, "out of range")
}

// TestGzipEmpty checks the stream of no input at all.
func TestGzipEmpty(t *testing.T) {
	var buf bytes.Buffer
	zw, err := compressor(&buf, Gzip, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	checkGzip(t, buf.Bytes(), nil)
}

func TestGzipBlocks(t *testing.T) {
	for _, tc := range []struct{ procs, want int }{{1, 2}, {2, 2}, {3, 3}, {4, 4}, {64, gzipMaxBlocks}} {
		withProcs(tc.procs, func() {
			if got := gzipBlocks(); got != tc.want {
				t.Errorf("GOMAXPROCS=%d: gzipBlocks() = %d, want %d", tc.procs, got, tc.want)
			}
		})
	}
}

// TestZstdConcurrencyIdentical pins what lets zstd use zstdConcurrency:
// klauspost/compress/zstd's stream encoder gives the same bytes at
// concurrency 1 (synchronous) and above (block n+1 is matched while block n
// is entropy-coded and written), whatever GOMAXPROCS and the writes. If an
// upgrade breaks this, go back to concurrency 1.
func TestZstdConcurrencyIdentical(t *testing.T) {
	in := mixedInput(3<<20 + 777)
	// One level per encoder: fastest, default, better, best.
	levels := []int{1, DefaultZstdLevel, 6, 11}
	if testing.Short() {
		levels = []int{DefaultZstdLevel}
	}
	for _, level := range levels {
		t.Run(fmt.Sprintf("level=%d", level), func(t *testing.T) {
			var ref bytes.Buffer
			zw, err := newZstd(&ref, level, 1)
			if err != nil {
				t.Fatal(err)
			}
			writeChunks(t, zw, in, writePatterns[0].next())
			want := ref.Bytes()
			zr, err := zstd.NewReader(bytes.NewReader(want))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(zr)
			zr.Close()
			if err != nil || !bytes.Equal(got, in) {
				t.Fatalf("decompressing: %d bytes, %v; want %d bytes", len(got), err, len(in))
			}

			type variant struct{ conc, procs int }
			variants := []variant{{zstdConcurrency, 1}, {zstdConcurrency, 4}, {4, 1}, {4, 4}}
			for i, v := range variants {
				conc, procs := v.conc, v.procs
				for j, p := range writePatterns {
					if level >= 11 && j != i%len(writePatterns) {
						continue // the best encoder is slow: one write pattern per variant
					}
					var got bytes.Buffer
					withProcs(procs, func() {
						zw, err := newZstd(&got, level, conc)
						if err != nil {
							t.Fatal(err)
						}
						writeChunks(t, zw, in, p.next())
					})
					if !bytes.Equal(got.Bytes(), want) {
						t.Errorf("concurrency %d, GOMAXPROCS=%d, %s writes: %d bytes differ from concurrency 1's %d",
							conc, procs, p.name, got.Len(), len(want))
					}
				}
			}
		})
	}
}

// TestWriteLayerCompressedGolden pins the compressed digests of a layer
// holding several gzip blocks, so that a change of compressor, block size
// or dependency version that changes layer digests (which breaks "same
// inputs, same digest" across minibuild versions) is deliberate. Run with
// -update after an intended change.
func TestWriteLayerCompressedGolden(t *testing.T) {
	entries := append(sampleEntries(), Entry{Name: "app/big", Type: tar.TypeReg, Mode: 0o644,
		Size: int64(3*gzipBlockSize + 12345), Open: func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(mixedInput(3*gzipBlockSize + 12345))), nil
		}})
	var b strings.Builder
	for _, tc := range []struct {
		c     Compression
		level int
	}{{Gzip, 1}, {Gzip, DefaultGzipLevel}, {Gzip, 9}, {Zstd, DefaultZstdLevel}, {Uncompressed, 0}} {
		_, layer := writeLayer(t, entries, LayerOptions{Compression: tc.c, Level: tc.level, Epoch: epoch})
		fmt.Fprintf(&b, "%s level=%d %s size=%d\n", tc.c, tc.level, layer.Digest, layer.Size)
	}
	golden := filepath.Join("testdata", "layer-compressed.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	if b.String() != string(want) {
		t.Errorf("compressed layers differ from %s:\ngot:\n%s\nwant:\n%s", golden, b.String(), want)
	}
}

// fenceWriter fails after limit bytes (if limit > 0) and records writes
// that arrive after it is fenced.
type fenceWriter struct {
	n, limit int64
	fenced   atomic.Bool
	late     atomic.Int64
}

func (f *fenceWriter) Write(p []byte) (int, error) {
	if f.fenced.Load() {
		f.late.Add(1)
	}
	if f.limit > 0 && f.n+int64(len(p)) > f.limit {
		return 0, errors.New("disk full")
	}
	f.n += int64(len(p))
	return len(p), nil
}

// TestWriteLayerErrorStopsCompressor checks that when WriteLayer fails
// midway, through a bad entry or a failing destination, no compressor
// goroutine is left behind and nothing reaches the destination after
// WriteLayer returns (the caller may be deleting it by then).
func TestWriteLayerErrorStopsCompressor(t *testing.T) {
	big := mixedInput(4*gzipBlockSize + 5)
	bigEntry := func(name string) Entry {
		return Entry{Name: name, Type: tar.TypeReg, Mode: 0o644, Size: int64(len(big)),
			Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(big)), nil }}
	}
	short := bigEntry("b-short")
	short.Size++ // the content ends one byte early
	tests := []struct {
		name    string
		entries []Entry
		limit   int64
		want    string
	}{
		{"entry error", []Entry{bigEntry("a"), short}, 0, "changed size"},
		{"destination error", []Entry{bigEntry("a"), bigEntry("b")}, 1 << 20, "disk full"},
	}
	for _, c := range []Compression{Gzip, Zstd, Uncompressed} {
		for _, tc := range tests {
			t.Run(c.String()+"/"+tc.name, func(t *testing.T) {
				before := runtime.NumGoroutine()
				w := &fenceWriter{limit: tc.limit}
				_, err := WriteLayer(w, tc.entries, LayerOptions{Compression: c})
				w.fenced.Store(true)
				mustContain(t, err, tc.want)
				deadline := time.Now().Add(5 * time.Second)
				for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
				}
				if n := runtime.NumGoroutine(); n > before {
					t.Errorf("%d goroutines after WriteLayer failed, %d before", n, before)
				}
				if n := w.late.Load(); n > 0 {
					t.Errorf("%d writes reached the destination after WriteLayer returned", n)
				}
			})
		}
	}
}
