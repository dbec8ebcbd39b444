package tarutil

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The tests in this file check that the files Apply hands to its workers
// do not change the result: every case is one where an entry depends on a
// small regular file before it. Each repeats its pattern many times, so
// that a worker is likely still busy with a file when the entry depending
// on it is read.

// repeat builds n copies of the entries f(i) gives.
func repeat(n int, f func(i int) []tEntry) []tEntry {
	var out []tEntry
	for i := range n {
		out = append(out, f(i)...)
	}
	return out
}

func TestApplyOrderWithWorkers(t *testing.T) {
	requireRoot(t)
	old := time.Unix(1_500_000_000, 0)
	big := strings.Repeat("B", poolFileMax+1)
	tests := []struct {
		name  string
		lower []tEntry
		layer []tEntry
		mode  WhiteoutMode
		check func(t *testing.T, root string)
	}{
		{name: "hardlink to a file a worker writes",
			layer: repeat(300, func(i int) []tEntry {
				return []tEntry{reg(fmt.Sprintf("f%d", i), fmt.Sprint(i)), linkE(fmt.Sprintf("l%d", i), fmt.Sprintf("f%d", i))}
			}),
			check: func(t *testing.T, root string) {
				for i := range 300 {
					f, l := lstat(t, fmt.Sprintf("%s/f%d", root, i)), lstat(t, fmt.Sprintf("%s/l%d", root, i))
					if f.Ino != l.Ino || f.Nlink != 2 {
						t.Fatalf("l%d: inode %d, f%d: inode %d with %d links", i, l.Ino, i, f.Ino, f.Nlink)
					}
					if got := readFile(t, fmt.Sprintf("%s/l%d", root, i)); got != fmt.Sprint(i) {
						t.Fatalf("l%d = %q", i, got)
					}
				}
			}},
		{name: "hardlink to a file through a symlinked parent",
			lower: []tEntry{dirE("y/"), symE("x", "y")},
			layer: repeat(200, func(i int) []tEntry {
				return []tEntry{reg(fmt.Sprintf("x/f%d", i), fmt.Sprint(i)), linkE(fmt.Sprintf("l%d", i), fmt.Sprintf("y/f%d", i))}
			}),
			check: func(t *testing.T, root string) {
				for i := range 200 {
					if got := readFile(t, fmt.Sprintf("%s/l%d", root, i)); got != fmt.Sprint(i) {
						t.Fatalf("l%d = %q", i, got)
					}
				}
			}},
		{name: "directory times after their children",
			layer: repeat(50, func(i int) []tEntry {
				d := fmt.Sprintf("d%d/", i)
				return append([]tEntry{withTime(dirE(d), old.Add(time.Duration(i)*time.Second)), withTime(dirE(d+"sub/"), old)},
					repeat(20, func(j int) []tEntry {
						return []tEntry{reg(fmt.Sprintf("%ssub/f%d", d, j), "x"), reg(fmt.Sprintf("%sf%d", d, j), "x")}
					})...)
			}),
			check: func(t *testing.T, root string) {
				for i := range 50 {
					d := fmt.Sprintf("%s/d%d", root, i)
					if st := lstat(t, d); st.Mtim.Sec != old.Unix()+int64(i) {
						t.Fatalf("%s mtime %d, want %d", d, st.Mtim.Sec, old.Unix()+int64(i))
					}
					if st := lstat(t, d+"/sub"); st.Mtim.Sec != old.Unix() {
						t.Fatalf("%s/sub mtime %d, want %d", d, st.Mtim.Sec, old.Unix())
					}
				}
			}},
		{name: "a file replaced through another path to it",
			lower: []tEntry{dirE("y/"), symE("x", "y")},
			layer: repeat(200, func(i int) []tEntry {
				return []tEntry{reg(fmt.Sprintf("x/f%d", i), "first"), reg(fmt.Sprintf("y/f%d", i), "second")}
			}),
			check: func(t *testing.T, root string) {
				for i := range 200 {
					if got := readFile(t, fmt.Sprintf("%s/y/f%d", root, i)); got != "second" {
						t.Fatalf("y/f%d = %q", i, got)
					}
				}
			}},
		{name: "a directory of files replaced by a file",
			layer: append(repeat(200, func(i int) []tEntry { return []tEntry{reg(fmt.Sprintf("a/f%d", i), "x")} }), reg("a", "file")),
			check: func(t *testing.T, root string) {
				if got := readFile(t, root+"/a"); got != "file" {
					t.Fatalf("a = %q", got)
				}
			}},
		{name: "whiteout after a file",
			lower: repeat(100, func(i int) []tEntry { return []tEntry{reg(fmt.Sprintf("d/low%d", i), "low")} }),
			layer: repeat(100, func(i int) []tEntry {
				return []tEntry{reg(fmt.Sprintf("d/f%d", i), "mine"), reg(fmt.Sprintf("d/.wh.f%d", i), ""), reg(fmt.Sprintf("d/.wh.low%d", i), "")}
			}),
			check: func(t *testing.T, root string) {
				for i := range 100 {
					if got := readFile(t, fmt.Sprintf("%s/d/f%d", root, i)); got != "mine" {
						t.Fatalf("d/f%d = %q", i, got)
					}
					if exists(fmt.Sprintf("%s/d/low%d", root, i)) {
						t.Fatalf("d/low%d survived its whiteout", i)
					}
				}
			}},
		{name: "whiteout of a file written through another path to it",
			lower: []tEntry{dirE("y/"), symE("x", "y")},
			layer: repeat(200, func(i int) []tEntry {
				return []tEntry{reg(fmt.Sprintf("x/f%d", i), "x"), reg(fmt.Sprintf("y/.wh.f%d", i), "")}
			}),
			check: func(t *testing.T, root string) {
				for i := range 200 {
					if exists(fmt.Sprintf("%s/y/f%d", root, i)) {
						t.Fatalf("y/f%d survived its whiteout", i)
					}
				}
			}},
		{name: "overlay whiteout and opaque marker after files",
			mode: WhiteoutOverlay,
			layer: append(repeat(100, func(i int) []tEntry {
				return []tEntry{reg(fmt.Sprintf("d/f%d", i), "mine"), reg(fmt.Sprintf("d/.wh.gone%d", i), "")}
			}), reg("d/.wh..wh..opq", "")),
			check: func(t *testing.T, root string) {
				for i := range 100 {
					if got := readFile(t, fmt.Sprintf("%s/d/f%d", root, i)); got != "mine" {
						t.Fatalf("d/f%d = %q", i, got)
					}
					if st := lstat(t, fmt.Sprintf("%s/d/gone%d", root, i)); st.Mode&unix.S_IFMT != unix.S_IFCHR {
						t.Fatalf("d/gone%d is not a whiteout device", i)
					}
				}
			}},
		{name: "large files written in order among small ones",
			layer: repeat(5, func(i int) []tEntry {
				return []tEntry{reg(fmt.Sprintf("s%d", i), "small"), reg(fmt.Sprintf("b%d", i), big), linkE(fmt.Sprintf("l%d", i), fmt.Sprintf("s%d", i))}
			}),
			check: func(t *testing.T, root string) {
				for i := range 5 {
					if got := readFile(t, fmt.Sprintf("%s/b%d", root, i)); got != big {
						t.Fatalf("b%d has %d bytes, want %d", i, len(got), len(big))
					}
					if got := readFile(t, fmt.Sprintf("%s/l%d", root, i)); got != "small" {
						t.Fatalf("l%d = %q", i, got)
					}
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			if tt.lower != nil {
				if _, err := applyTar(t, root, buildTar(t, tt.lower...), ApplyOptions{Whiteouts: tt.mode}); err != nil {
					t.Fatalf("lower layer: %v", err)
				}
			}
			if _, err := applyTar(t, root, buildTar(t, tt.layer...), ApplyOptions{Whiteouts: tt.mode}); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			tt.check(t, root)
		})
	}
}

// withXattr gives e the extended attribute key=value.
func withXattr(e tEntry, key, value string) tEntry {
	e.hdr.PAXRecords = map[string]string{xattrPAXPrefix + key: value}
	e.hdr.Format = tar.FormatPAX
	return e
}

// waitGoroutines fails unless the number of goroutines falls back to at
// most n within a few seconds.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines left, want at most %d:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// readsAfter counts the reads of r made once stopped is set.
type readsAfter struct {
	r       io.Reader
	stopped atomic.Bool
	late    atomic.Int64
}

func (c *readsAfter) Read(p []byte) (int, error) {
	if c.stopped.Load() {
		c.late.Add(1)
	}
	return c.r.Read(p)
}

func TestApplyWorkerErrors(t *testing.T) {
	requireRoot(t)
	// ext4 and tmpfs refuse a 70 kB xattr value (E2BIG or ENOSPC), when
	// the worker sets it, after the file is written.
	bad := withXattr(reg("dir/bad", "content"), "user.big", strings.Repeat("v", 70_000))
	files := func(prefix string, n int) []tEntry {
		return repeat(n, func(i int) []tEntry { return []tEntry{reg(fmt.Sprintf("%s%d", prefix, i), "x")} })
	}
	tests := []struct {
		name    string
		entries []tEntry
		src     func(data []byte) io.Reader
		want    []string // in the error
		absent  string   // a file far after the failure, never written
	}{
		{name: "a worker's error names its entry",
			entries: append(append(append(files("before", 100), dirE("dir/"), bad), files("after", 3000)...), dirE("last/")),
			want:    []string{`entry "dir/bad"`, "setting xattr user.big"}, absent: "last"},
		{name: "the first of many failing files is reported",
			entries: append(append(files("before", 10), repeat(50, func(i int) []tEntry {
				e := withXattr(reg(fmt.Sprintf("dir/bad%d", i), "x"), "user.big", strings.Repeat("v", 70_000))
				return []tEntry{e}
			})...), append(files("after", 3000), dirE("last/"))...),
			want: []string{`entry "dir/bad0"`}, absent: "last"},
		{name: "the earlier failure wins over a later one",
			entries: append(append([]tEntry{bad}, files("after", 5)...), reg("../escape", "x"), reg("last", "x")),
			want:    []string{`entry "dir/bad"`}, absent: "last"},
		{name: "a file used as a parent directory",
			entries: append(files("before", 200), reg("p", "file"), reg("p/child", "x"), dirE("last/")),
			want:    []string{`entry "p/child"`, "not a directory"}, absent: "last"},
		{name: "a read error stops the workers",
			entries: append(files("before", 2000), reg("last", "x")),
			src: func(data []byte) io.Reader {
				return io.MultiReader(bytes.NewReader(data[:len(data)/2]), errReader{errors.New("disk on fire")})
			},
			want: []string{"disk on fire"}, absent: "last"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			if err := os.Mkdir(root+"/dir", 0o755); err != nil {
				t.Fatal(err)
			}
			data := buildTar(t, tt.entries...)
			var src io.Reader = bytes.NewReader(data)
			if tt.src != nil {
				src = tt.src(data)
			}
			r := &readsAfter{r: src}
			before := runtime.NumGoroutine()
			_, err := Apply(context.Background(), root, r, ApplyOptions{LayerName: "sha256:l"})
			r.stopped.Store(true)
			mustContain(t, err, append([]string{"sha256:l"}, tt.want...)...)
			waitGoroutines(t, before)
			time.Sleep(20 * time.Millisecond)
			if n := r.late.Load(); n > 0 {
				t.Errorf("the stream was read %d times after Apply returned", n)
			}
			if exists(root + "/" + tt.absent) {
				t.Errorf("%s was written after the failure", tt.absent)
			}
			// Once a worker fails, the files queued after it are
			// skipped: fewer are written than the queue holds.
			after := 0
			for i := range 3000 {
				if exists(fmt.Sprintf("%s/after%d", root, i)) {
					after++
				}
			}
			if after >= poolQueue {
				t.Errorf("%d files after the failure were written", after)
			}
		})
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestApplyCancelledWithWorkers(t *testing.T) {
	requireRoot(t)
	ctx, cancel := context.WithCancel(context.Background())
	data := buildTar(t, repeat(3000, func(i int) []tEntry { return []tEntry{reg(fmt.Sprintf("f%d", i), "x")} })...)
	before := runtime.NumGoroutine()
	pr, pw := io.Pipe()
	go func() {
		// Half the layer, then the cancellation, then the rest.
		pw.Write(data[:len(data)/2])
		cancel()
		pw.Write(data[len(data)/2:])
		pw.Close()
	}()
	_, err := Apply(ctx, t.TempDir(), pr, ApplyOptions{})
	pr.CloseWithError(io.ErrClosedPipe)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Apply = %v, want context.Canceled", err)
	}
	waitGoroutines(t, before)
}
