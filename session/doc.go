// Package session runs one whole build: it imports the remote cache, runs the step loop, tags, writes the outputs, pushes, exports the cache and keeps the build's records.
package session
