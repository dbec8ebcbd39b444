package volume

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/minibuild/minibuild/internal/flock"
	"github.com/minibuild/minibuild/rootdir"
)

// newStore is a Store in a fresh root.
func newStore(t *testing.T) (*Store, string) {
	t.Helper()
	root := t.TempDir()
	return At(rootdir.At(root)), rootdir.At(root).Volumes()
}

// writer is a Fill that writes one file.
func writer(name, content string) Fill {
	return func(dir string) error {
		return os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644)
	}
}

// files lists the names in a volume's folder.
func files(t *testing.T, v Volume) []string {
	t.Helper()
	ents, err := os.ReadDir(v.Mountpoint)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func use(t *testing.T, s *Store, name string, fill Fill) *Lease {
	t.Helper()
	l, err := s.Use(context.Background(), name, fill)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestUseFills: a volume is filled when it is new, or empty and unused;
// one with content is used as it is.
func TestUseFills(t *testing.T) {
	for _, tc := range []struct {
		name        string
		setup       func(t *testing.T, s *Store) // before the Use under test
		fill        Fill
		wantFiles   []string
		wantCreated bool
		wantFilled  bool
	}{
		{"new, filled", nil, writer("a", "1"), []string{"a"}, true, true},
		{"new, no fill", nil, nil, nil, true, false},
		{"created empty, filled at first use", func(t *testing.T, s *Store) {
			if _, _, err := s.Create(context.Background(), "vol"); err != nil {
				t.Fatal(err)
			}
		}, writer("a", "1"), []string{"a"}, false, true},
		{"with content, used as is", func(t *testing.T, s *Store) {
			use(t, s, "vol", writer("old", "0")).Release()
		}, writer("a", "1"), []string{"old"}, false, false},
		{"emptied by its user, filled again (as Docker does)", func(t *testing.T, s *Store) {
			l := use(t, s, "vol", writer("old", "0"))
			if err := os.Remove(filepath.Join(l.Mountpoint, "old")); err != nil {
				t.Fatal(err)
			}
			l.Release()
		}, writer("a", "1"), []string{"a"}, false, true},
		{"empty but in use, used as is", func(t *testing.T, s *Store) {
			use(t, s, "vol", nil) // never released
		}, writer("a", "1"), nil, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newStore(t)
			if tc.setup != nil {
				tc.setup(t, s)
			}
			l := use(t, s, "vol", tc.fill)
			defer l.Release()
			if got := files(t, l.Volume); !reflect.DeepEqual(got, tc.wantFiles) {
				t.Errorf("files %q, want %q", got, tc.wantFiles)
			}
			if l.Created != tc.wantCreated || l.Filled != tc.wantFilled {
				t.Errorf("created %v filled %v, want %v %v", l.Created, l.Filled, tc.wantCreated, tc.wantFilled)
			}
			if l.LastUsedAt.IsZero() || l.CreatedAt.IsZero() || l.LastUsedAt.Before(l.CreatedAt) {
				t.Errorf("times: created %v, last used %v", l.CreatedAt, l.LastUsedAt)
			}
		})
	}
}

// TestUseFillFails: a volume whose first filling fails is not created.
func TestUseFillFails(t *testing.T) {
	s, dir := newStore(t)
	boom := errors.New("boom")
	_, err := s.Use(context.Background(), "vol", func(string) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("Use = %v, want boom", err)
	}
	if _, err := s.Get("vol"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after a failed fill = %v, want ErrNotFound", err)
	}
	if left := dotFolders(t, dir); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

// dotFolders lists what the store holds beside its volumes and locks.
func dotFolders(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if n := e.Name(); n[0] == '.' && n != locksDir {
			out = append(out, n)
		}
	}
	return out
}

func TestRemove(t *testing.T) {
	s, _ := newStore(t)
	l := use(t, s, "busy", writer("f", "x"))
	defer l.Release()
	use(t, s, "idle", writer("f", "y")).Release()
	for _, tc := range []struct {
		name string
		want error
	}{
		{"busy", ErrInUse},
		{"idle", nil},
		{"idle", ErrNotFound}, // removed already
		{"never", ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := s.Remove(tc.name)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("Remove(%s) = %v, want %v", tc.name, err, tc.want)
			}
			if err == nil && (r.Name != tc.name || r.Bytes <= 0) {
				t.Errorf("Remove(%s) = %+v", tc.name, r)
			}
		})
	}
	for name, want := range map[string]bool{"busy": true, "idle": false, "never": false} {
		if got, err := s.InUse(name); got != want || err != nil {
			t.Errorf("InUse(%s) = %v, %v; want %v", name, got, err, want)
		}
	}
	if _, err := s.Remove("a"); err == nil {
		t.Error("Remove of an invalid name succeeded")
	}
	if got := files(t, l.Volume); !reflect.DeepEqual(got, []string{"f"}) {
		t.Errorf("the busy volume holds %q", got)
	}
	// Released, it can go.
	l.Release()
	if _, err := s.Remove("busy"); err != nil {
		t.Errorf("Remove after release: %v", err)
	}
}

