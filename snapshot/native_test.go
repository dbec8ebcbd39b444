package snapshot

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/minibuild/minibuild/internal/unixfs"
	"github.com/minibuild/minibuild/tarutil"
	digest "github.com/opencontainers/go-digest"
)

// renderWithTimes is render plus mtimes.
func renderWithTimes(t *testing.T, entries []tarutil.Entry) []string {
	t.Helper()
	lines := render(t, entries)
	for i, e := range entries {
		lines[i] += "|" + fmt.Sprint(e.ModTime.UnixNano())
	}
	return lines
}

func TestNativeCopyKeepsEverything(t *testing.T) {
	requireRoot(t)
	state := t.TempDir()
	chain := testChain(t)
	m, err := NewNative(state).Prepare(context.Background(), chain)
	must(t, err)
	defer func() { must(t, m.Release()) }()
	base, err := tarutil.DirEntries(m.(*nativeMount).base, "")
	must(t, err)
	root, err := tarutil.DirEntries(m.Root(), "")
	must(t, err)
	if d := diffLines(renderWithTimes(t, root), renderWithTimes(t, base)); d != "" {
		t.Errorf("rootfs (got) differs from its base (want):\n%s", d)
	}
	// The base is the chain applied.
	applied := applyChain(t, chain[0].Open, chain[1].Open)
	if d := diffLines(treeLines(t, m.(*nativeMount).base), treeLines(t, applied)); d != "" {
		t.Errorf("base differs from the chain applied:\n%s", d)
	}
}

func TestNativeBaseCache(t *testing.T) {
	requireRoot(t)
	state := t.TempDir()
	var layers []countedLayer
	for i := range 3 {
		layers = append(layers, makeLayer(layerTar(t, []tentry{fileE(fmt.Sprintf("f%d", i), fmt.Sprint(i))})))
	}
	chainOf := func(n int) []Layer {
		var c []Layer
		for _, l := range layers[:n] {
			c = append(c, l.Layer)
		}
		return c
	}
	opens := func() string {
		var s []string
		for _, l := range layers {
			s = append(s, fmt.Sprint(l.opens.Load()))
		}
		return strings.Join(s, ",")
	}
	sn := NewNative(state)
	steps := []struct {
		chain     int
		wantOpens string
	}{
		{chain: 2, wantOpens: "1,1,0"},
		{chain: 2, wantOpens: "1,1,0"}, // cached
		{chain: 3, wantOpens: "1,1,1"}, // built from the cached prefix
		{chain: 1, wantOpens: "2,1,1"},
	}
	for i, step := range steps {
		m, err := sn.Prepare(context.Background(), chainOf(step.chain))
		must(t, err)
		names, err := unixfs.ReadDirNames(m.Root())
		must(t, err)
		if len(names) != step.chain {
			t.Errorf("step %d: rootfs holds %v, want %d files", i, names, step.chain)
		}
		must(t, m.Release())
		if got := opens(); got != step.wantOpens {
			t.Errorf("step %d: layer opens %s, want %s", i, got, step.wantOpens)
		}
	}
}

func TestNativeRejectsWrongDiffID(t *testing.T) {
	requireRoot(t)
	state := t.TempDir()
	data := layerTar(t, []tentry{fileE("f", "f")})
	l := Layer{
		DiffID: digest.FromString("other"),
		Open:   func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
	}
	if _, err := NewNative(state).Prepare(context.Background(), []Layer{l}); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("Prepare = %v, want a diffID mismatch", err)
	}
	if names, _ := unixfs.ReadDirNames(state + "/native/tmp"); len(names) != 0 {
		t.Errorf("temporary base left: %v", names)
	}
	if names, _ := unixfs.ReadDirNames(state + "/mounts"); len(names) != 0 {
		t.Errorf("snapshot left: %v", names)
	}
}

func TestPrepareRejectsBadChain(t *testing.T) {
	requireRoot(t)
	state := t.TempDir()
	bad := [][]Layer{
		{{DiffID: "sha256:short", Open: func() (io.ReadCloser, error) { return nil, nil }}},
		{{DiffID: digest.FromString("x")}},
	}
	for name, sn := range snapshotters(t, state) {
		for i, chain := range bad {
			if m, err := sn.Prepare(context.Background(), chain); err == nil {
				m.Release()
				t.Errorf("%s: chain %d accepted", name, i)
			}
		}
	}
}
