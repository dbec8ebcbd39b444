// Package views gathers what minibuild shows about the images in a store: the list, their histories, the layers they share, and the report's picture of a build.
package views
