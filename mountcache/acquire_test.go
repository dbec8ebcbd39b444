package mountcache

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minibuild/minibuild/internal/flock"
)

// TestSharing: a second lease of an id, taken while a first holds it,
// shares the first's directory, gets one of its own, or waits until the
// first is released, as the two leases' sharing modes say (BuildKit's
// rules: shared leases share one instance; private and locked ones hold
// theirs alone; only a locked lease waits, and only for an instance in
// use).
func TestSharing(t *testing.T) {
	tests := []struct {
		first, second Sharing
		same          bool // the second lease gets the first's directory
		waits         bool // ... once the first is released
	}{
		{Shared, Shared, true, false},
		{"", Shared, true, false}, // empty is shared
		{Shared, Private, false, false},
		{Private, Private, false, false},
		{Private, Shared, false, false},
		{Locked, Shared, false, false},
		{Locked, Private, false, false},
		{Locked, Locked, true, true},
		{Shared, Locked, true, true},
		{Private, Locked, true, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s then %s", tt.first, tt.second), func(t *testing.T) {
			c := newCache(t)
			a := acquire(t, c, Options{ID: "go-build", Sharing: tt.first})
			writeFile(t, a.Dir(), "from-a", "a")
			var released atomic.Bool
			type got struct {
				l            *Lease
				err          error
				afterRelease bool
			}
			done := make(chan got, 1)
			go func() {
				l, err := c.Acquire(context.Background(), Options{ID: "go-build", Sharing: tt.second})
				done <- got{l, err, released.Load()}
			}()
			var b got
			if tt.waits {
				// Not the proof, only the chance for the second to start
				// waiting: the proof is that it has not returned while the
				// first held the lock, and returned after.
				time.Sleep(50 * time.Millisecond)
				select {
				case b = <-done:
					t.Fatalf("the second lease came while the first held it: %v, %v", b.l, b.err)
				default:
				}
				released.Store(true)
				release(t, a)
			}
			select {
			case b = <-done:
			case <-time.After(patience):
				t.Fatal("the second Acquire never returned")
			}
			if b.err != nil {
				t.Fatal(b.err)
			}
			t.Cleanup(func() { b.l.Release() })
			if tt.waits != b.afterRelease {
				t.Errorf("second lease came after the first's release: %v, want %v", b.afterRelease, tt.waits)
			}
			if same := a.Dir() == b.l.Dir(); same != tt.same {
				t.Fatalf("same directory = %v, want %v (%s, %s)", same, tt.same, a.Dir(), b.l.Dir())
			}
			if tt.same != hasFile(b.l.Dir(), "from-a", "a") {
				t.Errorf("the second lease sees the first's file: %v, want %v", !tt.same, tt.same)
			}
			if tt.same && !tt.waits {
				writeFile(t, b.l.Dir(), "from-b", "b")
				if !hasFile(a.Dir(), "from-b", "b") {
					t.Error("the first lease does not see the second's file")
				}
			}
			wantInstance := 0
			if !tt.same {
				wantInstance = 1
			}
			if b.l.Instance() != wantInstance {
				t.Errorf("second lease's instance %d, want %d", b.l.Instance(), wantInstance)
			}
		})
	}
}

// TestFreeInstanceReused: once released, an instance a private lease made
// serves the next leases: the lowest-numbered free one first, and a locked
// lease takes any free one rather than wait.
func TestFreeInstanceReused(t *testing.T) {
	c := newCache(t)
	p0 := acquire(t, c, Options{ID: "x", Sharing: Private})
	p1 := acquire(t, c, Options{ID: "x", Sharing: Private})
	if p0.Instance() != 0 || p1.Instance() != 1 {
		t.Fatalf("instances %d, %d; want 0, 1", p0.Instance(), p1.Instance())
	}
	release(t, p1)
	l := acquire(t, c, Options{ID: "x", Sharing: Locked})
	if l.Instance() != 1 {
		t.Errorf("locked lease while 0 is held got instance %d, want the free 1", l.Instance())
	}
	release(t, l)
	release(t, p0)
	if p := acquire(t, c, Options{ID: "x", Sharing: Private}); p.Instance() != 0 {
		t.Errorf("private lease with all free got instance %d, want 0", p.Instance())
	}
	if n := len(list(t, c)); n != 2 {
		t.Errorf("%d instances listed, want 2", n)
	}
}

