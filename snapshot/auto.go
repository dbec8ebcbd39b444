package snapshot

import (
	"context"
	"sync"
)

// NewAuto returns a snapshotter that uses overlay snapshots when overlayfs
// works under stateDir (CheckOverlay) and native ones otherwise, calling
// fallback (unless nil) with the reason when it falls back. It decides on
// the first Prepare, not before: a build whose every step is a cache hit
// prepares no rootfs and pays for no probe mount.
func NewAuto(stateDir string, u *Unpacker, fallback func(reason error)) Snapshotter {
	return &auto{stateDir: stateDir, u: u, fallback: fallback}
}

type auto struct {
	stateDir string
	u        *Unpacker
	fallback func(error)

	once   sync.Once
	chosen Snapshotter
}

// Prepare implements Snapshotter.
func (a *auto) Prepare(ctx context.Context, chain []Layer) (Mount, error) {
	a.once.Do(func() {
		err := CheckOverlay(a.stateDir)
		if err == nil {
			a.chosen = NewOverlay(a.stateDir, a.u)
			return
		}
		a.chosen = NewNative(a.stateDir)
		if a.fallback != nil {
			a.fallback(err)
		}
	})
	return a.chosen.Prepare(ctx, chain)
}
