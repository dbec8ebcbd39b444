// Package cache derives build-step cache keys and stores, per key, the layer and metadata a step produced.
package cache