func TestListAndGet(t *testing.T) {
	s, dir := newStore(t)
	if vols, bad, err := s.List(); len(vols) != 0 || len(bad) != 0 || err != nil {
		t.Fatalf("List of a fresh root = %v %v %v", vols, bad, err)
	}
	for _, n := range []string{"zz", "aa", "mm"} {
		if _, _, err := s.Create(context.Background(), n); err != nil {
			t.Fatal(err)
		}
	}
	// Not volumes: a stray file, a folder with an invalid name, a
	// creation a crash interrupted.
	for _, p := range []string{"stray", "x/", ".new+qq+123/data/"} {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o700); err != nil {
			t.Fatal(err)
		}
		if p[len(p)-1] != '/' {
			if err := os.WriteFile(full, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A damaged one.
	if err := os.WriteFile(filepath.Join(dir, "mm", metaFile), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	vols, bad, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, v := range vols {
		names = append(names, v.Name)
		if v.Mountpoint != filepath.Join(dir, v.Name, dataDir) || !v.LastUsedAt.IsZero() {
			t.Errorf("volume %+v", v)
		}
	}
	if !reflect.DeepEqual(names, []string{"aa", "zz"}) || len(bad) != 1 {
		t.Errorf("List = %q, unreadable %v; want aa, zz and mm unreadable", names, bad)
	}
	if _, err := s.Get("qq"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get of a half-created volume = %v, want ErrNotFound", err)
	}
	// A damaged volume can still be removed.
	if _, err := s.Remove("mm"); err != nil {
		t.Errorf("Remove of a damaged volume: %v", err)
	}
}

// TestPrune: unused volumes go, used ones stay, and so does nothing a
// crash left.
func TestPrune(t *testing.T) {
	s, dir := newStore(t)
	busy := use(t, s, "busy", writer("f", "x"))
	defer busy.Release()
	use(t, s, "idle1", writer("f", "y")).Release()
	use(t, s, "idle2", nil).Release()
	// Crashes: a creation of "gone", a filling and a removal of "idle1".
	for _, p := range []string{".new+gone+1/data/f", ".fill+idle1+2/f", ".rm+idle1+3/data/f", "idle1/.volume.json.tmp-4"} {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// A filling of "busy" in progress: its writer holds the lock.
	live := filepath.Join(dir, ".fill+busy+5")
	if err := os.Mkdir(live, 0o700); err != nil {
		t.Fatal(err)
	}
	res, err := s.Prune()
	if err != nil {
		t.Fatal(err)
	}
	var removed []string
	for _, r := range res.Removed {
		removed = append(removed, r.Name)
	}
	if !reflect.DeepEqual(removed, []string{"idle1", "idle2"}) || !reflect.DeepEqual(res.InUse, []string{"busy"}) || res.Bytes() <= 0 {
		t.Errorf("Prune = %+v", res)
	}
	if left := dotFolders(t, dir); !reflect.DeepEqual(left, []string{".fill+busy+5"}) {
		t.Errorf("left after prune: %v, want only the live .fill+busy+5", left)
	}
	vols, _, _ := s.List()
	if len(vols) != 1 || vols[0].Name != "busy" {
		t.Errorf("List after prune = %+v", vols)
	}
}

func TestTempOwner(t *testing.T) {
	for _, tc := range []struct{ entry, want string }{
		{".new+data+123", "data"},
		{".fill+my.vol-1+9", "my.vol-1"},
		{".rm+a-b+77", "a-b"},
		{".new+a+1", ""}, // not a volume name
		{".locks", ""},
		{"data", ""},
		{".other+data+1", ""},
	} {
		if got := tempOwner(tc.entry); got != tc.want {
			t.Errorf("tempOwner(%q) = %q, want %q", tc.entry, got, tc.want)
		}
	}
}

// TestUseCancelled: a Use waiting for a removal gives up when its
// context ends.
func TestUseCancelled(t *testing.T) {
	s, _ := newStore(t)
	use(t, s, "vol", nil).Release()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// Held exclusively (a removal), a cancelled Use gives up.
	l, err := flock.Acquire(context.Background(), s.lockPath("vol"), flock.Exclusive, lockPerm)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	if _, err := s.Use(ctx, "vol", nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Use with the lock held elsewhere and ctx cancelled = %v", err)
	}
}

// TestConcurrentUse: containers starting together on a new volume share
// one, created and filled once; a removal racing with them never takes a
// volume from under a lease.
func TestConcurrentUse(t *testing.T) {
	s, _ := newStore(t)
	const n = 16
	var wg sync.WaitGroup
	var created atomic.Int32
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			l, err := s.Use(context.Background(), "vol", writer("f", strconv.Itoa(i)))
			if err != nil {
				errs <- err
				return
			}
			defer l.Release()
			if l.Created {
				created.Add(1)
			}
			if _, err := os.ReadFile(filepath.Join(l.Mountpoint, "f")); err != nil {
				errs <- fmt.Errorf("while leased: %w", err)
			}
		}()
		go func() {
			defer wg.Done()
			if _, err := s.Remove("vol"); err != nil && !errors.Is(err, ErrInUse) && !errors.Is(err, ErrNotFound) {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if created.Load() < 1 {
		t.Error("no Use created the volume")
	}
}
