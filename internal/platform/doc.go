// Package platform parses, formats, normalizes and matches OCI platforms (os/arch[/variant]).
package platform
