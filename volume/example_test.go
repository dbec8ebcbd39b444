package volume_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/minibuild/minibuild/rootdir"
	"github.com/minibuild/minibuild/volume"
)

func Example() {
	root, _ := os.MkdirTemp("", "minibuild-root-")
	defer os.RemoveAll(root)
	vols := volume.At(rootdir.At(root))

	// A container mounts the volume "data": it is created and, being new,
	// filled (with what the image holds at the mount's target).
	lease, err := vols.Use(context.Background(), "data", func(dir string) error {
		return os.WriteFile(filepath.Join(dir, "greeting"), []byte("hello\n"), 0o644)
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(lease.Name, lease.Created, lease.Filled)
	// In use, it cannot be removed.
	_, err = vols.Remove("data")
	fmt.Println(err)
	lease.Release()

	// The next container finds it as the last one left it.
	lease, _ = vols.Use(context.Background(), "data", nil)
	b, _ := os.ReadFile(filepath.Join(lease.Mountpoint, "greeting"))
	fmt.Print(lease.Created, " ", string(b))
	lease.Release()

	res, _ := vols.Prune()
	fmt.Println(len(res.Removed), res.Removed[0].Name)
	// Output:
	// data true true
	// volume data: in use by a running container
	// false hello
	// 1 data
}
