package mountcache

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

// TestNewDirectory: a new directory gets the mode (whatever the umask)
// and the owner asked for; an existing one keeps its own.
func TestNewDirectory(t *testing.T) {
	tests := []struct {
		name     string
		mode     os.FileMode
		uid, gid int
		wantMode os.FileMode
	}{
		{"defaults", 0, 0, 0, 0o755},
		{"private", 0o700, 0, 0, 0o700},
		{"all, past the umask", 0o777, 0, 0, 0o777},
		{"sticky", 0o777 | os.ModeSticky, 0, 0, 0o777 | os.ModeSticky},
		{"setgid, owned", 0o775 | os.ModeSetgid, 1234, 5678, 0o775 | os.ModeSetgid},
		{"file type bits ignored", os.ModeDir | 0o750, 0, 0, 0o750},
		{"me", 0o700, os.Geteuid(), os.Getegid(), 0o700},
	}
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if os.Geteuid() != 0 && (tt.uid != os.Geteuid() || tt.gid != os.Getegid()) {
				t.Skip("needs root to own a directory by others")
			}
			c := newCache(t)
			l := acquire(t, c, Options{ID: "m", Mode: tt.mode, UID: tt.uid, GID: tt.gid})
			checkDir(t, l.Dir(), tt.wantMode, tt.uid, tt.gid)
			release(t, l)
			again := acquire(t, c, Options{ID: "m", Mode: 0o711, UID: os.Geteuid(), GID: os.Getegid()})
			checkDir(t, again.Dir(), tt.wantMode, tt.uid, tt.gid)
		})
	}
}

func checkDir(t *testing.T, dir string, mode os.FileMode, uid, gid int) {
	t.Helper()
	fi, err := os.Lstat(dir)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if !fi.IsDir() || fi.Mode()&^os.ModeDir != mode || int(st.Uid) != uid || int(st.Gid) != gid {
		t.Errorf("%s: %v %d:%d; want a directory %v %d:%d", dir, fi.Mode(), st.Uid, st.Gid, mode, uid, gid)
	}
}

// TestSeed: Seed fills a new directory once, before any lease sees it,
// however many leases come at once; a new instance is seeded again; a
// failed seed leaves nothing, and the next lease seeds anew.
func TestSeed(t *testing.T) {
	c := newCache(t)
	var calls atomic.Int32
	seed := func(dir string) error {
		calls.Add(1)
		fi, err := os.Stat(dir)
		if err != nil || fi.Mode().Perm() != 0o750 {
			return errors.New("seeded before the mode was set")
		}
		return os.WriteFile(filepath.Join(dir, "seeded"), []byte("yes"), 0o644)
	}
	var wg sync.WaitGroup
	leases := make(chan *Lease, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, err := c.Acquire(context.Background(), Options{ID: "seeded", Mode: 0o750, Seed: seed})
			if err != nil {
				t.Error(err)
				return
			}
			if !hasFile(l.Dir(), "seeded", "yes") {
				t.Error("a lease saw the directory before its seed")
			}
			leases <- l
		}()
	}
	wg.Wait()
	close(leases)
	if n := calls.Load(); n != 1 {
		t.Errorf("Seed called %d times for 8 shared leases, want 1", n)
	}
	for l := range leases {
		defer l.Release()
	}
	p := acquire(t, c, Options{ID: "seeded", Sharing: Private, Mode: 0o750, Seed: seed})
	if calls.Load() != 2 || p.Instance() != 1 || !hasFile(p.Dir(), "seeded", "yes") {
		t.Errorf("a private lease beside the shared ones: instance %d, %d seeds", p.Instance(), calls.Load())
	}

	boom := errors.New("source stage missing")
	_, err := c.Acquire(context.Background(), Options{ID: "fails", Seed: func(dir string) error {
		writeFile(t, dir, "half", "copied")
		return boom
	}})
	if !errors.Is(err, boom) {
		t.Fatalf("Acquire with a failing seed = %v", err)
	}
	for _, i := range list(t, c) {
		if i.ID == "fails" {
			t.Errorf("a failed seed left an instance: %+v", i)
		}
	}
	for _, p := range onDisk(t, c) {
		if strings.Contains(p, newPrefix) {
			t.Errorf("a failed seed left %s", p)
		}
	}
	l := acquire(t, c, Options{ID: "fails", Seed: func(dir string) error {
		writeFile(t, dir, "whole", "copied")
		return nil
	}})
	if hasFile(l.Dir(), "half", "copied") || !hasFile(l.Dir(), "whole", "copied") {
		t.Error("the seed after a failed one does not start afresh")
	}
}

// TestOddIDs: an id is any bytes: slashes, dot-dots, NULs, invalid
// UTF-8, newlines or ten thousand bytes name one folder under ROOT/mounts
// each, come back exact from List and are removed by Remove.
func TestOddIDs(t *testing.T) {
	ids := []string{
		"/root/.cache/go-build", "a/b", "../../../etc", "/", ".", "..",
		"\x00", "nul\x00inside", "\xff\xfe invalid utf-8", "new\nline", "tab\tand \"quotes\"",
		strings.Repeat("long/", 2000), "ünïcödé",
	}
	c := newCache(t)
	dirs := map[string]string{}
	for _, id := range ids {
		l := acquire(t, c, Options{ID: id})
		rel, err := filepath.Rel(c.dir, l.Dir())
		if err != nil || strings.HasPrefix(rel, "..") || strings.Count(rel, "/") != 2 {
			t.Errorf("id %q: directory %s is not ROOT/mounts/HASH/N/data", id, l.Dir())
		}
		if other, dup := dirs[l.Dir()]; dup {
			t.Errorf("ids %q and %q share %s", id, other, l.Dir())
		}
		dirs[l.Dir()] = id
		writeFile(t, l.Dir(), "f", id)
		release(t, l)
	}
	infos := list(t, c)
	if len(infos) != len(ids) {
		t.Fatalf("List gave %d instances, want %d", len(infos), len(ids))
	}
	for _, i := range infos {
		if dirs[i.Dir] != i.ID || !hasFile(i.Dir, "f", i.ID) {
			t.Errorf("List: id %q for %s, want %q", i.ID, i.Dir, dirs[i.Dir])
		}
	}
	res, err := c.Remove(context.Background(), ids...)
	if err != nil || len(res.Removed) != len(ids) {
		t.Fatalf("Remove: %d removed, %v", len(res.Removed), err)
	}
	if left := onDisk(t, c); len(left) != 0 {
		t.Errorf("Remove of every id left %v", left)
	}
}
