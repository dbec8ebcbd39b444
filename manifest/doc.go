// Package manifest merges single-platform images of a store into image indexes and resolves a name to one platform's image.
package manifest
