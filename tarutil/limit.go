package tarutil

import (
	"errors"
	"fmt"
	"io"
)

// DefaultMaxBytes is the bound Apply puts on a layer's uncompressed stream
// when ApplyOptions.MaxBytes is 0: 16 GiB, far above real layers and far
// below what a decompression bomb of a few megabytes expands to.
const DefaultMaxBytes int64 = 16 << 30

// ErrTooLarge is wrapped by the error of a read past a size limit: a
// decompression bomb, or a layer larger than the configured bound.
var ErrTooLarge = errors.New("uncompressed stream is larger than the limit")

// LimitReader returns a reader of r that fails with an error wrapping
// ErrTooLarge once more than max bytes have been read; a stream of exactly
// max bytes reads to its io.EOF. max 0 means DefaultMaxBytes and a
// negative max no limit (r itself is returned). Unlike io.LimitReader it
// never turns an oversized stream into a silently truncated one.
func LimitReader(r io.Reader, max int64) io.Reader {
	if max == 0 {
		max = DefaultMaxBytes
	}
	if max < 0 {
		return r
	}
	return &limitReader{r: r, left: max, max: max}
}

// limitReader implements LimitReader.
type limitReader struct {
	r    io.Reader
	left int64
	max  int64
	err  error // sticky once the limit is passed
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if l.left <= 0 {
		// At the limit: only a stream that ends here is acceptable.
		var probe [1]byte
		n, err := l.r.Read(probe[:])
		if n > 0 {
			l.err = fmt.Errorf("%w of %d bytes", ErrTooLarge, l.max)
			return 0, l.err
		}
		return 0, err
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}
