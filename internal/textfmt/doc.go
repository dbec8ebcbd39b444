// Package textfmt formats sizes, digests and text for one line of a terminal or a table.
package textfmt
