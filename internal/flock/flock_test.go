package flock

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestConflicts: two locks on one file, each through its own descriptor,
// exclude each other unless both are shared.
func TestConflicts(t *testing.T) {
	tests := []struct {
		name        string
		held, want  Mode
		wantGranted bool
	}{
		{"shared beside shared", Shared, Shared, true},
		{"exclusive beside shared", Shared, Exclusive, false},
		{"shared beside exclusive", Exclusive, Shared, false},
		{"exclusive beside exclusive", Exclusive, Exclusive, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			held, err := Acquire(context.Background(), path, tt.held, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			defer held.Unlock()
			for name, take := range map[string]func() (*Lock, error){
				"TryAcquire":  func() (*Lock, error) { return TryAcquire(path, tt.want, 0o644) },
				"TryExisting": func() (*Lock, error) { return TryExisting(path, tt.want) },
				"Acquire": func() (*Lock, error) {
					ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
					defer cancel()
					return Acquire(ctx, path, tt.want, 0o644)
				},
			} {
				l, err := take()
				switch {
				case tt.wantGranted && (err != nil || l == nil):
					t.Errorf("%s = %v, %v; want the lock", name, l, err)
				case !tt.wantGranted && name == "Acquire" && !errors.Is(err, context.DeadlineExceeded):
					t.Errorf("%s = %v, %v; want a wait ended by the deadline", name, l, err)
				case !tt.wantGranted && name != "Acquire" && (err != nil || l != nil):
					t.Errorf("%s = %v, %v; want (nil, nil)", name, l, err)
				}
				if l != nil {
					l.Unlock()
				}
			}
			free, err := Free(path)
			if err != nil || free {
				t.Errorf("Free = %v, %v while held", free, err)
			}
			if err := held.Unlock(); err != nil {
				t.Fatal(err)
			}
			if err := held.Unlock(); err != nil {
				t.Errorf("second Unlock = %v", err)
			}
			if free, err := Free(path); err != nil || !free {
				t.Errorf("Free = %v, %v after Unlock", free, err)
			}
		})
	}
}

// TestAcquireWaits: a waiting Acquire gets the lock once it is released,
// both when it blocks (no cancellation) and when it polls.
func TestAcquireWaits(t *testing.T) {
	cancellable, cancel := context.WithCancel(context.Background())
	defer cancel()
	for name, ctx := range map[string]context.Context{"blocking": context.Background(), "polling": cancellable} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			held, err := Acquire(ctx, path, Exclusive, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			got := make(chan error, 1)
			go func() {
				l, err := Acquire(ctx, path, Shared, 0o600)
				if err == nil {
					err = l.Unlock()
				}
				got <- err
			}()
			select {
			case err := <-got:
				t.Fatalf("Acquire returned %v while the lock was held", err)
			case <-time.After(50 * time.Millisecond):
			}
			held.Unlock()
			if err := <-got; err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestFilesCreated: what each function creates, with which mode, and how
// it treats a missing file or a symlink.
func TestFilesCreated(t *testing.T) {
	tests := []struct {
		name    string
		take    func(path string) (*Lock, error)
		creates bool
	}{
		{"Acquire", func(p string) (*Lock, error) { return Acquire(context.Background(), p, Exclusive, 0o600) }, true},
		{"TryAcquire", func(p string) (*Lock, error) { return TryAcquire(p, Shared, 0o600) }, true},
		{"TryCreate", func(p string) (*Lock, error) { return TryCreate(p, 0o600) }, true},
		{"TryExisting", func(p string) (*Lock, error) { return TryExisting(p, Exclusive) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "x.lock")
			l, err := tt.take(path)
			if err != nil {
				t.Fatal(err)
			}
			fi, statErr := os.Lstat(path)
			switch {
			case tt.creates && (l == nil || statErr != nil || fi.Mode().Perm() != 0o600):
				t.Fatalf("lock %v, file %v, %v; want a held lock on a new 0600 file", l, fi, statErr)
			case !tt.creates && (l != nil || statErr == nil):
				t.Fatalf("lock %v, file %v; want nothing locked or created", l, fi)
			}
			if l != nil {
				l.Unlock()
			}
			link := filepath.Join(dir, "link.lock")
			if err := os.Symlink(path, link); err != nil {
				t.Fatal(err)
			}
			if l, err := tt.take(link); err == nil {
				l.Unlock()
				t.Errorf("a lock through a symlink was taken")
			}
		})
	}
	if free, err := Free(filepath.Join(t.TempDir(), "missing.lock")); err != nil || !free {
		t.Errorf("Free of a missing file = %v, %v; want true", free, err)
	}
}

// TestTryCreateRefusesExisting: TryCreate is for a lock file nobody can
// have opened yet.
func TestTryCreateRefusesExisting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if l, err := TryCreate(path, 0o600); err == nil {
		l.Unlock()
		t.Fatal("TryCreate took an existing file")
	}
}

// TestAcquireCancelled: a cancelled wait says what it waited for.
func TestAcquireCancelled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	held, err := Acquire(context.Background(), path, Exclusive, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Acquire(ctx, path, Exclusive, 0o644)
	if !errors.Is(err, context.Canceled) || err.Error() != "waiting for lock "+path+": context canceled" {
		t.Errorf("Acquire = %v", err)
	}
}

// TestNames: a lock names its path until the lock file is removed,
// renamed or replaced, which a waiter that got the lock of a file another
// process deleted meanwhile must notice.
func TestNames(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, path string)
		want   bool
	}{
		{"untouched", func(*testing.T, string) {}, true},
		{"removed", func(t *testing.T, p string) { mustDo(t, os.Remove(p)) }, false},
		{"renamed", func(t *testing.T, p string) { mustDo(t, os.Rename(p, p+".old")) }, false},
		{"replaced", func(t *testing.T, p string) {
			mustDo(t, os.Remove(p))
			mustDo(t, os.WriteFile(p, nil, 0o600))
		}, false},
		{"parent renamed", func(t *testing.T, p string) {
			dir := filepath.Dir(p)
			mustDo(t, os.Rename(dir, dir+".old"))
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "d", "x.lock")
			mustDo(t, os.Mkdir(filepath.Dir(path), 0o700))
			l, err := Acquire(context.Background(), path, Shared, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Unlock()
			tt.change(t, path)
			if got, err := l.Names(path); got != tt.want || err != nil {
				t.Errorf("Names = %v, %v; want %v, nil", got, err, tt.want)
			}
		})
	}
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
