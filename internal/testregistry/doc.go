// Package testregistry runs a real registry (Debian's docker-registry) on loopback for tests.
package testregistry
