package main

import (
	"sync"

	"github.com/minibuild/minibuild/maintenance"
	"github.com/minibuild/minibuild/store"
)

// cleanOnce makes the clean-up after dead builds run once per process.
var cleanOnce sync.Once

// openStore opens the store at root and, the first time in this process,
// removes what dead builds left in it (maintenance.CleanStale), before
// the caller takes the store lock. The clean-up is best effort: what it
// cannot remove, 'minibuild cache verify' reports.
func openStore(root string) (*store.Store, error) {
	s, err := store.Open(root)
	if err != nil {
		return nil, err
	}
	cleanOnce.Do(func() { _, _ = maintenance.CleanStale(s) })
	return s, nil
}
