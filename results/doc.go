// Package results keeps each finished build's step results in the store, by image name and manifest digest, for the pictures drawn later.
package results
