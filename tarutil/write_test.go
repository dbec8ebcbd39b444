package tarutil

import (
	"archive/tar"
	"bytes"
	stdgzip "compress/gzip"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	digest "github.com/opencontainers/go-digest"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// content returns an Open function yielding s.
func content(s string) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(s)), nil }
}

// splitName is longer than 100 bytes but fits USTAR's prefix field;
// longName's last component alone is over 100 bytes and needs PAX.
var (
	splitName = "app/" + strings.Repeat("long-directory-name/", 8) + "file-with-a-long-name.txt"
	longName  = "app/" + strings.Repeat("x", 120)
)

// sampleEntries covers every entry type, special mode bits, long names and
// xattrs, in a deliberately unsorted order.
func sampleEntries() []Entry {
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.UTC)
	return []Entry{
		{Name: "tmp", Type: tar.TypeDir, Mode: 0o1777, ModTime: t0},
		{Name: "app/bin/tool", Type: tar.TypeReg, Mode: 0o4755, UID: 1000, GID: 1000, Size: 5, ModTime: t0, Open: content("tool\n")},
		{Name: "app", Type: tar.TypeDir, Mode: 0o755, ModTime: t0},
		{Name: "app/bin", Type: tar.TypeDir, Mode: 0o2755, GID: 50, ModTime: t0},
		{Name: "app/data.txt", Type: tar.TypeReg, Mode: 0o644, Size: 5, ModTime: t0, Open: content("data\n")},
		{Name: "app/hard", Type: tar.TypeLink, Mode: 0o644, Linkname: "app/data.txt", ModTime: t0},
		{Name: "app/link", Type: tar.TypeSymlink, Mode: 0o777, Linkname: "bin/tool", ModTime: t0},
		{Name: "app/empty", Type: tar.TypeReg, Mode: 0o600, ModTime: t0},
		{Name: "app/fifo", Type: tar.TypeFifo, Mode: 0o644, ModTime: t0},
		{Name: "dev/null", Type: tar.TypeChar, Mode: 0o666, Devmajor: 1, Devminor: 3, ModTime: t0},
		{Name: "dev/sda", Type: tar.TypeBlock, Mode: 0o660, GID: 6, Devmajor: 8, Devminor: 0, ModTime: t0},
		{Name: "app/caps", Type: tar.TypeReg, Mode: 0o755, Size: 4, ModTime: t0, Open: content("cap\n"),
			Xattrs: map[string]string{"user.b": "2", "user.a": "1"}},
		{Name: longName, Type: tar.TypeReg, Mode: 0o644, Size: 5, ModTime: t0, Open: content("long\n")},
		{Name: splitName, Type: tar.TypeReg, Mode: 0o644, Size: 6, ModTime: t0, Open: content("split\n")},
		{Name: "dev", Type: tar.TypeDir, Mode: 0o755, ModTime: t0},
		{Name: "app-sibling", Type: tar.TypeReg, Mode: 0o644, Size: 1, ModTime: t0, Open: content("s")},
	}
}

func writeLayer(t testing.TB, entries []Entry, opts LayerOptions) ([]byte, Layer) {
	t.Helper()
	var buf bytes.Buffer
	layer, err := WriteLayer(&buf, entries, opts)
	if err != nil {
		t.Fatalf("WriteLayer: %v", err)
	}
	return buf.Bytes(), layer
}

var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func TestWriteLayerDeterministic(t *testing.T) {
	for _, c := range []Compression{Gzip, Zstd, Uncompressed} {
		t.Run(c.String(), func(t *testing.T) {
			opts := LayerOptions{Compression: c, Epoch: epoch, Clamp: true}
			want, wantLayer := writeLayer(t, sampleEntries(), opts)
			orders := map[string]func([]Entry){
				"reversed": func(es []Entry) {
					for i, j := 0, len(es)-1; i < j; i, j = i+1, j-1 {
						es[i], es[j] = es[j], es[i]
					}
				},
			}
			for seed := range uint64(3) {
				orders[fmt.Sprintf("shuffle%d", seed)] = func(es []Entry) {
					r := rand.New(rand.NewPCG(seed, seed))
					r.Shuffle(len(es), func(i, j int) { es[i], es[j] = es[j], es[i] })
				}
			}
			for name, reorder := range orders {
				es := sampleEntries()
				reorder(es)
				got, gotLayer := writeLayer(t, es, opts)
				if !bytes.Equal(got, want) || gotLayer != wantLayer {
					t.Errorf("%s order: blob differs (%v vs %v)", name, gotLayer, wantLayer)
				}
			}
		})
	}
}

