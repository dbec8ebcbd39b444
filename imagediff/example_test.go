package imagediff

import (
	"context"
	"fmt"
	"testing"

	"github.com/minibuild/minibuild/builder"
)

// Two builds of one Dockerfile whose second layer differs in one file:
// the base layer is shared, and the file says what changed.
func ExampleCompare() {
	t := &testing.T{}
	base := layerTar(t, dir("etc"), file("etc/os-release", "ID=test"))
	a := testImage(t, "app:1", builder.Image{}, base, layerTar(t, file("app/version", "1.0")))
	b := testImage(t, "app:2", builder.Image{}, base, layerTar(t, file("app/version", "1.0.1")))

	res, err := Compare(context.Background(), a, b, Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range res.Layers {
		fmt.Println("layer", l.Index, "shared:", l.Shared)
	}
	for _, f := range res.Files {
		fmt.Println(f.Kind, f.Path, f.Changes, f.A.Size, "->", f.B.Size)
	}
	fmt.Println("differ:", res.Differ)
	// Output:
	// layer 0 shared: true
	// layer 1 shared: false
	// C /app/version [content] 3 -> 5
	// differ: true
}
