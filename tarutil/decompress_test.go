package tarutil

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// compressWith compresses b with a Go encoder, for formats the tools did
// not produce.
func compressWith(t testing.TB, format string, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w io.WriteCloser
	var err error
	switch format {
	case "gzip":
		w = gzip.NewWriter(&buf)
	case "zstd":
		w, err = zstd.NewWriter(&buf)
	case "xz":
		w, err = xz.NewWriter(&buf)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return b
}

func TestDecompress(t *testing.T) {
	plainTar := readTestdata(t, "archive.tar")
	text := readTestdata(t, "text.txt")
	tests := []struct {
		name string
		in   []byte
		want []byte
	}{
		{"plain tar", plainTar, plainTar},
		{"bzip2 tool", readTestdata(t, "archive.tar.bz2"), plainTar},
		{"gzip tool", readTestdata(t, "archive.tar.gz"), plainTar},
		{"xz tool", readTestdata(t, "archive.tar.xz"), plainTar},
		{"zstd tool", readTestdata(t, "archive.tar.zst"), plainTar},
		{"gzip go", compressWith(t, "gzip", plainTar), plainTar},
		{"zstd go", compressWith(t, "zstd", plainTar), plainTar},
		{"xz go", compressWith(t, "xz", plainTar), plainTar},
		{"bzip2 text", readTestdata(t, "text.txt.bz2"), text},
		{"plain text", text, text},
		{"empty", nil, nil},
		{"short", []byte{0x1f}, []byte{0x1f}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rc, err := Decompress(bytes.NewReader(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc)
			if err != nil {
				t.Fatal(err)
			}
			if err := rc.Close(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Errorf("got %d bytes, want %d", len(got), len(tc.want))
			}
		})
	}
	t.Run("corrupt gzip header", func(t *testing.T) {
		_, err := Decompress(bytes.NewReader([]byte{0x1f, 0x8b, 0x08, 0xff}))
		mustContain(t, err, "gzip")
	})
	t.Run("corrupt xz header", func(t *testing.T) {
		_, err := Decompress(bytes.NewReader(append([]byte{0xfd, '7', 'z', 'X', 'Z', 0}, 9, 9, 9, 9, 9, 9)))
		mustContain(t, err, "xz")
	})
}

// countingReader counts what is read from r.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestIsArchive(t *testing.T) {
	plainTar := readTestdata(t, "archive.tar")
	text := readTestdata(t, "text.txt")
	bigTar := buildTar(t, reg("big", string(randomBytes(4<<20, 1))))
	tests := []struct {
		name string
		in   []byte
		want bool
	}{
		{"plain tar", plainTar, true},
		{"bzip2 tar", readTestdata(t, "archive.tar.bz2"), true},
		{"gzip tar", readTestdata(t, "archive.tar.gz"), true},
		{"xz tar", readTestdata(t, "archive.tar.xz"), true},
		{"zstd tar", readTestdata(t, "archive.tar.zst"), true},
		{"big plain tar", bigTar, true},
		{"big gzip tar", compressWith(t, "gzip", bigTar), true},
		{"tar with long pax name", buildTar(t, reg(string(bytes.Repeat([]byte("n"), 300)), "x")), true},
		{"text", text, false},
		{"bzip2 text", readTestdata(t, "text.txt.bz2"), false},
		{"xz text", readTestdata(t, "text.txt.xz"), false},
		{"gzip text", compressWith(t, "gzip", text), false},
		{"zstd text", compressWith(t, "zstd", text), false},
		{"empty", nil, false},
		{"only end-of-archive blocks", make([]byte, 1024), false},
		{"random", randomBytes(8192, 2), false},
		{"big random", randomBytes(4<<20, 3), false},
		{"bzip2 magic only", []byte("BZh"), false},
		{"truncated gzip", compressWith(t, "gzip", plainTar)[:10], false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cr := &countingReader{r: bytes.NewReader(tc.in)}
			got, err := IsArchive(cr)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("IsArchive = %v, want %v", got, tc.want)
			}
			if cr.n > maxSniffInput {
				t.Errorf("read %d bytes, more than %d", cr.n, maxSniffInput)
			}
		})
	}
	t.Run("read error", func(t *testing.T) {
		_, err := IsArchive(failingReader{})
		mustContain(t, err, "disk on fire")
	})
}