// TestWriteTar checks that WriteTar writes exactly the stream WriteLayer
// compresses, and rejects what WriteLayer rejects.
func TestWriteTar(t *testing.T) {
	for _, c := range []Compression{Gzip, Zstd, Uncompressed} {
		t.Run(c.String(), func(t *testing.T) {
			opts := LayerOptions{Compression: c, Epoch: epoch, Clamp: true}
			blob, want := writeLayer(t, sampleEntries(), opts)
			var buf bytes.Buffer
			diffID, size, err := WriteTar(&buf, sampleEntries(), opts)
			if err != nil {
				t.Fatal(err)
			}
			if diffID != want.DiffID || size != want.UncompressedSize || size != int64(buf.Len()) {
				t.Errorf("WriteTar = %s, %d (%d bytes); WriteLayer's diffID %s, %d", diffID, size, buf.Len(), want.DiffID, want.UncompressedSize)
			}
			if c == Uncompressed && !bytes.Equal(buf.Bytes(), blob) {
				t.Error("WriteTar's stream is not WriteLayer's uncompressed blob")
			}
		})
	}
	if _, _, err := WriteTar(io.Discard, []Entry{{Name: "../x", Type: tar.TypeDir}}, LayerOptions{}); err == nil {
		t.Error("WriteTar accepted an escaping name")
	}
}

func TestWriteLayerDigests(t *testing.T) {
	gunzip := func(b []byte) ([]byte, error) {
		zr, err := stdgzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		return io.ReadAll(zr)
	}
	unzstd := func(b []byte) ([]byte, error) {
		zr, err := zstd.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		return io.ReadAll(zr)
	}
	plain := func(b []byte) ([]byte, error) { return b, nil }
	tests := []struct {
		c          Compression
		level      int
		mediaType  string
		decompress func([]byte) ([]byte, error)
	}{
		{Gzip, 0, "application/vnd.oci.image.layer.v1.tar+gzip", gunzip},
		{Gzip, 9, "application/vnd.oci.image.layer.v1.tar+gzip", gunzip},
		{Zstd, 0, "application/vnd.oci.image.layer.v1.tar+zstd", unzstd},
		{Zstd, 19, "application/vnd.oci.image.layer.v1.tar+zstd", unzstd},
		{Uncompressed, 0, "application/vnd.oci.image.layer.v1.tar", plain},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s-%d", tc.c, tc.level), func(t *testing.T) {
			blob, layer := writeLayer(t, sampleEntries(), LayerOptions{Compression: tc.c, Level: tc.level, Epoch: epoch})
			if layer.MediaType != tc.mediaType {
				t.Errorf("MediaType = %q, want %q", layer.MediaType, tc.mediaType)
			}
			if want := digest.FromBytes(blob); layer.Digest != want || layer.Size != int64(len(blob)) {
				t.Errorf("Digest, Size = %s, %d; want %s, %d", layer.Digest, layer.Size, want, len(blob))
			}
			raw, err := tc.decompress(blob)
			if err != nil {
				t.Fatalf("decompressing: %v", err)
			}
			sum := sha256.Sum256(raw)
			if want := digest.NewDigestFromBytes(digest.SHA256, sum[:]); layer.DiffID != want ||
				layer.UncompressedSize != int64(len(raw)) {
				t.Errorf("DiffID, UncompressedSize = %s, %d; want %s, %d", layer.DiffID, layer.UncompressedSize, want, len(raw))
			}
			if tc.c == Uncompressed && layer.Digest != layer.DiffID {
				t.Errorf("uncompressed Digest %s != DiffID %s", layer.Digest, layer.DiffID)
			}
			if tc.c != Uncompressed && layer.Size >= layer.UncompressedSize {
				t.Errorf("compressed size %d not below %d", layer.Size, layer.UncompressedSize)
			}
		})
	}
}

