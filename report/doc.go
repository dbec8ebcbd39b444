// Package report draws a build as a self-contained HTML page: the image's layer stack as inline SVG, the cache cascade, and a table of reasons.
package report
