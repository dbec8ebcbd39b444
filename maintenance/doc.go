// Package maintenance prunes, verifies, measures and cleans up a whole minibuild root: the store, the build cache and the snapshots.
package maintenance