// readTar lists the headers and contents of an uncompressed tar.
func readTar(t testing.TB, data []byte) ([]*tar.Header, map[string]string) {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(data))
	var hdrs []*tar.Header
	bodies := map[string]string{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return hdrs, bodies
		}
		if err != nil {
			t.Fatalf("reading tar: %v", err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		hdrs = append(hdrs, h)
		bodies[h.Name] = string(b)
	}
}

func TestWriteLayerHeaders(t *testing.T) {
	blob, _ := writeLayer(t, sampleEntries(), LayerOptions{Compression: Uncompressed, Epoch: epoch})
	hdrs, bodies := readTar(t, blob)
	type want struct {
		typ      byte
		mode     int64
		uid, gid int
		link     string
		dev      [2]int64
		pax      bool
		body     string
	}
	wants := map[string]want{
		"app-sibling":  {typ: tar.TypeReg, mode: 0o100644, body: "s"},
		"app/":         {typ: tar.TypeDir, mode: 0o40755},
		"app/bin/":     {typ: tar.TypeDir, mode: 0o42755, gid: 50},
		"app/bin/tool": {typ: tar.TypeReg, mode: 0o104755, uid: 1000, gid: 1000, body: "tool\n"},
		"app/caps":     {typ: tar.TypeReg, mode: 0o100755, pax: true, body: "cap\n"},
		"app/data.txt": {typ: tar.TypeReg, mode: 0o100644, body: "data\n"},
		"app/empty":    {typ: tar.TypeReg, mode: 0o100600},
		"app/fifo":     {typ: tar.TypeFifo, mode: 0o10644},
		"app/hard":     {typ: tar.TypeLink, mode: 0o100644, link: "app/data.txt"},
		"app/link":     {typ: tar.TypeSymlink, mode: 0o120777, link: "bin/tool"},
		longName:       {typ: tar.TypeReg, mode: 0o100644, pax: true, body: "long\n"},
		splitName:      {typ: tar.TypeReg, mode: 0o100644, body: "split\n"},
		"dev/":         {typ: tar.TypeDir, mode: 0o40755},
		"dev/null":     {typ: tar.TypeChar, mode: 0o20666, dev: [2]int64{1, 3}},
		"dev/sda":      {typ: tar.TypeBlock, mode: 0o60660, gid: 6, dev: [2]int64{8, 0}},
		"tmp/":         {typ: tar.TypeDir, mode: 0o41777},
	}
	var names []string
	for _, h := range hdrs {
		names = append(names, h.Name)
		w, ok := wants[h.Name]
		if !ok {
			t.Errorf("unexpected entry %q", h.Name)
			continue
		}
		got := want{typ: h.Typeflag, mode: h.Mode, uid: h.Uid, gid: h.Gid, link: h.Linkname,
			dev: [2]int64{h.Devmajor, h.Devminor}, pax: h.Format == tar.FormatPAX, body: bodies[h.Name]}
		if got != w {
			t.Errorf("%s: got %+v, want %+v", h.Name, got, w)
		}
		if h.Uname != "" || h.Gname != "" || !h.AccessTime.IsZero() || !h.ChangeTime.IsZero() {
			t.Errorf("%s: names or times leaked: %q %q %v %v", h.Name, h.Uname, h.Gname, h.AccessTime, h.ChangeTime)
		}
		if !h.ModTime.Equal(epoch) {
			t.Errorf("%s: mtime %v, want %v", h.Name, h.ModTime, epoch)
		}
	}
	if len(hdrs) != len(wants) {
		t.Errorf("got %d entries, want %d", len(hdrs), len(wants))
	}
	for i := 1; i < len(names); i++ {
		a, b := strings.TrimSuffix(names[i-1], "/"), strings.TrimSuffix(names[i], "/")
		if a >= b {
			t.Errorf("entries out of order: %q before %q", a, b)
		}
	}
	for _, h := range hdrs {
		if h.Name == "app/caps" && (h.PAXRecords["SCHILY.xattr.user.a"] != "1" || h.PAXRecords["SCHILY.xattr.user.b"] != "2") {
			t.Errorf("xattrs not written: %v", h.PAXRecords)
		}
	}
}

