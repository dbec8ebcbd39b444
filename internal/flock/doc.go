// Package flock takes and releases flock(2) locks on lock files, shared or exclusive, waiting or not.
package flock
