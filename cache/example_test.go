package cache_test

import (
	"fmt"
	"log"
	"os"

	"github.com/minibuild/minibuild/cache"
	"github.com/minibuild/minibuild/rootdir"
)

func Example() {
	dir, err := os.MkdirTemp("", "cache-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	c, err := cache.Open(rootdir.At(dir))
	if err != nil {
		log.Fatal(err)
	}
	key := cache.KeyInput{Platform: "linux/amd64", Instruction: `ENV A=1`, Parent: ""}.Key()
	if err := c.Put(cache.Entry{Key: key, CreatedBy: "ENV A=1"}); err != nil {
		log.Fatal(err)
	}
	e, ok, err := c.Get(key)
	fmt.Println(ok, err, e.CreatedBy, e.Layer == nil)
	// Output: true <nil> ENV A=1 true
}