func TestWriteLayerMtimes(t *testing.T) {
	before := epoch.Add(-time.Hour - 500*time.Millisecond)
	after := epoch.Add(time.Hour)
	prehistoric := time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)
	entries := []Entry{
		{Name: "before", Type: tar.TypeDir, Mode: 0o755, ModTime: before},
		{Name: "after", Type: tar.TypeDir, Mode: 0o755, ModTime: after},
		{Name: "prehistoric", Type: tar.TypeDir, Mode: 0o755, ModTime: prehistoric},
		{Name: "zero", Type: tar.TypeDir, Mode: 0o755},
	}
	unix0 := time.Unix(0, 0)
	tests := []struct {
		name  string
		opts  LayerOptions
		wants map[string]time.Time
	}{
		{"set", LayerOptions{Epoch: epoch},
			map[string]time.Time{"before/": epoch, "after/": epoch, "prehistoric/": epoch, "zero/": epoch}},
		{"clamp", LayerOptions{Epoch: epoch, Clamp: true},
			map[string]time.Time{"before/": before.Truncate(time.Second), "after/": epoch, "prehistoric/": unix0, "zero/": unix0}},
		{"zero epoch", LayerOptions{},
			map[string]time.Time{"before/": unix0, "after/": unix0, "prehistoric/": unix0, "zero/": unix0}},
		{"sub-second epoch", LayerOptions{Epoch: epoch.Add(900 * time.Millisecond), Clamp: true},
			map[string]time.Time{"before/": before.Truncate(time.Second), "after/": epoch, "prehistoric/": unix0, "zero/": unix0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Compression = Uncompressed
			blob, _ := writeLayer(t, entries, tc.opts)
			hdrs, _ := readTar(t, blob)
			for _, h := range hdrs {
				if want := tc.wants[h.Name]; !h.ModTime.Equal(want) {
					t.Errorf("%s: mtime %v, want %v", h.Name, h.ModTime, want)
				}
				if h.Format == tar.FormatPAX {
					t.Errorf("%s: mtime forced a PAX header", h.Name)
				}
			}
		})
	}
}

// fakeFile is an Open result that yields data, then err.
type fakeFile struct {
	r   io.Reader
	err error
}

func (f *fakeFile) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if errors.Is(err, io.EOF) && f.err != nil {
		return n, f.err
	}
	return n, err
}

func (f *fakeFile) Close() error { return nil }

