// Package snapshot gives a build step a writable root file system assembled from a chain of image layers and turns what the step changed into layer entries.
package snapshot
