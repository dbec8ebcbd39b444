package rootdir_test

import (
	"fmt"

	"github.com/minibuild/minibuild/rootdir"
)

func Example() {
	root := rootdir.At("/var/lib/minibuild")
	fmt.Println(root.Index())
	fmt.Println(root.CacheEntries())
	fmt.Println(root.Snapshots())
	// Output:
	// /var/lib/minibuild/index.json
	// /var/lib/minibuild/cache/entries
	// /var/lib/minibuild/snapshots
}