func TestWriteLayerErrors(t *testing.T) {
	file := func(name string, size int64, body string) Entry {
		return Entry{Name: name, Type: tar.TypeReg, Mode: 0o644, Size: size, Open: content(body)}
	}
	dir := func(name string) Entry { return Entry{Name: name, Type: tar.TypeDir, Mode: 0o755} }
	tests := []struct {
		name    string
		entries []Entry
		opts    LayerOptions
		want    string
	}{
		{"shrunk while reading", []Entry{file("etc/shrunk", 10, "short")}, LayerOptions{}, `"etc/shrunk" changed size`},
		{"grew while reading", []Entry{file("etc/grown", 2, "longer")}, LayerOptions{}, `"etc/grown" changed size`},
		{"empty grew", []Entry{file("etc/e", 0, "x")}, LayerOptions{}, `"etc/e" changed size`},
		{"open fails", []Entry{{Name: "f", Type: tar.TypeReg, Size: 1,
			Open: func() (io.ReadCloser, error) { return nil, os.ErrPermission }}}, LayerOptions{}, `opening "f"`},
		{"read fails", []Entry{{Name: "f", Type: tar.TypeReg, Size: 9, Open: func() (io.ReadCloser, error) {
			return &fakeFile{r: strings.NewReader("abc"), err: io.ErrClosedPipe}, nil
		}}}, LayerOptions{}, `copying "f"`},
		{"no open", []Entry{{Name: "f", Type: tar.TypeReg, Size: 1}}, LayerOptions{}, "no Open"},
		{"duplicate", []Entry{dir("a"), file("a", 1, "x")}, LayerOptions{}, `duplicate entry "a"`},
		{"absolute", []Entry{file("/etc/x", 1, "x")}, LayerOptions{}, "invalid entry name"},
		{"trailing slash", []Entry{dir("etc/")}, LayerOptions{}, "invalid entry name"},
		{"dotdot", []Entry{file("a/../b", 1, "x")}, LayerOptions{}, "invalid entry name"},
		{"dot", []Entry{dir(".")}, LayerOptions{}, "invalid entry name"},
		{"double slash", []Entry{file("a//b", 1, "x")}, LayerOptions{}, "invalid entry name"},
		{"empty", []Entry{file("", 1, "x")}, LayerOptions{}, "invalid entry name"},
		{"hardlink to missing", []Entry{{Name: "l", Type: tar.TypeLink, Linkname: "nope"}}, LayerOptions{}, "not an earlier entry"},
		{"hardlink to later", []Entry{{Name: "a", Type: tar.TypeLink, Linkname: "b"}, file("b", 1, "x")}, LayerOptions{}, "not an earlier entry"},
		{"hardlink to dir", []Entry{dir("d"), {Name: "l", Type: tar.TypeLink, Linkname: "d"}}, LayerOptions{}, "is a directory"},
		{"mode with type bits", []Entry{{Name: "d", Type: tar.TypeDir, Mode: 0o40755}}, LayerOptions{}, "mode"},
		{"unsupported type", []Entry{{Name: "x", Type: 'V'}}, LayerOptions{}, "unsupported type"},
		{"empty symlink", []Entry{{Name: "x", Type: tar.TypeSymlink}}, LayerOptions{}, "empty target"},
		{"negative uid", []Entry{{Name: "x", Type: tar.TypeDir, UID: -1}}, LayerOptions{}, "negative owner"},
		{"bad xattr", []Entry{{Name: "x", Type: tar.TypeDir, Xattrs: map[string]string{"a=b": ""}}}, LayerOptions{}, "invalid xattr"},
		{"gzip level", nil, LayerOptions{Level: 10}, "gzip level 10"},
		{"zstd level", nil, LayerOptions{Compression: Zstd, Level: 23}, "zstd level 23"},
		{"uncompressed level", nil, LayerOptions{Compression: Uncompressed, Level: 1}, "level 1"},
		{"unknown compression", nil, LayerOptions{Compression: 7}, "unknown compression"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := WriteLayer(io.Discard, tc.entries, tc.opts)
			mustContain(t, err, tc.want)
		})
	}
}

// TestWriteLayerGolden pins the uncompressed encoding: the listing of every
// header and the diffID. Run with -update after an intended change.
func TestWriteLayerGolden(t *testing.T) {
	blob, layer := writeLayer(t, sampleEntries(), LayerOptions{Compression: Uncompressed, Epoch: epoch})
	hdrs, _ := readTar(t, blob)
	var b strings.Builder
	for _, h := range hdrs {
		fmt.Fprintf(&b, "%c %07o %d:%d size=%d mtime=%d pax=%v %s", h.Typeflag, h.Mode, h.Uid, h.Gid,
			h.Size, h.ModTime.Unix(), h.Format == tar.FormatPAX, h.Name)
		if h.Linkname != "" {
			fmt.Fprintf(&b, " -> %s", h.Linkname)
		}
		if h.Typeflag == tar.TypeChar || h.Typeflag == tar.TypeBlock {
			fmt.Fprintf(&b, " dev=%d,%d", h.Devmajor, h.Devminor)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "diffID %s\nsize %d\n", layer.DiffID, layer.UncompressedSize)
	golden := filepath.Join("testdata", "layer.golden")
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
		t.Errorf("layer differs from %s:\ngot:\n%s\nwant:\n%s", golden, b.String(), want)
	}
}
