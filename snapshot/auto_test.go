package snapshot

import (
	"context"
	"os"
	"testing"

	"github.com/minibuild/minibuild/internal/unixfs"
)

func TestAutoDecidesOnFirstPrepare(t *testing.T) {
	requireRoot(t)
	tmp := t.TempDir()
	state := tmp + "/snapshots"
	must(t, os.Mkdir(state, 0o700))
	sn := NewAuto(state, NewUnpacker(tmp+"/layers"))
	if names, err := unixfs.ReadDirNames(state); err != nil || len(names) != 0 {
		t.Fatalf("NewAuto touched the state directory before any Prepare: %v, %v", names, err)
	}
	want := "native"
	if OverlaySupported(tmp + "/probe") {
		want = "overlay"
	}
	for range 2 {
		m, err := sn.Prepare(context.Background(), nil)
		must(t, err)
		got := "native"
		if _, ok := m.(*overlayMount); ok {
			got = "overlay"
		}
		must(t, m.Release())
		if got != want {
			t.Fatalf("auto prepared a %s rootfs, want %s", got, want)
		}
	}
}
