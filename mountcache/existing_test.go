package mountcache

import (
	"context"
	"testing"
)

// TestAcquireExisting: a reading lease joins the lowest instance it can
// share, never makes one, and finds none while every instance is held
// alone.
func TestAcquireExisting(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		setup func(t *testing.T, c *Cache)
		want  int // the instance leased; -1 for none
	}{
		{"no instance", func(t *testing.T, c *Cache) {}, -1},
		{"a released one", func(t *testing.T, c *Cache) {
			l := acquire(t, c, Options{ID: "id"})
			writeFile(t, l.Dir(), "f", "x")
			release(t, l)
		}, 0},
		{"one a shared lease holds", func(t *testing.T, c *Cache) {
			writeFile(t, acquire(t, c, Options{ID: "id", Sharing: Shared}).Dir(), "f", "x")
		}, 0},
		{"one a private lease holds", func(t *testing.T, c *Cache) {
			acquire(t, c, Options{ID: "id", Sharing: Private})
		}, -1},
		{"the first one not held alone", func(t *testing.T, c *Cache) {
			acquire(t, c, Options{ID: "id", Sharing: Locked})
			writeFile(t, acquire(t, c, Options{ID: "id", Sharing: Private}).Dir(), "g", "y")
			release(t, acquire(t, c, Options{ID: "id", Sharing: Private}))
		}, 2},
		{"another id only", func(t *testing.T, c *Cache) {
			release(t, acquire(t, c, Options{ID: "other"}))
		}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCache(t)
			tt.setup(t, c)
			before := len(list(t, c))
			l, err := c.AcquireExisting(ctx, "id")
			if err != nil {
				t.Fatal(err)
			}
			if after := len(list(t, c)); after != before {
				t.Errorf("%d instances before, %d after: AcquireExisting made one", before, after)
			}
			if tt.want < 0 {
				if l != nil {
					t.Errorf("leased instance %d, want none", l.Instance())
				}
				return
			}
			if l == nil {
				t.Fatalf("no lease, want instance %d", tt.want)
			}
			defer release(t, l)
			if l.Instance() != tt.want {
				t.Errorf("leased instance %d, want %d", l.Instance(), tt.want)
			}
			// A build's shared lease joins the instance meanwhile.
			if s := acquire(t, c, Options{ID: "id", Sharing: Shared}); tt.want == 0 && s.Instance() != 0 {
				t.Errorf("a shared lease got instance %d beside the reading lease of 0", s.Instance())
			}
		})
	}
	if _, err := newCache(t).AcquireExisting(ctx, ""); err == nil {
		t.Error("an empty id was accepted")
	}
}