// TestAcquireCancelled: a done context ends a wait, for a locked lease
// whose instance is in use and for any lease while another seeds the id;
// the waiter gets no lease and the holder keeps its own.
func TestAcquireCancelled(t *testing.T) {
	t.Run("locked lease in use", func(t *testing.T) {
		c := newCache(t)
		held := acquire(t, c, Options{ID: "apt", Sharing: Locked})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			l, err := c.Acquire(ctx, Options{ID: "apt", Sharing: Locked})
			if l != nil {
				l.Release()
			}
			done <- err
		}()
		time.Sleep(20 * time.Millisecond)
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Acquire = %v, want context.Canceled", err)
			}
		case <-time.After(patience):
			t.Fatal("a cancelled Acquire kept waiting")
		}
		if free, _ := isFree(held); free {
			t.Error("the holder lost its lock")
		}
	})
	t.Run("another seeds", func(t *testing.T) {
		c := newCache(t)
		seeding, finish, seeded := make(chan struct{}), make(chan struct{}), make(chan struct{})
		go func() {
			defer close(seeded)
			l, err := c.Acquire(context.Background(), Options{ID: "s", Seed: func(string) error {
				close(seeding)
				<-finish
				return nil
			}})
			if err == nil {
				l.Release()
			}
		}()
		<-seeding
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		defer cancel()
		_, err := c.Acquire(ctx, Options{ID: "s", Sharing: Shared})
		close(finish)
		<-seeded
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Acquire while another seeds = %v, want context.DeadlineExceeded", err)
		}
	})
	t.Run("done before", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		c := newCache(t)
		if l, err := c.Acquire(ctx, Options{ID: "free"}); !errors.Is(err, context.Canceled) || l != nil {
			t.Errorf("Acquire = %v, %v; want context.Canceled", l, err)
		}
	})
}

// isFree reports whether nobody holds l's instance lock.
func isFree(l *Lease) (bool, error) {
	return flock.Free(filepath.Join(l.dir, lockName))
}

// TestBadOptions: what Acquire refuses.
func TestBadOptions(t *testing.T) {
	c := newCache(t)
	for _, o := range []Options{{}, {ID: "x", Sharing: "exclusive"}, {ID: "x", UID: -1}} {
		if l, err := c.Acquire(context.Background(), o); err == nil {
			l.Release()
			t.Errorf("Acquire(%+v) succeeded", o)
		}
	}
	if got := onDisk(t, c); len(got) != 0 {
		t.Errorf("refused options left %v", got)
	}
}

// TestConcurrentLeases: many goroutines leasing one id in every mode
// while others prune it never see a lease's directory vanish or an
// exclusive lease shared.
func TestConcurrentLeases(t *testing.T) {
	c := newCache(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	var exclusive sync.Map // instance dir -> holder, for exclusive leases
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sharing := []Sharing{Shared, Private, Locked}[g%3]
			for i := range 15 {
				l, err := c.Acquire(ctx, Options{ID: "busy", Sharing: sharing})
				if err != nil {
					errs <- err
					return
				}
				mine := fmt.Sprintf("%d-%d", g, i)
				if sharing != Shared {
					if other, taken := exclusive.LoadOrStore(l.Dir(), mine); taken {
						errs <- fmt.Errorf("%s lease %s shares %s with %v", sharing, mine, l.Dir(), other)
					}
				}
				if err := os.WriteFile(l.Dir()+"/"+mine, []byte(mine), 0o644); err != nil {
					errs <- fmt.Errorf("writing into a held lease: %w", err)
				}
				if !hasFile(l.Dir(), mine, mine) {
					errs <- fmt.Errorf("lease %s lost its file", mine)
				}
				if sharing != Shared {
					exclusive.Delete(l.Dir())
				}
				if err := l.Release(); err != nil {
					errs <- err
				}
			}
		}()
	}
	stop := make(chan struct{})
	pruned := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				pruned <- n
				return
			default:
			}
			res, err := c.Prune(ctx)
			if err != nil {
				errs <- err
			}
			n += len(res.Removed)
		}
	}()
	wg.Wait()
	close(stop)
	t.Logf("prune removed %d instances meanwhile", <-pruned)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestAcquireTouches: Acquire and Release both move the last use on, and
// the creation time stays.
func TestAcquireTouches(t *testing.T) {
	c := newCache(t)
	start := time.Now()
	release(t, acquire(t, c, Options{ID: "t"}))
	first := list(t, c)[0]
	if first.Created.Before(start.Add(-time.Second)) || first.LastUsed.Before(first.Created) {
		t.Fatalf("after the first lease: %+v", first)
	}
	time.Sleep(10 * time.Millisecond)
	l := acquire(t, c, Options{ID: "t"})
	during := list(t, c)[0]
	time.Sleep(10 * time.Millisecond)
	release(t, l)
	after := list(t, c)[0]
	if !during.LastUsed.After(first.LastUsed) || !after.LastUsed.After(during.LastUsed) {
		t.Errorf("last used %v, %v, %v; want increasing", first.LastUsed, during.LastUsed, after.LastUsed)
	}
	if !after.Created.Equal(first.Created) || !during.InUse || after.InUse {
		t.Errorf("created %v then %v, in use %v then %v", first.Created, after.Created, during.InUse, after.InUse)
	}
}
