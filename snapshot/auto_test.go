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
	var fallbacks []error
	sn := NewAuto(state, NewUnpacker(tmp+"/layers"), func(err error) { fallbacks = append(fallbacks, err) })
	if names, err := unixfs.ReadDirNames(state); err != nil || len(names) != 0 {
		t.Fatalf("NewAuto touched the state directory before any Prepare: %v, %v", names, err)
	}
	want := "native"
	if CheckOverlay(tmp+"/probe") == nil {
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
	if want == "overlay" && len(fallbacks) != 0 || want == "native" && len(fallbacks) != 1 {
		t.Errorf("auto chose %s and reported falling back %d times: %v", want, len(fallbacks), fallbacks)
	}
}

func TestAutoFallsBackWithOneNote(t *testing.T) {
	requireRoot(t)
	// overlayfs options cannot name a directory with a colon: the probe
	// fails as it does on a kernel without overlayfs.
	state := t.TempDir() + "/snap:shots"
	must(t, os.Mkdir(state, 0o700))
	var fallbacks []error
	sn := NewAuto(state, NewUnpacker(t.TempDir()), func(err error) { fallbacks = append(fallbacks, err) })
	for range 2 {
		m, err := sn.Prepare(context.Background(), nil)
		must(t, err)
		if _, ok := m.(*overlayMount); ok {
			t.Fatal("auto prepared an overlay rootfs where overlayfs cannot be mounted")
		}
		must(t, m.Release())
	}
	if len(fallbacks) != 1 || fallbacks[0] == nil {
		t.Errorf("fallbacks reported: %v, want one reason", fallbacks)
	}
}
