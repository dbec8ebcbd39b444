// Package builder runs a Dockerfile's steps against the layer cache and turns them into an image.
package builder
