package snapshot

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/minibuild/minibuild/internal/unixfs"
	digest "github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"
)

func TestUnpackIdempotent(t *testing.T) {
	requireRoot(t)
	root := t.TempDir() + "/layers"
	u := NewUnpacker(root)
	l := makeLayer(layerTar(t, []tentry{dirE("d/", 0o755), fileE("d/f", "f"), fileE(".wh.gone", "")}))
	dir, err := u.Unpack(context.Background(), l.Layer)
	must(t, err)
	again, err := u.Unpack(context.Background(), l.Layer)
	must(t, err)
	if dir != again {
		t.Errorf("second Unpack returned %q, first %q", again, dir)
	}
	if n := l.opens.Load(); n != 1 {
		t.Errorf("layer opened %d times, want 1", n)
	}
	b, err := os.ReadFile(dir + "/d/f")
	if err != nil || string(b) != "f" {
		t.Errorf("d/f = %q, %v", b, err)
	}
	var st unix.Stat_t
	must(t, unix.Lstat(dir+"/gone", &st))
	if !isWhiteout(&st) {
		t.Errorf("gone is not an overlay whiteout: mode %#o rdev %d", st.Mode, st.Rdev)
	}
	if got := u.lowerPath(l.DiffID); got != u.root+"/l/"+l.DiffID.Encoded()[:16] {
		t.Errorf("lowerPath = %q, want the short link", got)
	}
}

func TestUnpackConcurrent(t *testing.T) {
	requireRoot(t)
	u := NewUnpacker(t.TempDir())
	var entries []tentry
	for i := range 200 {
		entries = append(entries, fileE(fmt.Sprintf("f%03d", i), "content"))
	}
	l := makeLayer(layerTar(t, entries))
	var wg sync.WaitGroup
	dirs := make([]string, 8)
	errs := make([]error, 8)
	for i := range dirs {
		wg.Go(func() {
			// Each goroutine has its own Unpacker, as separate
			// processes would.
			dirs[i], errs[i] = NewUnpacker(u.root).Unpack(context.Background(), l.Layer)
		})
	}
	wg.Wait()
	for i := range dirs {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if dirs[i] != dirs[0] {
			t.Errorf("goroutine %d got %q, goroutine 0 %q", i, dirs[i], dirs[0])
		}
	}
	if n := l.opens.Load(); n != 1 {
		t.Errorf("layer opened %d times, want 1", n)
	}
	names, err := unixfs.ReadDirNames(u.root + "/tmp")
	must(t, err)
	if len(names) != 0 {
		t.Errorf("temporary directories left: %v", names)
	}
}

func TestUnpackRejectsWrongDiffID(t *testing.T) {
	requireRoot(t)
	u := NewUnpacker(t.TempDir())
	data := layerTar(t, []tentry{fileE("f", "f")})
	l := Layer{
		DiffID: digest.FromString("something else"),
		Open:   func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
	}
	if _, err := u.Unpack(context.Background(), l); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("Unpack = %v, want a diffID mismatch", err)
	}
	if isDirectory(u.dir(l.DiffID)) {
		t.Error("the unverified layer was kept")
	}
	names, err := unixfs.ReadDirNames(u.root + "/tmp")
	must(t, err)
	if len(names) != 0 {
		t.Errorf("temporary directories left: %v", names)
	}
}

func TestUnpackWaitsForLockAndCleansStaleTemp(t *testing.T) {
	requireRoot(t)
	u := NewUnpacker(t.TempDir())
	l := makeLayer(layerTar(t, []tentry{fileE("f", "f")}))
	must(t, os.MkdirAll(u.root+"/sha256", 0o700))
	must(t, os.MkdirAll(u.root+"/tmp/"+tempPrefix(l.DiffID)+"dead", 0o700))
	// Another "process" holds the layer's lock: Unpack must wait until
	// its context ends.
	held, err := lockFile(context.Background(), u.dir(l.DiffID)+".lock")
	must(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := u.Unpack(ctx, l.Layer); err == nil {
		t.Fatal("Unpack succeeded while another holder had the lock")
	}
	held.Unlock()
	if _, err := u.Unpack(context.Background(), l.Layer); err != nil {
		t.Fatal(err)
	}
	if names, _ := unixfs.ReadDirNames(u.root + "/tmp"); len(names) != 0 {
		t.Errorf("stale temporary directory left: %v", names)
	}
}

func TestUnpackerCleanup(t *testing.T) {
	requireRoot(t)
	u := NewUnpacker(t.TempDir())
	dead := u.root + "/tmp/sha256-" + strings.Repeat("a", 64) + "-1"
	live := u.root + "/tmp/sha256-" + strings.Repeat("b", 64) + "-2"
	must(t, os.MkdirAll(dead, 0o700))
	must(t, os.MkdirAll(live, 0o700))
	must(t, os.MkdirAll(u.root+"/sha256", 0o700))
	held, err := lockFile(context.Background(), u.root+"/sha256/"+strings.Repeat("b", 64)+".lock")
	must(t, err)
	defer held.Unlock()
	must(t, u.Cleanup())
	if isDirectory(dead) {
		t.Error("Cleanup kept a dead unpacking's directory")
	}
	if !isDirectory(live) {
		t.Error("Cleanup removed a live unpacking's directory")
	}
}
