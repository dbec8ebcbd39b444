package builder

import (
	"slices"
	"sync"
	"testing"
)

func TestInOrder(t *testing.T) {
	tests := []struct {
		name string
		// script: "d" gives a Do, "g" a Go whose function blocks until
		// released; each appends its position to the log.
		script string
		// inline is how many functions must have run by the time the
		// script is given, before any Go is released.
		inline int
	}{
		{name: "Do alone runs at once", script: "ddd", inline: 3},
		{name: "Do waits behind a Go", script: "dgdd", inline: 1},
		{name: "two Gos in a row", script: "gdgd", inline: 0},
		{name: "Go last", script: "ddg", inline: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var o inOrder
			var mu sync.Mutex
			var log []int
			add := func(i int) {
				mu.Lock()
				log = append(log, i)
				mu.Unlock()
			}
			release := make(chan struct{})
			for i, c := range tc.script {
				if c == 'g' {
					o.Go(func() { <-release; add(i) })
				} else {
					o.Do(func() { add(i) })
				}
			}
			mu.Lock()
			ran := len(log)
			mu.Unlock()
			if ran != tc.inline {
				t.Errorf("%d ran before the slow functions were released, want %d", ran, tc.inline)
			}
			close(release)
			o.Wait()
			want := make([]int, len(tc.script))
			for i := range want {
				want[i] = i
			}
			if !slices.Equal(log, want) {
				t.Errorf("ran in order %v, want %v", log, want)
			}
			// Once idle, a Do runs at once again.
			o.Do(func() { add(-1) })
			if log[len(log)-1] != -1 {
				t.Error("a Do after Wait did not run at once")
			}
		})
	}
}
