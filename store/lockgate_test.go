package store

import (
	"context"
	"testing"
	"time"
)

// TestExclusiveWaiterIsNotStarved: while a prune waits for a running
// build, a build that starts meanwhile queues behind the prune instead of
// joining the running one, so a stream of builds cannot starve it.
func TestExclusiveWaiterIsNotStarved(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	running, err := s.Lock(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	pruned := make(chan func(), 1)
	go func() {
		unlock, err := s.Lock(ctx, true)
		if err != nil {
			t.Error(err)
			close(pruned)
			return
		}
		pruned <- unlock
	}()
	time.Sleep(100 * time.Millisecond) // the prune is waiting now
	if _, err := tryLock(s, false); err == nil {
		t.Fatal("a new build joined the running one ahead of the waiting prune")
	}
	running()
	unlockPrune, ok := <-pruned
	if !ok {
		t.FailNow()
	}
	if _, err := tryLock(s, false); err == nil {
		t.Fatal("a build ran beside the prune")
	}
	unlockPrune()
	unlock, err := tryLock(s, false)
	if err != nil {
		t.Fatalf("a build could not start after the prune: %v", err)
	}
	unlock()
	free, ok, err := s.TryLock(true)
	if !ok || err != nil {
		t.Fatalf("TryLock on a free store = %v, %v", ok, err)
	}
	free()
}
