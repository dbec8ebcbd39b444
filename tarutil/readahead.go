package tarutil

import (
	"errors"
	"io"
)

// readAheadChunk and readAheadChunks size Apply's read-ahead: up to
// readAheadChunks chunks of readAheadChunk bytes are read from the layer
// stream (decompressed there, when the stream is a decompressor) while the
// entries before them are applied.
const (
	readAheadChunk  = 1 << 20
	readAheadChunks = 4
)

// readAhead reads its source on a goroutine of its own into a few chunks
// that Read hands out in order, so that whatever the source does per byte
// (decompressing, hashing) runs beside its consumer. Close stops it; the
// goroutine has then returned and the source is no longer read.
type readAhead struct {
	full chan chunk
	free chan []byte
	stop chan struct{}
	done chan struct{}
	cur  chunk
	off  int
}

// chunk is a piece of the source, with the error that ended it, if any.
type chunk struct {
	buf []byte
	err error
}

// newReadAhead starts reading src.
func newReadAhead(src io.Reader) *readAhead {
	ra := &readAhead{
		full: make(chan chunk, readAheadChunks),
		free: make(chan []byte, readAheadChunks),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	for range readAheadChunks - 1 {
		ra.free <- make([]byte, readAheadChunk)
	}
	go ra.fill(src)
	return ra
}

// fill is the reading goroutine: it fills free buffers from src until src
// ends or fails, or Close is called.
func (ra *readAhead) fill(src io.Reader) {
	defer close(ra.done)
	buf := make([]byte, readAheadChunk)
	for {
		n, err := io.ReadFull(src, buf)
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = io.EOF
		}
		select {
		case ra.full <- chunk{buf: buf[:n], err: err}:
		case <-ra.stop:
			return
		}
		if err != nil {
			return
		}
		select {
		case buf = <-ra.free:
		case <-ra.stop:
			return
		}
	}
}

// Read implements io.Reader.
func (ra *readAhead) Read(p []byte) (int, error) {
	for ra.off == len(ra.cur.buf) {
		if ra.cur.err != nil {
			return 0, ra.cur.err
		}
		if ra.cur.buf != nil {
			ra.free <- ra.cur.buf[:cap(ra.cur.buf)]
		}
		ra.cur, ra.off = <-ra.full, 0
	}
	n := copy(p, ra.cur.buf[ra.off:])
	ra.off += n
	return n, nil
}

// Close stops the reading goroutine and waits for it, which includes
// waiting for a read of the source in progress to return.
func (ra *readAhead) Close() {
	close(ra.stop)
	<-ra.done
}
