package tarutil

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"
	"testing/iotest"
)

func TestReadAhead(t *testing.T) {
	data := make([]byte, 3*readAheadChunk+12345)
	rand.NewChaCha8([32]byte{'r', 'a'}).Read(data)
	boom := errors.New("boom")
	tests := []struct {
		name    string
		src     io.Reader
		read    func(io.Reader) io.Reader // how the consumer reads
		want    []byte
		wantErr error
	}{
		{name: "empty", src: bytes.NewReader(nil), want: nil},
		{name: "under one chunk", src: bytes.NewReader(data[:100]), want: data[:100]},
		{name: "exactly one chunk", src: bytes.NewReader(data[:readAheadChunk]), want: data[:readAheadChunk]},
		{name: "many chunks", src: bytes.NewReader(data), want: data},
		{name: "source in small reads", src: iotest.OneByteReader(bytes.NewReader(data[:5000])), want: data[:5000]},
		{name: "consumer in small reads", src: bytes.NewReader(data), read: iotest.HalfReader, want: data},
		{name: "error after data", src: io.MultiReader(bytes.NewReader(data[:readAheadChunk+7]), iotest.ErrReader(boom)),
			want: data[:readAheadChunk+7], wantErr: boom},
		{name: "error on a later read", src: iotest.TimeoutReader(bytes.NewReader(data)), want: data[:readAheadChunk], wantErr: iotest.ErrTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			ra := newReadAhead(tt.src)
			var r io.Reader = ra
			if tt.read != nil {
				r = tt.read(ra)
			}
			got, err := io.ReadAll(r)
			ra.Close()
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("read %d bytes, want the source's first %d", len(got), len(tt.want))
			}
			waitGoroutines(t, before)
		})
	}
}

// TestReadAheadCloseEarly checks that Close stops the goroutine while it
// still has a source to read, and that it reads at most its chunks ahead.
func TestReadAheadCloseEarly(t *testing.T) {
	before := runtime.NumGoroutine()
	src := &countingSrc{}
	ra := newReadAhead(src)
	buf := make([]byte, 10)
	if _, err := io.ReadFull(ra, buf); err != nil {
		t.Fatal(err)
	}
	ra.Close()
	if max := int64(readAheadChunks+1) * readAheadChunk; src.n > max {
		t.Errorf("read %d bytes of the source, at most %d expected", src.n, max)
	}
	waitGoroutines(t, before)
}

// countingSrc is an endless source of zeros that counts what is read.
type countingSrc struct{ n int64 }

func (c *countingSrc) Read(p []byte) (int, error) {
	clear(p)
	c.n += int64(len(p))
	return len(p), nil
}
