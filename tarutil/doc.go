// Package tarutil writes deterministic, compressed layer tars and applies layer tars to directories safely.
package tarutil
