// Package views gathers and prints what minibuild shows about a store: its images, their histories and shared layers, how two images differ, the report's picture of a build, the cache's entries, the volumes, disk use and verify findings.
package views
