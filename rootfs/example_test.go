package rootfs_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/minibuild/minibuild/rootfs"
)

// A base image's /var/run -> /run symlink is followed within the root, so a
// WORKDIR through it lands under the image's /run, never the host's.
func Example() {
	dir, err := os.MkdirTemp("", "rootfs-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.MkdirAll(filepath.Join(dir, "var"), 0o755); err != nil {
		log.Fatal(err)
	}
	if err := os.Symlink("/run", filepath.Join(dir, "var", "run")); err != nil {
		log.Fatal(err)
	}

	r, err := rootfs.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	uid, gid := os.Getuid(), os.Getgid()
	created, err := r.MkdirAll("/var/run/app", 0o755, uid, gid)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("created:", created)
	err = r.WriteFile("/var/run/app/pid", strings.NewReader("1\n"), 0o644, uid, gid, time.Unix(0, 0))
	if err != nil {
		log.Fatal(err)
	}
	info, err := r.Stat("/run/app/pid")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.Mode, info.Size)
	// Output:
	// created: [/run /run/app]
	// -rw-r--r-- 2
}
