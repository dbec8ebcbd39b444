// Package maintenance prunes, verifies, measures and cleans up a whole minibuild root: the store, the build cache, the snapshots and the cache mounts.
package maintenance
