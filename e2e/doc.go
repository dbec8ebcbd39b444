// Package e2e drives the built minibuild binary end to end and checks its images with independent tools.
package e2e
