package mountcache_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/minibuild/minibuild/mountcache"
	"github.com/minibuild/minibuild/rootdir"
)

// A builder leases the directory of RUN --mount=type=cache,target=/root/.cache/go-build
// for the step, binds lease.Dir() at the target, and releases it after.
func Example() {
	root, _ := os.MkdirTemp("", "minibuild-")
	defer os.RemoveAll(root)
	c := mountcache.Open(rootdir.At(root))

	lease, err := c.Acquire(context.Background(), mountcache.Options{
		ID:      "/root/.cache/go-build",
		Sharing: mountcache.Locked,
		Mode:    0o755,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = os.WriteFile(filepath.Join(lease.Dir(), "built"), []byte("objects"), 0o644)
	_ = lease.Release()

	infos, _ := c.List()
	for _, i := range infos {
		fmt.Printf("%s instance %d, in use: %v\n", i.ID, i.Instance, i.InUse)
	}
	res, _ := c.Prune(context.Background())
	fmt.Println("removed", len(res.Removed))
	// Output:
	// /root/.cache/go-build instance 0, in use: false
	// removed 1
}
