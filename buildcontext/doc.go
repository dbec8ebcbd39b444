// Package buildcontext reads a build context as a confined file tree with Docker's .dockerignore, COPY source and content-hashing semantics.
package buildcontext
