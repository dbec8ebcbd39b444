package diskusage_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/minibuild/minibuild/internal/diskusage"
)

func ExampleSize() {
	dir, _ := os.MkdirTemp("", "du-")
	defer os.RemoveAll(dir)
	_ = os.WriteFile(filepath.Join(dir, "f"), make([]byte, 1<<20), 0o644)
	fmt.Println(diskusage.Size(dir) >= 1<<20, diskusage.Size(filepath.Join(dir, "missing")))
	// Output: true 0
}
