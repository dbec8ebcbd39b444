// Package imagediff tells how two images differ: their configs field by field, their layers position by position, and their flattened file systems file by file, read from the layer tars as streams.
package imagediff
