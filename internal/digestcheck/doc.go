// Package digestcheck validates the digests minibuild turns into file names.
package digestcheck
