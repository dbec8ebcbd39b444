// Package registry pulls images from OCI registries into the store, pushes them back, and exports and imports the remote layer cache, through oras-go.
package registry
