package views

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/minibuild/minibuild/manifest"
)

// PrintIndex prints an image index's manifests as a table, in the
// index's order: PLATFORM ("-" for none), DIGEST (in full) and SIZE (the
// manifest's, in bytes, as the index records it).
func PrintIndex(w io.Writer, children []manifest.Child) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PLATFORM\tDIGEST\tSIZE")
	for _, c := range children {
		p := c.Platform
		if p == "" {
			p = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\n", p, c.Descriptor.Digest, c.Descriptor.Size)
	}
	return tw.Flush()
}
