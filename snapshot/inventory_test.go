package snapshot

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/minibuild/minibuild/tarutil"
	digest "github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/identity"
)

// issuePaths returns the sorted paths of issues.
func issuePaths(issues []Issue) []string {
	var out []string
	for _, i := range issues {
		out = append(out, i.Path)
	}
	slices.Sort(out)
	return out
}

func TestUnpackerInventory(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	u := NewUnpacker(t.TempDir() + "/layers")
	chain := testChain(t)
	for _, l := range chain {
		_, err := u.Unpack(ctx, l)
		must(t, err)
	}
	got, err := u.Unpacked()
	must(t, err)
	want := []digest.Digest{chain[0].DiffID, chain[1].DiffID}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("Unpacked = %v, want %v", got, want)
	}
	if issues, err := u.Check(); err != nil || len(issues) != 0 {
		t.Fatalf("Check of a clean root = %v, %v", issues, err)
	}

	// What dead and live builds leave, and strays.
	dead := u.root + "/tmp/sha256-" + strings.Repeat("a", 64) + "-1"
	live := u.root + "/tmp/sha256-" + strings.Repeat("b", 64) + "-2"
	must(t, os.MkdirAll(dead, 0o700))
	must(t, os.MkdirAll(live, 0o700))
	held, err := lockFile(ctx, u.root+"/sha256/"+strings.Repeat("b", 64)+".lock")
	must(t, err)
	defer held.Unlock()
	stray := u.root + "/sha256/not-a-layer"
	writeFile(t, stray, "x", 0o644)
	fileLayer := u.root + "/sha256/" + strings.Repeat("c", 64)
	writeFile(t, fileLayer, "x", 0o644)
	dangling := u.root + "/l/" + strings.Repeat("d", 16)
	must(t, os.Symlink("../sha256/"+strings.Repeat("d", 64), dangling))
	topStray := u.root + "/junk"
	must(t, os.Mkdir(topStray, 0o700))
	issues, err := u.Check()
	must(t, err)
	wantPaths := []string{dangling, topStray, stray, fileLayer, dead}
	slices.Sort(wantPaths)
	if got := issuePaths(issues); !slices.Equal(got, wantPaths) {
		t.Fatalf("Check = %v\nwant paths %v", issues, wantPaths)
	}
	for _, i := range issues {
		must(t, i.Fix())
	}
	if issues, err := u.Check(); err != nil || len(issues) != 0 {
		t.Errorf("Check after fixing = %v, %v", issues, err)
	}
	if !isDirectory(live) {
		t.Error("a live unpacking's directory was reported and removed")
	}

	// Remove takes the layer, its short link and its lock away.
	must(t, u.Remove(ctx, chain[0].DiffID))
	must(t, u.Remove(ctx, chain[0].DiffID))
	if got, _ := u.Unpacked(); !slices.Equal(got, []digest.Digest{chain[1].DiffID}) {
		t.Errorf("Unpacked after Remove = %v", got)
	}
	for _, p := range []string{u.dir(chain[0].DiffID), u.dir(chain[0].DiffID) + ".lock", u.root + "/l/" + chain[0].DiffID.Encoded()[:16]} {
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left after Remove: %v", p, err)
		}
	}
	if issues, err := u.Check(); err != nil || len(issues) != 0 {
		t.Errorf("Check after Remove = %v, %v", issues, err)
	}
	if err := u.Remove(ctx, "sha256:../../x"); err == nil {
		t.Error("Remove accepted an invalid diffID")
	}
}

func TestStateInventory(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	state := t.TempDir()
	stateDir := state + "/snapshots"
	chain := testChain(t)
	for name, sn := range snapshotters(t, state) {
		t.Run(name, func(t *testing.T) {
			dead, err := sn.Prepare(ctx, chain)
			must(t, err)
			live, err := sn.Prepare(ctx, chain)
			must(t, err)
			defer func() { must(t, live.Release()) }()
			deadDir := snapshotDir(dead)
			switch m := dead.(type) {
			case *overlayMount:
				m.lock.Unlock()
			case *nativeMount:
				m.lock.Unlock()
			}
			tmpBase := stateDir + "/native/tmp/sha256-" + strings.Repeat("c", 64) + "-9"
			must(t, os.MkdirAll(tmpBase, 0o700))
			stray := stateDir + "/native/stray"
			writeFile(t, stray, "x", 0o644)
			issues, err := CheckState(stateDir)
			must(t, err)
			want := []string{deadDir, stray, tmpBase}
			slices.Sort(want)
			if got := issuePaths(issues); !slices.Equal(got, want) {
				t.Fatalf("CheckState = %v\nwant paths %v", issues, want)
			}
			for _, i := range issues {
				must(t, i.Fix())
			}
			if issues, err := CheckState(stateDir); err != nil || len(issues) != 0 {
				t.Errorf("CheckState after fixing = %v, %v", issues, err)
			}
			if mps, err := mountPoints(deadDir); err != nil || len(mps) > 0 {
				t.Errorf("mounts left under the dead snapshot: %v, %v", mps, err)
			}
			writeFile(t, live.Root()+"/alive", "yes", 0o644)
			if _, err := live.Diff(ctx); err != nil {
				t.Errorf("the live snapshot broke: %v", err)
			}
		})
	}
	// The native snapshotter kept the chain's base.
	id := identity.ChainID([]digest.Digest{chain[0].DiffID, chain[1].DiffID})
	bases, err := NativeBases(stateDir)
	must(t, err)
	if !slices.Contains(bases, id) {
		t.Fatalf("NativeBases = %v, want %s among them", bases, id)
	}
	for _, b := range bases {
		must(t, RemoveNativeBase(ctx, stateDir, b))
	}
	if bases, err := NativeBases(stateDir); err != nil || len(bases) != 0 {
		t.Errorf("NativeBases after removing all = %v, %v", bases, err)
	}
	if issues, err := CheckState(stateDir); err != nil || len(issues) != 0 {
		t.Errorf("CheckState after removing the bases = %v, %v", issues, err)
	}
}

// TestUnpackStopsBomb: a layer whose stream runs past Layer.MaxBytes, in
// its content or in the padding after the tar, is refused and nothing of
// it is kept.
func TestUnpackStopsBomb(t *testing.T) {
	requireRoot(t)
	small := layerTar(t, []tentry{fileE("f", "f")})
	tests := []struct {
		name string
		data []byte
	}{
		{"big file", func() []byte {
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			must(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "big", Mode: 0o644, Size: 4 << 20}))
			_, err := tw.Write(make([]byte, 4<<20))
			must(t, err)
			must(t, tw.Close())
			return buf.Bytes()
		}()},
		{"padding after the tar", append(append([]byte(nil), small...), make([]byte, 4<<20)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for name, sn := range map[string]func(l Layer) error{
				"unpacker": func(l Layer) error {
					_, err := NewUnpacker(t.TempDir()).Unpack(context.Background(), l)
					return err
				},
				"native": func(l Layer) error {
					m, err := NewNative(t.TempDir()).Prepare(context.Background(), []Layer{l})
					if err == nil {
						m.Release()
					}
					return err
				},
			} {
				data := tt.data
				l := Layer{DiffID: digest.FromBytes(data), MaxBytes: 1 << 20,
					Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}
				if err := sn(l); !errors.Is(err, tarutil.ErrTooLarge) {
					t.Errorf("%s: err = %v, want ErrTooLarge", name, err)
				}
				l.MaxBytes = 0
				if err := sn(l); err != nil {
					t.Errorf("%s with the default limit: %v", name, err)
				}
			}
		})
	}
}
