package snapshot

import (
	"context"
	"sync"
)

// NewAuto returns a snapshotter that uses overlay snapshots when overlayfs
// works under stateDir (OverlaySupported) and native ones otherwise. It
// decides on the first Prepare, not before: a build whose every step is a
// cache hit prepares no rootfs and pays for no probe mount.
func NewAuto(stateDir string, u *Unpacker) Snapshotter {
	return &auto{stateDir: stateDir, u: u}
}

type auto struct {
	stateDir string
	u        *Unpacker

	once   sync.Once
	chosen Snapshotter
}

// Prepare implements Snapshotter.
func (a *auto) Prepare(ctx context.Context, chain []Layer) (Mount, error) {
	a.once.Do(func() {
		if OverlaySupported(a.stateDir) {
			a.chosen = NewOverlay(a.stateDir, a.u)
		} else {
			a.chosen = NewNative(a.stateDir)
		}
	})
	return a.chosen.Prepare(ctx, chain)
}
