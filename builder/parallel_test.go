package builder

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
)

func TestForEach(t *testing.T) {
	tests := []struct {
		name    string
		n       int
		failAt  map[int]bool
		wantErr string
	}{
		{name: "none", n: 0},
		{name: "one", n: 1},
		{name: "many", n: 1000},
		{name: "one failure", n: 100, failAt: map[int]bool{37: true}, wantErr: "item 37"},
		{name: "lowest failure wins", n: 100, failAt: map[int]bool{3: true, 90: true}, wantErr: "item 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make([]atomic.Int32, tt.n)
			err := forEach(context.Background(), tt.n, func(i int) error {
				done[i].Add(1)
				if tt.failAt[i] {
					return fmt.Errorf("item %d", i)
				}
				return nil
			})
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("forEach = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i := range done {
				if got := done[i].Load(); got != 1 {
					t.Fatalf("item %d ran %d times", i, got)
				}
			}
		})
	}
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var ran atomic.Int32
		err := forEach(ctx, 50, func(int) error { ran.Add(1); return nil })
		if !errors.Is(err, context.Canceled) || ran.Load() != 0 {
			t.Fatalf("forEach after cancel = %v with %d calls", err, ran.Load())
		}
	})
}
