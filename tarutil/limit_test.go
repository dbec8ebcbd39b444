package tarutil

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// gzipBomb returns a gzip layer whose single file "bomb" holds size zero
// bytes: a few KB that expand to size.
func gzipBomb(t testing.TB, size int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "bomb", Mode: 0o644, Size: size}); err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(tw, zeroReader{}, size); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestApplyStopsDecompressionBomb: a gzip layer expanding past MaxBytes is
// refused with an error naming the layer, the entry and the limit, and
// Apply stops reading there.
func TestApplyStopsDecompressionBomb(t *testing.T) {
	const size = 8 << 20
	blob := gzipBomb(t, size)
	if len(blob) > size/100 {
		t.Fatalf("the bomb is not a bomb: %d compressed bytes", len(blob))
	}
	tests := []struct {
		name    string
		max     int64
		wantErr bool
	}{
		{"limit far below", 1 << 20, true},
		{"limit at the end of the content", 512 + size, true},
		{"no limit", -1, false},
		{"default limit", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSandbox(t)
			before := s.outside(t)
			zr, err := Decompress(bytes.NewReader(blob))
			if err != nil {
				t.Fatal(err)
			}
			defer zr.Close()
			counted := &countingReader{r: zr}
			_, err = Apply(context.Background(), s.root, counted, ApplyOptions{LayerName: "sha256:bomb", MaxBytes: tt.max, NoChown: os.Geteuid() != 0})
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("Apply: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Apply = %v, want ErrTooLarge", err)
			}
			for _, want := range []string{"sha256:bomb", `"bomb"`, "limit"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %s", err, want)
				}
			}
			if counted.n > tt.max+64<<10 {
				t.Errorf("Apply read %d bytes past a limit of %d", counted.n, tt.max)
			}
			if d := before.diff(s.outside(t)); len(d) > 0 {
				t.Errorf("outside the root changed:\n%s", strings.Join(d, "\n"))
			}
		})
	}
}

func TestLimitReader(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		max     int64
		want    string
		wantErr bool
	}{
		{"under", "abc", 5, "abc", false},
		{"exact", "abcde", 5, "abcde", false},
		{"over by one", "abcdef", 5, "abcde", true},
		{"far over", strings.Repeat("x", 100), 5, "xxxxx", true},
		{"empty", "", 5, "", false},
		{"negative is unlimited", strings.Repeat("y", 100), -1, strings.Repeat("y", 100), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := io.ReadAll(LimitReader(iotestOneByte(strings.NewReader(tt.data)), tt.max))
			if string(got) != tt.want {
				t.Errorf("read %q, want %q", got, tt.want)
			}
			if tt.wantErr != errors.Is(err, ErrTooLarge) || (!tt.wantErr && err != nil) {
				t.Errorf("err = %v, want ErrTooLarge: %v", err, tt.wantErr)
			}
		})
	}
}

// iotestOneByte reads one byte at a time, to exercise the limit's edges.
func iotestOneByte(r io.Reader) io.Reader { return oneByte{r} }

type oneByte struct{ r io.Reader }

func (o oneByte) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}
